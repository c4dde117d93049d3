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
	"strings"
	"time"

	"github.com/schoollife/ledger/adapters/timetableimport"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/schoolcalendar"
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

// timetableSettings are the timetable import's own flags.
type timetableSettings struct {
	uai, zone, from, sts, weekA string
	saturday, dryRun, force     bool
	json                        bool
	maxUnmatched                float64
}

// importTimetable runs "ledger import edt|udt".
func (m *Main) importTimetable(ctx context.Context, format timetableimport.Format, args []string) error {
	var cfg Config
	var set timetableSettings
	fs := m.newFlagSet("import "+string(format), &cfg, scopeShared)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), timetableUsage)
		fs.printFlags()
	}
	fs.StringVar(&set.uai, "uai", "", "the UAI of the establishment the timetable is for")
	fs.StringVar(&set.zone, "zone", "", "the establishment's holiday zone: A, B or C")
	fs.StringVar(&set.from, "from", "", "first date the import changes, YYYY-MM-DD (default: tomorrow); lessons before it are never touched")
	fs.StringVar(&set.sts, "sts", "", "STS-web's teaching-service export (sts_emp_UAI_YEAR.xml): its subject nomenclature maps the export's subject codes")
	fs.StringVar(&set.weekA, "week-a", "", "a day of a week A, YYYY-MM-DD (default: the rentrée), for exports that give alternating weeks by letter (UDT)")
	fs.BoolVar(&set.saturday, "saturday-classes", false, "the establishment has classes on Saturday mornings")
	fs.BoolVar(&set.dryRun, "dry-run", false, "print the plan and write nothing")
	fs.BoolVar(&set.force, "force", false, "import what matched however much did not")
	fs.BoolVar(&set.json, "json", false, "print the report as JSON")
	fs.share(&set.maxUnmatched, "max-unmatched", "LEDGER_TIMETABLE_MAX_UNMATCHED", timetableimport.DefaultMaxUnmatched,
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
	opts, src, err := set.options(format, paths, time.Now())
	if err != nil {
		return domain.Errorf(domain.ErrInvalid, "ledger import %s: %v", format, err)
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
		if set.json {
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

// options checks the settings and returns the import's options and file.
func (s *timetableSettings) options(format timetableimport.Format, paths []string, now time.Time) (timetableimport.Options, timetableimport.Source, error) {
	var o timetableimport.Options
	if len(paths) != 1 {
		return o, timetableimport.Source{}, fmt.Errorf("give one export file (%d given)", len(paths))
	}
	uai := strings.ToUpper(strings.TrimSpace(s.uai))
	if !domain.ValidUAI(uai) {
		return o, timetableimport.Source{}, fmt.Errorf("--uai %q is not a UAI (seven digits and a letter)", s.uai)
	}
	zone, err := schoolcalendar.ParseZone(s.zone)
	if err != nil {
		return o, timetableimport.Source{}, fmt.Errorf("--zone: %w", err)
	}
	cal, err := schoolcalendar.Load(schoolcalendar.Options{SaturdayClasses: s.saturday})
	if err != nil {
		return o, timetableimport.Source{}, err
	}
	from := domain.DateOf(now).AddDays(1)
	if s.from != "" {
		if from, err = domain.ParseDate(s.from); err != nil {
			return o, timetableimport.Source{}, fmt.Errorf("--from: %w", err)
		}
	}
	weeks := schoolcalendar.WeekPattern{Zone: zone}
	if s.weekA != "" {
		if weeks.Reference, err = domain.ParseDate(s.weekA); err != nil {
			return o, timetableimport.Source{}, fmt.Errorf("--week-a: %w", err)
		}
	}
	if s.maxUnmatched <= 0 || s.maxUnmatched > 1 {
		return o, timetableimport.Source{}, fmt.Errorf("--max-unmatched %v is not a share above 0 and at most 100%%", s.maxUnmatched)
	}
	o = timetableimport.Options{
		PlanOptions: timetableimport.PlanOptions{UAI: uai, Calendar: cal, Zone: zone, Weeks: weeks, From: from},
		Format:      format, MaxUnmatched: s.maxUnmatched, Force: s.force, DryRun: s.dryRun,
	}
	if s.sts != "" {
		sts := fileSource(s.sts)
		o.STS = &sts
	}
	return o, fileSource(paths[0]), nil
}

func fileSource(path string) timetableimport.Source {
	return timetableimport.Source{Name: filepath.Base(path), Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}
