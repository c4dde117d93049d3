package directoryimport

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// Guards. A feed as an académie sends it may be broken in ways no single
// record shows: a structure type nobody expected leaves out every person
// attached to it; a part file missing from a full feed makes everyone in
// it look gone; bytes in another encoding than declared rename everyone.
// The guards look at the whole import, once it is planned and before
// anything is written, and refuse it with a report, unless the import is
// forced (Options.Force; recorded by an import.forced.v1 event).

// GuardKind names a guard.
type GuardKind string

// Guards.
const (
	// GuardRejected: too many malformed records (Options.MaxRejected).
	GuardRejected GuardKind = "rejected"
	// GuardSkipped: too many people left out whole (Options.MaxSkipped).
	GuardSkipped GuardKind = "skipped"
	// GuardChanges: too many existing accounts renamed, flagged missing
	// or closed (Options.MaxChanges).
	GuardChanges GuardKind = "changes"
	// GuardParts: a full feed whose numbered part files of a category are
	// not all there.
	GuardParts GuardKind = "parts"
	// GuardEncoding: a file whose bytes are not in its declared encoding.
	GuardEncoding GuardKind = "encoding"
)

// Guard is a guard that tripped: it refuses the import unless forced.
type Guard struct {
	Kind GuardKind `json:"guard"`
	// File is the file the guard is about; Category, the category whose
	// files it is about; neither: the whole import.
	File     string   `json:"file,omitempty"`
	Category Category `json:"category,omitempty"`
	// Count of Of (records, people or accounts) tripped it, above the
	// share Limit.
	Count int     `json:"count,omitempty"`
	Of    int     `json:"of,omitempty"`
	Limit float64 `json:"limit,omitempty"`
	// Renamed, Flagged and Closed make a changes guard's Count (an account
	// counts once).
	Renamed int `json:"renamed,omitempty"`
	Flagged int `json:"flagged,omitempty"`
	Closed  int `json:"closed,omitempty"`
	// Missing and Present are a parts guard's part numbers.
	Missing []int `json:"missing,omitempty"`
	Present []int `json:"present,omitempty"`
	// Encoding is an encoding guard's finding.
	Encoding *EncodingMismatch `json:"encoding,omitempty"`
	// Unforceable: the file cannot be read at all, forced or not.
	Unforceable bool `json:"unforceable,omitempty"`
	// Forced: the import went on anyway.
	Forced bool `json:"forced,omitempty"`
	// Message says it in words.
	Message string `json:"message"`
}

// Defaults of the guards.
const (
	DefaultMaxSkipped = 0.05
	DefaultMaxChanges = 0.10
	// DefaultGuardMin: below ten people or accounts the skip and
	// mass-change guards (and the rejected share of one file) do not
	// trip, so that a small school's or a small delta's few changes go
	// through.
	DefaultGuardMin = 10
)

// trips reports whether count of of is above the share limit, from min on.
// A file or import that would leave out everyone it names always trips:
// importing nothing is never quiet.
func trips(count, of int, limit float64, min int, allTrips bool) bool {
	if count == 0 || float64(count) <= limit*float64(of) {
		return false
	}
	return count >= min || (allTrips && count == of)
}

func pct(f float64) string { return fmt.Sprintf("%.1f %%", 100*f) }

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// guards evaluates every guard on the planned import.
func guards(feed *Feed, plan *Plan, dir Directory, opts Options) []Guard {
	var out []Guard
	out = append(out, rejectedGuards(feed, opts)...)
	out = append(out, encodingGuards(feed)...)
	out = append(out, partGuards(feed)...)
	out = append(out, skippedGuards(feed, opts)...)
	out = append(out, changeGuards(feed, plan, dir, opts)...)
	return out
}

// rejectedGuards: the share of malformed records of each file (from
// GuardMin records rejected, or all of them) and of the whole import. A
// feed of one file is the file. A file whose bytes are not in its encoding
// is left to its encoding guard: the records it rejects (their texts not
// UTF-8) are that guard's finding, not a second one.
func rejectedGuards(feed *Feed, opts Options) []Guard {
	var out []Guard
	total, records, files := 0, 0, 0
	for _, f := range feed.Files {
		if f.Records > 0 {
			files++
		}
	}
	for _, f := range feed.Files {
		if f.encodingMismatch() != nil {
			continue
		}
		total += f.Rejected
		records += f.Records
		if files > 1 && trips(f.Rejected, f.Records, opts.MaxRejected, opts.GuardMin, true) {
			out = append(out, Guard{Kind: GuardRejected, File: f.Name, Count: f.Rejected, Of: f.Records, Limit: opts.MaxRejected,
				Message: fmt.Sprintf("%s: %d of its %d records rejected (%s, more than %s)",
					f.Name, f.Rejected, f.Records, pct(share(f.Rejected, f.Records)), pct(opts.MaxRejected))})
		}
	}
	if s := share(total, records); s > opts.MaxRejected {
		out = append(out, Guard{Kind: GuardRejected, Count: total, Of: records, Limit: opts.MaxRejected,
			Message: fmt.Sprintf("%d of %d records rejected (%s, more than %s)", total, records, pct(s), pct(opts.MaxRejected))})
	}
	return out
}

// encodingGuards: the files whose bytes are not in their encoding.
func encodingGuards(feed *Feed) []Guard {
	var out []Guard
	for i := range feed.Files {
		f := &feed.Files[i]
		if m := f.encodingMismatch(); m != nil {
			out = append(out, encodingGuard(f.Name, m))
		}
	}
	return out
}

func encodingGuard(file string, m *EncodingMismatch) Guard {
	return Guard{Kind: GuardEncoding, File: file, Count: m.Count, Encoding: m,
		Message: fmt.Sprintf("%s: %s: its names would be garbled", file, m)}
}

// partGuards: the categories of a full feed whose numbered part files
// (_0000, _0001...) do not all come: everyone in a missing part would be
// flagged missing. A missing last part cannot be told from a feed that
// has no more.
func partGuards(feed *Feed) []Guard {
	if feed.Mode != ModeFull {
		return nil
	}
	type delivery struct {
		category Category
		first    string
		parts    []int
	}
	byKey := make(map[string]*delivery)
	var keys []string
	for _, f := range feed.Files {
		if f.Format != FormatAAF || f.Ignored {
			continue
		}
		info := aafFileInfo(f.Name)
		if info.part < 0 || info.category == "" || info.category == CategorySubject || info.category == CategoryMEF {
			// A nomenclature's missing part flags nobody: its codes are
			// shown as codes.
			continue
		}
		d, ok := byKey[info.delivery]
		if !ok {
			d = &delivery{category: info.category, first: f.Name}
			byKey[info.delivery] = d
			keys = append(keys, info.delivery)
		}
		d.parts = append(d.parts, info.part)
	}
	slices.Sort(keys)
	var out []Guard
	for _, k := range keys {
		d := byKey[k]
		slices.Sort(d.parts)
		d.parts = slices.Compact(d.parts)
		var missing []int
		for n := 0; n < d.parts[len(d.parts)-1]; n++ {
			if _, found := slices.BinarySearch(d.parts, n); !found {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			continue
		}
		out = append(out, Guard{Kind: GuardParts, Category: d.category, File: d.first, Count: len(missing),
			Missing: missing, Present: d.parts,
			Message: fmt.Sprintf("the full feed's %s files are incomplete: part %s missing (present: %s); "+
				"everyone in the missing part would be flagged missing", d.category, partList(missing), partList(d.parts))})
	}
	return out
}

// partList writes part numbers as the file names do: 0000, 0002.
func partList(parts []int) string {
	s := make([]string, len(parts))
	for i, n := range parts {
		s[i] = fmt.Sprintf("%04d", n)
	}
	return strings.Join(s, ", ")
}

// skippedGuards: the share of people left out whole, of each file and of
// the import (a feed of one file of people is the file).
func skippedGuards(feed *Feed, opts Options) []Guard {
	var out []Guard
	skipped, persons, files := 0, 0, 0
	for _, f := range feed.Files {
		if f.Persons > 0 {
			files++
		}
	}
	for _, f := range feed.Files {
		skipped += f.Skipped
		persons += f.Persons
		if files > 1 && trips(f.Skipped, f.Persons, opts.MaxSkipped, opts.GuardMin, true) {
			out = append(out, Guard{Kind: GuardSkipped, File: f.Name, Count: f.Skipped, Of: f.Persons, Limit: opts.MaxSkipped,
				Message: fmt.Sprintf("%s: %d of its %d people would be left out (%s, more than %s)",
					f.Name, f.Skipped, f.Persons, pct(share(f.Skipped, f.Persons)), pct(opts.MaxSkipped))})
		}
	}
	if trips(skipped, persons, opts.MaxSkipped, opts.GuardMin, true) {
		out = append(out, Guard{Kind: GuardSkipped, Count: skipped, Of: persons, Limit: opts.MaxSkipped,
			Message: fmt.Sprintf("%d of the feed's %d people would be left out (%s, more than %s)",
				skipped, persons, pct(share(skipped, persons)), pct(opts.MaxSkipped))})
	}
	return out
}

// changeGuards: the share of existing accounts the import would rename,
// flag missing, or close having flagged them, per category of person and
// for the import. Of: the open imported accounts of the profiles the feed
// covers, in the establishments it names or listed by it. Closings of
// accounts flagged by an earlier import, once their grace is over, do not
// count: that import was the change.
func changeGuards(feed *Feed, plan *Plan, dir Directory, opts Options) []Guard {
	uais := make(map[string]bool)
	for _, u := range feed.establishments() {
		uais[u] = true
	}
	listed := make(map[string]bool, len(feed.Persons))
	for _, pe := range feed.Persons {
		listed[pe.JoinID] = true
	}
	type tally struct{ of, count, renamed, flagged, closed int }
	per := make(map[Category]*tally)
	var all tally
	for a := range dir.Accounts() {
		if a.Closed || a.ExternalID == "" || !feed.profiles[a.Profile] || !(uais[a.Establishment] || listed[a.ExternalID]) {
			continue
		}
		cat := categoryOf(a.Profile)
		t := per[cat]
		if t == nil {
			t = &tally{}
			per[cat] = t
		}
		r, f, c := plan.renamed[a.ExternalID], plan.flagged[a.ExternalID], plan.closedNow[a.ExternalID]
		for _, x := range []*tally{t, &all} {
			x.of++
			if r || f || c {
				x.count++
			}
			if r {
				x.renamed++
			}
			if f {
				x.flagged++
			}
			if c {
				x.closed++
			}
		}
	}
	guard := func(cat Category, t tally) (Guard, bool) {
		if !trips(t.count, t.of, opts.MaxChanges, opts.GuardMin, false) {
			return Guard{}, false
		}
		what := "the import"
		if cat != "" {
			what = "the " + string(cat) + " files"
		}
		return Guard{Kind: GuardChanges, Category: cat, Count: t.count, Of: t.of, Limit: opts.MaxChanges,
			Renamed: t.renamed, Flagged: t.flagged, Closed: t.closed,
			Message: fmt.Sprintf("%s would change %d of %d existing accounts (%s, more than %s): %d renamed, %d flagged missing, %d closed",
				what, t.count, t.of, pct(share(t.count, t.of)), pct(opts.MaxChanges), t.renamed, t.flagged, t.closed)}, true
	}
	var out []Guard
	for _, c := range slices.Sorted(maps.Keys(per)) {
		if g, ok := guard(c, *per[c]); ok {
			out = append(out, g)
		}
	}
	if len(per) > 1 {
		if g, ok := guard("", all); ok {
			out = append(out, g)
		}
	}
	return out
}

// categoryOf is the category of persons of a profile.
func categoryOf(p domain.Profile) Category {
	switch p {
	case domain.ProfileStudent:
		return CategoryStudent
	case domain.ProfileRelative:
		return CategoryRelative
	}
	return CategoryEducNat
}

// refusedBy says in words why guards refuse an import.
func refusedBy(gs []Guard) string {
	msgs := make([]string, 0, len(gs))
	for _, g := range gs {
		msgs = append(msgs, g.Message)
	}
	return strings.Join(msgs, "; ")
}
