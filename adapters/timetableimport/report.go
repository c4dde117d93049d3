package timetableimport

import (
	"bufio"
	"fmt"
	"io"
)

// refusals say why an import was refused, for the text report.
var refusals = map[string]string{
	RefusedUAI:       "the export is another establishment's",
	RefusedEmpty:     "the export holds no course",
	RefusedRejected:  "too many courses could not be read",
	RefusedUnmatched: "too many classes and groups could not be matched to the directory",
}

// maxListed bounds the lines of each list of the text report; the JSON
// report holds them all.
const maxListed = 200

// WriteText prints the report for a person: what was read, matched,
// planned (each entry with a dry run) and written.
func (r *Report) WriteText(w io.Writer) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("timetable import %s (%s), correlation %s", r.File, r.Format, r.CorrelationID)
	if r.STSFile != "" {
		p("  subjects' codes from %s", r.STSFile)
	}
	for _, wn := range r.Warnings {
		if wn.Line > 0 {
			p("  warning: line %d: %s", wn.Line, wn.Message)
		} else {
			p("  warning: %s", wn.Message)
		}
	}
	for i, rj := range r.Rejected {
		if i == maxListed {
			p("  ... %d more rejected", len(r.Rejected)-i)
			break
		}
		p("  rejected: line %d (course %s): %s", rj.Line, rj.Key, rj.Reason)
	}
	if pl := r.Plan; pl != nil {
		p("  %d courses, %d classes and groups, %d not matched; %d dated lessons from %s (%d more fall on holidays or bank holidays, %d outside the school calendar)",
			pl.Courses, pl.Targets, len(pl.Unmatched), pl.Lessons, pl.From, pl.Holidays, pl.NotCovered)
		if pl.CoTeachers > 0 {
			p("  %d lessons have several teachers: each records the first who teaches the group", pl.CoTeachers)
		}
		for i, u := range pl.Unmatched {
			if i == maxListed {
				p("  ... %d more not matched", len(pl.Unmatched)-i)
				break
			}
			p("  not matched: line %d (course %s) %s: %s %s", u.Line, u.Course, u.Target, u.Reason, u.Name)
		}
		for i, k := range pl.Kept {
			if i == maxListed {
				p("  ... %d more kept", len(pl.Kept)-i)
				break
			}
			p("  kept: %s %s %s (%s)", k.Group, k.Date, k.Slot, k.Reason)
		}
		if r.DryRun || r.Refused != "" {
			list := func(what string, es []Entry) {
				for i, e := range es {
					if i == maxListed {
						p("  ... %d more to %s", len(es)-i, what)
						break
					}
					p("  %s: %s %s %s %s, %s to %s", what, e.GroupName, e.Weekday, e.Slot, e.Subject, e.From, e.Until)
				}
			}
			list("remove", pl.Remove)
			list("add", pl.Add)
		}
		p("  planned: %d entries to add, %d to remove", len(pl.Add), len(pl.Remove))
	}
	switch {
	case r.Refused != "":
		p("refused (%s): %s; nothing written", r.Refused, refusals[r.Refused])
	case r.DryRun:
		p("dry run: nothing written")
	default:
		p("written: %d entries added, %d removed", r.Added, r.Removed)
	}
	for _, f := range r.Failed {
		p("  refused by the ledger: %s %s %s %s %s to %s: %s", f.Op, f.Entry.GroupName, f.Entry.Weekday, f.Entry.Slot, f.Entry.From, f.Entry.Until, f.Error)
	}
	return b.Flush()
}
