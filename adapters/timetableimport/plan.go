package timetableimport

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/schoolcalendar"
)

// PlanOptions are what the plan depends on besides the export and the
// directory.
type PlanOptions struct {
	// UAI of the establishment the timetable is for.
	UAI string
	// Calendar and Zone give the school days; Weeks the A/B alternation
	// (its Zone is Zone; a zero Reference is the rentrée's week).
	Calendar *schoolcalendar.Calendar
	Zone     schoolcalendar.Zone
	Weeks    schoolcalendar.WeekPattern
	// From is the first date the import changes: lessons before it are
	// never touched (neither added nor removed).
	From domain.Date
	// STS, when given, maps subject codes.
	STS *STS
}

// Validate checks the options.
func (o PlanOptions) Validate() error {
	switch {
	case o.UAI == "":
		return errors.New("the establishment (UAI) is required")
	case o.Calendar == nil:
		return errors.New("a school calendar is required")
	case o.Zone != schoolcalendar.ZoneA && o.Zone != schoolcalendar.ZoneB && o.Zone != schoolcalendar.ZoneC:
		return fmt.Errorf("zone %q is not A, B or C", o.Zone)
	case o.From.IsZero():
		return errors.New("the first date to change (From) is required")
	}
	return nil
}

// Entry is a timetable entry the import records: a lesson held every week
// on Weekday from From to Until, both included, with no week missing
// (a run of dated lessons).
type Entry struct {
	domain.ScheduleLesson
	GroupName string `json:"group_name"`
}

// Unmatched is a course's class or group the import leaves out, and why.
type Unmatched struct {
	Line   int    `json:"line"`
	Course string `json:"course,omitempty"`
	// Target is the class or group's name, Name what was not matched
	// (the group, the teacher, the subject).
	Target string `json:"target"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Kept is a recorded lesson the export would change that the import
// leaves as it is, and why.
type Kept struct {
	Group  string      `json:"group"`
	Date   domain.Date `json:"date"`
	Slot   domain.Slot `json:"slot"`
	Reason string      `json:"reason"`
}

// Reasons a lesson is kept or an export's lesson not added.
const (
	KeptHeld        = "held"         // the lesson has a roll call or content
	KeptClashHeld   = "clash-held"   // the export's lesson would overlap a held one
	KeptClashByHand = "clash-manual" // the export's lesson would overlap an entry set by hand
	KeptClashExport = "clash-export" // two lessons of the export overlap
)

// Plan is what an import would record.
type Plan struct {
	UAI  string      `json:"uai"`
	From domain.Date `json:"from"`
	// Courses counts the export's courses, Targets their classes and
	// groups (a course for two groups counts two), Unmatched those left
	// out.
	Courses   int         `json:"courses"`
	Targets   int         `json:"targets"`
	Unmatched []Unmatched `json:"unmatched,omitempty"`
	// Lessons counts the dated lessons the export holds from From on
	// (once each: a course given twice is one);
	// Holidays those of its weeks that fall on a holiday or bank holiday
	// (not held), NotCovered those outside the school calendar.
	Lessons    int `json:"lessons"`
	Holidays   int `json:"holidays"`
	NotCovered int `json:"not_covered"`
	// CoTeachers counts lessons with several teachers: the lesson records
	// the first who teaches the group.
	CoTeachers int     `json:"co_teachers,omitempty"`
	Add        []Entry `json:"add,omitempty"`
	Remove     []Entry `json:"remove,omitempty"`
	Kept       []Kept  `json:"kept,omitempty"`
}

// UnmatchedShare is the share of targets left out.
func (p *Plan) UnmatchedShare() float64 {
	if p.Targets == 0 {
		return 0
	}
	return float64(len(p.Unmatched)) / float64(p.Targets)
}

// entryNamespace names the ids of the entries the import records: an
// entry's id is derived from everything it holds, so the import knows
// its own entries from those set by hand, and an entry that changes is a
// new one.
var entryNamespace = uuid.MustParse("6f1c1e2a-8d0b-5b3e-9a7e-3c1f0d2b4e51")

// EntryID is the id the import gives an entry.
func EntryID(e domain.LessonScheduled) uuid.UUID {
	return uuid.NewSHA1(entryNamespace, []byte(strings.Join([]string{
		"timetable-import", e.Group.String(), e.Weekday.String(), e.From.String(), e.Until.String(),
		e.Slot.Start, e.Slot.End, e.Subject, e.Teacher.String(),
	}, "|")))
}

// imported reports whether the import recorded e.
func imported(e domain.LessonScheduled) bool { return e.Entry == EntryID(e) }

// dated is one lesson on one date.
type dated struct {
	group   uuid.UUID
	date    domain.Date
	slot    domain.Slot
	subject string
	teacher uuid.UUID
}

// pattern is what a run of dated lessons shares.
type pattern struct {
	group   uuid.UUID
	weekday time.Weekday
	slot    domain.Slot
	subject string
	teacher uuid.UUID
}

func (d dated) pattern() pattern {
	return pattern{d.group, d.date.Weekday(), d.slot, d.subject, d.teacher}
}

func overlaps(a, b domain.Slot) bool { return a.Start < b.End && b.Start < a.End }

// target is a matched class or group of a course part.
type target struct {
	group   Group
	teacher uuid.UUID
	subject string
}

// MakePlan matches the export to the directory, expands its courses into
// dated lessons and diffs them with what is recorded from opts.From on.
func MakePlan(t *Timetable, dir Directory, opts PlanOptions) (*Plan, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{UAI: opts.UAI, From: opts.From, Courses: len(t.Courses)}
	weeks := opts.Weeks
	weeks.Zone = opts.Zone
	teachers := map[string]teacherMatch{}
	groupNames := map[uuid.UUID]string{}
	var want []dated
	for _, c := range t.Courses {
		subj, hasSubj := t.Subjects[c.Subject]
		if !opts.Calendar.TeachesOn(c.Weekday) {
			// Its lessons would all fall on days without classes: say so
			// rather than count them as holidays.
			for _, part := range c.Parts {
				for _, tg := range part.targets() {
					p.Targets++
					p.Unmatched = append(p.Unmatched, Unmatched{Line: c.Line, Course: c.Key, Target: tg.key, Name: c.Weekday.String(), Reason: ReasonNoSchoolDay})
				}
			}
			continue
		}
		for _, part := range c.Parts {
			for _, tg := range part.targets() {
				p.Targets++
				m, un := matchTarget(t, dir, opts, c, part, tg, subj, hasSubj, teachers)
				if un != nil {
					p.Unmatched = append(p.Unmatched, *un)
					continue
				}
				if m.cot {
					p.CoTeachers++
				}
				groupNames[m.group.ID] = m.group.Name
				for _, d := range expand(opts, weeks, c.Weekday, part.Weeks, p) {
					want = append(want, dated{m.group.ID, d, c.Slot, m.subject, m.teacher})
				}
			}
		}
	}
	uniq := map[dated]bool{}
	for _, l := range want {
		uniq[l] = true
	}
	p.Lessons = len(uniq)
	diff(p, dir, opts, want, groupNames)
	return p, nil
}

// exportTarget is a class or group a part names, by kind and export key.
type exportTarget struct {
	kind domain.GroupKind
	key  string
}

func (p Part) targets() []exportTarget {
	var out []exportTarget
	if len(p.Groups) > 0 {
		// A course for groups is for them, not for the classes they are
		// made of.
		for _, g := range p.Groups {
			out = append(out, exportTarget{domain.GroupTeaching, g})
		}
		return out
	}
	for _, c := range p.Classes {
		out = append(out, exportTarget{domain.GroupClass, c})
	}
	return out
}

type matched struct {
	group   Group
	teacher uuid.UUID
	subject string
	cot     bool
}

func matchTarget(t *Timetable, dir Directory, opts PlanOptions, c Course, part Part, tg exportTarget,
	subj Subject, hasSubj bool, cache map[string]teacherMatch) (matched, *Unmatched) {
	names := t.Classes
	reason := ReasonUnknownClass
	if tg.kind == domain.GroupTeaching {
		names, reason = t.Groups, ReasonUnknownGroup
	}
	un := func(target, name, why string) *Unmatched {
		return &Unmatched{Line: c.Line, Course: c.Key, Target: target, Name: name, Reason: why}
	}
	name, ok := names[tg.key]
	if !ok {
		return matched{}, un(tg.key, tg.key, ReasonUnknownRef)
	}
	g, ok := dir.Group(opts.UAI, tg.kind, name)
	if !ok {
		return matched{}, un(name, name, reason)
	}
	if !hasSubj {
		return matched{}, un(name, c.Subject, ReasonUnknownSubject)
	}
	if len(part.Teachers) == 0 {
		return matched{}, un(name, "", ReasonNoTeacher)
	}
	// The lesson's teacher: the first of the export's teachers who
	// teaches the group.
	var first *Unmatched
	var teacher uuid.UUID
	var codes []string
	n := 0
	for _, key := range part.Teachers {
		et, ok := t.Teachers[key]
		if !ok {
			first = cmp.Or(first, un(name, key, ReasonUnknownRef))
			continue
		}
		tm, ok := cache[key]
		if !ok {
			tm = matchTeacher(dir, opts.UAI, et)
			cache[key] = tm
		}
		who := strings.TrimSpace(et.FirstName + " " + et.LastName)
		if tm.reason != "" {
			first = cmp.Or(first, un(name, who, tm.reason))
			continue
		}
		cs, teaches := g.Teaching[tm.account]
		if !teaches {
			first = cmp.Or(first, un(name, who, ReasonNotTeacherOf))
			continue
		}
		n++
		if teacher == uuid.Nil {
			teacher, codes = tm.account, cs
		}
	}
	if teacher == uuid.Nil {
		return matched{}, first
	}
	aliases := opts.STS.Aliases(subj.Code)
	if len(codes) > 0 && !slices.ContainsFunc(aliases, func(a string) bool { return slices.Contains(codes, a) }) {
		return matched{}, un(name, cmp.Or(subj.Code, subj.Label), ReasonSubjectNotTaught)
	}
	label := ""
	for _, a := range aliases {
		if l, ok := dir.SubjectLabel(a); ok {
			label = l
			break
		}
	}
	if label == "" {
		l, _ := opts.STS.Label(subj.Code)
		label = cmp.Or(l, subj.Label, subj.Code)
	}
	return matched{group: g, teacher: teacher, subject: label, cot: n > 1}, nil
}

// expand returns the dates a part is held on a weekday: its weeks' days
// that are school days, counting in p those that are not.
func expand(opts PlanOptions, weeks schoolcalendar.WeekPattern, wd time.Weekday, w Weeks, p *Plan) []domain.Date {
	var mondays []domain.Date
	if w.Listed {
		mondays = w.Mondays
	} else {
		for _, y := range opts.Calendar.Years() {
			m := y.Rentree.AddDays(-((int(y.Rentree.Weekday()) + 6) % 7))
			if weeks.Reference.IsZero() && w.Label != "" {
				weeks.Reference = y.Rentree
			}
			for ; !m.After(y.Last); m = m.AddDays(7) {
				mondays = append(mondays, m)
			}
		}
	}
	var out []domain.Date
	for _, m := range mondays {
		d := m.AddDays(int(wd) - 1)
		if d.Before(opts.From) {
			continue
		}
		school, err := opts.Calendar.IsSchoolDay(opts.Zone, d)
		if err != nil {
			p.NotCovered++
			continue
		}
		if !school {
			p.Holidays++
			continue
		}
		if !w.Listed && w.Label != "" {
			if l, err := opts.Calendar.Week(weeks, d); err != nil || l != w.Label {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// diff plans the entries: the recorded lessons before From and those held
// stay; from From on, the export's lessons replace the imported ones;
// entries set by hand are never touched. The dated lessons are then cut
// into runs (every week, no week missing): one entry per run.
func diff(p *Plan, dir Directory, opts PlanOptions, want []dated, names map[uuid.UUID]string) {
	var mine, byHand []domain.LessonScheduled
	for _, e := range dir.Entries(opts.UAI) {
		if imported(e) {
			mine = append(mine, e)
		} else {
			byHand = append(byHand, e)
		}
	}
	keep := map[dated]bool{}
	held := map[uuid.UUID][]dated{} // group -> held lessons from From on
	for _, e := range mine {
		for d := e.From; !d.After(e.Until); d = d.AddDays(7) {
			l := dated{e.Group, d, e.Slot, e.Subject, e.Teacher}
			switch {
			case d.Before(opts.From):
				keep[l] = true
			case dir.Held(domain.LessonID(e.Group, d, e.Slot)):
				keep[l] = true
				held[e.Group] = append(held[e.Group], l)
			}
		}
	}
	// The export's lessons, in its order: the first of two that overlap
	// is kept.
	type slotKey struct {
		group uuid.UUID
		date  domain.Date
	}
	taken := map[slotKey][]dated{}
	for _, l := range want {
		if keep[l] {
			continue
		}
		name := names[l.group]
		k := slotKey{l.group, l.date}
		if slices.ContainsFunc(held[l.group], func(h dated) bool { return h.date == l.date && overlaps(h.slot, l.slot) }) {
			p.Kept = append(p.Kept, Kept{name, l.date, l.slot, KeptClashHeld})
			continue
		}
		if slices.ContainsFunc(byHand, func(e domain.LessonScheduled) bool {
			return e.Group == l.group && e.Weekday == l.date.Weekday() && !l.date.Before(e.From) && !e.Until.Before(l.date) && overlaps(e.Slot, l.slot)
		}) {
			p.Kept = append(p.Kept, Kept{name, l.date, l.slot, KeptClashByHand})
			continue
		}
		if slices.ContainsFunc(taken[k], func(o dated) bool { return overlaps(o.slot, l.slot) }) {
			if !slices.Contains(taken[k], l) {
				p.Kept = append(p.Kept, Kept{name, l.date, l.slot, KeptClashExport})
			}
			continue
		}
		taken[k] = append(taken[k], l)
		keep[l] = true
	}
	// Held lessons the export no longer has stay: say so.
	for _, hs := range held {
		for _, h := range hs {
			if !slices.Contains(taken[slotKey{h.group, h.date}], h) {
				p.Kept = append(p.Kept, Kept{dir.GroupName(h.group), h.date, h.slot, KeptHeld})
			}
		}
	}
	target := runs(keep)
	recorded := map[uuid.UUID]domain.LessonScheduled{}
	for _, e := range mine {
		recorded[e.Entry] = e
	}
	for id, e := range target {
		if _, ok := recorded[id]; !ok {
			p.Add = append(p.Add, Entry{ScheduleLesson: domain.ScheduleLesson(e), GroupName: names[e.Group]})
		}
	}
	for id, e := range recorded {
		if _, ok := target[id]; !ok {
			p.Remove = append(p.Remove, Entry{ScheduleLesson: domain.ScheduleLesson(e), GroupName: dir.GroupName(e.Group)})
		}
	}
	order := func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.GroupName, b.GroupName), a.From.Compare(b.From), strings.Compare(a.Slot.Start, b.Slot.Start),
			strings.Compare(a.Entry.String(), b.Entry.String()))
	}
	slices.SortFunc(p.Add, order)
	slices.SortFunc(p.Remove, order)
	slices.SortFunc(p.Kept, func(a, b Kept) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), a.Date.Compare(b.Date), strings.Compare(a.Slot.Start, b.Slot.Start), strings.Compare(a.Reason, b.Reason))
	})
}

// runs cuts dated lessons into entries: the lessons of one pattern a week
// apart with no week missing make one entry.
func runs(lessons map[dated]bool) map[uuid.UUID]domain.LessonScheduled {
	by := map[pattern][]domain.Date{}
	for l := range lessons {
		by[l.pattern()] = append(by[l.pattern()], l.date)
	}
	out := map[uuid.UUID]domain.LessonScheduled{}
	for pt, dates := range by {
		slices.SortFunc(dates, domain.Date.Compare)
		start := 0
		for i := 1; i <= len(dates); i++ {
			if i < len(dates) && dates[i] == dates[i-1].AddDays(7) {
				continue
			}
			e := domain.LessonScheduled{Group: pt.group, Weekday: pt.weekday, Slot: pt.slot, Subject: pt.subject,
				Teacher: pt.teacher, From: dates[start], Until: dates[i-1]}
			e.Entry = EntryID(e)
			out[e.Entry] = e
			start = i
		}
	}
	return out
}
