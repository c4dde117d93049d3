package simulation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// The activity of a month: each month, when the simulation reaches it, its
// quotas become actions at drawn moments (the quota events always fall in
// their month); what follows an act (a reason declared, a message read, a
// sanction annulled) is scheduled when the act succeeds, whenever it falls.

// hourWeights weigh each hour of the day for each profile, on a day with
// lessons and on another day: evenings for relatives, school hours and
// evenings for teachers, lunch time and after school for students.
var hourWeights = [5][2][24]float64{
	{ // students
		{0, 0, 0, 0, 0, 0, 0, .2, .4, .4, .8, .8, 1.5, 1.2, .6, .6, 1.0, 2.0, 2.5, 2.2, 2.0, 1.6, .8, .2},
		{0, 0, 0, 0, 0, 0, 0, 0, .1, .3, 1.0, 1.2, .8, .8, 1.5, 1.8, 1.8, 1.8, 1.8, 1.5, 1.6, 1.4, .8, .3},
	},
	{ // teachers
		{0, 0, 0, 0, 0, 0, .1, .8, 1.5, 1.2, 1.5, 1.2, 1.8, 1.5, 1.0, 1.0, 1.3, 1.5, 1.4, 1.0, 1.3, 1.4, .8, .2},
		{0, 0, 0, 0, 0, 0, 0, .1, .4, .8, 1.0, 1.0, .4, .4, 1.0, 1.0, 1.0, 1.0, 1.0, .6, 1.0, 1.0, .5, .1},
	},
	{ // relatives
		{0, 0, 0, 0, 0, 0, .1, .3, .3, .2, .2, .2, .8, .8, .2, .2, .2, .4, 1.5, 2.0, 2.5, 2.5, 1.2, .3},
		{0, 0, 0, 0, 0, 0, 0, .1, .3, .6, 1.0, 1.0, .6, .6, .8, .8, .8, 1.0, 1.2, 1.2, 1.5, 1.5, .6, .2},
	},
	{ // personnel
		{0, 0, 0, 0, 0, 0, 0, .8, 2.0, 2.0, 2.0, 2.0, .8, 1.5, 2.0, 2.0, 1.8, 1.2, .4, .1, .05, 0, 0, 0},
		{0, 0, 0, 0, 0, 0, 0, .2, 1.0, 1.0, 1.0, 1.0, .3, .5, 1.0, 1.0, 1.0, .6, .2, .05, 0, 0, 0, 0},
	},
	{ // guests
		{0, 0, 0, 0, 0, 0, 0, 0, .5, 1.0, 1.0, 1.0, .6, .8, 1.0, 1.0, 1.0, 1.0, .5, .3, .3, .2, 0, 0},
		{0, 0, 0, 0, 0, 0, 0, 0, .2, .6, 1.0, 1.0, .6, .6, 1.0, 1.0, 1.0, .6, .3, .2, .2, .1, 0, 0},
	},
}

// drawHour draws an hour for profile pi.
func drawHour(r *rand.Rand, pi int, lessonDay bool) int {
	w := &hourWeights[pi][0]
	if !lessonDay {
		w = &hourWeights[pi][1]
	}
	var sum float64
	for _, x := range w {
		sum += x
	}
	u := r.Float64() * sum
	for h, x := range w {
		if u < x {
			return h
		}
		u -= x
	}
	return 12
}

// cumulative is a sampler of indexes by weight.
type cumulative struct {
	base int
	cum  []float64
}

func newCumulative(base int, w []float64) cumulative {
	c := cumulative{base: base, cum: make([]float64, len(w))}
	var s float64
	for i, x := range w {
		s += max(x, 0)
		c.cum[i] = s
	}
	return c
}

func (c cumulative) total() float64 {
	if len(c.cum) == 0 {
		return 0
	}
	return c.cum[len(c.cum)-1]
}

// draw returns base + an index drawn by weight (-1 when all weights are 0).
func (c cumulative) draw(r *rand.Rand) int {
	t := c.total()
	if t == 0 {
		return -1
	}
	u := r.Float64() * t
	i := sort.SearchFloat64s(c.cum, u)
	for i < len(c.cum)-1 && c.cum[i] <= u {
		i++
	}
	return c.base + i
}

// occurrence is one lesson: an entry of a group's timetable on a day.
type occurrence struct {
	group, entry, day int
}

// plannedIncident is an incident planned this month, which a sanction may
// follow.
type plannedIncident struct {
	id     uuid.UUID
	author int
	at     time.Time
}

// monthPlan is the month being planned.
type monthPlan struct {
	m         int
	k0, k1    int // days of s.days
	occ       []occurrence
	byDay     map[int][]int // day -> indexes in occ
	incidents []plannedIncident
	actDays   cumulative
	lessDays  cumulative
}

// slotTime is the moment slot starts (or ends) on x.
func (s *estSim) slotTime(x domain.Date, slot int, end bool) time.Time {
	hm := slotGrid[slot].Start
	if end {
		hm = slotGrid[slot].End
	}
	h, _ := strconv.Atoi(hm[:2])
	m, _ := strconv.Atoi(hm[3:])
	return s.at(x, h, m)
}

// between draws a moment in [a, b).
func (s *estSim) between(a, b time.Time) time.Time {
	if !a.Before(b) {
		return a
	}
	return a.Add(time.Duration(s.rng.Int64N(int64(b.Sub(a)))))
}

// hourOn draws a moment of day x for profile pi.
func (s *estSim) hourOn(pi int, x domain.Date) time.Time {
	h := drawHour(s.rng, pi, s.cal.class(x, s.Kind) == dayLesson)
	return s.at(x, h, 0).Add(time.Duration(s.rng.IntN(3600)) * time.Second)
}

// later draws a moment after `after`, within maxDays, at an hour profile pi
// would act; falling back to a few minutes after.
func (s *estSim) later(pi int, after time.Time, maxDays int) time.Time {
	x := domain.DateOf(after.In(s.loc))
	for range 10 {
		t := s.hourOn(pi, x.AddDays(s.rng.IntN(maxDays+1)))
		if t.After(after.Add(2 * time.Minute)) {
			return t
		}
	}
	return after.Add(time.Duration(5+s.rng.IntN(115)) * time.Minute)
}

// officeTime draws a moment at office hours on a working day from
// minDays to maxDays after `after`.
func (s *estSim) officeTime(after time.Time, minDays, maxDays int) time.Time {
	x := domain.DateOf(after.In(s.loc)).AddDays(minDays + s.rng.IntN(maxDays-minDays+1))
	for x.Weekday() == time.Saturday || x.Weekday() == time.Sunday || s.cal.year(schoolYearStart(x)).publicDays[x] {
		x = x.AddDays(1)
	}
	t := s.at(x, 8, 0).Add(time.Duration(s.rng.IntN(9*3600)) * time.Second)
	if !t.After(after) {
		t = after.Add(time.Duration(10+s.rng.IntN(50)) * time.Minute)
	}
	return t
}

// pickAccount draws an account of profile pi open at t, by activity (-1
// if none is open).
func (s *estSim) pickAccount(pi int, t time.Time) int {
	ids := s.byProfile[pi]
	if len(ids) == 0 {
		return -1
	}
	c := s.activity[pi]
	for range 64 {
		if i := ids[c.draw(s.rng)]; s.open(i, t) {
			return i
		}
	}
	var open []int
	for _, i := range ids {
		if s.open(i, t) {
			open = append(open, i)
		}
	}
	if len(open) == 0 {
		return -1
	}
	return open[s.rng.IntN(len(open))]
}

// pickOpen picks one of ids open at t (-1 if none).
func (s *estSim) pickOpen(ids []int, t time.Time, except int) int {
	var open []int
	for _, i := range ids {
		if i != except && s.open(i, t) {
			open = append(open, i)
		}
	}
	if len(open) == 0 {
		return -1
	}
	return open[s.rng.IntN(len(open))]
}

// weightedStudents draws n distinct students of ids, by behavior.
func (s *estSim) weightedStudents(ids []int, n int) []int {
	pool := slices.Clone(ids)
	out := make([]int, 0, n)
	for len(out) < n && len(pool) > 0 {
		var sum float64
		for _, i := range pool {
			sum += s.accounts[i].behavior
		}
		u := s.rng.Float64() * sum
		k := 0
		for ; k < len(pool)-1; k++ {
			u -= s.accounts[pool[k]].behavior
			if u < 0 {
				break
			}
		}
		out = append(out, pool[k])
		pool = slices.Delete(pool, k, k+1)
	}
	return out
}

// planMonth turns month m's quotas into actions.
func (s *estSim) planMonth(m int) error {
	q := s.monthly[m]
	mo := s.months[m]
	mp := &monthPlan{m: m, k0: -1}
	for k := range s.days {
		if monthOf(s.days[k].date) == mo {
			if mp.k0 < 0 {
				mp.k0 = k
			}
			mp.k1 = k + 1
		}
	}
	if mp.k0 < 0 {
		return nil
	}
	days := s.days[mp.k0:mp.k1]
	weights := func(f func(d *dayInfo) float64) cumulative {
		w := make([]float64, len(days))
		for k := range days {
			w[k] = f(&days[k])
		}
		return newCumulative(mp.k0, w)
	}
	mp.actDays = weights(func(d *dayInfo) float64 { return d.lessons * d.rampAct })
	mp.lessDays = weights(func(d *dayInfo) float64 { return d.lessons * d.ramp })

	if err := s.planConnections(mp, q.Connections, weights); err != nil {
		return err
	}
	if q.Acts.Total() > 0 || q.Homework > 0 || q.Bookings > 0 {
		s.buildOccurrences(mp)
	}
	if err := s.planRollCalls(mp, q.Acts.Absences, q.Acts.Lateness); err != nil {
		return err
	}
	for range q.Acts.Incidents {
		s.planIncident(mp)
	}
	slices.SortFunc(mp.incidents, func(a, b plannedIncident) int { return a.at.Compare(b.at) })
	for range q.Acts.Punishments {
		s.planPunishment(mp)
	}
	for range q.Acts.Sanctions {
		s.planSanction(mp)
	}
	for range q.Homework {
		s.planHomework(mp)
	}
	msgDays := weights(func(d *dayInfo) float64 {
		if d.date.Before(domain.DateOf(s.years[0].importAt)) {
			return 0
		}
		return messageActivity[d.class] * d.ramp
	})
	for range q.Messages {
		s.planMessage(mp, msgDays)
	}
	newsDays := weights(func(d *dayInfo) float64 {
		if d.date.Before(domain.DateOf(s.years[0].importAt)) {
			return 0
		}
		return newsActivity[d.class] * d.ramp
	})
	for range q.Contributions {
		s.planArticle(newsDays)
	}
	for range q.Bookings {
		s.planBooking(mp)
	}
	return nil
}

// planConnections draws the month's sign-ins: a day by the profile's
// weights, an hour, then an account by activity among those open then.
func (s *estSim) planConnections(mp *monthPlan, c Connections, weights func(func(*dayInfo) float64) cumulative) error {
	n := c.array()
	for pi := range profiles {
		if n[pi] == 0 {
			continue
		}
		days := weights(func(d *dayInfo) float64 { return dayActivity[pi][d.class] * float64(d.open[pi]) * d.ramp })
		for range n[pi] {
			k := days.draw(s.rng)
			if k < 0 {
				return fmt.Errorf("%s: no %s to connect in %s", s.UAI, profiles[pi], s.months[mp.m])
			}
			x := s.days[k].date
			acc, t := -1, time.Time{}
			for try := 0; try < 8 && acc < 0; try++ {
				t = s.hourOn(pi, x)
				acc = s.pickAccount(pi, t)
			}
			if acc < 0 {
				acc, t = s.anyOpenOn(pi, x)
			}
			if acc < 0 {
				return fmt.Errorf("%s: no %s open on %s", s.UAI, profiles[pi], x)
			}
			s.push(t, s.connect(pi, acc, t))
		}
	}
	return nil
}

// anyOpenOn picks an account of profile pi open at some moment of day x,
// and such a moment.
func (s *estSim) anyOpenOn(pi int, x domain.Date) (int, time.Time) {
	dayStart, dayEnd := s.at(x, 0, 0), s.at(x.AddDays(1), 0, 0)
	var cands []int
	for _, i := range s.byProfile[pi] {
		a := &s.accounts[i]
		if a.openAt.Before(dayEnd.Add(-time.Minute)) && (a.closeAt.IsZero() || a.closeAt.After(dayStart.Add(time.Minute))) {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return -1, time.Time{}
	}
	i := cands[s.rng.IntN(len(cands))]
	a := &s.accounts[i]
	from, to := dayStart, dayEnd
	if a.openAt.After(from) {
		from = a.openAt.Add(time.Second)
	}
	if !a.closeAt.IsZero() && a.closeAt.Before(to) {
		to = a.closeAt
	}
	return i, s.between(from, to)
}

// connect signs account acc in at t, activating the account at its first
// sign-in.
func (s *estSim) connect(pi, acc int, t time.Time) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		id := s.accounts[acc].id
		if !s.activated[acc] {
			ok, err := s.exec(ctx, t, acc, []string{evActivated}, func(req commands.Request) (commands.Result, error) {
				return s.w.h.ActivateAccount(ctx, req, domain.ActivateAccount{Account: id})
			})
			if err != nil {
				return err
			}
			s.activated[acc] = ok
		}
		method := domain.SignInPassword
		switch {
		case s.Product == Kdecole && (pi == 1 || pi == 3) && s.rng.Float64() < 0.7:
			method = domain.SignInSSO // academic credentials, the rectorat's directory
		case s.rng.Float64() < 0.12:
			method = domain.SignInToken // "se souvenir de moi"
		}
		ok, err := s.exec(ctx, t, acc, []string{evConnected}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.RecordConnection(ctx, req, domain.RecordConnection{Method: method})
		})
		if ok {
			c := s.stats.produced.Connections.array()
			c[pi]++
			s.stats.produced.Connections = connectionsOf(c)
		}
		return err
	}
}

// buildOccurrences lists the month's lessons.
func (s *estSim) buildOccurrences(mp *monthPlan) {
	mp.byDay = make(map[int][]int)
	for k := mp.k0; k < mp.k1; k++ {
		d := &s.days[k]
		if d.lessons == 0 {
			continue
		}
		y := s.years[s.yearOf(d.date)]
		nslots := s.cal.slotsOn(d.date, s.Kind)
		wd := d.date.Weekday()
		for _, gi := range y.groups {
			for ei, en := range s.groups[gi].entries {
				if en.weekday == wd && en.slot < nslots && len(s.groups[gi].students) > 0 {
					mp.byDay[k] = append(mp.byDay[k], len(mp.occ))
					mp.occ = append(mp.occ, occurrence{group: gi, entry: ei, day: k})
				}
			}
		}
	}
}

// occurrenceOn draws a lesson of a day drawn from days (-1 if none).
func (s *estSim) occurrenceOn(mp *monthPlan, days cumulative) int {
	for range 20 {
		k := days.draw(s.rng)
		if k < 0 {
			return -1
		}
		if occ := mp.byDay[k]; len(occ) > 0 {
			return occ[s.rng.IntN(len(occ))]
		}
	}
	if len(mp.occ) == 0 {
		return -1
	}
	return s.rng.IntN(len(mp.occ))
}
