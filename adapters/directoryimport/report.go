package directoryimport

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
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
// count bytes of File (Total is 0 when the size is unknown); once archives
// are opened, a parse progress without File gives in Total the bytes of
// all the files to read, as they are inside the archives; in the load
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
	// The guards' settings (Options).
	MaxRejected float64 `json:"max_rejected"`
	MaxSkipped  float64 `json:"max_skipped"`
	MaxChanges  float64 `json:"max_changes"`
	GuardMin    int     `json:"guard_min"`
	Force       bool    `json:"force,omitempty"`
	// Totals says what became of the feed's people (each file's share is
	// in Files).
	Totals Outcomes `json:"totals"`
	// Rejected are the malformed records: they count against MaxRejected.
	Rejected []Issue `json:"rejected"`
	// Skipped are well-formed parts of the feed the directory cannot take
	// (an unknown structure, a relative nobody knows, a closed account...);
	// those marked Whole left a person out entirely.
	Skipped []Issue `json:"skipped"`
	// Guards are the guards that tripped: they refused the import, or it
	// was forced past them (each then marked Forced).
	Guards []Guard `json:"guards,omitempty"`
	// Refused says why nothing was written, when the import was refused.
	Refused string `json:"refused,omitempty"`
	// Archive says which archive refused the import, and why, when one
	// did (Refused says it in words).
	Archive *ArchiveIssue `json:"archive,omitempty"`
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

// tally fills in what became of each file's establishments and people,
// and why some were rejected or left aside.
func (r *Report) tally(feed *Feed, plan *Plan) {
	byFile := feed.fileIndex()
	registered := make(map[string]bool)
	for _, ph := range plan.Phases {
		for _, c := range ph {
			if c.Kind == RegisterEstablishment {
				registered[c.Establishment] = true
			}
		}
	}
	for _, e := range feed.Establishments {
		if i, ok := byFile[e.Place.File]; ok {
			if registered[e.UAI] {
				r.Files[i].Created++
			} else {
				r.Files[i].Unchanged++
			}
		}
	}
	for _, pe := range feed.Persons {
		out := plan.outcome[pe.JoinID]
		r.Totals.add(out)
		if i, ok := byFile[pe.Place.File]; ok {
			r.Files[i].add(out)
		}
	}
	type key struct {
		file     string
		code     ReasonCode
		rejected bool
	}
	counts := make(map[key]int)
	count := func(issues []Issue, rejected bool) {
		for _, is := range issues {
			counts[key{is.File, is.Code, rejected}]++
		}
	}
	count(r.Rejected, true)
	count(r.Skipped, false)
	for k, n := range counts {
		if i, ok := byFile[k.file]; ok {
			r.Files[i].Reasons = append(r.Files[i].Reasons, ReasonCount{Code: k.code, Summary: k.code.Summary(), Count: n,
				Rejected: k.rejected, Whole: reasonTexts[k.code].Whole})
		}
	}
	for i := range r.Files {
		slices.SortFunc(r.Files[i].Reasons, func(a, b ReasonCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(string(a.Code), string(b.Code)))
		})
	}
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
	mode := string(r.Mode)
	if mode == "" {
		mode = "full and delta"
	}
	fmt.Fprintf(bw, "directory import %s: %s feed, %d file(s), %d record(s), %d person(s)\n",
		r.CorrelationID, mode, len(r.Files), r.Records, r.Persons)
	for _, f := range r.Files {
		r.writeFile(bw, f)
	}
	t := r.Totals
	fmt.Fprintf(bw, "people: %d created, %d changed, %d unchanged, %d removed, %d left out\n",
		t.Created, t.Changed, t.Unchanged, t.Removed, t.Skipped)
	fmt.Fprintf(bw, "rejected: %d (%.1f %%, refused above %.1f %%)\n", len(r.Rejected), 100*r.RejectedShare(), 100*r.MaxRejected)
	for _, i := range r.Rejected {
		fmt.Fprintf(bw, "  %s\n", i)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(bw, "skipped: %d\n", len(r.Skipped))
		for _, i := range r.Skipped {
			mark := ""
			if i.Whole {
				mark = " [left out]"
			}
			fmt.Fprintf(bw, "  %s%s\n", i, mark)
		}
	}
	if len(r.Guards) > 0 {
		fmt.Fprintln(bw, "guards:")
		for _, g := range r.Guards {
			state := "REFUSES"
			switch {
			case g.Forced:
				state = "forced"
			case g.Unforceable:
				state = "REFUSES (cannot be forced)"
			}
			fmt.Fprintf(bw, "  %s %s: %s\n", g.Kind, state, g.Message)
		}
	}
	switch {
	case r.Refused != "":
		fmt.Fprintf(bw, "REFUSED, nothing written: %s\n", r.Refused)
		if len(r.Guards) > 0 && !r.Guards[0].Unforceable {
			fmt.Fprintln(bw, "(check the files; --force imports them as they are, and records that it was forced)")
		}
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
	tm := r.Timings
	fmt.Fprintf(bw, "took %s (parse %s, load %s, diff %s, apply %s)\n", r.Finished.Sub(r.Started).Round(time.Millisecond),
		tm.Parse.Round(time.Millisecond), tm.Load.Round(time.Millisecond), tm.Diff.Round(time.Millisecond), tm.Apply.Round(time.Millisecond))
	return bw.Flush()
}

// writeFile writes a file's lines: what it is, what became of what it
// describes, and why records were rejected or left aside.
func (r *Report) writeFile(w io.Writer, f FileReport) {
	name := f.Name
	if f.Archive != "" {
		name += " (in " + f.Archive + ")"
	}
	if f.Ignored {
		fmt.Fprintf(w, "  %s: ignored (not a directory file the ledger uses)\n", name)
		return
	}
	fmt.Fprintf(w, "  %s: %s %s %s, %s, %d bytes, %d record(s), %d rejected\n",
		name, f.Format, f.Category, f.Mode, f.Encoding, f.Bytes, f.Records, f.Rejected)
	switch {
	case f.Labels > 0:
		fmt.Fprintf(w, "    %d label(s) of %s codes\n", f.Labels, f.Category)
	case f.Establishments > 0:
		fmt.Fprintf(w, "    %d establishment(s): %d registered, %d already known\n", f.Establishments, f.Created, f.Unchanged)
	case f.Persons > 0:
		fmt.Fprintf(w, "    %d person(s): %d created, %d changed, %d unchanged, %d removed, %d left out\n",
			f.Persons, f.Created, f.Changed, f.Unchanged, f.Removed, f.Skipped)
	}
	for _, rc := range f.Reasons {
		what := "skipped"
		switch {
		case rc.Rejected:
			what = "rejected"
		case rc.Whole:
			what = "left out"
		}
		fmt.Fprintf(w, "    %d %s: %s\n", rc.Count, what, rc.Summary)
	}
}
