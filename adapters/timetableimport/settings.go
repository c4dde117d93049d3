package timetableimport

import (
	"fmt"
	"strings"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/schoolcalendar"
)

// Settings are an import's choices as a person gives them, on the command
// line or in an upload's form; Options checks them once for both.
type Settings struct {
	Format string
	UAI    string
	// Zone is A, B or C.
	Zone string
	// From is the first date the import changes, YYYY-MM-DD (default: the
	// day after now).
	From string
	// WeekA is a day of an A week, YYYY-MM-DD (default: the rentrée).
	WeekA string
	// SaturdayClasses: the establishment teaches on Saturday mornings.
	SaturdayClasses bool
	DryRun, Force   bool
	// MaxUnmatched is a share above 0 and at most 1 (DefaultMaxUnmatched
	// when 0).
	MaxUnmatched float64
}

// Options returns the import's options, or the first setting that is
// wrong (domain.ErrInvalid).
func (s Settings) Options(now time.Time) (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return Options{}, domain.Errorf(domain.ErrInvalid, format, args...)
	}
	f := Format(strings.ToLower(strings.TrimSpace(s.Format)))
	if f != FormatEDT && f != FormatUDT {
		return bad("format %q is not edt or udt", s.Format)
	}
	uai := strings.ToUpper(strings.TrimSpace(s.UAI))
	if !domain.ValidUAI(uai) {
		return bad("the establishment %q is not a UAI (seven digits and a letter)", s.UAI)
	}
	zone, err := schoolcalendar.ParseZone(strings.TrimSpace(s.Zone))
	if err != nil {
		return bad("zone: %v", err)
	}
	cal, err := schoolcalendar.Load(schoolcalendar.Options{SaturdayClasses: s.SaturdayClasses})
	if err != nil {
		return Options{}, fmt.Errorf("school calendar: %w", err)
	}
	from := domain.DateOf(now).AddDays(1)
	if s.From != "" {
		if from, err = domain.ParseDate(strings.TrimSpace(s.From)); err != nil {
			return bad("from: %v", err)
		}
	}
	weeks := schoolcalendar.WeekPattern{Zone: zone}
	if s.WeekA != "" {
		if weeks.Reference, err = domain.ParseDate(strings.TrimSpace(s.WeekA)); err != nil {
			return bad("week A: %v", err)
		}
	}
	share := s.MaxUnmatched
	if share == 0 {
		share = DefaultMaxUnmatched
	}
	if share < 0 || share > 1 {
		return bad("the largest share unmatched %v is not above 0 and at most 100%%", s.MaxUnmatched)
	}
	return Options{
		PlanOptions: PlanOptions{UAI: uai, Calendar: cal, Zone: zone, Weeks: weeks, From: from},
		Format:      f, MaxUnmatched: share, Force: s.Force, DryRun: s.DryRun,
	}, nil
}
