package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris even where the system has no zoneinfo.

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// bkAt returns the instant of "2006-01-02" "15:04" in Europe/Paris.
func bkAt(t *testing.T, date, clock string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, domain.Paris())
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestParisIsLoaded(t *testing.T) {
	if got := domain.Paris().String(); got != "Europe/Paris" {
		t.Fatalf("Paris() is %s: the DST tests below would prove nothing", got)
	}
}

func TestOccurrenceOverlaps(t *testing.T) {
	at := func(clock string) time.Time { return bkAt(t, "2006-03-14", clock) }
	occ := func(from, to string) domain.Occurrence { return domain.Occurrence{Start: at(from), End: at(to)} }
	cases := []struct {
		name string
		a, b domain.Occurrence
		want bool
	}{
		{"back to back", occ("10:00", "11:00"), occ("11:00", "12:00"), false},
		{"back to back, reversed", occ("11:00", "12:00"), occ("10:00", "11:00"), false},
		{"disjoint", occ("08:00", "09:00"), occ("10:00", "11:00"), false},
		{"identical", occ("10:00", "11:00"), occ("10:00", "11:00"), true},
		{"one minute over", occ("10:00", "11:01"), occ("11:00", "12:00"), true},
		{"contained", occ("08:00", "12:00"), occ("10:00", "10:30"), true},
		{"containing", occ("10:00", "10:30"), occ("08:00", "12:00"), true},
		{"same start", occ("10:00", "10:30"), occ("10:00", "12:00"), true},
		{"same end", occ("09:00", "12:00"), occ("11:00", "12:00"), true},
		{"across offsets", occ("10:00", "11:00"), domain.Occurrence{Start: at("10:30").UTC(), End: at("11:30").UTC()}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Overlaps(tc.b); got != tc.want {
				t.Fatalf("%v overlaps %v: got %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestWeeklyOccurrencesKeepTheWallClockAcrossDST(t *testing.T) {
	paris := domain.Paris()
	cases := []struct {
		name        string
		start, end  time.Time
		until       domain.Date
		wantDays    []string
		wantOffsets []int // UTC offset of each occurrence, in hours
	}{
		{"once", bkAt(t, "2006-03-21", "10:00"), bkAt(t, "2006-03-21", "11:00"), domain.Date{},
			[]string{"2006-03-21"}, []int{1}},
		{"until the first day", bkAt(t, "2006-03-21", "10:00"), bkAt(t, "2006-03-21", "11:00"), domain.MustDate("2006-03-21"),
			[]string{"2006-03-21"}, []int{1}},
		{"spring forward (26 March 2006)", bkAt(t, "2006-03-14", "10:00"), bkAt(t, "2006-03-14", "11:00"), domain.MustDate("2006-04-04"),
			[]string{"2006-03-14", "2006-03-21", "2006-03-28", "2006-04-04"}, []int{1, 1, 2, 2}},
		{"fall back (29 October 2006)", bkAt(t, "2006-10-24", "10:00"), bkAt(t, "2006-10-24", "11:00"), domain.MustDate("2006-11-07"),
			[]string{"2006-10-24", "2006-10-31", "2006-11-07"}, []int{2, 1, 1}},
		{"until a day short of a week", bkAt(t, "2006-03-14", "10:00"), bkAt(t, "2006-03-14", "11:00"), domain.MustDate("2006-03-27"),
			[]string{"2006-03-14", "2006-03-21"}, []int{1, 1}},
		{"given in UTC", bkAt(t, "2006-03-21", "10:00").UTC(), bkAt(t, "2006-03-21", "11:00").UTC(), domain.MustDate("2006-03-28"),
			[]string{"2006-03-21", "2006-03-28"}, []int{1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := domain.WeeklyOccurrences(tc.start, tc.end, tc.until, paris)
			if len(got) != len(tc.wantDays) {
				t.Fatalf("got %d occurrences %v, want %d", len(got), got, len(tc.wantDays))
			}
			for i, o := range got {
				s, e := o.Start.In(paris), o.End.In(paris)
				if domain.DateOf(s).String() != tc.wantDays[i] || s.Format("15:04") != "10:00" || e.Format("15:04") != "11:00" {
					t.Errorf("occurrence %d: %s to %s, want %s 10:00 to 11:00 Paris time", i, s, e, tc.wantDays[i])
				}
				if _, off := s.Zone(); off != tc.wantOffsets[i]*3600 {
					t.Errorf("occurrence %d: offset %ds, want %dh", i, off, tc.wantOffsets[i])
				}
				if s.Weekday() != tc.start.In(paris).Weekday() {
					t.Errorf("occurrence %d is on %s", i, s.Weekday())
				}
			}
		})
	}
}

func TestWeeklyOccurrencesOfAYear(t *testing.T) {
	start := bkAt(t, "2006-09-05", "08:00")
	got := domain.WeeklyOccurrences(start, start.Add(time.Hour), domain.MustDate("2007-09-05"), domain.Paris())
	if len(got) != 53 {
		t.Fatalf("a year of Tuesdays from 2006-09-05 to 2007-09-04: got %d occurrences, want 53", len(got))
	}
}

// bkResource folds events into a resource.
func bkResource(events ...domain.Event) *domain.Resource {
	r := &domain.Resource{}
	for _, e := range events {
		r.Apply(e)
	}
	return r
}

const bkUAI = "0130001A"

var (
	bkRoom    = uuid.MustParse("00000000-0000-0000-0000-00000000000a")
	bkTeacher = domain.Actor{Account: uuid.MustParse("00000000-0000-0000-0000-0000000000f1"), Profile: domain.ProfileTeacher, Establishment: bkUAI}
	bkCPE     = domain.Actor{Account: uuid.MustParse("00000000-0000-0000-0000-0000000000f2"), Profile: domain.ProfilePersonnel, Function: domain.FunctionCPE, Establishment: bkUAI}
)

// bkRegistered registers bkRoom, with or without approval.
func bkRegistered(approval bool) domain.ResourceRegistered {
	return domain.ResourceRegistered{Resource: bkRoom, Establishment: bkUAI, Kind: domain.ResourceRoom, Name: "Salle 101", ApprovalRequired: approval}
}

// bkRequested is a booking of bkRoom by bkTeacher from one Paris time to
// another on date, weekly until the date until when set.
func bkRequested(t *testing.T, id uuid.UUID, date, from, to, until string) domain.BookingRequested {
	t.Helper()
	var u domain.Date
	if until != "" {
		u = domain.MustDate(until)
	}
	return domain.BookingRequested{Booking: id, Resource: bkRoom, By: bkTeacher.Account,
		Start: bkAt(t, date, from).UTC(), End: bkAt(t, date, to).UTC(), RepeatUntil: u}
}

// bkRequest is the command that would emit bkRequested, with a new id.
func bkRequest(t *testing.T, date, from, to, until string) domain.RequestBooking {
	t.Helper()
	e := bkRequested(t, uuid.New(), date, from, to, until)
	return domain.RequestBooking{Resource: bkRoom, Booking: e.Booking, Start: e.Start, End: e.End, RepeatUntil: e.RepeatUntil}
}

func TestRequestBookingEvents(t *testing.T) {
	cmd := bkRequest(t, "2006-03-21", "10:00", "11:00", "2006-04-04")
	cmd.Start, cmd.End = cmd.Start.In(domain.Paris()), cmd.End.In(domain.Paris())
	cmd.Purpose = "Conseil de classe"
	want := domain.BookingRequested{Booking: cmd.Booking, Resource: bkRoom, By: bkTeacher.Account,
		Start: cmd.Start.UTC(), End: cmd.End.UTC(), RepeatUntil: cmd.RepeatUntil, Purpose: "Conseil de classe"}

	got, err := bkResource(bkRegistered(true)).RequestBooking(bkTeacher, domain.Paris(), cmd)
	if err != nil || !reflect.DeepEqual(got, []domain.Event{want}) {
		t.Fatalf("with approval: got %#v, %v; want the request alone, in UTC", got, err)
	}
	got, err = bkResource(bkRegistered(false)).RequestBooking(bkTeacher, domain.Paris(), cmd)
	if err != nil || !reflect.DeepEqual(got, []domain.Event{want, domain.BookingApproved{Booking: cmd.Booking, Resource: bkRoom}}) {
		t.Fatalf("without approval: got %#v, %v; want the request and its approval", got, err)
	}
}

func TestRequestBookingInput(t *testing.T) {
	r := bkResource(bkRegistered(false))
	valid := func(mutate func(*domain.RequestBooking)) domain.RequestBooking {
		cmd := bkRequest(t, "2006-03-21", "10:00", "11:00", "")
		mutate(&cmd)
		return cmd
	}
	cases := []struct {
		name string
		cmd  domain.RequestBooking
		ok   bool
	}{
		{"one hour", valid(func(*domain.RequestBooking) {}), true},
		{"twelve hours exactly", valid(func(c *domain.RequestBooking) {
			c.Start, c.End = bkAt(t, "2006-03-21", "07:00"), bkAt(t, "2006-03-21", "19:00")
		}), true},
		{"twelve hours and a minute", valid(func(c *domain.RequestBooking) {
			c.Start, c.End = bkAt(t, "2006-03-21", "07:00"), bkAt(t, "2006-03-21", "19:01")
		}), false},
		{"ends as it starts", valid(func(c *domain.RequestBooking) { c.End = c.Start }), false},
		{"ends before it starts", valid(func(c *domain.RequestBooking) { c.Start, c.End = c.End, c.Start }), false},
		{"no start", valid(func(c *domain.RequestBooking) { c.Start = time.Time{} }), false},
		{"no booking id", valid(func(c *domain.RequestBooking) { c.Booking = uuid.Nil }), false},
		// 23:30 UTC is 00:30 the next day in Paris: the day is Paris's.
		{"across midnight, Paris time", valid(func(c *domain.RequestBooking) {
			c.Start, c.End = bkAt(t, "2006-03-21", "23:00"), bkAt(t, "2006-03-22", "00:30")
		}), false},
		{"same UTC day, next Paris day", valid(func(c *domain.RequestBooking) {
			c.Start, c.End = time.Date(2006, 3, 21, 22, 0, 0, 0, time.UTC), time.Date(2006, 3, 21, 23, 30, 0, 0, time.UTC)
		}), false},
		{"until the same day", valid(func(c *domain.RequestBooking) { c.RepeatUntil = domain.MustDate("2006-03-21") }), true},
		{"until the day before", valid(func(c *domain.RequestBooking) { c.RepeatUntil = domain.MustDate("2006-03-20") }), false},
		{"until a year later", valid(func(c *domain.RequestBooking) { c.RepeatUntil = domain.MustDate("2007-03-21") }), true},
		{"until a year and a day later", valid(func(c *domain.RequestBooking) { c.RepeatUntil = domain.MustDate("2007-03-22") }), false},
		{"purpose too long", valid(func(c *domain.RequestBooking) { c.Purpose = strings.Repeat("é", 1001) }), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.RequestBooking(bkTeacher, domain.Paris(), tc.cmd)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("error: got %v, want %v", err, domain.ErrInvalid)
			}
		})
	}
}

func TestBookingClashes(t *testing.T) {
	single := uuid.MustParse("00000000-0000-0000-0000-0000000000b1")
	weekly := uuid.MustParse("00000000-0000-0000-0000-0000000000b2")
	cancelled := uuid.MustParse("00000000-0000-0000-0000-0000000000b3")
	refused := uuid.MustParse("00000000-0000-0000-0000-0000000000b4")
	pending := uuid.MustParse("00000000-0000-0000-0000-0000000000b5")
	r := bkResource(
		bkRegistered(true),
		// Tuesday 28 March 2006, the first Tuesday of summer time.
		bkRequested(t, single, "2006-03-28", "10:00", "11:00", ""),
		domain.BookingApproved{Booking: single, Resource: bkRoom},
		// Thursdays 14:00-16:00 from 2 March to 27 April.
		bkRequested(t, weekly, "2006-03-02", "14:00", "16:00", "2006-04-27"),
		domain.BookingApproved{Booking: weekly, Resource: bkRoom},
		bkRequested(t, cancelled, "2006-03-24", "08:00", "12:00", ""),
		domain.BookingCancelled{Booking: cancelled, Resource: bkRoom},
		bkRequested(t, refused, "2006-03-24", "13:00", "17:00", ""),
		domain.BookingRefused{Booking: refused, Resource: bkRoom, Reason: "travaux"},
		bkRequested(t, pending, "2006-03-27", "08:00", "09:00", "2006-06-26"),
	)
	cases := []struct {
		name    string
		cmd     domain.RequestBooking
		clashes uuid.UUID // uuid.Nil: no clash
		on      string    // the clashing occurrence's date
	}{
		{"back to back before", bkRequest(t, "2006-03-28", "09:00", "10:00", ""), uuid.Nil, ""},
		{"back to back after", bkRequest(t, "2006-03-28", "11:00", "12:00", ""), uuid.Nil, ""},
		{"same slot", bkRequest(t, "2006-03-28", "10:00", "11:00", ""), single, "2006-03-28"},
		{"overlapping end", bkRequest(t, "2006-03-28", "09:30", "10:01", ""), single, "2006-03-28"},
		// Weekly from 14 March at 10:00: the 3rd occurrence, 28 March, is
		// after the change to summer time and still at 10:00.
		{"3rd weekly occurrence", bkRequest(t, "2006-03-14", "10:00", "11:00", "2006-04-25"), single, "2006-03-28"},
		// Weekly at 09:00 is back to back with it; a recurrence computed in
		// UTC would drift to 10:00 in summer time and clash.
		{"weekly at 09:00 across DST", bkRequest(t, "2006-03-14", "09:00", "10:00", "2006-04-25"), uuid.Nil, ""},
		{"inside a weekly booking's 6th week", bkRequest(t, "2006-04-06", "15:00", "15:30", ""), weekly, "2006-04-06"},
		{"after a weekly booking ends", bkRequest(t, "2006-05-04", "14:00", "16:00", ""), uuid.Nil, ""},
		{"weekly against weekly", bkRequest(t, "2006-03-30", "15:59", "17:00", "2006-05-25"), weekly, "2006-03-30"},
		{"a cancelled booking's slot", bkRequest(t, "2006-03-24", "09:00", "10:00", ""), uuid.Nil, ""},
		{"a refused booking's slot", bkRequest(t, "2006-03-24", "14:00", "15:00", ""), uuid.Nil, ""},
		{"a pending booking's slot", bkRequest(t, "2006-06-19", "08:30", "09:30", ""), pending, "2006-06-19"},
		{"back to back with a pending weekly booking's last week", bkRequest(t, "2006-06-26", "07:00", "08:00", ""), uuid.Nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.RequestBooking(bkTeacher, domain.Paris(), tc.cmd)
			if tc.clashes == uuid.Nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, domain.ErrBookingClash) || domain.CodeOf(err) != domain.CodeConflict || got != nil {
				t.Fatalf("got %v, %v; want a clash", got, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.clashes.String()) || !strings.Contains(msg, tc.on) {
				t.Fatalf("the clash %q does not name booking %s and date %s", msg, tc.clashes, tc.on)
			}
		})
	}
}

func TestApprovalChecksClashesAgain(t *testing.T) {
	first, second := uuid.New(), uuid.New()
	// Two overlapping pending bookings break the invariant (they cannot be
	// requested so); approving one must still be refused.
	r := bkResource(bkRegistered(true),
		bkRequested(t, first, "2006-03-28", "10:00", "11:00", ""),
		bkRequested(t, second, "2006-03-28", "10:30", "11:30", ""),
	)
	_, err := r.ApproveBooking(bkCPE, domain.Paris(), domain.ApproveBooking{Resource: bkRoom, Booking: first})
	if !errors.Is(err, domain.ErrBookingClash) || !strings.Contains(err.Error(), second.String()) {
		t.Fatalf("approving over a pending booking: got %v, want a clash naming %s", err, second)
	}
}

func TestBookingLifecycle(t *testing.T) {
	b := uuid.New()
	r := bkResource(bkRegistered(true), bkRequested(t, b, "2006-03-28", "10:00", "11:00", ""))
	if got := r.Bookings[b].State; got != domain.BookingStatePending {
		t.Fatalf("state %s, want pending", got)
	}
	events, err := r.ApproveBooking(bkCPE, domain.Paris(), domain.ApproveBooking{Resource: bkRoom, Booking: b})
	if err != nil || !reflect.DeepEqual(events, []domain.Event{domain.BookingApproved{Booking: b, Resource: bkRoom}}) {
		t.Fatalf("approve: %#v, %v", events, err)
	}
	r.Apply(events[0])
	if _, err := r.ApproveBooking(bkCPE, domain.Paris(), domain.ApproveBooking{Resource: bkRoom, Booking: b}); !errors.Is(err, domain.ErrBookingNotPending) {
		t.Fatalf("approve twice: %v", err)
	}
	if _, err := r.RefuseBooking(bkCPE, domain.RefuseBooking{Resource: bkRoom, Booking: b, Reason: "non"}); !errors.Is(err, domain.ErrBookingNotPending) {
		t.Fatalf("refuse an approved booking: %v", err)
	}
	events, err = r.CancelBooking(bkTeacher, domain.CancelBooking{Resource: bkRoom, Booking: b})
	if err != nil || !reflect.DeepEqual(events, []domain.Event{domain.BookingCancelled{Booking: b, Resource: bkRoom}}) {
		t.Fatalf("cancel by the requester: %#v, %v", events, err)
	}
	r.Apply(events[0])
	if got := r.Bookings[b].State; got != domain.BookingStateCancelled {
		t.Fatalf("state %s, want cancelled", got)
	}
	if _, err := r.CancelBooking(bkTeacher, domain.CancelBooking{Resource: bkRoom, Booking: b}); !errors.Is(err, domain.ErrBookingNotActive) {
		t.Fatalf("cancel twice: %v", err)
	}
	// Its slot is free again.
	if _, err := r.RequestBooking(bkTeacher, domain.Paris(), bkRequest(t, "2006-03-28", "10:00", "11:00", "")); err != nil {
		t.Fatalf("rebook a cancelled slot: %v", err)
	}
}
