package commands_test

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris even where the system has no zoneinfo.

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// bookingAt returns the instant of "2006-01-02" "15:04" in Europe/Paris.
func bookingAt(t *testing.T, date, clock string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, domain.Paris())
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// givenRoom registers a room of w.UAI and returns its id.
func givenRoom(w *world, approval bool) uuid.UUID {
	room := uuid.New()
	w.given(domain.ResourceStream(room), domain.ResourceRegistered{Resource: room, Establishment: w.UAI, Kind: domain.ResourceRoom, Name: "Salle polyvalente", ApprovalRequired: approval})
	return room
}

// bookingOf is a request for room from one Paris time to another on date,
// weekly until the date until when set, with a new booking id.
func bookingOf(t *testing.T, room uuid.UUID, date, from, to, until string) domain.RequestBooking {
	t.Helper()
	cmd := domain.RequestBooking{Resource: room, Booking: uuid.New(), Start: bookingAt(t, date, from), End: bookingAt(t, date, to), Purpose: "Réunion parents-professeurs"}
	if until != "" {
		cmd.RepeatUntil = domain.MustDate(until)
	}
	return cmd
}

// requestedOf is the event that a successful request cmd by account appends.
func requestedOf(cmd domain.RequestBooking, by uuid.UUID) domain.BookingRequested {
	return domain.BookingRequested{Booking: cmd.Booking, Resource: cmd.Resource, By: by, Start: cmd.Start.UTC(), End: cmd.End.UTC(), RepeatUntil: cmd.RepeatUntil, Purpose: cmd.Purpose}
}

// mustBook requests cmd as actor and fails the test on error.
func mustBook(t *testing.T, w *world, actor uuid.UUID, cmd domain.RequestBooking) {
	t.Helper()
	if _, err := w.h.RequestBooking(w.ctx, as(actor), cmd); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterResource(t *testing.T) {
	w := newWorld(t)
	cmd := domain.RegisterResource{Resource: uuid.New(), Establishment: w.UAI, Kind: domain.ResourceRoom, Name: "CDI", ApprovalRequired: true}
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.RegisterResource(w.ctx, as(w.Head), cmd) },
		domain.ResourceRegistered{Resource: cmd.Resource, Establishment: w.UAI, Kind: domain.ResourceRoom, Name: "CDI", ApprovalRequired: true})
	md := recs[0].Metadata
	if recs[0].Stream != domain.ResourceStream(cmd.Resource) || md.Actor != w.Head || md.Establishment != w.UAI || md.Command != commands.CmdRegisterResource {
		t.Fatalf("record %+v", recs[0])
	}

	// An administrator registers too; an unset id gets a new one.
	res, err := w.h.RegisterResource(w.ctx, as(w.Admin), domain.RegisterResource{Establishment: w.UAI, Kind: domain.ResourceEquipment, Name: "Vidéoprojecteur 3"})
	if err != nil || res.ID == uuid.Nil || res.Stream != domain.ResourceStream(res.ID) || res.Version != 1 {
		t.Fatalf("register with a new id: %+v, %v", res, err)
	}
}

func TestRegisterResourceRules(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, false)
	valid := func(mutate func(*domain.RegisterResource)) domain.RegisterResource {
		cmd := domain.RegisterResource{Resource: uuid.New(), Establishment: w.UAI, Kind: domain.ResourceRoom, Name: "Salle 12"}
		mutate(&cmd)
		return cmd
	}
	same := func(*domain.RegisterResource) {}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.RegisterResource
		want  error
	}{
		{"teacher", w.Teacher, valid(same), domain.ErrForbidden},
		{"student", w.Student, valid(same), domain.ErrForbidden},
		{"relative", w.Relative, valid(same), domain.ErrForbidden},
		{"guest", w.Guest, valid(same), domain.ErrForbidden},
		{"inspector", w.Inspector, valid(same), domain.ErrForbidden},
		{"evaluator", w.Evaluator, valid(same), domain.ErrForbidden},
		{"personnel of another establishment", w.OtherHead, valid(same), domain.ErrWrongEstablishment},
		{"unknown establishment", w.Admin, valid(func(c *domain.RegisterResource) { c.Establishment = "0990099Z" }), domain.ErrUnknownEstablishment},
		{"unknown kind", w.Head, valid(func(c *domain.RegisterResource) { c.Kind = "vehicle" }), domain.ErrInvalid},
		{"no name", w.Head, valid(func(c *domain.RegisterResource) { c.Name = "  " }), domain.ErrInvalid},
		{"name too long", w.Head, valid(func(c *domain.RegisterResource) { c.Name = strings.Repeat("x", 201) }), domain.ErrInvalid},
		{"registered twice", w.Head, valid(func(c *domain.RegisterResource) { c.Resource = room }), domain.ErrResourceExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.RegisterResource(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

func TestRequestBooking(t *testing.T) {
	w := newWorld(t)

	// Without approval the booking is approved at once, in the same append.
	free := givenRoom(w, false)
	cmd := bookingOf(t, free, "2006-03-21", "10:00", "11:00", "2006-06-27")
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.RequestBooking(w.ctx, as(w.Teacher), cmd) },
		requestedOf(cmd, w.Teacher),
		domain.BookingApproved{Booking: cmd.Booking, Resource: free},
	)
	for _, r := range recs {
		md := r.Metadata
		if r.Stream != domain.ResourceStream(free) || md.Actor != w.Teacher || md.Establishment != w.UAI || md.Command != commands.CmdRequestBooking {
			t.Fatalf("record %+v", r)
		}
	}

	// With approval it waits, pending.
	guarded := givenRoom(w, true)
	cmd = bookingOf(t, guarded, "2006-03-21", "10:00", "11:00", "")
	w.thenEvents(func() (commands.Result, error) {
		res, err := w.h.RequestBooking(w.ctx, as(w.CPE), cmd)
		if err == nil && res.ID != cmd.Booking {
			t.Errorf("result id %s, want the booking %s", res.ID, cmd.Booking)
		}
		return res, err
	}, requestedOf(cmd, w.CPE))

	// An unset booking id gets a new one, which the result carries.
	cmd.Booking, cmd.Start, cmd.End = uuid.Nil, bookingAt(t, "2006-03-22", "10:00"), bookingAt(t, "2006-03-22", "11:00")
	res, err := w.h.RequestBooking(w.ctx, as(w.Teacher), cmd)
	if err != nil || res.ID == uuid.Nil || len(res.Events) != 1 {
		t.Fatalf("request with a new id: %+v, %v", res, err)
	}
}

func TestRequestBookingRules(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, false)
	taken := bookingOf(t, room, "2006-03-28", "10:00", "11:00", "")
	mustBook(t, w, w.OtherTeacher, taken)
	at := func(date, from, to, until string) domain.RequestBooking {
		return bookingOf(t, room, date, from, to, until)
	}
	ok := at("2006-03-21", "10:00", "11:00", "")
	with := func(mutate func(*domain.RequestBooking)) domain.RequestBooking {
		cmd := at("2006-03-21", "10:00", "11:00", "")
		mutate(&cmd)
		return cmd
	}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.RequestBooking
		want  error
	}{
		{"student", w.Student, ok, domain.ErrForbidden},
		{"relative", w.Relative, ok, domain.ErrForbidden},
		{"guest", w.Guest, ok, domain.ErrForbidden},
		{"administrator", w.Admin, ok, domain.ErrForbidden},
		{"inspector", w.Inspector, ok, domain.ErrForbidden},
		{"evaluator", w.Evaluator, ok, domain.ErrForbidden},
		{"unknown account", uuid.New(), ok, domain.ErrForbidden},
		{"personnel of another establishment", w.OtherHead, ok, domain.ErrWrongEstablishment},
		{"unknown resource", w.Teacher, with(func(c *domain.RequestBooking) { c.Resource = uuid.New() }), domain.ErrUnknownResource},
		{"ends before it starts", w.Teacher, at("2006-03-21", "11:00", "10:00", ""), domain.ErrInvalid},
		{"ends as it starts", w.Teacher, at("2006-03-21", "10:00", "10:00", ""), domain.ErrInvalid},
		{"no times", w.Teacher, with(func(c *domain.RequestBooking) { c.Start, c.End = time.Time{}, time.Time{} }), domain.ErrInvalid},
		{"over 12 hours", w.Teacher, at("2006-03-21", "07:00", "19:30", ""), domain.ErrInvalid},
		{"over two days", w.Teacher, with(func(c *domain.RequestBooking) { c.End = bookingAt(t, "2006-03-22", "09:00") }), domain.ErrInvalid},
		{"repeat until before the start", w.Teacher, at("2006-03-21", "10:00", "11:00", "2006-03-20"), domain.ErrInvalid},
		{"repeat for over a year", w.Teacher, at("2006-03-21", "10:00", "11:00", "2007-03-22"), domain.ErrInvalid},
		{"purpose too long", w.Teacher, with(func(c *domain.RequestBooking) { c.Purpose = strings.Repeat("x", 1001) }), domain.ErrInvalid},
		{"same slot", w.Teacher, at("2006-03-28", "10:00", "11:00", ""), domain.ErrBookingClash},
		{"overlapping start", w.Teacher, at("2006-03-28", "09:00", "10:30", ""), domain.ErrBookingClash},
		{"same booking id", w.OtherTeacher, with(func(c *domain.RequestBooking) { c.Booking = taken.Booking }), domain.ErrBookingExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.RequestBooking(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

func TestBackToBackBookingsDoNotClash(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, false)
	mustBook(t, w, w.Teacher, bookingOf(t, room, "2006-03-28", "10:00", "11:00", ""))
	for _, cmd := range []domain.RequestBooking{
		bookingOf(t, room, "2006-03-28", "11:00", "12:00", ""),
		// Weekly at 09:00 from before the change to summer time (26 March):
		// on 28 March it still ends at 10:00 Paris time, not 11:00.
		bookingOf(t, room, "2006-03-14", "09:00", "10:00", "2006-04-04"),
	} {
		w.thenEvents(func() (commands.Result, error) { return w.h.RequestBooking(w.ctx, as(w.OtherTeacher), cmd) },
			requestedOf(cmd, w.OtherTeacher), domain.BookingApproved{Booking: cmd.Booking, Resource: room})
	}
}

func TestWeeklyBookingClashNamesTheBookingAndTheDate(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, true)
	// A pending booking on Tuesday 28 March 2006, 10:30 Paris time (summer
	// time since the 26th).
	existing := bookingOf(t, room, "2006-03-28", "10:30", "11:30", "")
	mustBook(t, w, w.OtherTeacher, existing)
	// Tuesdays at 10:00 from 14 March: the 3rd occurrence is on the 28th.
	weekly := bookingOf(t, room, "2006-03-14", "10:00", "11:00", "2006-06-27")
	got, _, err := w.when(func() (commands.Result, error) { return w.h.RequestBooking(w.ctx, as(w.Teacher), weekly) })
	if !errors.Is(err, domain.ErrBookingClash) || domain.CodeOf(err) != domain.CodeConflict || len(got) != 0 {
		t.Fatalf("got %v and %d events, want a clash appending nothing", err, len(got))
	}
	if msg := err.Error(); !strings.Contains(msg, existing.Booking.String()) || !strings.Contains(msg, "2006-03-28") {
		t.Fatalf("the clash %q names neither booking %s nor 2006-03-28", msg, existing.Booking)
	}
	// Until the 21st only, the recurrence stops before the clash.
	weekly.RepeatUntil = domain.MustDate("2006-03-27")
	w.thenEvents(func() (commands.Result, error) { return w.h.RequestBooking(w.ctx, as(w.Teacher), weekly) }, requestedOf(weekly, w.Teacher))
}

func TestIdempotentRequestBooking(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, false)
	req := as(w.Teacher)
	req.IdempotencyKey = "book-salle-polyvalente-mardi"
	cmd := bookingOf(t, room, "2006-03-21", "10:00", "11:00", "2006-06-27")
	cmd.Booking = uuid.Nil // the id comes from the key: a retry targets the same booking
	first, err := w.h.RequestBooking(w.ctx, req, cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		again, err := w.h.RequestBooking(w.ctx, req, cmd)
		if err == nil && (!again.Replayed || again.ID != first.ID || again.Version != first.Version || again.Position != first.Position ||
			!reflect.DeepEqual(again.Events, first.Events) || again.CorrelationID != first.CorrelationID) {
			t.Errorf("replay: got %+v, want the original %+v", again, first)
		}
		return again, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("replayed booking: err %v, %d events appended", err, len(got))
	}
	if len(first.Events) != 2 {
		t.Fatalf("first run appended %d events, want the request and its approval", len(first.Events))
	}
	// The same key for another command is refused and appends nothing.
	w.thenError(func() (commands.Result, error) {
		return w.h.CancelBooking(w.ctx, req, domain.CancelBooking{Resource: room, Booking: first.ID})
	}, domain.ErrIdempotencyKey)
}

func TestConcurrentRequestsForOneSlot(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, false)
	const n = 8
	cmds := make([]domain.RequestBooking, n)
	for i := range cmds {
		// Each overlaps the others by at least half an hour.
		cmds[i] = bookingOf(t, room, "2006-03-21", "10:00", "11:00", "")
		cmds[i].Start = cmds[i].Start.Add(time.Duration(i) * 3 * time.Minute)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := w.Teacher
			if i%2 == 1 {
				actor = w.OtherTeacher
			}
			_, errs[i] = w.h.RequestBooking(w.ctx, as(actor), cmds[i])
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, domain.ErrBookingClash) && !errors.Is(err, domain.ErrVersionConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	recs, err := w.store.ReadStream(w.ctx, domain.ResourceStream(room), 0)
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || len(recs) != 3 {
		t.Fatalf("%d requests won and the stream holds %d events; want one booking (3 events)", won, len(recs))
	}
}

func TestApproveAndRefuseBooking(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, true)
	first := bookingOf(t, room, "2006-03-21", "10:00", "11:00", "")
	second := bookingOf(t, room, "2006-03-21", "14:00", "15:00", "")
	mustBook(t, w, w.Teacher, first)
	mustBook(t, w, w.Teacher, second)

	recs := w.thenEvents(func() (commands.Result, error) {
		return w.h.ApproveBooking(w.ctx, as(w.Head), domain.ApproveBooking{Resource: room, Booking: first.Booking})
	}, domain.BookingApproved{Booking: first.Booking, Resource: room})
	if md := recs[0].Metadata; md.Actor != w.Head || md.Establishment != w.UAI || md.Command != commands.CmdApproveBooking {
		t.Fatalf("metadata %+v", md)
	}
	w.thenEvents(func() (commands.Result, error) {
		return w.h.RefuseBooking(w.ctx, as(w.CPE), domain.RefuseBooking{Resource: room, Booking: second.Booking, Reason: "Salle réservée aux examens"})
	}, domain.BookingRefused{Booking: second.Booking, Resource: room, Reason: "Salle réservée aux examens"})

	// A refused booking frees its slot.
	again := bookingOf(t, room, "2006-03-21", "14:00", "15:00", "")
	w.thenEvents(func() (commands.Result, error) { return w.h.RequestBooking(w.ctx, as(w.OtherTeacher), again) }, requestedOf(again, w.OtherTeacher))
}

func TestBookingDecisionRules(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, true)
	pending := bookingOf(t, room, "2006-03-21", "10:00", "11:00", "")
	approved := bookingOf(t, room, "2006-03-21", "14:00", "15:00", "")
	mustBook(t, w, w.Teacher, pending)
	mustBook(t, w, w.Teacher, approved)
	if _, err := w.h.ApproveBooking(w.ctx, as(w.CPE), domain.ApproveBooking{Resource: room, Booking: approved.Booking}); err != nil {
		t.Fatal(err)
	}
	approve := func(actor, resource, booking uuid.UUID) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.ApproveBooking(w.ctx, as(actor), domain.ApproveBooking{Resource: resource, Booking: booking})
		}
	}
	refuse := func(actor, booking uuid.UUID, reason string) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.RefuseBooking(w.ctx, as(actor), domain.RefuseBooking{Resource: room, Booking: booking, Reason: reason})
		}
	}
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"the requesting teacher approves", approve(w.Teacher, room, pending.Booking), domain.ErrForbidden},
		{"a student approves", approve(w.Student, room, pending.Booking), domain.ErrForbidden},
		{"an administrator approves", approve(w.Admin, room, pending.Booking), domain.ErrForbidden},
		{"personnel of another establishment approves", approve(w.OtherHead, room, pending.Booking), domain.ErrWrongEstablishment},
		{"approve on an unknown resource", approve(w.Head, uuid.New(), pending.Booking), domain.ErrUnknownResource},
		{"approve an unknown booking", approve(w.Head, room, uuid.New()), domain.ErrUnknownBooking},
		{"approve twice", approve(w.Head, room, approved.Booking), domain.ErrBookingNotPending},
		{"a teacher refuses", refuse(w.OtherTeacher, pending.Booking, "non"), domain.ErrForbidden},
		{"personnel of another establishment refuses", refuse(w.OtherHead, pending.Booking, "non"), domain.ErrWrongEstablishment},
		{"refuse without a reason", refuse(w.Head, pending.Booking, " "), domain.ErrInvalid},
		{"refuse an approved booking", refuse(w.Head, approved.Booking, "trop tard"), domain.ErrBookingNotPending},
		{"refuse an unknown booking", refuse(w.Head, uuid.New(), "non"), domain.ErrUnknownBooking},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
}

func TestCancelBooking(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, false)
	mine := bookingOf(t, room, "2006-03-21", "10:00", "11:00", "2006-04-25")
	theirs := bookingOf(t, room, "2006-03-21", "14:00", "15:00", "")
	mustBook(t, w, w.Teacher, mine)
	mustBook(t, w, w.OtherTeacher, theirs)

	cancel := func(actor, booking uuid.UUID, reason string) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.CancelBooking(w.ctx, as(actor), domain.CancelBooking{Resource: room, Booking: booking, Reason: reason})
		}
	}
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"another teacher's booking", cancel(w.Teacher, theirs.Booking, ""), domain.ErrForbidden},
		{"a student", cancel(w.Student, mine.Booking, ""), domain.ErrForbidden},
		{"personnel of another establishment", cancel(w.OtherHead, mine.Booking, ""), domain.ErrWrongEstablishment},
		{"an unknown booking", cancel(w.Teacher, uuid.New(), ""), domain.ErrUnknownBooking},
		{"a reason too long", cancel(w.Teacher, mine.Booking, strings.Repeat("x", 1001)), domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
	w.t = t

	// The requester cancels their own; staff cancel anyone's.
	w.thenEvents(cancel(w.Teacher, mine.Booking, ""), domain.BookingCancelled{Booking: mine.Booking, Resource: room})
	recs := w.thenEvents(cancel(w.CPE, theirs.Booking, "Conseil de discipline"), domain.BookingCancelled{Booking: theirs.Booking, Resource: room, Reason: "Conseil de discipline"})
	if md := recs[0].Metadata; md.Actor != w.CPE || md.Establishment != w.UAI || md.Command != commands.CmdCancelBooking {
		t.Fatalf("metadata %+v", md)
	}
	w.thenError(cancel(w.Teacher, mine.Booking, ""), domain.ErrBookingNotActive)

	// Every occurrence of a cancelled weekly booking is free again.
	fourth := bookingOf(t, room, "2006-04-11", "10:00", "11:00", "")
	w.thenEvents(func() (commands.Result, error) { return w.h.RequestBooking(w.ctx, as(w.OtherTeacher), fourth) },
		requestedOf(fourth, w.OtherTeacher), domain.BookingApproved{Booking: fourth.Booking, Resource: room})
}

func TestCancelRefusedBooking(t *testing.T) {
	w := newWorld(t)
	room := givenRoom(w, true)
	cmd := bookingOf(t, room, "2006-03-21", "10:00", "11:00", "")
	mustBook(t, w, w.Teacher, cmd)
	if _, err := w.h.RefuseBooking(w.ctx, as(w.Head), domain.RefuseBooking{Resource: room, Booking: cmd.Booking, Reason: "travaux"}); err != nil {
		t.Fatal(err)
	}
	w.thenError(func() (commands.Result, error) {
		return w.h.CancelBooking(w.ctx, as(w.Teacher), domain.CancelBooking{Resource: room, Booking: cmd.Booking})
	}, domain.ErrBookingNotActive)
	w.thenError(func() (commands.Result, error) {
		return w.h.ApproveBooking(w.ctx, as(w.Head), domain.ApproveBooking{Resource: room, Booking: cmd.Booking})
	}, domain.ErrBookingNotPending)
}
