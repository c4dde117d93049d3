package simulation

import (
	"context"
	"time"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// nextLessonOf finds the next day after x (within three weeks) the group
// has a lesson of subject.
func (s *estSim) nextLessonOf(g *group, subj string, x domain.Date) domain.Date {
	for k := 1; k <= 21; k++ {
		y := x.AddDays(k)
		n := s.cal.slotsOn(y, s.Kind)
		for _, en := range g.entries {
			if en.subject == subj && en.weekday == y.Weekday() && en.slot < n {
				return y
			}
		}
	}
	return x.AddDays(7)
}

// planHomework schedules a homework set at a lesson (with the lesson's
// content, often), due at the group's next lesson of the subject; a few are
// amended or withdrawn, and students mark them done.
func (s *estSim) planHomework(mp *monthPlan) {
	r := s.rng
	oi := s.occurrenceOn(mp, mp.lessDays)
	if oi < 0 {
		return
	}
	o := mp.occ[oi]
	g := &s.groups[o.group]
	en := g.entries[o.entry]
	x := s.days[o.day].date
	t := s.slotTime(x, en.slot, true).Add(-time.Duration(1+r.IntN(8)) * time.Minute)
	if r.Float64() < 0.4 {
		t = s.at(x, 18, 0).Add(time.Duration(r.IntN(4*3600)) * time.Second)
	}
	due := s.nextLessonOf(g, en.subject, x)
	cmd := domain.AssignHomework{
		Homework: s.newID("homework"), Group: g.id, Subject: en.subject, Given: x, Due: due,
		Instructions: homeworkText(r, en.subject), WorkloadMinutes: 10 + 5*r.IntN(17),
	}
	content := r.Float64() < 0.6
	contentText := pick(r, lessonContents)
	s.push(t, func(ctx context.Context) error {
		if content {
			_, err := s.exec(ctx, t, en.teacher, []string{evContent}, func(req commands.Request) (commands.Result, error) {
				return s.w.h.RecordLessonContent(ctx, req, domain.RecordLessonContent{
					Group: g.id, Date: x, Slot: slotGrid[en.slot], Subject: en.subject, Content: contentText,
				})
			})
			if err != nil {
				return err
			}
		}
		ok, err := s.exec(ctx, t, en.teacher, []string{evHomework}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.AssignHomework(ctx, req, cmd)
		})
		if err != nil || !ok {
			return err
		}
		s.stats.produced.Homework++
		s.homeworkFollowUps(g, en.teacher, cmd, t)
		return nil
	})
}

func (s *estSim) homeworkFollowUps(g *group, teacher int, cmd domain.AssignHomework, t time.Time) {
	r := s.rng
	dueAt := s.at(cmd.Due, 7, 30)
	switch u := r.Float64(); {
	case u < 0.02:
		tw := t.Add(time.Duration(10+r.IntN(600)) * time.Minute)
		s.push(tw, func(ctx context.Context) error {
			_, err := s.exec(ctx, tw, teacher, []string{evHwWithdrawn}, func(req commands.Request) (commands.Result, error) {
				return s.w.h.WithdrawHomework(ctx, req, domain.WithdrawHomework{Homework: cmd.Homework})
			})
			return err
		})
		return
	case u < 0.06:
		ta := s.between(t.Add(time.Hour), dueAt)
		amend := domain.AmendHomework{
			Homework: cmd.Homework, Due: cmd.Due.AddDays(2 + r.IntN(6)),
			Instructions: cmd.Instructions + " (à rendre plus tard : date reportée)", WorkloadMinutes: cmd.WorkloadMinutes,
		}
		s.push(ta, func(ctx context.Context) error {
			_, err := s.exec(ctx, ta, teacher, []string{evHwAmended}, func(req commands.Request) (commands.Result, error) {
				return s.w.h.AmendHomework(ctx, req, amend)
			})
			return err
		})
	}
	done := 0
	for _, st := range g.students {
		if done >= 8 || r.Float64() >= 0.12 {
			continue
		}
		td := s.later(0, t, max(0, s.dayIndex(cmd.Due)-s.dayIndex(domain.DateOf(t.In(s.loc)))))
		if !td.Before(dueAt) || !s.open(st, td) {
			continue
		}
		done++
		s.push(td, func(ctx context.Context) error {
			_, err := s.exec(ctx, td, st, []string{evHwDone}, func(req commands.Request) (commands.Result, error) {
				return s.w.h.MarkHomeworkDone(ctx, req, domain.MarkHomeworkDone{Homework: cmd.Homework})
			})
			return err
		})
	}
}
