package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// indWorld writes a realistic history of two establishments in two
// départements through a histLog, and counts, as it writes, what the
// indicators must say (counts["uai|date"][counter]).
type indWorld struct {
	t      testing.TB
	log    *histLog
	loc    *time.Location
	rnd    *rand.Rand
	uais   []string
	depts  map[string]string
	estabs map[string]*indEstab
	counts map[string]Counts
	// ids and names of every account, to check none leaks into an indicator.
	accounts []uuid.UUID
	names    []string
}

type indEstab struct {
	uai       string
	head      uuid.UUID
	teachers  []uuid.UUID
	students  []uuid.UUID
	relatives []uuid.UUID
	classes   []uuid.UUID
	members   map[uuid.UUID][]uuid.UUID // class -> students
	activated map[uuid.UUID]bool
	profile   map[uuid.UUID]domain.Profile
}

func newIndWorld(t testing.TB, seed uint64) *indWorld {
	return &indWorld{
		t: t, log: newHistLog(t), loc: domain.Paris(), rnd: rand.New(rand.NewPCG(seed, seed)),
		uais:   []string{"0750001A", "0690002B"},
		depts:  map[string]string{"0750001A": "75", "0690002B": "69"},
		estabs: map[string]*indEstab{}, counts: map[string]Counts{},
	}
}

// count notes that the event at time at adds one to counters of uai.
func (w *indWorld) count(uai string, at time.Time, counters ...string) {
	key := uai + "|" + domain.DateOf(at.In(w.loc)).String()
	if w.counts[key] == nil {
		w.counts[key] = Counts{}
	}
	for _, c := range counters {
		w.counts[key][c]++
	}
}

func (w *indWorld) total() IndicatorCounts {
	var c IndicatorCounts
	for _, day := range w.counts {
		c.add(day)
	}
	return c
}

func (w *indWorld) md(uai string, actor uuid.UUID, p domain.Profile, at time.Time) domain.Metadata {
	return domain.Metadata{Actor: actor, Profile: p, Establishment: uai, Time: at.UTC(), Command: "world"}
}

// at is the local time on d at hh:mm.
func (w *indWorld) at(d domain.Date, hh, mm int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hh, mm, 0, 0, w.loc)
}

func (w *indWorld) account(es *indEstab, p domain.Profile, at time.Time, name string) uuid.UUID {
	id := uuid.New()
	w.accounts = append(w.accounts, id)
	w.names = append(w.names, name)
	es.profile[id] = p
	w.log.add(domain.AccountStream(id), w.md(es.uai, uuid.Nil, domain.ProfileSystem, at),
		domain.AccountOpened{Account: id, Establishment: es.uai, Profile: p, DisplayName: name})
	w.count(es.uai, at, cntAccountsOpened)
	return id
}

func (w *indWorld) setUp(uai string, d domain.Date) {
	es := &indEstab{uai: uai, members: map[uuid.UUID][]uuid.UUID{}, activated: map[uuid.UUID]bool{}, profile: map[uuid.UUID]domain.Profile{}}
	w.estabs[uai] = es
	at := w.at(d, 7, 0)
	w.log.add(domain.EstablishmentStream(uai), w.md(uai, uuid.Nil, domain.ProfileSystem, at),
		domain.EstablishmentRegistered{UAI: uai, Name: "Collège " + uai, Kind: domain.KindCollege, Departement: w.depts[uai], Reasons: domain.DefaultReasons()})
	es.head = w.account(es, domain.ProfilePersonnel, at, "Principal "+uai)
	for i := range 3 {
		es.teachers = append(es.teachers, w.account(es, domain.ProfileTeacher, at, fmt.Sprintf("Professeur %d %s", i, uai)))
	}
	for i := range 2 {
		class := uuid.New()
		es.classes = append(es.classes, class)
		w.log.add(domain.GroupStream(class), w.md(uai, uuid.Nil, domain.ProfileSystem, at),
			domain.GroupCreated{Group: class, Establishment: uai, Kind: domain.GroupClass, Name: fmt.Sprintf("6e%d", i)})
		w.count(uai, at, cntGroups)
		for j := range 8 {
			s := w.account(es, domain.ProfileStudent, at, fmt.Sprintf("Élève %d-%d %s", i, j, uai))
			r := w.account(es, domain.ProfileRelative, at, fmt.Sprintf("Parent %d-%d %s", i, j, uai))
			es.students = append(es.students, s)
			es.relatives = append(es.relatives, r)
			es.members[class] = append(es.members[class], s)
			w.log.add(domain.GroupStream(class), w.md(uai, uuid.Nil, domain.ProfileSystem, at),
				domain.MemberJoined{Group: class, Account: s, Role: domain.RoleStudent})
			w.log.add(domain.AccountStream(s), w.md(uai, uuid.Nil, domain.ProfileSystem, at),
				domain.RelativeLinked{Student: s, Relative: r, LegalGuardian: true})
		}
	}
}

// day writes one school day of establishment uai.
func (w *indWorld) day(uai string, d domain.Date) {
	es := w.estabs[uai]
	r := w.rnd
	everyone := slices.Concat([]uuid.UUID{es.head}, es.teachers, es.students, es.relatives)
	// Connections, the first of an account activating it. Some late in the
	// evening, after midnight UTC in winter and summer alike, to check days
	// are Paris days.
	for range 3 + r.IntN(6) {
		a := everyone[r.IntN(len(everyone))]
		at := w.at(d, 7+r.IntN(17), r.IntN(60))
		p := es.profile[a]
		if !es.activated[a] {
			es.activated[a] = true
			w.log.add(domain.AccountStream(a), w.md(uai, a, p, at), domain.AccountActivated{Account: a})
			w.count(uai, at, cntAccountsActivated)
		}
		w.log.add(domain.ConnectionsStream(a), w.md(uai, a, p, at),
			domain.UserConnected{Account: a, Profile: p, Establishment: uai, Method: domain.SignInPassword})
		w.count(uai, at, cntConnections, connectionCounter(p))
	}
	if d.Weekday() == time.Wednesday && r.IntN(2) == 0 {
		// An inspector signs in: not an establishment's (no establishment).
		insp := uuid.New()
		w.accounts = append(w.accounts, insp)
		w.log.add(domain.ConnectionsStream(insp), w.md("", insp, domain.ProfileInspector, w.at(d, 10, 0)),
			domain.UserConnected{Account: insp, Profile: domain.ProfileInspector, Method: domain.SignInSSO})
	}
	// Roll calls: each class, two lessons.
	for ci, class := range es.classes {
		for li, slot := range []domain.Slot{{Start: "08:00", End: "08:55"}, {Start: "14:00", End: "14:55"}} {
			teacher := es.teachers[(ci+li)%len(es.teachers)]
			at := slot.StartOn(d, w.loc).Add(time.Duration(r.IntN(10)) * time.Minute)
			lesson := domain.LessonID(class, d, slot)
			students := slices.Clone(es.members[class])
			r.Shuffle(len(students), func(i, j int) { students[i], students[j] = students[j], students[i] })
			absent, late := r.IntN(4), r.IntN(3)
			events := []domain.Event{domain.RollCallCompleted{Lesson: lesson, Group: class, Date: d, Slot: slot, Subject: "maths", Teacher: teacher, Absent: absent, Late: late}}
			for _, s := range students[:absent] {
				events = append(events, domain.AbsenceRecorded{Absence: domain.AbsenceID(lesson, s), Lesson: lesson, Student: s, Group: class, Date: d, Slot: slot, Subject: "maths"})
				w.count(uai, at, cntActs, cntAbsences)
			}
			for _, s := range students[absent : absent+late] {
				events = append(events, domain.LatenessRecorded{Lesson: lesson, Student: s, Group: class, Date: d, Slot: slot, Subject: "maths", Minutes: 5 + r.IntN(20)})
				w.count(uai, at, cntActs, cntLateness)
			}
			w.log.add(domain.LessonStream(lesson), w.md(uai, teacher, domain.ProfileTeacher, at), events...)
			// Justifications and cancellations are not acts.
			for _, s := range students[:absent] {
				if r.IntN(3) == 0 {
					w.log.add(domain.LessonStream(lesson), w.md(uai, es.head, domain.ProfilePersonnel, at.Add(2*time.Hour)),
						domain.JustificationAccepted{Absence: domain.AbsenceID(lesson, s), Lesson: lesson, Student: s, ReasonCode: "maladie"})
				}
			}
			if r.IntN(3) == 0 {
				w.log.add(domain.HomeworkStream(uuid.New()), w.md(uai, teacher, domain.ProfileTeacher, at.Add(50*time.Minute)),
					domain.HomeworkAssigned{Homework: uuid.New(), Group: class, Subject: "maths", Given: d, Due: d.AddDays(7), Instructions: "Exercices p. 12", WorkloadMinutes: 30})
				w.count(uai, at.Add(50*time.Minute), cntHomework)
			}
		}
	}
	// Discipline.
	if r.IntN(3) == 0 {
		s, at := es.students[r.IntN(len(es.students))], w.at(d, 11, 0)
		w.log.add(domain.DisciplineStream(s), w.md(uai, es.teachers[0], domain.ProfileTeacher, at),
			domain.PunishmentGiven{Punishment: uuid.New(), Student: s, Kind: domain.PunishmentDetention, Date: d, Reason: "Bavardages"})
		w.count(uai, at, cntActs, cntPunishments)
	}
	if r.IntN(8) == 0 {
		a, b, at := es.students[r.IntN(len(es.students))], es.students[r.IntN(len(es.students))], w.at(d, 12, 30)
		inc := uuid.New()
		w.log.add(domain.IncidentStream(inc), w.md(uai, es.head, domain.ProfilePersonnel, at),
			domain.IncidentReported{Incident: inc, Establishment: uai, OccurredAt: at.Add(-time.Hour), Place: "cour", Seriousness: domain.SeriousnessMinor, Description: "Bousculade",
				Protagonists: []domain.Protagonist{{Account: a, Role: domain.ProtagonistAuthor}, {Account: b, Role: domain.ProtagonistVictim}}})
		w.count(uai, at, cntActs, cntIncidents)
		if r.IntN(2) == 0 {
			w.log.add(domain.DisciplineStream(a), w.md(uai, es.head, domain.ProfilePersonnel, at.Add(time.Hour)),
				domain.SanctionPronounced{Sanction: uuid.New(), Student: a, Kind: domain.SanctionWarning, Date: d, Incident: inc, Reason: "Bousculade"})
			w.count(uai, at.Add(time.Hour), cntActs, cntSanctions)
		}
	}
	// Messages: one each, however many recipients.
	for range r.IntN(4) {
		from := slices.Concat(es.teachers, es.relatives)[r.IntN(len(es.teachers)+len(es.relatives))]
		at, msg := w.at(d, 8+r.IntN(14), r.IntN(60)), uuid.New()
		w.log.add(domain.MessageStream(msg), w.md(uai, from, es.profile[from], at),
			domain.MessageSent{Message: msg, From: from, ToAccounts: []uuid.UUID{es.head, es.teachers[0]}, ToGroups: es.classes[:1], Subject: "Bonjour", Body: "Message"})
		w.count(uai, at, cntMessages)
	}
	if r.IntN(5) == 0 {
		art, at := uuid.New(), w.at(d, 17, 0)
		w.log.add(domain.ArticleStream(art), w.md(uai, es.head, domain.ProfilePersonnel, at),
			domain.ArticlePublished{Article: art, Establishment: uai, Author: es.head, Title: "Sortie", Body: "Au musée"})
		w.count(uai, at, cntContributions)
	}
}

// run writes the history from first to last (set-up on the first day, then
// school days: no Sundays).
func (w *indWorld) run(first, last domain.Date) {
	for _, uai := range w.uais {
		w.setUp(uai, first)
	}
	for d := first; !d.After(last); d = d.AddDays(1) {
		if d.Weekday() == time.Sunday {
			continue
		}
		for _, uai := range w.uais {
			w.day(uai, d)
		}
	}
}

func TestIndicatorsCountEachEventOnce(t *testing.T) {
	ctx := context.Background()
	w := newIndWorld(t, 7)
	w.run(domain.MustDate("2006-03-01"), domain.MustDate("2006-04-30"))
	q := NewQueries(histProject(t, w.log, 100, NewIndicators(w.loc)), nil, w.log, w.log.reg, w.loc)
	q.gens = q.docs.(*MemoryDocs)

	page, err := q.Indicators(ctx, IndicatorQuery{
		From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-05-01"),
		Granularity: GranularityDay, By: LevelEstablishment,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	if page.Next != "" {
		t.Fatalf("%d establishments by day over two months: another page", len(w.uais))
	}
	got := map[string]IndicatorCounts{}
	for _, r := range page.Items {
		got[r.Scope+"|"+r.Period.String()] = r.IndicatorCounts
		if r.Name != "Collège "+r.Scope || r.Departement != w.depts[r.Scope] {
			t.Errorf("row of %s names %q in %q", r.Scope, r.Name, r.Departement)
		}
	}
	for key, day := range w.counts {
		var want IndicatorCounts
		want.add(day)
		if got[key] != want {
			t.Errorf("%s: indicators %+v, the log was written with %+v", key, got[key], want)
		}
		delete(got, key)
	}
	for key, c := range got {
		t.Errorf("%s: indicators %+v for a day without events", key, c)
	}

	tot := w.total()
	if tot.Acts != tot.Absences+tot.Lateness+tot.Punishments+tot.Sanctions+tot.Incidents || tot.Acts == 0 {
		t.Errorf("acts %d is not the sum of its kinds: %+v", tot.Acts, tot)
	}
	if tot.Connections != tot.ConnectionsStudent+tot.ConnectionsTeacher+tot.ConnectionsRelative+tot.ConnectionsPersonnel+tot.ConnectionsOther {
		t.Errorf("connections %d is not the sum of its profiles: %+v", tot.Connections, tot)
	}

	// Per département: each holds one establishment here.
	for _, uai := range w.uais {
		page, err := q.Indicators(ctx, IndicatorQuery{From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-04-30"), Departement: w.depts[uai]}, "")
		if err != nil {
			t.Fatal(err)
		}
		rows := page.Items
		var want IndicatorCounts
		for key, day := range w.counts {
			if strings.HasPrefix(key, uai+"|") {
				want.add(day)
			}
		}
		if len(rows) != 1 || rows[0].IndicatorCounts != want || rows[0].Level != LevelDepartement || rows[0].Scope != w.depts[uai] {
			t.Errorf("département %s: %+v, want one row of %+v", w.depts[uai], rows, want)
		}
		s := rows[0].Shares
		if sum := s.Student + s.Teacher + s.Relative + s.Personnel + s.Other; sum < 99.999 || sum > 100.001 {
			t.Errorf("département %s: connection shares sum to %f%%", w.depts[uai], sum)
		}
	}
}

func TestIndicatorsRollCallActs(t *testing.T) {
	ctx := context.Background()
	log := newHistLog(t)
	loc := domain.Paris()
	uai, d := "0750001A", domain.MustDate("2006-03-14")
	slot := domain.Slot{Start: "08:00", End: "08:55"}
	group, teacher := uuid.New(), uuid.New()
	lesson := domain.LessonID(group, d, slot)
	md := domain.Metadata{Actor: teacher, Profile: domain.ProfileTeacher, Establishment: uai, Time: slot.StartOn(d, loc)}
	events := []domain.Event{domain.RollCallCompleted{Lesson: lesson, Group: group, Date: d, Slot: slot, Teacher: teacher, Absent: 3, Late: 1}}
	for range 3 {
		s := uuid.New()
		events = append(events, domain.AbsenceRecorded{Absence: domain.AbsenceID(lesson, s), Lesson: lesson, Student: s, Group: group, Date: d, Slot: slot})
	}
	events = append(events, domain.LatenessRecorded{Lesson: lesson, Student: uuid.New(), Group: group, Date: d, Slot: slot, Minutes: 10})
	log.add(domain.LessonStream(lesson), md, events...)

	rows, err := ReplayIndicators(ctx, log, log.reg, loc, IndicatorQuery{From: d, To: d}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := IndicatorCounts{Acts: 4, Absences: 3, Lateness: 1}
	if len(rows) != 1 || rows[0].IndicatorCounts != want {
		t.Fatalf("a roll call with 3 absent and 1 late: %+v, want %+v", rows, want)
	}
}

func TestIndicatorsDayIsParisDay(t *testing.T) {
	ctx := context.Background()
	log := newHistLog(t)
	loc := domain.Paris()
	uai := "0750001A"
	connect := func(at time.Time, p domain.Profile) {
		a := uuid.New()
		log.add(domain.ConnectionsStream(a), domain.Metadata{Actor: a, Profile: p, Establishment: uai, Time: at},
			domain.UserConnected{Account: a, Profile: p, Establishment: uai, Method: domain.SignInPassword})
	}
	// 23:30 UTC on 31 March is 01:30 on 1 April in Paris (summer time).
	connect(time.Date(2006, 3, 31, 23, 30, 0, 0, time.UTC), domain.ProfileStudent)
	// 21:59 UTC on 31 March is 23:59 on 31 March in Paris.
	connect(time.Date(2006, 3, 31, 21, 59, 0, 0, time.UTC), domain.ProfileTeacher)
	// 23:30 UTC on 28 February is 00:30 on 1 March (winter time).
	connect(time.Date(2006, 2, 28, 23, 30, 0, 0, time.UTC), domain.ProfileRelative)
	connect(time.Date(2006, 2, 28, 22, 30, 0, 0, time.UTC), domain.ProfileGuest)

	rows, err := ReplayIndicators(ctx, log, log.reg, loc, IndicatorQuery{
		From: domain.MustDate("2006-02-28"), To: domain.MustDate("2006-04-01"), Granularity: GranularityDay, Establishment: uai,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byDay := map[string]IndicatorCounts{}
	for _, r := range rows {
		if r.Connections > 0 {
			byDay[r.Period.String()] = r.IndicatorCounts
		}
	}
	want := map[string]IndicatorCounts{
		"2006-02-28": {Connections: 1, ConnectionsOther: 1},
		"2006-03-01": {Connections: 1, ConnectionsRelative: 1},
		"2006-03-31": {Connections: 1, ConnectionsTeacher: 1},
		"2006-04-01": {Connections: 1, ConnectionsStudent: 1},
	}
	if len(byDay) != len(want) {
		t.Fatalf("connections by day %+v, want %+v", byDay, want)
	}
	for d, c := range want {
		if byDay[d] != c {
			t.Errorf("%s: %+v, want %+v", d, byDay[d], c)
		}
	}
	if len(rows) != 33 {
		t.Errorf("%d daily rows from 28 February to 1 April, want 33 (zeros included)", len(rows))
	}
}

func TestIndicatorPeriods(t *testing.T) {
	from, to := domain.MustDate("2005-08-15"), domain.MustDate("2007-01-10")
	tests := []struct {
		g           Granularity
		day         string
		start, next string
	}{
		{GranularityDay, "2006-03-14", "2006-03-14", "2006-03-15"},
		{GranularityWeek, "2006-03-14", "2006-03-13", "2006-03-20"}, // a Tuesday
		{GranularityWeek, "2006-03-13", "2006-03-13", "2006-03-20"}, // a Monday
		{GranularityWeek, "2006-03-19", "2006-03-13", "2006-03-20"}, // a Sunday
		{GranularityMonth, "2006-12-31", "2006-12-01", "2007-01-01"},
		{GranularitySchoolYear, "2006-08-31", "2005-09-01", "2006-09-01"},
		{GranularitySchoolYear, "2006-09-01", "2006-09-01", "2007-09-01"},
		{GranularityTotal, "2006-03-14", "2005-08-15", "2007-01-11"},
	}
	for _, tt := range tests {
		start := periodStart(domain.MustDate(tt.day), tt.g, from)
		next := nextPeriod(start, tt.g, to)
		if start.String() != tt.start || next.String() != tt.next {
			t.Errorf("%s of %s: [%s, %s), want [%s, %s)", tt.g, tt.day, start, next, tt.start, tt.next)
		}
	}
}

func TestIndicatorsSchoolYearRows(t *testing.T) {
	ctx := context.Background()
	log := newHistLog(t)
	uai := "0750001A"
	for _, d := range []string{"2006-06-30", "2006-08-31", "2006-09-01", "2006-09-04"} {
		at := domain.MustDate(d).In(time.UTC).Add(9 * time.Hour)
		log.add(domain.HomeworkStream(uuid.New()), domain.Metadata{Actor: uuid.New(), Profile: domain.ProfileTeacher, Establishment: uai, Time: at},
			domain.HomeworkAssigned{Homework: uuid.New(), Group: uuid.New()})
	}
	rows, err := ReplayIndicators(ctx, log, log.reg, time.UTC, IndicatorQuery{
		From: domain.MustDate("2006-07-01"), To: domain.MustDate("2006-09-30"), Granularity: GranularitySchoolYear,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 ||
		rows[0].Period.String() != "2005-09-01" || rows[0].From.String() != "2006-07-01" || rows[0].To.String() != "2006-08-31" || rows[0].Homework != 1 ||
		rows[1].Period.String() != "2006-09-01" || rows[1].From.String() != "2006-09-01" || rows[1].To.String() != "2006-09-30" || rows[1].Homework != 2 {
		t.Fatalf("school years: %+v", rows)
	}
	if rows[0].Scope != "all" || rows[0].Level != LevelAll {
		t.Errorf("row scope %q level %q, want all", rows[0].Scope, rows[0].Level)
	}
}

// TestIndicatorsAggregatesOnly scans every document of the indicators
// namespace after a run: no account id and no person's name may appear.
func TestIndicatorsAggregatesOnly(t *testing.T) {
	ctx := context.Background()
	w := newIndWorld(t, 3)
	w.run(domain.MustDate("2006-03-01"), domain.MustDate("2006-03-31"))
	mem := histProject(t, w.log, 64, NewIndicators(w.loc))
	r := mem.Reader(Namespace(ProjectionIndicators, 1))
	var docs []string
	for _, coll := range []string{indDays, indEstablishments} {
		if err := r.Scan(ctx, coll, "", "", func(key string, doc []byte) error {
			docs = append(docs, coll+"/"+key+" "+string(doc))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	mem.mu.Lock()
	for coll := range mem.docs[Namespace(ProjectionIndicators, 1)] {
		if coll != indDays && coll != indEstablishments {
			t.Errorf("unexpected collection %q in %s", coll, ProjectionIndicators)
		}
	}
	mem.mu.Unlock()
	if len(docs) < 40 {
		t.Fatalf("only %d documents", len(docs))
	}
	all := strings.ToLower(strings.Join(docs, "\n"))
	for _, id := range w.accounts {
		if strings.Contains(all, id.String()) || strings.Contains(all, strings.ReplaceAll(id.String(), "-", "")) {
			t.Fatalf("account %s appears in an indicator document", id)
		}
	}
	for _, n := range w.names {
		if strings.Contains(all, strings.ToLower(n)) {
			t.Fatalf("name %q appears in an indicator document", n)
		}
	}

	// Nor in query results.
	q := NewQueries(mem, mem, w.log, w.log.reg, w.loc)
	rows, err := q.Indicators(ctx, IndicatorQuery{From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-03-31"), Granularity: GranularityDay, By: LevelEstablishment}, "")
	if err != nil {
		t.Fatal(err)
	}
	out := strings.ToLower(fmt.Sprintf("%+v", rows))
	for _, id := range w.accounts {
		if strings.Contains(out, id.String()) {
			t.Fatalf("account %s appears in an indicator row", id)
		}
	}
}

func TestIndicatorRowValues(t *testing.T) {
	r := IndicatorRow{Period: domain.MustDate("2006-03-01"), From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-03-31"), Level: LevelAll, Scope: "all",
		IndicatorCounts: IndicatorCounts{Connections: 3, ConnectionsStudent: 2, ConnectionsTeacher: 1, Acts: 4}}
	r.Shares = sharesOf(r.IndicatorCounts)
	h, v := IndicatorHeader(), r.Values()
	if len(h) != len(v) {
		t.Fatalf("%d columns, %d values", len(h), len(v))
	}
	got := map[string]string{}
	for i := range h {
		got[h[i]] = v[i]
	}
	if got["connections"] != "3" || got["acts"] != "4" || got["share_student"] != "66.7" || got["share_teacher"] != "33.3" || got["period"] != "2006-03-01" {
		t.Fatalf("values %v", got)
	}
}
