package directoryimport

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
)

// Phase is a step of an import.
type Phase string

// Phases, in order.
const (
	PhaseParse Phase = "parse" // reading the files
	PhaseLoad  Phase = "load"  // folding the directory from the log
	PhaseApply Phase = "apply" // running the commands
)

// Progress tells how far an import is. In the parse phase Done and Total
// count bytes of File (Total is 0 when the size is unknown); in the load
// phase Done counts log records; in the apply phase, changes, and Events
// the events appended so far.
type Progress struct {
	Phase  Phase  `json:"phase"`
	File   string `json:"file,omitempty"`
	Done   int64  `json:"done"`
	Total  int64  `json:"total"`
	Events int64  `json:"events,omitempty"`
}

// Timings are how long each phase took.
type Timings struct {
	Parse time.Duration `json:"parse"`
	Load  time.Duration `json:"load"`
	Diff  time.Duration `json:"diff"`
	Apply time.Duration `json:"apply"`
}

// Report tells what an import read, planned, applied and could not do.
// Every import ends with one, refused ones included.
type Report struct {
	// CorrelationID links every event the import appended.
	CorrelationID uuid.UUID `json:"correlation_id"`
	// Actor is the account that ran the import (none: the system).
	Actor  uuid.UUID    `json:"actor,omitzero"`
	Mode   Mode         `json:"mode"`
	DryRun bool         `json:"dry_run"`
	Feed   string       `json:"feed"`
	Files  []FileReport `json:"files"`
	// Records counts the records read; Persons the persons they describe.
	Records int `json:"records"`
	Persons int `json:"persons"`
	// Establishments are the UAIs the feed concerns.
	Establishments []string `json:"establishments"`
	MaxRejected    float64  `json:"max_rejected"`
	// Rejected are the malformed records: they count against MaxRejected.
	Rejected []Issue `json:"rejected"`
	// Skipped are well-formed parts of records the directory cannot take
	// (an unknown structure, a relative nobody knows, a closed account...).
	Skipped []Issue `json:"skipped"`
	// Refused says why nothing was written, when the import was refused.
	Refused string `json:"refused,omitempty"`
	// Planned counts the changes per kind; Applied those the ledger took.
	Planned map[ChangeKind]int `json:"planned"`
	Applied map[ChangeKind]int `json:"applied"`
	// Events counts the events appended.
	Events int       `json:"events"`
	Failed []Failure `json:"failed,omitempty"`
	// Changes lists the planned changes of a dry run.
	Changes  []Change  `json:"changes,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Timings  Timings   `json:"timings"`
}

// RejectedShare is the share of records rejected.
func (r *Report) RejectedShare() float64 {
	if r.Records == 0 {
		return 0
	}
	return float64(len(r.Rejected)) / float64(r.Records)
}

// WriteText writes the report for a terminal: with a dry run's changes
// first when withChanges is set.
func (r *Report) WriteText(w io.Writer, withChanges bool) error {
	bw := bufio.NewWriter(w)
	if withChanges && len(r.Changes) > 0 {
		fmt.Fprintf(bw, "planned changes (%d):\n", len(r.Changes))
		for _, c := range r.Changes {
			fmt.Fprintf(bw, "  %s\n", c)
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintf(bw, "directory import %s: %s feed, %d file(s), %d record(s), %d person(s)\n",
		r.CorrelationID, r.Mode, len(r.Files), r.Records, r.Persons)
	for _, f := range r.Files {
		if f.Ignored {
			fmt.Fprintf(bw, "  %s: ignored (not a directory file the ledger uses)\n", f.Name)
			continue
		}
		fmt.Fprintf(bw, "  %s: %s %s %s, %s, %d bytes, %d record(s), %d rejected\n",
			f.Name, f.Format, f.Category, f.Mode, f.Encoding, f.Bytes, f.Records, f.Rejected)
	}
	fmt.Fprintf(bw, "rejected: %d (%.1f %%, refused above %.1f %%)\n", len(r.Rejected), 100*r.RejectedShare(), 100*r.MaxRejected)
	for _, i := range r.Rejected {
		fmt.Fprintf(bw, "  %s\n", i)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(bw, "skipped: %d\n", len(r.Skipped))
		for _, i := range r.Skipped {
			fmt.Fprintf(bw, "  %s\n", i)
		}
	}
	switch {
	case r.Refused != "":
		fmt.Fprintf(bw, "REFUSED, nothing written: %s\n", r.Refused)
	case r.DryRun:
		fmt.Fprintln(bw, "changes (dry run, nothing written):")
	default:
		fmt.Fprintln(bw, "changes (applied / planned):")
	}
	if r.Refused == "" {
		for _, k := range ChangeKinds {
			if r.DryRun {
				fmt.Fprintf(bw, "  %-24s %7d\n", k, r.Planned[k])
			} else {
				fmt.Fprintf(bw, "  %-24s %7d / %d\n", k, r.Applied[k], r.Planned[k])
			}
		}
		if !r.DryRun {
			fmt.Fprintf(bw, "events appended: %d\n", r.Events)
		}
	}
	if len(r.Failed) > 0 {
		fmt.Fprintf(bw, "failed: %d\n", len(r.Failed))
		for _, f := range r.Failed {
			fmt.Fprintf(bw, "  %s: %s\n", f.Change, f.Error)
		}
	}
	t := r.Timings
	fmt.Fprintf(bw, "took %s (parse %s, load %s, diff %s, apply %s)\n", r.Finished.Sub(r.Started).Round(time.Millisecond),
		t.Parse.Round(time.Millisecond), t.Load.Round(time.Millisecond), t.Diff.Round(time.Millisecond), t.Apply.Round(time.Millisecond))
	return bw.Flush()
}
