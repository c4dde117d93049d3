package timetableimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Handlers are the commands the import runs.
type Handlers interface {
	ScheduleLesson(ctx context.Context, req commands.Request, cmd domain.ScheduleLesson) (commands.Result, error)
	UnscheduleLesson(ctx context.Context, req commands.Request, cmd domain.UnscheduleLesson) (commands.Result, error)
}

// Config is what an Importer is built from.
type Config struct {
	Handlers Handlers
	Log      Log
	Registry Registry
	Logger   *slog.Logger
}

// Importer imports timetables.
type Importer struct {
	h   Handlers
	log Log
	reg Registry
	lg  *slog.Logger
}

// New returns an Importer.
func New(cfg Config) (*Importer, error) {
	if cfg.Handlers == nil || cfg.Log == nil || cfg.Registry == nil {
		return nil, errors.New("timetable import: handlers, log and registry are required")
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Importer{h: cfg.Handlers, log: cfg.Log, reg: cfg.Registry, lg: lg}, nil
}

// Source is a file to read.
type Source struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// DefaultMaxUnmatched is the share of the export's classes and groups
// (and of its courses, for unreadable ones) above which an import is
// refused whole.
const DefaultMaxUnmatched = 0.05

// Options are an import's choices.
type Options struct {
	PlanOptions
	Format Format
	// STS is STS-web's teaching-service export, if given.
	STS *Source
	// MaxBytes bounds each file (DefaultMaxBytes when 0).
	MaxBytes int64
	// MaxUnmatched is the share of unmatched classes and groups, and of
	// unreadable courses, above which the import is refused whole
	// (DefaultMaxUnmatched when 0; 1 never refuses).
	MaxUnmatched float64
	// Force imports what matched however much did not.
	Force bool
	// DryRun plans and writes nothing.
	DryRun bool
	// Actor is the administrator who runs the import (none: the system).
	Actor uuid.UUID
}

// Refusal codes.
const (
	RefusedUAI       = "uai-mismatch" // the export is another establishment's
	RefusedEmpty     = "empty"        // the export holds no course
	RefusedRejected  = "rejected"     // too many courses could not be read
	RefusedUnmatched = "unmatched"    // too many classes and groups were not matched
)

// Report tells what an import read, planned and applied.
type Report struct {
	CorrelationID uuid.UUID   `json:"correlation_id"`
	Actor         uuid.UUID   `json:"actor,omitzero"`
	Format        Format      `json:"format"`
	File          string      `json:"file"`
	STSFile       string      `json:"sts_file,omitempty"`
	DryRun        bool        `json:"dry_run"`
	Forced        bool        `json:"forced,omitempty"`
	Rejected      []Rejection `json:"rejected,omitempty"`
	Warnings      []Warning   `json:"warnings,omitempty"`
	Plan          *Plan       `json:"plan,omitempty"`
	// Refused says why nothing was written, when the import was refused.
	Refused string `json:"refused,omitempty"`
	// Added and Removed count the entries written.
	Added   int       `json:"added"`
	Removed int       `json:"removed"`
	Failed  []Failure `json:"failed,omitempty"`
	Took    Timings   `json:"took"`
}

// Failure is a change the ledger refused.
type Failure struct {
	Entry Entry  `json:"entry"`
	Op    string `json:"op"`
	Error string `json:"error"`
}

// Timings are how long each step took.
type Timings struct {
	Parse time.Duration `json:"parse"`
	Load  time.Duration `json:"load"`
	Plan  time.Duration `json:"plan"`
	Apply time.Duration `json:"apply"`
}

// Run imports one export: parse, load, plan, check, apply. A refused
// import returns its report and no error; an error is a failure to read
// the files or to write.
func (im *Importer) Run(ctx context.Context, src Source, opts Options) (*Report, error) {
	rep := &Report{CorrelationID: uuid.New(), Actor: opts.Actor, Format: opts.Format, File: src.Name, DryRun: opts.DryRun, Forced: opts.Force}
	if opts.MaxUnmatched == 0 {
		opts.MaxUnmatched = DefaultMaxUnmatched
	}
	start := time.Now()
	t, err := parseSource(src, opts.Format, opts.MaxBytes)
	if err != nil {
		return nil, unreadable(src.Name, err)
	}
	if opts.STS != nil {
		rc, err := opts.STS.Open()
		if err != nil {
			return nil, err
		}
		sts, err := ParseSTS(rc, opts.MaxBytes)
		rc.Close()
		if err != nil {
			return nil, unreadable(opts.STS.Name, err)
		}
		opts.PlanOptions.STS, rep.STSFile = sts, opts.STS.Name
	}
	rep.Rejected, rep.Warnings = t.Rejected, t.Warnings
	rep.Took.Parse = time.Since(start)
	if t.UAI != "" && t.UAI != opts.UAI {
		rep.Refused = RefusedUAI
		return rep, nil
	}
	if len(t.Courses) == 0 {
		rep.Refused = RefusedEmpty
		return rep, nil
	}

	start = time.Now()
	dir, err := LoadDirectory(ctx, im.log, im.reg)
	if err != nil {
		return nil, err
	}
	if err := dir.Refresh(ctx, im.log, im.reg, opts.UAI); err != nil {
		return nil, err
	}
	rep.Took.Load = time.Since(start)
	start = time.Now()
	plan, err := MakePlan(t, dir, opts.PlanOptions)
	if err != nil {
		return nil, err
	}
	rep.Plan = plan
	rep.Took.Plan = time.Since(start)
	read := len(t.Courses) + len(t.Rejected)
	switch {
	case opts.Force:
	case float64(len(t.Rejected)) > opts.MaxUnmatched*float64(read):
		rep.Refused = RefusedRejected
	case plan.UnmatchedShare() > opts.MaxUnmatched:
		rep.Refused = RefusedUnmatched
	}
	if rep.Refused != "" || opts.DryRun {
		return rep, nil
	}
	start = time.Now()
	err = im.apply(ctx, dir.AsOf(), plan, rep, opts.Actor)
	rep.Took.Apply = time.Since(start)
	im.lg.InfoContext(ctx, "timetable import", "file", src.Name, "correlation", rep.CorrelationID,
		"added", rep.Added, "removed", rep.Removed, "failed", len(rep.Failed), "unmatched", len(plan.Unmatched))
	return rep, err
}

// ErrUnreadable matches the error of an import whose file could not be
// read to its end (not well-formed, truncated, too large): nothing was
// written. It also matches domain.ErrInvalid.
var ErrUnreadable = errors.New("timetable import: file unreadable")

func unreadable(name string, err error) error {
	return fmt.Errorf("%w: %w", ErrUnreadable, domain.Errorf(domain.ErrInvalid, "%s: %v", name, err))
}

func parseSource(src Source, f Format, maxBytes int64) (*Timetable, error) {
	rc, err := src.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	switch f {
	case FormatEDT:
		return ParseEDT(rc, maxBytes)
	case FormatUDT:
		return ParseUDT(rc, maxBytes)
	}
	return nil, fmt.Errorf("format %q is not edt or udt", f)
}

// apply runs the plan: removals first, so that a lesson moved does not
// clash with where it was. A change the ledger refuses is reported and
// the others go on; any other error stops the import (a new run finishes
// it: the plan is made again from what was written).
func (im *Importer) apply(ctx context.Context, asOf domain.Position, p *Plan, rep *Report, actor uuid.UUID) error {
	req := func(op string, entry uuid.UUID) commands.Request {
		return commands.Request{Actor: actor, System: actor == uuid.Nil, CorrelationID: rep.CorrelationID,
			IdempotencyKey: fmt.Sprintf("timetable-import|%d.%d|%s|%s", asOf.Tx, asOf.Seq, op, entry)}
	}
	refused := func(op string, e Entry, err error) error {
		var de *domain.Error
		if !errors.As(err, &de) {
			return fmt.Errorf("%s %s: %w", op, e.Entry, err)
		}
		rep.Failed = append(rep.Failed, Failure{Entry: e, Op: op, Error: err.Error()})
		return nil
	}
	for _, e := range p.Remove {
		if _, err := im.h.UnscheduleLesson(ctx, req("remove", e.Entry), domain.UnscheduleLesson{Group: e.Group, Entry: e.Entry}); err != nil {
			if err := refused("remove", e, err); err != nil {
				return err
			}
			continue
		}
		rep.Removed++
	}
	for _, e := range p.Add {
		if _, err := im.h.ScheduleLesson(ctx, req("add", e.Entry), e.ScheduleLesson); err != nil {
			if err := refused("add", e, err); err != nil {
				return err
			}
			continue
		}
		rep.Added++
	}
	return nil
}
