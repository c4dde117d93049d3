package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/simulation"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// The demo's history: the directory in place the morning of its first
// day, then each school day of 4e B as a collège lives it. Teachers sign
// in before their first lesson and take each lesson's roll call (a pupil
// ill for the day, one late in the morning); Léa's mother explains her
// absences in the evening and the CPE decides on them and on the others
// the next day; lessons get their content and homework, which some pupils
// mark done; a few punishments, two incidents and a sanction; messages
// read by their recipients, bookings, news. Everything is drawn from one
// random generator with a fixed seed, and from the days alone: the same
// days give the same commands, ids and idempotency keys.

// demoSeed seeds the demo's random generator.
const demoSeed = 2007

// demoStep is one command of the demo, run at its time.
type demoStep struct {
	at  time.Time
	key string // idempotency key
	// actor is the login of the account issuing the command ("" for the
	// system).
	actor string
	// opens is the login of the account the step opens, whose password
	// is set once it is ("" when it opens none).
	opens string
	run   func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error)
}

// demoLesson is a lesson of the demo's timetable.
type demoLesson struct {
	slot             domain.Slot
	startH, startM   int
	endH, endM       int
	teacher, subject string
}

// demoSlots are the day's lessons; even ones are mathematics, odd ones
// history and geography.
var demoSlots = []demoLesson{
	{domain.Slot{Start: "08:00", End: "08:55"}, 8, 0, 8, 55, "prof.martin", "Mathématiques"},
	{domain.Slot{Start: "09:00", End: "09:55"}, 9, 0, 9, 55, "prof.garcia", "Histoire-géographie"},
	{domain.Slot{Start: "10:10", End: "11:05"}, 10, 10, 11, 5, "prof.martin", "Mathématiques"},
	{domain.Slot{Start: "14:00", End: "14:55"}, 14, 0, 14, 55, "prof.garcia", "Histoire-géographie"},
}

// demoLessonsOn is how many of demoSlots a weekday holds: Wednesday and
// Saturday mornings only (Saturday is in the timetable, so that "today's
// lessons" shows something every day but Sunday, and never in the
// history: a collège has no lessons then).
func demoLessonsOn(wd time.Weekday) int {
	switch wd {
	case time.Sunday:
		return 0
	case time.Saturday:
		return 2
	case time.Wednesday:
		return 3
	}
	return len(demoSlots)
}

// demoPlan is the demo's commands, planned before any runs.
type demoPlan struct {
	loc  *time.Location
	rng  *rand.Rand
	days []domain.Date
	// end is the end of the history: a follow-up planned after it (a
	// decision the day after the last day) is left out.
	end       time.Time
	steps     []demoStep
	keys      map[string]bool
	err       error
	activated map[string]bool
}

// Accounts and ids the history refers to.
var (
	demoClass = demoID("group", "4B")
	demoRoom  = demoID("resource", "salle-info")
	demoHall  = demoID("resource", "salle-polyvalente")
)

// demoStudentID is the account of the i-th student.
func demoStudentID(i int) uuid.UUID { return demoID("account", demoStudentLogin(i)) }

// at is the time hh:mm of day in Paris.
func (p *demoPlan) at(day domain.Date, hh, mm int) time.Time {
	return time.Date(day.Year, day.Month, day.Day, hh, mm, 0, 0, p.loc)
}

// minutes returns t moved by a random number of minutes in [from, to).
func (p *demoPlan) minutes(t time.Time, from, to int) time.Time {
	return t.Add(time.Duration(from+p.rng.IntN(to-from)) * time.Minute)
}

// add plans a command; history steps after p.end are left out. A key used
// twice is a bug of the plan.
func (p *demoPlan) add(at time.Time, key, actor string, run func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error)) {
	if at.After(p.end) {
		return
	}
	key = "demo:" + key
	if p.keys[key] && p.err == nil {
		p.err = fmt.Errorf("demo key %q planned twice", key)
	}
	p.keys[key] = true
	p.steps = append(p.steps, demoStep{at: at, key: key, actor: actor, run: run})
}

// connect plans a sign-in of login at t, and the account's activation at
// its first.
func (p *demoPlan) connect(t time.Time, login string) {
	day := domain.DateOf(t.In(p.loc))
	p.add(t, fmt.Sprintf("%s:connect:%s", day, login), login, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.RecordConnection(ctx, req, domain.RecordConnection{Method: domain.SignInPassword})
	})
	if p.activated[login] {
		return
	}
	p.activated[login] = true
	id := demoID("account", login)
	p.add(t.Add(time.Second), "activate:"+login, login, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.ActivateAccount(ctx, req, domain.ActivateAccount{Account: id})
	})
}

// nextLessonDay is the n-th school day after day.
func nextLessonDay(day domain.Date, n int) domain.Date {
	for n > 0 {
		day = day.AddDays(1)
		if simulation.LessonDay(day, domain.KindCollege) {
			n--
		}
	}
	return day
}

// planDemo plans the demo whose history is days (school days, in order):
// the directory, the history, then what happens now. plans is the date
// window of plans, which bounds the timetable.
func planDemo(days []domain.Date, plans domain.DateWindow, now time.Time) (*demoPlan, error) {
	p := &demoPlan{
		loc: domain.Paris(), rng: rand.New(rand.NewPCG(demoSeed, uint64(len(days)))), days: days,
		keys: map[string]bool{}, activated: map[string]bool{},
	}
	last := days[len(days)-1]
	p.end = p.at(last.AddDays(1), 0, 0)
	p.planDirectory(days[0], last, plans)
	for k := range days {
		p.planDay(k)
	}
	slices.SortStableFunc(p.steps, func(a, b demoStep) int { return a.at.Compare(b.at) })
	p.planNow(last, now)
	return p, p.err
}

// planDirectory plans the establishment, its accounts, the class and its
// timetable, the morning of the first day.
func (p *demoPlan) planDirectory(first, last domain.Date, plans domain.DateWindow) {
	t := p.at(first, 7, 0)
	tick := func() time.Time { t = t.Add(time.Second); return t }
	sys := func(key string, run func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error)) {
		p.add(tick(), key, "", run)
	}
	p.steps = append(p.steps, demoStep{at: tick(), key: demoRegisterKey, run: func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.RegisterEstablishment(ctx, req, domain.RegisterEstablishment{
			UAI: DemoUAI, Name: "Collège de démonstration", Kind: domain.KindCollege, Departement: "13",
		})
	}})
	open := func(a demoAccount, uai string) {
		id := demoID("account", a.login)
		// The ids the demo's identity provider asserts (sso_demo.go).
		external, details := "", domain.AccountDetails{}
		if uai != "" {
			external = demoExternalID(a.login)
		}
		if i := slices.IndexFunc(demoStudents, func(n string) bool { return n == a.name }); i >= 0 && a.profile == domain.ProfileStudent {
			details.StudentID = demoStudentIDInSchool(i)
		}
		sys("account:"+a.login, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.OpenAccount(ctx, req, domain.OpenAccount{
				Account: id, Establishment: uai, Profile: a.profile, Function: a.function, DisplayName: a.name,
				ExternalID: external, Details: details,
			})
		})
		p.steps[len(p.steps)-1].opens = a.login
	}
	for _, a := range demoStaff {
		open(a, DemoUAI)
	}
	for _, a := range demoGuests {
		open(a, "")
	}
	sys("habilitation", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.HabilitateInspector(ctx, req, domain.HabilitateInspector{Account: demoID("account", "inspecteur.blanc"), Establishments: []string{DemoUAI}})
	})
	sys("group", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.CreateGroup(ctx, req, domain.CreateGroup{Group: demoClass, Establishment: DemoUAI, Kind: domain.GroupClass, Name: "4e B"})
	})
	join := func(login string, role domain.Role, subject string) {
		account := demoID("account", login)
		sys("join:"+account.String()+":"+string(role), func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.JoinGroup(ctx, req, domain.JoinGroup{Group: demoClass, Account: account, Role: role, Subject: subject})
		})
	}
	join("prof.martin", domain.RoleHeadTeacher, "Mathématiques")
	join("prof.garcia", domain.RoleTeacher, "Histoire-géographie")
	for i, name := range demoStudents {
		open(demoAccount{demoStudentLogin(i), name, domain.ProfileStudent, ""}, DemoUAI)
		join(demoStudentLogin(i), domain.RoleStudent, "")
	}
	sys("link", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.LinkRelative(ctx, req, domain.LinkRelative{Student: demoStudentID(0), Relative: demoID("account", "parent.durand"), LegalGuardian: true})
	})

	// The timetable runs from the first day to about ten months after the
	// last, within the window of plans.
	until := last.AddDays(300)
	if _, bound := plans.Bounds(first); until.After(bound) {
		until = bound
	}
	for wd := time.Monday; wd <= time.Saturday; wd++ {
		for i, l := range demoSlots[:demoLessonsOn(wd)] {
			key := fmt.Sprintf("timetable:%d:%d", wd, i)
			entry, teacher := demoID(key), demoID("account", l.teacher)
			sys(key, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
				return h.ScheduleLesson(ctx, req, domain.ScheduleLesson{
					Group: demoClass, Entry: entry, Weekday: wd, Slot: l.slot, Subject: l.subject, Teacher: teacher, From: first, Until: until,
				})
			})
		}
	}
	sys("resource", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.RegisterResource(ctx, req, domain.RegisterResource{
			Resource: demoRoom, Establishment: DemoUAI, Kind: domain.ResourceRoom, Name: "Salle informatique",
		})
	})
	sys("resource:hall", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.RegisterResource(ctx, req, domain.RegisterResource{
			Resource: demoHall, Establishment: DemoUAI, Kind: domain.ResourceRoom, Name: "Salle polyvalente", ApprovalRequired: true,
		})
	})
}

// Léa's absences: the lessons she misses on which days of the history
// (counted from its end: -1 is the last day), and what her mother writes.
// The last one is still waiting for the CPE's decision.
var demoLeaAbsences = []struct {
	fromEnd      int
	slots        []int
	reason, code string
}{
	{-27, []int{0, 1, 2, 3}, "Malade, fièvre depuis hier soir.", "maladie"},
	{-12, []int{0, 1}, "Rendez-vous médical (certificat remis au carnet).", "rdv-medical"},
	{-1, []int{0}, "Rendez-vous chez l'orthodontiste", ""},
}

// absence is one absence of the day, for its follow-ups.
type demoAbsence struct {
	student int
	lesson  uuid.UUID
	slot    domain.Slot
}

// planDay plans the k-th day of the history.
func (p *demoPlan) planDay(k int) {
	r := p.rng
	day := p.days[k]
	n := demoLessonsOn(day.Weekday())
	lastDay := k == len(p.days)-1
	var next domain.Date // the next school day of the history (zero after the last)
	if !lastDay {
		next = p.days[k+1]
	}
	others := len(demoStudents) - 1 // students but Léa: 1..others
	pupil := func() int { return 1 + r.IntN(others) }

	// Who is away: Léa on her days, a pupil ill for the day now and then.
	leaSlots, leaReason, leaCode := map[int]bool{}, "", ""
	for _, a := range demoLeaAbsences {
		if len(p.days)+a.fromEnd == k {
			for _, s := range a.slots {
				leaSlots[s] = true
			}
			leaReason, leaCode = a.reason, a.code
		}
	}
	ill := map[int]bool{}
	if r.Float64() < 0.4 {
		ill[pupil()] = true
	}
	if r.Float64() < 0.1 {
		ill[pupil()] = true
	}
	if lastDay {
		ill[5] = true // Nathan, as the demo has always had him
	}

	// Staff sign in before the first lesson; pupils after school; Léa's
	// mother in the evening, always on the days Léa is away.
	p.connect(p.minutes(p.at(day, 7, 30), 0, 25), "prof.martin")
	if r.Float64() < 0.8 {
		p.connect(p.minutes(p.at(day, 7, 35), 0, 20), "prof.garcia")
	}
	p.connect(p.minutes(p.at(day, 7, 45), 0, 10), "cpe.roche")
	if r.Float64() < 0.7 {
		p.connect(p.minutes(p.at(day, 8, 10), 0, 60), "principale.aubert")
	}
	parentAt := p.minutes(p.at(day, 19, 0), 0, 90)
	if len(leaSlots) > 0 || r.Float64() < 0.4 {
		p.connect(parentAt, "parent.durand")
	}
	for i := range demoStudents {
		if r.Float64() < 0.12 {
			p.connect(p.minutes(p.at(day, 17, 0), 0, 240), demoStudentLogin(i))
		}
	}

	var absences []demoAbsence
	punished := -1
	if r.Float64() < 0.25 {
		punished = r.IntN(n)
	}
	for i, l := range demoSlots[:n] {
		rc := domain.RecordRollCall{Group: demoClass, Date: day, Slot: l.slot, Subject: l.subject, Absent: []uuid.UUID{}, Late: []domain.Late{}}
		away := map[int]bool{}
		if leaSlots[i] {
			away[0] = true
		}
		for s := range ill {
			away[s] = true
		}
		if r.Float64() < 0.1 {
			away[pupil()] = true
		}
		for _, s := range slices.Sorted(maps.Keys(away)) {
			rc.Absent = append(rc.Absent, demoStudentID(s))
			absences = append(absences, demoAbsence{student: s, lesson: rc.LessonID(), slot: l.slot})
		}
		lateness := 0.12
		if i == 0 {
			lateness = 0.45
		}
		switch {
		case lastDay && i == 0:
			rc.Late = append(rc.Late, domain.Late{Student: demoStudentID(3), Minutes: 10})
		case r.Float64() < lateness:
			if s := pupil(); !away[s] {
				rc.Late = append(rc.Late, domain.Late{Student: demoStudentID(s), Minutes: 3 + r.IntN(18)})
			}
		}
		start, end := p.at(day, l.startH, l.startM), p.at(day, l.endH, l.endM)
		slot := l.slot.Start
		p.add(p.minutes(start, 2, 8), fmt.Sprintf("%s:rollcall:%s", day, slot), l.teacher, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.RecordRollCall(ctx, req, rc)
		})
		if r.Float64() < 0.6 {
			content := domain.RecordLessonContent{Group: demoClass, Date: day, Slot: l.slot, Subject: l.subject, Content: demoPick(r, demoContents[l.subject])}
			p.add(p.minutes(end, 5, 40), fmt.Sprintf("%s:content:%s", day, slot), l.teacher, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
				return h.RecordLessonContent(ctx, req, content)
			})
		}
		if r.Float64() < 0.35 && !(lastDay && i == 0) {
			p.planHomework(day, l, end, fmt.Sprintf("%s:homework:%s", day, slot), demoPick(r, demoHomework[l.subject]))
		}
		if i == punished {
			s := pupil()
			for away[s] {
				s = pupil()
			}
			cmd := domain.GivePunishment{
				Punishment: demoID("punishment", day.String()), Student: demoStudentID(s), Group: demoClass,
				Kind: domain.PunishmentExtraWork, Date: day, Reason: demoPick(r, demoPunishmentReasons),
			}
			if r.Float64() < 0.4 {
				cmd.Kind = domain.PunishmentDetention
			}
			p.add(end.Add(-10*time.Minute), fmt.Sprintf("%s:punishment", day), l.teacher, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
				return h.GivePunishment(ctx, req, cmd)
			})
		}
	}
	if lastDay {
		// The fractions the class has on its list today.
		p.planHomework(day, demoSlots[0], p.at(day, 8, 55), "homework", "Exercices 12 à 15 page 84 (fractions).")
	}

	// Follow-ups of the absences: Léa's mother writes in the evening; the
	// CPE decides on the next day on hers and on most others.
	declared := parentAt
	decide := p.minutes(p.at(next, 9, 0), 0, 120)
	// What the CPE makes of each pupil's absences of the day: accepted,
	// refused, or nothing yet (no word from the family).
	const (
		undecided = iota + 1
		accepted
		refused
	)
	decided := map[int]int{}
	for _, a := range absences {
		lesson, student := a.lesson, demoStudentID(a.student)
		if a.student == 0 {
			declared = declared.Add(time.Minute)
			cmd := domain.DeclareAbsenceReason{Lesson: lesson, Student: student, Reason: leaReason}
			p.add(declared, fmt.Sprintf("%s:reason:%s", day, a.slot.Start), "parent.durand", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
				return h.DeclareAbsenceReason(ctx, req, cmd)
			})
		}
		if next.IsZero() || a.student == 0 && leaCode == "" {
			continue
		}
		if decided[a.student] == 0 {
			switch u := r.Float64(); {
			case a.student == 0:
				decided[a.student] = accepted
			case u < 0.3:
				decided[a.student] = undecided
			case u < 0.9:
				decided[a.student] = accepted
			default:
				decided[a.student] = refused
			}
		}
		cmd := domain.DecideJustification{Lesson: lesson, Student: student, Accept: true, ReasonCode: leaCode}
		switch {
		case decided[a.student] == undecided:
			continue
		case a.student == 0:
		case decided[a.student] == accepted:
			cmd.ReasonCode, cmd.Comment = demoPick(r, demoJustifying), "Mot des parents dans le carnet de correspondance."
		default:
			cmd.Accept, cmd.ReasonCode, cmd.Comment = false, "convenance", "Motif non recevable, voir le règlement intérieur."
		}
		decide = decide.Add(time.Minute)
		p.add(decide, fmt.Sprintf("%s:decision:%s:%d", day, a.slot.Start, a.student), "cpe.roche", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.DecideJustification(ctx, req, cmd)
		})
	}

	p.planLife(k, day, next)
}

// planHomework plans a homework given at the end of lesson l of day, due
// two to four school days later, which a few pupils mark done the evening
// before.
func (p *demoPlan) planHomework(day domain.Date, l demoLesson, end time.Time, key, instructions string) {
	r := p.rng
	id := demoID("homework", key)
	due := nextLessonDay(day, 2+r.IntN(3))
	cmd := domain.AssignHomework{
		Homework: id, Group: demoClass, Subject: l.subject, Given: day, Due: due,
		Instructions: instructions, WorkloadMinutes: demoPick(r, []int{15, 20, 30, 45}),
	}
	p.add(p.minutes(end, 1, 15), key, l.teacher, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.AssignHomework(ctx, req, cmd)
	})
	eve := due.AddDays(-1)
	for i := range demoStudents {
		if r.Float64() < 0.12 {
			login := demoStudentLogin(i)
			p.add(p.minutes(p.at(eve, 17, 30), 0, 210), key+":done:"+login, login, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
				return h.MarkHomeworkDone(ctx, req, domain.MarkHomeworkDone{Homework: id})
			})
		}
	}
}

// planLife plans the rest of day k: incidents and a sanction, messages,
// bookings and news.
func (p *demoPlan) planLife(k int, day, next domain.Date) {
	r := p.rng
	n := len(p.days)
	pupil := func() int { return 1 + r.IntN(len(demoStudents)-1) }

	// Two incidents at lunchtime; the second ends in a warning two days
	// later.
	if k == n/4 || k == 3*n/4 {
		author, victim := pupil(), pupil()
		for victim == author {
			victim = pupil()
		}
		incident := demoID("incident", day.String())
		cmd := domain.ReportIncident{
			Incident: incident, Establishment: DemoUAI, OccurredAt: p.minutes(p.at(day, 12, 15), 0, 30), Place: demoPick(r, demoPlaces),
			Seriousness: domain.SeriousnessMinor, Description: demoPick(r, demoIncidents),
			Protagonists: []domain.Protagonist{{Account: demoStudentID(author), Role: domain.ProtagonistAuthor}, {Account: demoStudentID(victim), Role: domain.ProtagonistVictim}},
		}
		p.add(p.at(day, 13, 20), fmt.Sprintf("%s:incident", day), "cpe.roche", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.ReportIncident(ctx, req, cmd)
		})
		if k == 3*n/4 && k+2 < n {
			on := p.days[k+2]
			sanction := domain.PronounceSanction{
				Sanction: demoID("sanction", on.String()), Student: demoStudentID(author), Kind: domain.SanctionWarning, Date: on,
				Incident: incident, Reason: "Violence verbale et bousculade envers un camarade.",
			}
			p.add(p.at(on, 16, 30), fmt.Sprintf("%s:sanction", on), "principale.aubert", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
				return h.PronounceSanction(ctx, req, sanction)
			})
		}
	}

	// Messages: the CPE writes to the class each week, Mme Garcia to Léa's
	// mother (who reads it and answers), the head to the staff (who
	// acknowledge).
	send := func(at time.Time, label, from string, cmd domain.SendMessage) uuid.UUID {
		cmd.Message = demoID("message", day.String(), label)
		p.add(at, fmt.Sprintf("%s:message:%s", day, label), from, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.SendMessage(ctx, req, cmd)
		})
		return cmd.Message
	}
	read := func(at time.Time, label, who string, id uuid.UUID, ack bool) {
		p.add(at, fmt.Sprintf("%s:read:%s:%s", day, label, who), who, func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			if ack {
				return h.AcknowledgeMessage(ctx, req, domain.AcknowledgeMessage{Message: id})
			}
			return h.ReadMessage(ctx, req, domain.ReadMessage{Message: id})
		})
	}
	if k%5 == 0 {
		m := demoClassMessages[(k/5)%len(demoClassMessages)]
		at := p.minutes(p.at(day, 11, 10), 0, 40)
		id := send(at, "class", "cpe.roche", domain.SendMessage{ToGroups: []uuid.UUID{demoClass}, Subject: m[0], Body: m[1]})
		read(p.minutes(at, 30, 120), "class", "prof.martin", id, false)
		for i := range demoStudents {
			if r.Float64() < 0.4 {
				read(p.minutes(p.at(day, 17, 0), 0, 240), "class", demoStudentLogin(i), id, false)
			}
		}
	}
	if k%7 == 3 && !next.IsZero() {
		m := demoParentMessages[(k/7)%len(demoParentMessages)]
		at := p.minutes(p.at(day, 12, 5), 0, 40)
		id := send(at, "parent", "prof.garcia", domain.SendMessage{ToAccounts: []uuid.UUID{demoID("account", "parent.durand")}, Subject: m[0], Body: m[1]})
		eve := p.minutes(p.at(day, 20, 40), 0, 60)
		read(eve, "parent", "parent.durand", id, false)
		answer := send(eve.Add(4*time.Minute), "answer", "parent.durand", domain.SendMessage{
			ToAccounts: []uuid.UUID{demoID("account", "prof.garcia")}, Subject: "Re : " + m[0], Body: m[2],
		})
		read(p.minutes(p.at(next, 7, 40), 0, 20), "answer", "prof.garcia", answer, false)
	}
	if k%10 == 6 && !next.IsZero() {
		m := demoStaffMessages[(k/10)%len(demoStaffMessages)]
		staff := []string{"prof.martin", "prof.garcia", "cpe.roche"}
		var to []uuid.UUID
		for _, s := range staff {
			to = append(to, demoID("account", s))
		}
		id := send(p.minutes(p.at(day, 16, 30), 0, 60), "staff", "principale.aubert", domain.SendMessage{ToAccounts: to, Subject: m[0], Body: m[1], AckRequested: true})
		for _, s := range staff {
			read(p.minutes(p.at(next, 7, 55), 0, 60), "staff", s, id, true)
		}
	}

	// Bookings: M. Martin takes the computer room for a lesson each week;
	// Mme Garcia asks for the hall, which the head approves.
	if k%5 == 1 {
		on := nextLessonDay(day.AddDays(1), 1)
		b := domain.RequestBooking{
			Resource: demoRoom, Booking: demoID("booking", day.String(), "room"),
			Start: p.at(on, 14, 0).UTC(), End: p.at(on, 14, 55).UTC(), Purpose: demoPick(r, demoPurposes),
		}
		p.add(p.minutes(p.at(day, 12, 0), 0, 60), fmt.Sprintf("%s:booking:room", day), "prof.martin", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.RequestBooking(ctx, req, b)
		})
	}
	if k%10 == 4 {
		on := nextLessonDay(day.AddDays(2), 1)
		b := domain.RequestBooking{
			Resource: demoHall, Booking: demoID("booking", day.String(), "hall"),
			Start: p.at(on, 10, 10).UTC(), End: p.at(on, 11, 5).UTC(), Purpose: "Exposés des élèves de 4e B",
		}
		p.add(p.minutes(p.at(day, 16, 0), 0, 60), fmt.Sprintf("%s:booking:hall", day), "prof.garcia", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.RequestBooking(ctx, req, b)
		})
		if !next.IsZero() {
			approve := domain.ApproveBooking{Resource: demoHall, Booking: b.Booking}
			p.add(p.minutes(p.at(next, 8, 30), 0, 60), fmt.Sprintf("%s:approve:hall", day), "principale.aubert", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
				return h.ApproveBooking(ctx, req, approve)
			})
		}
	}

	// News every other week.
	if k%8 == 2 {
		a := demoNews[(k/8)%len(demoNews)]
		cmd := domain.PublishArticle{Article: demoID("article", day.String()), Establishment: DemoUAI, Title: a[0], Body: a[1]}
		p.add(p.minutes(p.at(day, 12, 10), 0, 30), fmt.Sprintf("%s:news", day), "principale.aubert", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
			return h.PublishArticle(ctx, req, cmd)
		})
	}
}

// planNow plans what happens as the demo is seeded: a message to Léa's
// mother, then the news that completes the demo (demoLastKey).
func (p *demoPlan) planNow(last domain.Date, now time.Time) {
	p.end = now
	p.add(now, "message", "prof.martin", func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.SendMessage(ctx, req, domain.SendMessage{
			Message: demoID("message", "museum"), ToAccounts: []uuid.UUID{demoID("account", "parent.durand")}, Subject: "Sortie au musée", AckRequested: true,
			Body: "Bonjour, la classe de 4e B visitera le musée d'histoire naturelle jeudi. Merci d'en accuser réception.",
		})
	})
	p.steps = append(p.steps, demoStep{at: now, key: demoLastKey, actor: "principale.aubert", run: func(ctx context.Context, h *commands.Handlers, req commands.Request) (commands.Result, error) {
		return h.PublishArticle(ctx, req, domain.PublishArticle{
			Article: demoLastArticle, Establishment: DemoUAI, Title: "Réunion parents-professeurs",
			Body: "La réunion parents-professeurs des 4e aura lieu mardi à 17 h 30 en salle polyvalente.",
		})
	}})
}

// demoPick returns one of xs.
func demoPick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// Texts of the history.
var (
	demoContents = map[string][]string{
		"Mathématiques": {
			"Fractions : addition et soustraction, exercices d'application.", "Correction du devoir maison ; multiplication des fractions.",
			"Calcul littéral : développer et réduire.", "Théorème de Pythagore : démonstration et premiers exercices.",
			"Puissances de dix ; écriture scientifique.", "Interrogation écrite de vingt minutes, puis correction.",
			"Proportionnalité : tableaux et produit en croix.",
		},
		"Histoire-géographie": {
			"L'Europe des Lumières : étude de l'Encyclopédie.", "La Révolution française : 1789, la fin de l'Ancien Régime.",
			"Croquis : l'urbanisation dans le monde.", "Étude de document : la Déclaration des droits de l'homme.",
			"Les mobilités humaines : migrations et tourisme.", "Napoléon et l'Empire ; frise chronologique.",
			"Évaluation de géographie, puis correction collective.",
		},
	}
	demoHomework = map[string][]string{
		"Mathématiques": {
			"Exercices 23 et 24 page 57.", "Apprendre les règles de calcul sur les fractions.", "Exercice 8 page 112 (Pythagore).",
			"Terminer la fiche d'exercices sur les puissances.", "Devoir maison n° 3 à rendre.",
		},
		"Histoire-géographie": {
			"Apprendre la leçon sur les Lumières.", "Compléter le croquis page 168.", "Répondre aux questions du document 2 page 94.",
			"Réviser le vocabulaire de la Révolution pour l'interrogation.", "Préparer l'exposé en binôme.",
		},
	}
	demoPunishmentReasons = []string{
		"Travail non fait à plusieurs reprises.", "Bavardages malgré plusieurs avertissements.", "Oubli répété du matériel.",
		"Téléphone portable utilisé en classe.", "Perturbation du cours.",
	}
	demoJustifying = []string{"maladie", "maladie", "rdv-medical", "familial", "transport"}
	demoPlaces     = []string{"Cour de récréation", "Cantine", "Préau", "Couloir du premier étage"}
	demoIncidents  = []string{
		"Bousculade entre deux élèves dans la file de la cantine.", "Échange d'insultes suivi d'une bousculade.",
		"Cartable d'un camarade jeté par terre.",
	}
	// Messages: subject, body (and, to the parent, her answer).
	demoClassMessages = [][2]string{
		{"Photo de classe", "La photo de classe aura lieu jeudi matin. Pensez à apporter l'enveloppe de commande."},
		{"Absences non justifiées", "Merci de faire justifier toute absence dans le carnet de correspondance dès le retour en classe."},
		{"Exercice d'évacuation", "Un exercice d'évacuation aura lieu cette semaine. Suivez les consignes affichées en classe."},
		{"Inscriptions à la cantine", "Les inscriptions à la cantine du trimestre prochain sont ouvertes à la vie scolaire."},
	}
	demoParentMessages = [][3]string{
		{"Travail de Léa", "Bonjour, Léa participe bien en classe mais doit apprendre ses leçons plus régulièrement.", "Merci de nous avoir prévenus, nous y veillerons à la maison."},
		{"Exposé", "Bonjour, Léa présentera son exposé sur les Lumières la semaine prochaine avec sa camarade.", "Merci, elle s'y prépare avec sérieux."},
		{"Matériel", "Bonjour, Léa a oublié son cahier à plusieurs reprises cette semaine.", "C'est noté, merci, nous vérifierons son cartable."},
	}
	demoStaffMessages = [][2]string{
		{"Conseil de classe de 4e B", "Le conseil de classe de 4e B se tiendra en salle polyvalente. Merci de saisir vos appréciations avant."},
		{"Réunion d'équipe", "Réunion de l'équipe pédagogique de 4e mardi à 17 h en salle des professeurs."},
		{"Sortie au musée", "Merci de me confirmer les accompagnateurs de la sortie au musée d'histoire naturelle."},
		{"Brevet blanc", "Le calendrier du brevet blanc est affiché en salle des professeurs."},
	}
	demoPurposes = []string{"TP de géométrie dynamique", "Recherche documentaire", "Exercices en ligne sur les fractions", "Évaluation de calcul mental"}
	demoNews     = [][2]string{
		{"Cross du collège", "Le cross du collège aura lieu vendredi au stade municipal. Prévoir une tenue de sport."},
		{"Semaine de la presse", "Le CDI accueille une exposition de unes de journaux toute la semaine."},
		{"Élection des délégués", "Les élections des délégués de classe se dérouleront en heure de vie de classe."},
		{"Collecte solidaire", "Une collecte de denrées est organisée au profit des Restos du cœur, à déposer à la vie scolaire."},
		{"Concours de mathématiques", "Bravo aux élèves de 4e qui se sont qualifiés pour la finale académique du concours !"},
	}
)
