package simulation

import (
	"context"
	"slices"
	"time"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// bookingSlot is a slot of a resource on a day; slots past the lesson grid
// are evening hours.
type bookingSlot struct {
	resource int
	date     domain.Date
	slot     int
}

// planBooking schedules a booking request by a teacher or the personnel:
// one or two slots a few days ahead, sometimes weekly until the end of the
// year; resources that need it are approved or refused by the staff.
func (s *estSim) planBooking(mp *monthPlan) {
	r := s.rng
	k := mp.lessDays.draw(r)
	if k < 0 {
		k = mp.k0
	}
	x := s.days[k].date
	pi := 1
	if r.Float64() < 0.2 || len(s.byProfile[1]) == 0 {
		pi = 3
	}
	t := s.at(x, 8, 0).Add(time.Duration(r.IntN(10*3600)) * time.Second)
	by := s.pickAccount(pi, t)
	if by < 0 {
		by = s.heads[0]
		if !s.open(by, t) {
			t = s.accounts[by].openAt.Add(time.Hour)
		}
	}
	free := func(res int, day domain.Date, from, n int) bool {
		for sl := from; sl < from+n; sl++ {
			if s.booked[bookingSlot{res, day, sl}] {
				return false
			}
		}
		return true
	}
	var (
		res, first, n int
		day, until    domain.Date
		found         bool
	)
	j := s.yearOf(x)
	for try := 0; try < 30 && !found; try++ {
		res = r.IntN(len(s.resources))
		day = x.AddDays(1 + r.IntN(10))
		slots := s.cal.slotsOn(day, s.Kind)
		if slots == 0 || s.yearOf(day) != j || day.After(s.to) {
			continue
		}
		n = 1
		if r.Float64() < 0.3 {
			n = 2
		}
		first = r.IntN(slots)
		if first+n > slots {
			n = 1
		}
		if !free(res, day, first, n) {
			continue
		}
		until = domain.Date{}
		if r.Float64() < 0.05 {
			until = s.years[j].lessonsUntil
			ok := true
			for d := day; !d.After(until); d = d.AddDays(7) {
				if !free(res, d, first, n) {
					ok = false
					break
				}
			}
			if !ok {
				until = domain.Date{}
			}
		}
		found = true
	}
	if !found {
		// An evening meeting, the same day, after the request.
		day, n, until = x, 1, domain.Date{}
		for try := 0; !found; try++ {
			res, first = try%len(s.resources), len(slotGrid)+try/len(s.resources)
			found = free(res, day, first, 1)
		}
	}
	for d := day; ; d = d.AddDays(7) {
		for sl := first; sl < first+n; sl++ {
			s.booked[bookingSlot{res, d, sl}] = true
		}
		if until.IsZero() || d.AddDays(7).After(until) {
			break
		}
	}
	var start, end time.Time
	if first < len(slotGrid) {
		start, end = s.slotTime(day, first, false), s.slotTime(day, first+n-1, true)
	} else {
		start = s.at(day, 18+first-len(slotGrid), 0)
		end = start.Add(55 * time.Minute)
		if t.After(start.Add(-time.Hour)) {
			t = start.Add(-time.Hour)
		}
	}
	rc := s.resources[res]
	cmd := domain.RequestBooking{
		Resource: rc.id, Booking: s.newID("booking"), Start: start.UTC(), End: end.UTC(),
		RepeatUntil: until, Purpose: pick(r, bookingPurposes),
	}
	want := []string{evBooking}
	if !rc.cmd.ApprovalRequired {
		want = append(want, evBkApproved)
	}
	s.push(t, func(ctx context.Context) error {
		ok, err := s.exec(ctx, t, by, want, func(req commands.Request) (commands.Result, error) {
			return s.w.h.RequestBooking(ctx, req, cmd)
		})
		if err != nil || !ok {
			return err
		}
		s.stats.produced.Bookings++
		cancelFrom := t.Add(30 * time.Minute)
		if rc.cmd.ApprovalRequired {
			td := s.officeTime(t, 0, 1)
			staff := s.pickOpen(append(slices.Clone(s.office), s.heads...), td, -1)
			if staff < 0 {
				return nil
			}
			cancelFrom = td.Add(time.Hour)
			if r.Float64() < 0.85 {
				s.push(td, func(ctx context.Context) error {
					_, err := s.exec(ctx, td, staff, []string{evBkApproved}, func(req commands.Request) (commands.Result, error) {
						return s.w.h.ApproveBooking(ctx, req, domain.ApproveBooking{Resource: rc.id, Booking: cmd.Booking})
					})
					return err
				})
			} else {
				reason := pick(r, refusalReasons)
				s.push(td, func(ctx context.Context) error {
					_, err := s.exec(ctx, td, staff, []string{evBkRefused}, func(req commands.Request) (commands.Result, error) {
						return s.w.h.RefuseBooking(ctx, req, domain.RefuseBooking{Resource: rc.id, Booking: cmd.Booking, Reason: reason})
					})
					return err
				})
				return nil
			}
		}
		if r.Float64() < 0.05 {
			tc := s.between(cancelFrom, start)
			s.push(tc, func(ctx context.Context) error {
				_, err := s.exec(ctx, tc, by, []string{evBkCancelled}, func(req commands.Request) (commands.Result, error) {
					return s.w.h.CancelBooking(ctx, req, domain.CancelBooking{Resource: rc.id, Booking: cmd.Booking, Reason: "Séance annulée."})
				})
				return err
			})
		}
		return nil
	})
}
