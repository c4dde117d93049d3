package simulation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// planRollCalls spreads the month's absences and lateness over roll calls
// of lessons drawn at random: about 10 % of a class absent at each.
func (s *estSim) planRollCalls(mp *monthPlan, absences, lateness int) error {
	if absences+lateness == 0 {
		return nil
	}
	if len(mp.occ) == 0 {
		return fmt.Errorf("%s: %d absences and %d lateness but no lesson in %s", s.UAI, absences, lateness, s.months[mp.m])
	}
	var total float64
	for _, o := range mp.occ {
		total += float64(len(s.groups[o.group].students))
	}
	avg := total / float64(len(mp.occ))
	n := int(float64(absences)/max(0.1*avg, 0.5) + 0.5)
	n = min(max(n, 1), len(mp.occ))
	perm := s.rng.Perm(len(mp.occ))
	chosen := slices.Clone(perm[:n])
	size := func(i int) int { return len(s.groups[mp.occ[i].group].students) }
	capacity := 0
	for _, i := range chosen {
		capacity += size(i)
	}
	for k := n; capacity < absences+lateness && k < len(perm); k++ {
		chosen = append(chosen, perm[k])
		capacity += size(perm[k])
	}
	if capacity < absences+lateness {
		return fmt.Errorf("%s: %d absences and lateness do not fit in the lessons of %s", s.UAI, absences+lateness, s.months[mp.m])
	}
	abs := make([]int, len(chosen))
	late := make([]int, len(chosen))
	spread := func(count int, room func(j int) int, into []int) {
		for range count {
			j := s.rng.IntN(len(chosen))
			for try := 0; room(j) <= 0 && try < 50; try++ {
				j = s.rng.IntN(len(chosen))
			}
			for k := 0; room(j) <= 0; k++ {
				j = k
			}
			into[j]++
		}
	}
	spread(absences, func(j int) int { return size(chosen[j]) - abs[j] }, abs)
	spread(lateness, func(j int) int { return size(chosen[j]) - abs[j] - late[j] }, late)
	for j, i := range chosen {
		o := mp.occ[i]
		g := &s.groups[o.group]
		picked := s.weightedStudents(g.students, abs[j]+late[j])
		s.planRollCall(o, picked[:abs[j]], picked[abs[j]:])
	}
	return nil
}

// planRollCall schedules the roll call of lesson o by its teacher, a few
// minutes after it starts.
func (s *estSim) planRollCall(o occurrence, absent, late []int) {
	g := &s.groups[o.group]
	en := g.entries[o.entry]
	x := s.days[o.day].date
	start := s.slotTime(x, en.slot, false)
	t := start.Add(time.Duration(60+s.rng.IntN(660)) * time.Second)
	cmd := domain.RecordRollCall{Group: g.id, Date: x, Slot: slotGrid[en.slot], Subject: en.subject}
	want := []string{evRollCall}
	for _, st := range absent {
		cmd.Absent = append(cmd.Absent, s.accounts[st].id)
		want = append(want, evAbsence)
	}
	for _, st := range late {
		minutes := 2 + s.rng.IntN(9)
		if s.rng.Float64() < 0.2 {
			minutes += s.rng.IntN(25)
		}
		cmd.Late = append(cmd.Late, domain.Late{Student: s.accounts[st].id, Minutes: minutes})
		want = append(want, evLateness)
	}
	s.push(t, func(ctx context.Context) error {
		ok, err := s.exec(ctx, t, en.teacher, want, func(req commands.Request) (commands.Result, error) {
			return s.w.h.RecordRollCall(ctx, req, cmd)
		})
		if err != nil || !ok {
			return err
		}
		s.stats.produced.Acts.Absences += len(absent)
		s.stats.produced.Acts.Lateness += len(late)
		lesson := cmd.LessonID()
		for _, st := range absent {
			s.absenceFollowUps(lesson, st, en.teacher, t)
		}
		return nil
	})
}

// justifying are the establishment's reason codes that justify an
// absence, with how often each is used; refusing those that do not.
var (
	justifying = []string{"maladie", "maladie", "maladie", "rdv-medical", "rdv-medical", "familial", "transport", "convocation"}
	refusing   = []string{"convenance", "convenance", "non-recevable"}
)

// absenceFollowUps schedules what may follow an absence: a cancellation by
// the teacher (a mistake), a reason declared by a relative in the evening,
// a decision of the school-life office in the following days.
func (s *estSim) absenceFollowUps(lesson uuid.UUID, student, teacher int, t time.Time) {
	r := s.rng
	sid := s.accounts[student].id
	if r.Float64() < 0.02 {
		tc := t.Add(time.Duration(3+r.IntN(37)) * time.Minute)
		reason := pick(r, cancelReasons)
		s.push(tc, func(ctx context.Context) error {
			_, err := s.exec(ctx, tc, teacher, []string{evCancelled}, func(req commands.Request) (commands.Result, error) {
				return s.w.h.CancelAbsence(ctx, req, domain.CancelAbsence{Lesson: lesson, Student: sid, Reason: reason})
			})
			return err
		})
		return
	}
	base := t
	declared := false
	if rels := s.accounts[student].relatives; len(rels) > 0 && r.Float64() < 0.15 {
		td := s.later(2, t, 1)
		if rel := s.pickOpen(rels, td.Add(-time.Minute), -1); rel >= 0 {
			declared, base = true, td
			reason := pick(r, declaredReasons)
			s.push(td, func(ctx context.Context) error {
				_, err := s.exec(ctx, td, rel, []string{evDeclared}, func(req commands.Request) (commands.Result, error) {
					return s.w.h.DeclareAbsenceReason(ctx, req, domain.DeclareAbsenceReason{Lesson: lesson, Student: sid, Reason: reason})
				})
				return err
			})
		}
	}
	p, accept := 0.3, 0.7
	if declared {
		p, accept = 0.85, 0.9
	}
	if r.Float64() >= p {
		return
	}
	tdec := s.officeTime(base, 1, 3)
	staff := s.pickOpen(s.office, tdec, -1)
	if staff < 0 {
		return
	}
	cmd := domain.DecideJustification{Lesson: lesson, Student: sid, Accept: r.Float64() < accept}
	want := []string{evRefused}
	if cmd.Accept {
		cmd.ReasonCode, want = pick(r, justifying), []string{evAccepted}
	} else {
		cmd.ReasonCode, cmd.Comment = pick(r, refusing), pick(r, refusalComments)
	}
	s.push(tdec, func(ctx context.Context) error {
		_, err := s.exec(ctx, tdec, staff, want, func(req commands.Request) (commands.Result, error) {
			return s.w.h.DecideJustification(ctx, req, cmd)
		})
		return err
	})
}

// planPunishment schedules a punishment: by the teacher during a lesson,
// or by the school-life office.
func (s *estSim) planPunishment(mp *monthPlan) {
	r := s.rng
	oi := s.occurrenceOn(mp, mp.actDays)
	if oi < 0 {
		return
	}
	o := mp.occ[oi]
	g := &s.groups[o.group]
	en := g.entries[o.entry]
	x := s.days[o.day].date
	student := s.weightedStudents(g.students, 1)[0]
	kind := domain.PunishmentDetention
	switch u := r.Float64(); {
	case u < 0.40:
		kind = domain.PunishmentExtraWork
	case u < 0.55:
		kind = domain.PunishmentLessonExclusion
	}
	cmd := domain.GivePunishment{
		Punishment: s.newID("punishment"), Student: s.accounts[student].id, Kind: kind, Date: x, Reason: pick(r, punishmentReasons),
	}
	actor := en.teacher
	t := s.slotTime(x, en.slot, false).Add(time.Duration(15+r.IntN(35)) * time.Minute)
	if r.Float64() < 0.2 {
		if staff := s.pickOpen(s.office, s.at(x, 12, 0), -1); staff >= 0 {
			actor, t = staff, s.at(x, 10, 0).Add(time.Duration(r.IntN(7*3600))*time.Second)
		}
	}
	if actor == en.teacher {
		cmd.Group = g.id
	}
	s.push(t, func(ctx context.Context) error {
		ok, err := s.exec(ctx, t, actor, []string{evPunishment}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.GivePunishment(ctx, req, cmd)
		})
		if ok {
			s.stats.produced.Acts.Punishments++
		}
		return err
	})
}

// planIncident schedules an incident, reported by the office or a teacher
// shortly after it happened, with its protagonists.
func (s *estSim) planIncident(mp *monthPlan) {
	r := s.rng
	oi := s.occurrenceOn(mp, mp.actDays)
	if oi < 0 {
		return
	}
	o := mp.occ[oi]
	g := &s.groups[o.group]
	en := g.entries[o.entry]
	x := s.days[o.day].date
	picked := s.weightedStudents(g.students, 1+r.IntN(min(3, len(g.students))))
	prots := []domain.Protagonist{{Account: s.accounts[picked[0]].id, Role: domain.ProtagonistAuthor}}
	for k, st := range picked[1:] {
		role := domain.ProtagonistWitness
		if k == 0 && r.Float64() < 0.6 {
			role = domain.ProtagonistVictim
		}
		prots = append(prots, domain.Protagonist{Account: s.accounts[st].id, Role: role})
	}
	actor := en.teacher
	t := s.slotTime(x, en.slot, true).Add(time.Duration(r.IntN(30)) * time.Minute)
	if r.Float64() < 0.6 {
		if staff := s.pickOpen(s.office, s.at(x, 12, 0), -1); staff >= 0 {
			actor = staff
			t = s.at(x, 9, 0).Add(time.Duration(r.IntN(8*3600)) * time.Second)
		}
	}
	occurred := t.Add(-time.Duration(10+r.IntN(110)) * time.Minute)
	if morning := s.at(x, 7, 30); occurred.Before(morning) {
		occurred = morning
	}
	seriousness := domain.SeriousnessMinor
	switch u := r.Float64(); {
	case u < 0.07:
		seriousness = domain.SeriousnessGrave
	case u < 0.35:
		seriousness = domain.SeriousnessSerious
	}
	cmd := domain.ReportIncident{
		Incident: s.newID("incident"), Establishment: s.UAI, OccurredAt: occurred, Place: pick(r, places),
		Seriousness: seriousness, Description: pick(r, incidentDescriptions), Protagonists: prots,
	}
	mp.incidents = append(mp.incidents, plannedIncident{id: cmd.Incident, author: picked[0], at: t})
	s.push(t, func(ctx context.Context) error {
		ok, err := s.exec(ctx, t, actor, []string{evIncident}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.ReportIncident(ctx, req, cmd)
		})
		if ok {
			s.incidents[cmd.Incident] = true
			s.stats.produced.Acts.Incidents++
		}
		return err
	})
}

// planSanction schedules a sanction pronounced by the head: after an
// incident of the month (its author), or on its own; a few are annulled
// later.
func (s *estSim) planSanction(mp *monthPlan) {
	r := s.rng
	monthEnd := s.at(s.days[mp.k1-1].date.AddDays(1), 0, 0)
	student, t := -1, time.Time{}
	var incident uuid.UUID
	if len(mp.incidents) > 0 && r.Float64() < 0.5 {
		inc := mp.incidents[r.IntN(len(mp.incidents))]
		if tt := s.officeTime(inc.at, 1, 6); tt.Before(monthEnd) && s.open(inc.author, tt) {
			student, t, incident = inc.author, tt, inc.id
		}
	}
	if student < 0 {
		oi := s.occurrenceOn(mp, mp.actDays)
		if oi < 0 {
			return
		}
		o := mp.occ[oi]
		student = s.weightedStudents(s.groups[o.group].students, 1)[0]
		t = s.at(s.days[o.day].date, 9, 0).Add(time.Duration(r.IntN(8*3600)) * time.Second)
	}
	head := s.pickOpen(s.heads, t, -1)
	if head < 0 {
		return
	}
	cmd := domain.PronounceSanction{
		Sanction: s.newID("sanction"), Student: s.accounts[student].id,
		Date: domain.DateOf(t.In(s.loc)), Reason: pick(r, sanctionReasons),
	}
	switch u := r.Float64(); {
	case u < 0.45:
		cmd.Kind = domain.SanctionWarning
	case u < 0.65:
		cmd.Kind = domain.SanctionReprimand
	case u < 0.80:
		cmd.Kind = domain.SanctionResponsibility
	default:
		cmd.Kind = domain.SanctionTemporaryExclusion
		cmd.Days = pick(r, []int{1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 8})
	}
	s.push(t, func(ctx context.Context) error {
		if incident != uuid.Nil && s.incidents[incident] {
			cmd.Incident = incident
		}
		ok, err := s.exec(ctx, t, head, []string{evSanction}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.PronounceSanction(ctx, req, cmd)
		})
		if err != nil || !ok {
			return err
		}
		s.stats.produced.Acts.Sanctions++
		if r.Float64() < 0.05 {
			ta := s.officeTime(t, 2, 20)
			reason := pick(r, annulReasons)
			s.push(ta, func(ctx context.Context) error {
				_, err := s.exec(ctx, ta, head, []string{evAnnulled}, func(req commands.Request) (commands.Result, error) {
					return s.w.h.AnnulSanction(ctx, req, domain.AnnulSanction{Student: cmd.Student, Sanction: cmd.Sanction, Reason: reason})
				})
				return err
			})
		}
		return nil
	})
}
