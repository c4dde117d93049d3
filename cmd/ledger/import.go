package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/timetableimport"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

const importUsage = `usage:
  ledger import aaf [FLAGS] FILE|DIR|ARCHIVE...
  ledger import csv --profile student|relative|teacher|personnel [FLAGS] FILE|ARCHIVE...
  ledger import onde --uai UAI [FLAGS] FILE|DIR|ARCHIVE...
  ledger import aaf|csv|onde --watch DIR [--watch-settle 30s] [--watch-interval 1m] [FLAGS]
  ledger import edt|udt --uai UAI --zone A|B|C [--from DATE] [--sts FILE] [FLAGS] FILE
    (a timetable: see ledger import edt --help)

Imports a directory feed: AAF XML files of the second or first degree (a
directory's *.xml files are taken in name order; ENT_Complet_* files make a
full feed, ENT_Delta_* a delta; structure ids an earlier import recorded need
no EtabEducNat file), CSV exports (one profile per file, UTF-8 unless
--encoding says otherwise) or an école's ONDE extraction (its students',
responsables' and teachers' CSV files together, ISO-8859-1 unless --encoding
says otherwise; --uai names the école); see docs/directory.md for the
columns. An archive (.zip, .tar.gz, .tgz) stands for the feed's files in it,
by their names, whatever folder holds them. With --watch, the deliveries
dropped in DIR (sub-directories or archives) are imported as they arrive,
once complete, in the order of the dates in their names, each once (DIR's
.ledger-watch.json records them); a refused one stops the watch, and
--force then forces only the first delivery taken. Only changes are written; re-importing the
same feed writes nothing. Every import ends with a report; --dry-run prints
the changes and writes nothing. Guards refuse, writing nothing, a feed that
would leave out too many people, rename, flag missing or close too many
accounts, misses part files of a full feed, or whose bytes are not in its
encoding; --force imports it all the same and records that it was forced.

flags:`

// importCmd runs "ledger import aaf|csv".
func (m *Main) importCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, importUsage)
		m.importFlags(directoryimport.FormatCSV, &Config{}, &importSettings{}).PrintDefaults()
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if f := timetableimport.Format(args[0]); f == timetableimport.FormatEDT || f == timetableimport.FormatUDT {
		return m.importTimetable(ctx, f, args[1:])
	}
	format := directoryimport.Format(args[0])
	if format != directoryimport.FormatAAF && format != directoryimport.FormatCSV && format != directoryimport.FormatONDE {
		fmt.Fprintln(m.stderr, importUsage)
		return fmt.Errorf("ledger import: format %q is not aaf, csv, onde, edt or udt", args[0])
	}
	var cfg Config
	var set importSettings
	fs := m.importFlags(format, &cfg, &set)
	paths, err := parseInterleaved(fs.FlagSet, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if err := set.validate(format, paths); err != nil {
		return domain.Errorf(domain.ErrInvalid, "ledger import %s: %v", format, err)
	}
	if err := m.configure("import", &cfg, fs); err != nil {
		return err
	}
	opts := cfg.Import.Options()
	opts.Mode, opts.DryRun, opts.Force = set.mode, set.dryRun, set.force
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("ledger import %s: %w", format, err)
	}
	log := cfg.logger(m.stderr)
	var sources []directoryimport.Source
	if set.watch == "" {
		if sources, err = set.sources(format, paths...); err != nil {
			return err
		}
	}

	store, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sealed, err := sealingFor(store, domain.NewRegistry(), log)
	if err != nil {
		return err
	}
	defer sealed.close()
	reg := sealed.reg
	h, err := commands.New(sealed.seal(cfg.commandsConfig(store, reg, log)))
	if err != nil {
		return err
	}
	im, err := directoryimport.New(directoryimport.Config{Handlers: h, Registry: reg, Log: store, Logger: log})
	if err != nil {
		return err
	}
	if set.watch != "" {
		return m.watchImports(ctx, format, &set, cfg.Import, im, opts, log)
	}
	rep, err := m.runImport(ctx, im, sources, opts, set.json)
	if err != nil {
		return err
	}
	if len(rep.Failed) > 0 {
		return fmt.Errorf("ledger import: %d change(s) refused by the ledger (see the report)", len(rep.Failed))
	}
	return nil
}

// runImport runs one import and prints its report.
func (m *Main) runImport(ctx context.Context, im *directoryimport.Importer, sources []directoryimport.Source,
	opts directoryimport.Options, asJSON bool) (*directoryimport.Report, error) {
	// Progress on a terminal only: in logs, the report says it all.
	ip := &importProgress{w: m.stderr}
	if isTerminal(m.stderr) {
		opts.Progress = ip.show
	}
	rep, err := im.Import(ctx, sources, opts)
	ip.finish()
	if rep != nil {
		if asJSON {
			enc := json.NewEncoder(m.stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(rep); werr != nil {
				return rep, werr
			}
		} else if werr := rep.WriteText(m.stdout, opts.DryRun); werr != nil {
			return rep, werr
		}
	}
	return rep, err
}

// watchImports imports the deliveries dropped in the --watch directory
// until ctx ends (nil) or a delivery stops the watch (its error, whose
// exit status is the import's).
func (m *Main) watchImports(ctx context.Context, format directoryimport.Format, set *importSettings, ic ImportConfig,
	im *directoryimport.Importer, opts directoryimport.Options, log *slog.Logger) error {
	force := opts.Force // the first delivery taken only: the one that stopped the last watch
	w, err := directoryimport.NewWatcher(directoryimport.WatchConfig{
		Dir: set.watch, Settle: ic.WatchSettle, Logger: log,
		Import: func(ctx context.Context, d directoryimport.Delivery) (*directoryimport.Report, error) {
			sources, err := set.sources(format, d.Path)
			if err != nil {
				return nil, err
			}
			o := opts
			o.Force, force = force, false
			if !set.json {
				fmt.Fprintf(m.stdout, "delivery %s (%s):\n", d.Name, deliveryWhen(d))
			}
			rep, err := m.runImport(ctx, im, sources, o, set.json)
			if !set.json {
				fmt.Fprintln(m.stdout)
			}
			return rep, err
		},
	})
	if err != nil {
		return domain.Errorf(domain.ErrInvalid, "ledger import %s: %v", format, err)
	}
	log.Info("directory watch started", "dir", set.watch, "imported_already", len(w.Imported()),
		"settle", ic.WatchSettle, "interval", ic.WatchInterval)
	tick := time.NewTicker(ic.WatchInterval)
	defer tick.Stop()
	if err := w.Run(ctx, tick.C); err != nil {
		return fmt.Errorf("ledger import %s --watch %s: %w", format, set.watch, err)
	}
	return nil
}

// deliveryWhen says where a delivery's date comes from.
func deliveryWhen(d directoryimport.Delivery) string {
	if d.Dated {
		return "dated " + d.Date.Format(time.DateOnly)
	}
	return "modified " + d.Date.Format(time.RFC3339)
}

// sources returns the sources of paths, with the import's settings.
func (s *importSettings) sources(format directoryimport.Format, paths ...string) ([]directoryimport.Source, error) {
	sources, err := directoryimport.FileSources(format, domain.Profile(s.profile), s.encoding, paths...)
	if err != nil {
		return nil, domain.Errorf(domain.ErrInvalid, "ledger import %s: %v", format, err)
	}
	for i := range sources {
		sources[i].UAI = strings.ToUpper(s.uai)
	}
	return sources, nil
}

// importSettings are the import's own flags, which no variable sets.
type importSettings struct {
	mode     directoryimport.Mode
	dryRun   bool
	force    bool
	profile  string
	encoding string
	uai      string
	json     bool
	// watch is the directory watched for deliveries.
	watch string
}

func (s *importSettings) validate(format directoryimport.Format, paths []string) error {
	switch {
	case s.watch != "" && len(paths) > 0:
		return fmt.Errorf("--watch %s imports the deliveries of its directory: give no file (%s)", s.watch, strings.Join(paths, " "))
	case s.watch != "" && s.dryRun:
		return errors.New("--watch records each delivery as imported: it does not take --dry-run")
	case s.watch == "" && len(paths) == 0:
		return errors.New("no file or directory to import")
	}
	if format == directoryimport.FormatCSV {
		switch domain.Profile(s.profile) {
		case domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel:
		default:
			return fmt.Errorf("--profile %q is not student, relative, teacher or personnel", s.profile)
		}
	}
	if format == directoryimport.FormatONDE && !domain.ValidUAI(strings.ToUpper(s.uai)) {
		return fmt.Errorf("--uai %q is not the UAI of an école (seven digits and a letter)", s.uai)
	}
	if s.encoding != "" {
		if err := directoryimport.CheckEncoding(s.encoding); err != nil {
			return fmt.Errorf("--encoding: %w", err)
		}
	}
	return nil
}

// importFlags registers the shared flags, the import settings and the
// import's own flags.
func (m *Main) importFlags(format directoryimport.Format, cfg *Config, s *importSettings) *flagSet {
	fs := m.newFlagSet("import "+string(format), cfg, scopeImport)
	s.mode = directoryimport.ModeAuto
	fs.BoolVar(&s.dryRun, "dry-run", false, "print the changes and write nothing")
	fs.BoolVar(&s.force, "force", false, "import a feed the guards refuse (people left out, mass changes, missing part files, encodings), recording that it was forced")
	fs.Func("mode", "full, delta or auto (AAF: from the ENT_Complet_/ENT_Delta_ file names; CSV: full)", func(v string) error {
		s.mode = directoryimport.Mode(v)
		return nil
	})
	fs.BoolVar(&s.json, "json", false, "print the report as JSON")
	fs.StringVar(&s.watch, "watch", "", "import the deliveries dropped in this directory (sub-directories, archives) as they arrive, until stopped or a delivery is refused")
	switch format {
	case directoryimport.FormatCSV:
		fs.StringVar(&s.profile, "profile", "", "profile of the file's persons: student, relative, teacher or personnel")
		fs.StringVar(&s.encoding, "encoding", "", "the files' encoding: UTF-8 (default; a UTF-8 BOM is honoured), ISO-8859-15, ISO-8859-1, windows-1252; bytes that do not match it refuse the import")
	case directoryimport.FormatONDE:
		fs.StringVar(&s.uai, "uai", "", "the UAI of the école the extraction is from")
		fs.StringVar(&s.encoding, "encoding", "", "the files' encoding: ISO-8859-1 (ONDE's, the default; a UTF-8 BOM says UTF-8), UTF-8, ISO-8859-15, windows-1252; bytes that do not match it refuse the import")
	}
	return fs
}

// parseInterleaved parses flags placed before, between or after the
// positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// importProgress shows an import's progress with the program's progress
// lines, one per phase (and per file while reading).
type importProgress struct {
	w    io.Writer
	cur  *progress
	key  string
	done int64
}

func (ip *importProgress) show(pr directoryimport.Progress) {
	if pr.Phase == directoryimport.PhaseParse && pr.File == "" {
		return // the total of the archives' files: each file has its line
	}
	key := string(pr.Phase) + "|" + pr.File
	if key != ip.key {
		ip.finish()
		label := "applying changes"
		switch pr.Phase {
		case directoryimport.PhaseParse:
			label = "reading " + pr.File + " (bytes)"
		case directoryimport.PhaseLoad:
			label = "loading the directory (events)"
		}
		ip.cur, ip.key = newProgress(ip.w, label, int(pr.Total)), key
	}
	ip.done = pr.Done
	ip.cur.Update(int(pr.Done))
}

// finish prints the last line of the current phase.
func (ip *importProgress) finish() {
	if ip.cur != nil {
		ip.cur.Done(int(ip.done))
		ip.cur = nil
	}
}
