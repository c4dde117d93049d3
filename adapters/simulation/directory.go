package simulation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// The directory of an establishment: its accounts, its groups per school
// year with their members and weekly timetables, its bookable resources.
// It is built once, before any command, from the establishment's random
// generator; the activity then draws from it.

// account is one directory account.
type account struct {
	id       uuid.UUID
	profile  domain.Profile
	function domain.Function
	name     string
	external string
	openAt   time.Time
	closeAt  time.Time // zero: open until the end
	// activity is how often the owner uses the ENT, relative to others of
	// the same profile (log-normal: a few heavy users, many rare ones).
	activity float64
	// Students.
	cohort    int
	behavior  float64 // propensity to absences, lateness and punishments
	relatives []int
	// Relatives: the students they are linked to; legal[i] says whether
	// the link to children[i] is as legal guardian.
	children []int
	legal    []bool
	// Teachers.
	subject string
}

// openOn reports whether the account is open at t.
func (a *account) openOn(t time.Time) bool {
	return !t.Before(a.openAt) && (a.closeAt.IsZero() || t.Before(a.closeAt))
}

// member is a teacher of a group, with the subject taught.
type member struct {
	account int
	subject string
}

// entry is a weekly lesson of a group's timetable.
type entry struct {
	id      uuid.UUID
	weekday time.Weekday
	slot    int
	subject string
	teacher int
}

// group is a class or teaching group of one school year.
type group struct {
	id       uuid.UUID
	name     string
	kind     domain.GroupKind
	year     int // index in estPlan.years
	level    int
	subject  string // teaching groups: the option's subject
	hours    int    // teaching groups: the option's weekly hours
	students []int
	teachers []member
	head     int // professeur principal (-1: none)
	entries  []entry
}

// teaches reports whether account teaches g.
func (g *group) teaches(account int) bool {
	return slices.ContainsFunc(g.teachers, func(m member) bool { return m.account == account })
}

// yearPlan is an establishment's school year within the window.
type yearPlan struct {
	start        int // 2005 for 2005-2006
	importAt     time.Time
	lessonsFrom  domain.Date
	lessonsUntil domain.Date
	groups       []int // in estPlan.groups
	classOf      map[int]int
	present      []int // students present this year
	newStudents  []int // opened at this year's import
	newTeachers  []int
	leavers      []int // closed at the end of this year
	leaveAt      time.Time
	groupQuota   int
	// clock runs through the import: accounts, then groups, members and
	// timetable; readyAt is when the import is over.
	clock   time.Time
	readyAt time.Time
}

// tick advances the year's import clock.
func (y *yearPlan) tick() time.Time {
	y.clock = y.clock.Add(50 * time.Millisecond)
	return y.clock
}

// hasLessons reports whether the year holds lessons in the window.
func (y *yearPlan) hasLessons() bool {
	return !y.lessonsUntil.Before(y.lessonsFrom) && len(y.groups) > 0
}

// resource is a bookable room or equipment.
type resource struct {
	id  uuid.UUID
	cmd domain.RegisterResource
}

// profileFractions are the shares of a product's accounts per profile, in
// the order of profiles (students, teachers, relatives, personnel,
// guests). Scolastance's students include a second intake (two school
// years); K-d'école's one year.
func profileFractions(p Product) [5]float64 {
	if p == Kdecole {
		return [5]float64{0.39, 0.033, 0.55, 0.012, 0.015}
	}
	return [5]float64{0.36, 0.026, 0.595, 0.008, 0.011}
}

// relativeSchedule is the share of a batch of relatives' accounts opened
// each month from the directory import: parents got their letters over a
// few months (over five for K-d'école, opened progressively until January
// 2007).
func relativeSchedule(p Product) []float64 {
	if p == Kdecole {
		return []float64{0.1, 0.25, 0.25, 0.2, 0.2}
	}
	return []float64{0.6, 0.3, 0.1}
}

// profileCounts splits an establishment's accounts per profile: the first
// four go to a head, a teacher, a student and a relative, so that even a
// small scale has someone to act; the rest in the product's proportions.
func profileCounts(p Product, n int) [5]int {
	var out [5]int
	core := []int{3, 1, 0, 2} // personnel, teacher, student, relative
	for i := 0; i < min(n, len(core)); i++ {
		out[core[i]]++
	}
	if rest := n - len(core); rest > 0 {
		f := profileFractions(p)
		split, _ := apportion(rest, f[:])
		for i := range out {
			out[i] += split[i]
		}
	}
	return out
}

// idOf derives a stable id from the seed, the establishment and parts.
func (e *estPlan) idOf(parts ...string) uuid.UUID {
	return domain.DeterministicID(append([]string{"sim", strconv.FormatInt(e.seed, 10), e.UAI}, parts...)...)
}

// at returns the moment h:m on day x, local time.
func (e *estPlan) at(x domain.Date, h, m int) time.Time {
	return time.Date(x.Year, x.Month, x.Day, h, m, 0, 0, e.loc)
}

// lognormal draws exp(N(0, sigma)).
func lognormal(r *rand.Rand, sigma float64) float64 { return math.Exp(r.NormFloat64() * sigma) }

// buildYears lays out the school years of the window.
func (e *estPlan) buildYears() {
	for y := schoolYearStart(e.from); y <= schoolYearStart(e.to); y++ {
		sy := e.cal.year(y)
		day := ymd(y, time.September, 1)
		if day.Before(e.from) {
			day = e.from
		}
		yp := &yearPlan{start: y, importAt: e.at(day, 5, 0), classOf: make(map[int]int)}
		yp.clock = yp.importAt
		yp.lessonsFrom = sy.first
		if yp.lessonsFrom.Before(day) {
			yp.lessonsFrom = day
		}
		yp.lessonsUntil = sy.last(e.Kind)
		if e.to.Before(yp.lessonsUntil) {
			yp.lessonsUntil = e.to
		}
		e.years = append(e.years, yp)
	}
}

// lessonsPossible reports whether year j can hold lessons at all.
func (e *estPlan) lessonsPossible(j int) bool {
	y := e.years[j]
	return !y.lessonsUntil.Before(y.lessonsFrom)
}

// studentsPresent is how many students year j holds, from the counts
// alone (before the directory is built).
func (e *estPlan) studentsPresent(j int) int {
	L := len(levels(e.Kind))
	sizes := e.cohortSizes()
	n := 0
	for c, s := range sizes {
		if lvl := j - c + L - 1; lvl >= 0 && lvl < L {
			n += s
		}
	}
	return n
}

// cohortSizes splits the students into cohorts: the levels present at the
// first year, then one intake per later year.
func (e *estPlan) cohortSizes() []int {
	L := len(levels(e.Kind))
	n := L + len(e.years) - 1
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	sizes, _ := apportion(e.counts[0], w)
	return sizes
}

// buildDirectory makes the accounts, groups, timetables and resources.
func (e *estPlan) buildDirectory() error {
	r := e.rng
	college := e.Kind != domain.KindLycee
	newAccount := func(p domain.Profile, f domain.Function, name string, openAt time.Time) int {
		i := len(e.accounts)
		e.accounts = append(e.accounts, account{
			id: e.idOf("account", strconv.Itoa(i)), profile: p, function: f, name: name,
			external: fmt.Sprintf("%s-%06d", e.UAI, i+1), openAt: openAt,
			activity: lognormal(r, 1.1),
		})
		e.byProfile[profileIndex(p)] = append(e.byProfile[profileIndex(p)], i)
		return i
	}
	// Personnel, at the first import.
	y0 := e.years[0]
	functions := []domain.Function{domain.FunctionHead, domain.FunctionCPE, domain.FunctionSecretary, domain.FunctionDeputy}
	tail := []domain.Function{domain.FunctionOther, domain.FunctionSecretary, domain.FunctionOther, domain.FunctionCPE}
	for k := 0; k < e.counts[3]; k++ {
		f := tail[k%len(tail)]
		if k < len(functions) {
			f = functions[k]
		}
		civ, first := adultName(r)
		name := fmt.Sprintf("%s %s %s (%s)", civ, first, pick(r, surnames), functionTitle(string(f), college))
		i := newAccount(domain.ProfilePersonnel, f, name, y0.tick())
		switch f {
		case domain.FunctionHead, domain.FunctionDeputy:
			e.heads = append(e.heads, i)
		case domain.FunctionCPE, domain.FunctionSecretary:
			e.office = append(e.office, i)
		}
	}
	if len(e.office) == 0 {
		e.office = e.heads
	}

	// Teachers: each teaches one subject, in proportion to the hours of
	// the curriculum and of the options. Most are there from the first
	// year; about 8 % arrive each later year.
	var subjects []string
	var weights []float64
	for _, s := range curriculum(e.Kind) {
		subjects, weights = append(subjects, s.Name), append(weights, float64(s.Hours))
	}
	for _, o := range options(e.Kind) {
		if !slices.Contains(subjects, o.Subject) {
			subjects, weights = append(subjects, o.Subject), append(weights, 0.4*float64(o.Hours))
		}
	}
	perSubject, _ := apportion(e.counts[1], weights)
	var teacherSubjects []string
	for i, n := range perSubject {
		for range n {
			teacherSubjects = append(teacherSubjects, subjects[i])
		}
	}
	r.Shuffle(len(teacherSubjects), func(i, j int) {
		teacherSubjects[i], teacherSubjects[j] = teacherSubjects[j], teacherSubjects[i]
	})
	arrivals := make([]int, len(e.years))
	arrivals[0] = e.counts[1]
	for j := 1; j < len(e.years); j++ {
		arrivals[j] = min(int(math.Round(float64(e.counts[1])*0.08)), arrivals[0]-1)
		if arrivals[j] > 0 {
			arrivals[0] -= arrivals[j]
		} else {
			arrivals[j] = 0
		}
	}
	k := 0
	for j, n := range arrivals {
		for range n {
			civ, first := adultName(r)
			i := newAccount(domain.ProfileTeacher, "", fmt.Sprintf("%s %s %s", civ, first, pick(r, surnames)), e.years[j].tick())
			e.accounts[i].subject = teacherSubjects[k]
			e.years[j].newTeachers = append(e.years[j].newTeachers, i)
			k++
		}
	}

	// Students, cohort by cohort: the levels present at the first import,
	// then one intake per later year. A cohort leaves (its accounts are
	// closed) in the summer after its last level, when a later year is in
	// the window.
	L := len(levels(e.Kind))
	sizes := e.cohortSizes()
	cohorts := make([][]int, len(sizes))
	for c, n := range sizes {
		j := max(0, c-(L-1))
		y := e.years[j]
		for range n {
			first, last := childName(r)
			i := newAccount(domain.ProfileStudent, "", first+" "+last, y.tick())
			e.accounts[i].cohort = c
			e.accounts[i].behavior = lognormal(r, 0.9)
			cohorts[c] = append(cohorts[c], i)
			y.newStudents = append(y.newStudents, i)
		}
		// Cohort c is at the last level in year c, leaving after it.
		if last := c; last < len(e.years)-1 {
			y := e.years[last]
			y.leaveAt = e.at(ymd(y.start+1, time.July, 31), 9, 0)
			for _, i := range cohorts[c] {
				e.accounts[i].closeAt = y.leaveAt.Add(time.Duration(len(y.leavers)) * 100 * time.Millisecond)
				y.leavers = append(y.leavers, i)
			}
		}
	}

	// Relatives, opened over the first months of their child's year and
	// linked at once; a few are linked to a second child (a sibling).
	relSplit, _ := apportion(e.counts[2], floats5(sizes))
	for c, n := range relSplit {
		if n == 0 || len(cohorts[c]) == 0 {
			continue
		}
		j := max(0, c-(L-1))
		times := e.scheduleOpenings(n, e.years[j].importAt, relativeSchedule(e.Product))
		kids := slices.Clone(cohorts[c])
		r.Shuffle(len(kids), func(a, b int) { kids[a], kids[b] = kids[b], kids[a] })
		for k := range n {
			kid := kids[k%len(kids)]
			_, surname := splitName(e.accounts[kid].name)
			civ, first := adultName(r)
			i := newAccount(domain.ProfileRelative, "", fmt.Sprintf("%s %s %s", civ, first, surname), times[k])
			legal := len(e.accounts[kid].relatives) < 2
			e.link(i, kid, legal)
			if r.Float64() < 0.06 {
				// A sibling among the students open when the link is made.
				sib := e.randomOpenStudent(times[k])
				if sib >= 0 && sib != kid {
					e.link(i, sib, true)
				}
			}
		}
	}

	// Guests (partners of the establishment), opened along the window.
	gtimes := e.spreadOpenings(e.counts[4], y0.importAt.Add(24*time.Hour))
	for k := range e.counts[4] {
		name := partners[k%len(partners)]
		if k >= len(partners) {
			name += fmt.Sprintf(" (%d)", k/len(partners)+1)
		}
		newAccount(domain.ProfileGuest, "", name, gtimes[k])
	}

	// Groups and timetables, year by year.
	for j := range e.years {
		e.buildGroups(j)
	}

	// Resources, registered by the head at the first import.
	for k, rc := range resources(e.Kind) {
		rc.Resource = e.idOf("resource", strconv.Itoa(k))
		rc.Establishment = e.UAI
		e.resources = append(e.resources, resource{id: rc.Resource, cmd: rc})
	}
	return nil
}

func floats5(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func splitName(name string) (first, last string) {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == ' ' {
			return name[:i], name[i+1:]
		}
	}
	return "", name
}

// link links relative i to student kid.
func (e *estPlan) link(i, kid int, legal bool) {
	e.accounts[i].children = append(e.accounts[i].children, kid)
	e.accounts[i].legal = append(e.accounts[i].legal, legal)
	e.accounts[kid].relatives = append(e.accounts[kid].relatives, i)
}

// randomOpenStudent returns a student open at t, or -1.
func (e *estPlan) randomOpenStudent(t time.Time) int {
	students := e.byProfile[0]
	for range 20 {
		i := students[e.rng.IntN(len(students))]
		if e.accounts[i].openOn(t) {
			return i
		}
	}
	return -1
}

// workingDays are the days Monday to Friday, not public holidays, of month
// m within [from, e.to].
func (e *estPlan) workingDays(m Month, from domain.Date) []domain.Date {
	var out []domain.Date
	for x := (domain.Date{Year: m.Year, Month: m.Month, Day: 1}); x.Month == m.Month; x = x.AddDays(1) {
		if x.Before(from) || x.After(e.to) {
			continue
		}
		wd := x.Weekday()
		if wd == time.Saturday || wd == time.Sunday || e.cal.year(schoolYearStart(x)).publicDays[x] {
			continue
		}
		out = append(out, x)
	}
	return out
}

// scheduleOpenings spreads n account openings over the months from start,
// in the shares of schedule, at office hours; months past the window fold
// into its last. Deterministic in the day, random in the time of day.
func (e *estPlan) scheduleOpenings(n int, start time.Time, schedule []float64) []time.Time {
	out := make([]time.Time, n)
	first := domain.DateOf(start)
	m0 := Month{first.Year, first.Month}
	last := Month{e.to.Year, e.to.Month}
	cum := make([]float64, len(schedule))
	s := 0.0
	for i, f := range schedule {
		s += f
		cum[i] = s
	}
	for k := range n {
		pos := (float64(k) + 0.5) / float64(n) * s
		o := 0
		for o < len(cum)-1 && pos >= cum[o] {
			o++
		}
		lo := 0.0
		if o > 0 {
			lo = cum[o-1]
		}
		u := (pos - lo) / schedule[o]
		m := m0.add(o)
		if last.before(m) {
			m = last
		}
		days := e.workingDays(m, first)
		if len(days) == 0 {
			days = []domain.Date{first}
		}
		x := days[min(len(days)-1, int(u*float64(len(days))))]
		t := e.at(x, 9, 0).Add(time.Duration(e.rng.IntN(8*3600+1800)) * time.Second)
		if !t.After(start) {
			t = start.Add(time.Duration(k+1) * time.Second)
		}
		out[k] = t
	}
	return out
}

// spreadOpenings spreads n openings evenly over the working days from
// start to the end of the window.
func (e *estPlan) spreadOpenings(n int, start time.Time) []time.Time {
	var days []domain.Date
	for m := (Month{start.Year(), start.Month()}); !(Month{e.to.Year, e.to.Month}).before(m); m = m.add(1) {
		days = append(days, e.workingDays(m, domain.DateOf(start))...)
	}
	out := make([]time.Time, n)
	for k := range n {
		if len(days) == 0 {
			out[k] = start.Add(time.Duration(k+1) * time.Second)
			continue
		}
		x := days[min(len(days)-1, int((float64(k)+0.5)/float64(n)*float64(len(days))))]
		out[k] = e.at(x, 10, 0).Add(time.Duration(e.rng.IntN(7*3600)) * time.Second)
	}
	return out
}

// buildGroups makes year j's classes and teaching groups, their members
// and their timetables.
func (e *estPlan) buildGroups(j int) {
	y := e.years[j]
	r := e.rng
	lv := levels(e.Kind)
	L := len(lv)
	byLevel := make([][]int, L)
	for _, i := range e.byProfile[0] {
		a := &e.accounts[i]
		if lvl := j - a.cohort + L - 1; lvl >= 0 && lvl < L {
			byLevel[lvl] = append(byLevel[lvl], i)
			y.present = append(y.present, i)
		}
	}
	G := y.groupQuota
	if G == 0 || len(y.present) == 0 {
		return
	}
	var teachers []int
	for jj := 0; jj <= j; jj++ {
		teachers = append(teachers, e.years[jj].newTeachers...)
	}
	if len(teachers) == 0 {
		return
	}

	// Classes: about 27 students each, at least one per level when there
	// are enough groups; the rest are teaching groups.
	C := min(G, max(1, int(math.Round(float64(len(y.present))/27))))
	var nonEmpty []int
	for l, s := range byLevel {
		if len(s) > 0 {
			nonEmpty = append(nonEmpty, l)
		}
	}
	perLevel := make([]int, L)
	if C >= len(nonEmpty) {
		w := make([]float64, L)
		for _, l := range nonEmpty {
			w[l] = float64(len(byLevel[l]))
			perLevel[l] = 1
		}
		extra, _ := apportion(C-len(nonEmpty), w)
		for l := range perLevel {
			perLevel[l] += extra[l]
		}
	} else {
		order := slices.Clone(nonEmpty)
		slices.SortStableFunc(order, func(a, b int) int { return len(byLevel[b]) - len(byLevel[a]) })
		for _, l := range order[:C] {
			perLevel[l] = 1
		}
	}

	load := make(map[int]int) // teacher -> weekly hours given
	pickTeacher := func(subj string) int {
		best, bestLoad := -1, math.MaxInt
		for _, t := range teachers {
			if e.accounts[t].subject == subj && load[t] < bestLoad {
				best, bestLoad = t, load[t]
			}
		}
		if best >= 0 {
			return best
		}
		for _, t := range teachers {
			if load[t] < bestLoad {
				best, bestLoad = t, load[t]
			}
		}
		return best
	}
	newGroup := func(name string, kind domain.GroupKind, level int, subj string) *group {
		gi := len(e.groups)
		e.groups = append(e.groups, group{
			id:   e.idOf("group", strconv.Itoa(y.start), strconv.Itoa(gi)),
			name: name, kind: kind, year: j, level: level, subject: subj, head: -1,
		})
		y.groups = append(y.groups, gi)
		return &e.groups[gi]
	}

	var classes []int
	for l, n := range perLevel {
		students := slices.Clone(byLevel[l])
		r.Shuffle(len(students), func(a, b int) { students[a], students[b] = students[b], students[a] })
		for c := range n {
			var name string
			if e.Kind == domain.KindLycee {
				name = fmt.Sprintf("%s %d", lv[l], c+1)
			} else {
				name = fmt.Sprintf("%s %c", lv[l], 'A'+rune(c))
			}
			g := newGroup(name, domain.GroupClass, l, "")
			for k := c; k < len(students); k += n {
				g.students = append(g.students, students[k])
			}
			for _, s := range curriculum(e.Kind) {
				t := pickTeacher(s.Name)
				load[t] += s.Hours
				g.teachers = append(g.teachers, member{t, s.Name})
			}
			g.head = g.teachers[r.IntN(len(g.teachers))].account
			classes = append(classes, len(e.groups)-1)
			for _, s := range g.students {
				y.classOf[s] = len(e.groups) - 1
			}
		}
	}

	// Teaching groups: options taken by some students of one level.
	var tgs []int
	if TG := G - C; TG > 0 && len(nonEmpty) > 0 {
		opts := options(e.Kind)
		start := r.IntN(len(nonEmpty))
		used := make(map[string]int)
		for k := range TG {
			l := nonEmpty[(start+k)%len(nonEmpty)]
			o := opts[r.IntN(len(opts))]
			name := lv[l] + " " + o.Name
			used[name]++
			if used[name] > 1 {
				name += fmt.Sprintf(" G%d", used[name])
			}
			g := newGroup(name, domain.GroupTeaching, l, o.Subject)
			g.hours = o.Hours
			size := min(len(byLevel[l]), 12+r.IntN(15))
			for _, p := range r.Perm(len(byLevel[l]))[:size] {
				g.students = append(g.students, byLevel[l][p])
			}
			t := pickTeacher(o.Subject)
			load[t] += o.Hours
			g.teachers = append(g.teachers, member{t, o.Subject})
			tgs = append(tgs, len(e.groups)-1)
		}
	}

	// Timetables: teaching groups first (their students come from several
	// classes), then classes around them; no student, class or teacher is
	// in two places at once. An hour that fits nowhere is dropped.
	if !e.lessonsPossible(j) {
		return
	}
	type pos struct {
		wd   time.Weekday
		slot int
	}
	var grid []pos
	for wd := time.Monday; wd <= time.Saturday; wd++ {
		for s := range slotsOnWeekday(wd, e.Kind) {
			grid = append(grid, pos{wd, s})
		}
	}
	bit := func(p pos) uint64 { return 1 << (uint(p.wd-time.Monday)*8 + uint(p.slot)) }
	busy := make(map[int]uint64) // account -> weekly busy slots
	place := func(gi int, subj string, t int, hours int) {
		g := &e.groups[gi]
		for range hours {
			var union uint64 = busy[t]
			for _, s := range g.students {
				union |= busy[s]
			}
			// Prefer a day without this subject yet.
			var days uint8
			for _, en := range g.entries {
				if en.subject == subj {
					days |= 1 << uint(en.weekday-time.Monday)
				}
			}
			var free, fresh []pos
			for _, p := range grid {
				if union&bit(p) == 0 {
					free = append(free, p)
					if days&(1<<uint(p.wd-time.Monday)) == 0 {
						fresh = append(fresh, p)
					}
				}
			}
			if len(fresh) > 0 {
				free = fresh
			}
			if len(free) == 0 {
				return
			}
			p := free[r.IntN(len(free))]
			b := bit(p)
			busy[t] |= b
			for _, s := range g.students {
				busy[s] |= b
			}
			g.entries = append(g.entries, entry{
				id:      e.idOf("entry", strconv.Itoa(gi), strconv.Itoa(len(g.entries))),
				weekday: p.wd, slot: p.slot, subject: subj, teacher: t,
			})
		}
	}
	for _, gi := range tgs {
		g := &e.groups[gi]
		place(gi, g.subject, g.teachers[0].account, g.hours)
	}
	for _, gi := range classes {
		g := &e.groups[gi]
		for k, s := range curriculum(e.Kind) {
			place(gi, s.Name, g.teachers[k].account, s.Hours)
		}
	}
}
