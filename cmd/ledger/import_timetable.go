package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schoollife/ledger/adapters/timetableimport"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

const timetableUsage = `usage:
  ledger import edt --uai UAI --zone A|B|C [FLAGS] FILE
  ledger import udt --uai UAI --zone A|B|C [FLAGS] FILE

Imports a timetable: EDT's XML export for digital workspaces (Index
Éducation) or UnDeuxTemps' XML export, into dated lessons of the school
year (the school calendar of the zone: holidays, bank holidays, A/B weeks).
Classes, groups, teachers and subjects are matched to the directory by
their codes, the teachers by their join id or their name; what does not
match is reported and left out, and too much of it refuses the import.
--sts names STS-web's teaching-service export (sts_emp_UAI_YEAR.xml),
whose subject nomenclature maps the export's subject codes to the
directory's. Only lessons from --from on (default: tomorrow) are changed;
lessons with a roll call or a content are never removed. Re-importing the
same export writes nothing. See docs/timetable.md.

flags:`

// importTimetable runs "ledger import edt|udt".
func (m *Main) importTimetable(ctx context.Context, format timetableimport.Format, args []string) error {
	var cfg Config
	set := timetableimport.Settings{Format: string(format)}
	var sts string
	var asJSON bool
	fs := m.newFlagSet("import "+string(format), &cfg, scopeShared)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), timetableUsage)
		fs.printFlags()
	}
	fs.StringVar(&set.UAI, "uai", "", "the UAI of the establishment the timetable is for")
	fs.StringVar(&set.Zone, "zone", "", "the establishment's holiday zone: A, B or C")
	fs.StringVar(&set.From, "from", "", "first date the import changes, YYYY-MM-DD (default: tomorrow); lessons before it are never touched")
	fs.StringVar(&sts, "sts", "", "STS-web's teaching-service export (sts_emp_UAI_YEAR.xml): its subject nomenclature maps the export's subject codes")
	fs.StringVar(&set.WeekA, "week-a", "", "a day of a week A, YYYY-MM-DD (default: the rentrée), for exports that give alternating weeks by letter (UDT)")
	fs.BoolVar(&set.SaturdayClasses, "saturday-classes", false, "the establishment has classes on Saturday mornings")
	fs.BoolVar(&set.DryRun, "dry-run", false, "print the plan and write nothing")
	fs.BoolVar(&set.Force, "force", false, "import what matched however much did not")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.share(&set.MaxUnmatched, "max-unmatched", "LEDGER_TIMETABLE_MAX_UNMATCHED", timetableimport.DefaultMaxUnmatched,
		"refuse the import when more than this share of the export's classes and groups (or of its courses, unreadable) fails: 5% or 0.05")
	paths, err := parseInterleaved(fs.FlagSet, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if err := m.configure("import", &cfg, fs); err != nil {
		return err
	}
	if len(paths) != 1 {
		return domain.Errorf(domain.ErrInvalid, "ledger import %s: give one export file (%d given)", format, len(paths))
	}
	opts, err := set.Options(time.Now())
	if err != nil {
		return fmt.Errorf("ledger import %s: %w", format, err)
	}
	src := fileSource(paths[0])
	if sts != "" {
		s := fileSource(sts)
		opts.STS = &s
	}
	log := cfg.logger(m.stderr)
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
	h, err := commands.New(sealed.seal(cfg.commandsConfig(store, sealed.reg, log)))
	if err != nil {
		return err
	}
	im, err := timetableimport.New(timetableimport.Config{Handlers: h, Log: store, Registry: sealed.reg, Logger: log})
	if err != nil {
		return err
	}
	rep, err := im.Run(ctx, src, opts)
	if rep != nil {
		if asJSON {
			enc := json.NewEncoder(m.stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(rep); werr != nil {
				return werr
			}
		} else if werr := rep.WriteText(m.stdout); werr != nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("ledger import %s: %w", format, err)
	}
	if rep.Refused != "" {
		return domain.Errorf(domain.ErrInvalid, "ledger import %s: refused (%s), nothing written", format, rep.Refused)
	}
	if len(rep.Failed) > 0 {
		return fmt.Errorf("ledger import %s: %d changes refused by the ledger (see the report)", format, len(rep.Failed))
	}
	return nil
}

func fileSource(path string) timetableimport.Source {
	return timetableimport.Source{Name: filepath.Base(path), Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}
