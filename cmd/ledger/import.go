package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

const importUsage = `usage:
  ledger import aaf [FLAGS] FILE|DIR...
  ledger import csv --profile student|relative|teacher|personnel [FLAGS] FILE...

Imports a directory feed: AAF XML files (a directory's *.xml files are taken
in name order; ENT_Complet_* files make a full feed, ENT_Delta_* a delta; give
the feed's EtabEducNat file with a delta of new persons) or CSV exports (one
profile per file; see docs/directory.md for the columns). Only changes are
written; re-importing the same feed writes nothing. Every import ends with a
report; --dry-run prints the changes and writes nothing.

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
	format := directoryimport.Format(args[0])
	if format != directoryimport.FormatAAF && format != directoryimport.FormatCSV {
		fmt.Fprintln(m.stderr, importUsage)
		return fmt.Errorf("ledger import: format %q is not aaf or csv", args[0])
	}
	var cfg Config
	set := importSettings{opts: directoryimport.DefaultOptions()}
	fs := m.importFlags(format, &cfg, &set)
	paths, err := parseInterleaved(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if err := set.validate(format, paths); err != nil {
		return domain.Errorf(domain.ErrInvalid, "ledger import %s: %v", format, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("ledger import: %w", err)
	}
	log := cfg.logger(m.stderr)
	sources, err := directoryimport.FileSources(format, domain.Profile(set.profile), set.encoding, paths...)
	if err != nil {
		return domain.Errorf(domain.ErrInvalid, "ledger import %s: %v", format, err)
	}

	store, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	reg := domain.NewRegistry()
	h, err := commands.New(commands.Config{Store: store, Registry: reg, Logger: log})
	if err != nil {
		return err
	}
	im, err := directoryimport.New(directoryimport.Config{Handlers: h, Registry: reg, Log: store, Logger: log})
	if err != nil {
		return err
	}
	// Progress on a terminal only: in logs, the report says it all.
	ip := &importProgress{w: m.stderr}
	if isTerminal(m.stderr) {
		set.opts.Progress = ip.show
	}
	rep, err := im.Import(ctx, sources, set.opts)
	ip.finish()
	if rep != nil {
		if set.json {
			enc := json.NewEncoder(m.stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(rep); werr != nil {
				return werr
			}
		} else if werr := rep.WriteText(m.stdout, set.opts.DryRun); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if len(rep.Failed) > 0 {
		return fmt.Errorf("ledger import: %d change(s) refused by the ledger (see the report)", len(rep.Failed))
	}
	return nil
}

// importSettings are the import's own flags.
type importSettings struct {
	opts     directoryimport.Options
	profile  string
	encoding string
	json     bool
}

func (s *importSettings) validate(format directoryimport.Format, paths []string) error {
	if len(paths) == 0 {
		return errors.New("no file or directory to import")
	}
	if format == directoryimport.FormatCSV {
		switch domain.Profile(s.profile) {
		case domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel:
		default:
			return fmt.Errorf("--profile %q is not student, relative, teacher or personnel", s.profile)
		}
	}
	return s.opts.Validate()
}

// importFlags registers the shared flags and the import's.
func (m *Main) importFlags(format directoryimport.Format, cfg *Config, s *importSettings) *flag.FlagSet {
	fs := flag.NewFlagSet("ledger import "+string(format), flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	cfg.flags(fs, m.getenv, false)
	env := func(name string) string { return m.getenv(name) }
	s.opts.Grace = directoryimport.DefaultGrace
	if v := env("LEDGER_IMPORT_GRACE"); v != "" {
		d, err := parseDays(v)
		if err != nil {
			cfg.envErrs = append(cfg.envErrs, fmt.Errorf("LEDGER_IMPORT_GRACE: %w", err))
		}
		s.opts.Grace = d
	}
	s.opts.MaxRejected = directoryimport.DefaultMaxRejected
	if v := env("LEDGER_IMPORT_MAX_REJECTED"); v != "" {
		f, err := parseShare(v)
		if err != nil {
			cfg.envErrs = append(cfg.envErrs, fmt.Errorf("LEDGER_IMPORT_MAX_REJECTED: %w", err))
		}
		s.opts.MaxRejected = f
	}
	s.opts.Mode = directoryimport.ModeAuto
	fs.BoolVar(&s.opts.DryRun, "dry-run", false, "print the changes and write nothing")
	fs.Func("grace", "how long an account missing from full feeds stays open before it is closed: 30d, 72h... (LEDGER_IMPORT_GRACE, default 30d)", func(v string) error {
		d, err := parseDays(v)
		s.opts.Grace = d
		return err
	})
	fs.Func("max-rejected", "refuse the whole feed when more than this share of records is malformed: 5% or 0.05 (LEDGER_IMPORT_MAX_REJECTED, default 5%)", func(v string) error {
		f, err := parseShare(v)
		s.opts.MaxRejected = f
		return err
	})
	fs.Func("mode", "full, delta or auto (AAF: from the ENT_Complet_/ENT_Delta_ file names; CSV: full)", func(v string) error {
		s.opts.Mode = directoryimport.Mode(v)
		return nil
	})
	fs.BoolVar(&s.json, "json", false, "print the report as JSON")
	if format == directoryimport.FormatCSV {
		fs.StringVar(&s.profile, "profile", "", "profile of the file's persons: student, relative, teacher or personnel")
		fs.StringVar(&s.encoding, "encoding", "", "the files' encoding: UTF-8 (default), ISO-8859-15, ISO-8859-1, windows-1252")
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

// parseDays reads a duration, with "d" for days (30d).
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("grace %q is not a number of days", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("grace %q is not a duration (30d, 72h)", s)
	}
	return d, nil
}

// parseShare reads a share: "5%" or "0.05".
func parseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct, isPct := strings.CutSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if isPct {
		f /= 100
	}
	if err != nil || f < 0 || f > 1 {
		return 0, fmt.Errorf("%q is not a share between 0 %% and 100 %%", s)
	}
	return f, nil
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
