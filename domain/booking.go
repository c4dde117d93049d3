package domain

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Booking errors of the resource aggregate.
var (
	ErrUnknownResource   = newError(CodeNotFound, "unknown-resource", "unknown resource")
	ErrResourceExists    = newError(CodeConflict, "resource-exists", "resource already registered")
	ErrUnknownBooking    = newError(CodeNotFound, "unknown-booking", "unknown booking")
	ErrBookingExists     = newError(CodeConflict, "booking-exists", "booking already requested")
	ErrBookingClash      = newError(CodeConflict, "booking-clash", "the booking overlaps another booking of the resource")
	ErrBookingNotPending = newError(CodeRule, "booking-not-pending", "the booking is not pending")
	ErrBookingNotActive  = newError(CodeRule, "booking-not-active", "the booking was already refused or cancelled")
)

// Limits of resources and bookings.
const (
	MaxBookingLength = 12 * time.Hour
	// MaxRepeatYears bounds a weekly booking: a school year and its margins.
	MaxRepeatYears  = 1
	maxResourceName = 200
	maxBookingText  = 1000
)

// BookingState is where a booking stands.
type BookingState string

// Booking states. Only pending and approved bookings hold their slots.
const (
	BookingStatePending   BookingState = "pending"
	BookingStateApproved  BookingState = "approved"
	BookingStateRefused   BookingState = "refused"
	BookingStateCancelled BookingState = "cancelled"
)

// Occurrence is one half-open interval [Start, End) a booking holds.
type Occurrence struct {
	Start, End time.Time
}

// Overlaps reports whether o and p share an instant. Intervals are
// half-open, so back-to-back occurrences (o.End == p.Start) do not overlap.
func (o Occurrence) Overlaps(p Occurrence) bool {
	return o.Start.Before(p.End) && p.Start.Before(o.End)
}

// WeeklyOccurrences expands a booking of [start, end), repeated every week
// until the date until (inclusive; zero means once), into its occurrences.
// Each occurrence keeps start's weekday and the local wall-clock times of
// start and end in loc, so a 10:00 booking stays at 10:00 when the clocks
// change; start and end must fall on the same local day.
func WeeklyOccurrences(start, end time.Time, until Date, loc *time.Location) []Occurrence {
	start, end = start.In(loc), end.In(loc)
	first := DateOf(start)
	if until.IsZero() || until.Before(first) {
		return []Occurrence{{Start: start, End: end}}
	}
	var out []Occurrence
	for d := first; !d.After(until); d = d.AddDays(7) {
		out = append(out, Occurrence{Start: wallClockOn(d, start, loc), End: wallClockOn(d, end, loc)})
	}
	return out
}

// wallClockOn returns the time of day of t on day d in loc.
func wallClockOn(d Date, t time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// Booking is one booking of a resource, possibly weekly.
type Booking struct {
	ID          uuid.UUID
	By          uuid.UUID
	Start, End  time.Time
	RepeatUntil Date
	State       BookingState
}

// Active reports whether the booking holds its slots.
func (b *Booking) Active() bool {
	return b.State == BookingStatePending || b.State == BookingStateApproved
}

// Occurrences returns the intervals the booking holds, computed in loc.
func (b *Booking) Occurrences(loc *time.Location) []Occurrence {
	return WeeklyOccurrences(b.Start, b.End, b.RepeatUntil, loc)
}

// Resource is a bookable room or piece of equipment with all its bookings:
// the no-overlap invariant is decided within this one aggregate.
type Resource struct {
	ID               uuid.UUID
	Exists           bool
	Establishment    string
	Kind             ResourceKind
	Name             string
	ApprovalRequired bool
	Bookings         map[uuid.UUID]*Booking
	// order lists bookings as requested, so that a clash always names the
	// same booking whatever the map order.
	order []uuid.UUID
}

// Apply folds an event.
func (r *Resource) Apply(e Event) {
	switch e := e.(type) {
	case ResourceRegistered:
		r.ID, r.Exists, r.Establishment = e.Resource, true, e.Establishment
		r.Kind, r.Name, r.ApprovalRequired = e.Kind, e.Name, e.ApprovalRequired
	case BookingRequested:
		if r.Bookings == nil {
			r.Bookings = make(map[uuid.UUID]*Booking)
		}
		r.Bookings[e.Booking] = &Booking{
			ID: e.Booking, By: e.By, Start: e.Start, End: e.End, RepeatUntil: e.RepeatUntil, State: BookingStatePending,
		}
		r.order = append(r.order, e.Booking)
	case BookingApproved:
		r.setState(e.Booking, BookingStateApproved)
	case BookingRefused:
		r.setState(e.Booking, BookingStateRefused)
	case BookingCancelled:
		r.setState(e.Booking, BookingStateCancelled)
	}
}

func (r *Resource) setState(booking uuid.UUID, s BookingState) {
	if b := r.Bookings[booking]; b != nil {
		b.State = s
	}
}

// RegisterResource makes a room or equipment of an establishment bookable.
type RegisterResource struct {
	Resource         uuid.UUID    `json:"resource"`
	Establishment    string       `json:"establishment" text:"code"`
	Kind             ResourceKind `json:"kind"`
	Name             string       `json:"name" text:"name"`
	ApprovalRequired bool         `json:"approval_required"`
}

// mayManageResource checks that actor is staff of establishment uai (or, when
// admins is set, an administrator of it).
func mayManageResource(actor Actor, uai string, admins bool, what string) error {
	if actor.IsStaff(uai) || (admins && actor.IsAdmin(uai)) {
		return nil
	}
	if actor.Profile == ProfilePersonnel {
		return Errorf(ErrWrongEstablishment, "%s belongs to %s", what, uai)
	}
	return Errorf(ErrForbidden, "only the establishment's staff manage %s", what)
}

// Register decides the registration of a resource in establishment est.
func (r *Resource) Register(actor Actor, est *Establishment, cmd RegisterResource) ([]Event, error) {
	if err := mayManageResource(actor, cmd.Establishment, true, "resources"); err != nil {
		return nil, err
	}
	if cmd.Resource == uuid.Nil {
		return nil, Errorf(ErrInvalid, "resource id is required")
	}
	if cmd.Kind != ResourceRoom && cmd.Kind != ResourceEquipment {
		return nil, Errorf(ErrInvalid, "kind %q is not room or equipment", cmd.Kind)
	}
	if err := requiredTextWithin("name", cmd.Name, maxResourceName); err != nil {
		return nil, err
	}
	if est == nil || !est.Exists {
		return nil, Errorf(ErrUnknownEstablishment, "%s", cmd.Establishment)
	}
	if r.Exists {
		return nil, Errorf(ErrResourceExists, "%s", cmd.Resource)
	}
	return []Event{ResourceRegistered(cmd)}, nil
}

// requiredTextWithin checks a free-text field is set and at most max runes long.
func requiredTextWithin(field, s string, max int) error {
	if strings.TrimSpace(s) == "" {
		return Errorf(ErrInvalid, "%s is required", field)
	}
	return textWithin(field, s, max)
}

// textWithin checks a free-text field is at most max runes long.
func textWithin(field, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return Errorf(ErrInvalid, "%s is %d characters long, at most %d allowed", field, n, max)
	}
	return nil
}

// RequestBooking asks for a resource over [Start, End), repeated every week
// until RepeatUntil (inclusive) when set.
type RequestBooking struct {
	Resource    uuid.UUID `json:"resource"`
	Booking     uuid.UUID `json:"booking"`
	Start       time.Time `json:"start" date:"plan"`
	End         time.Time `json:"end" date:"plan"`
	RepeatUntil Date      `json:"repeat_until,omitzero" date:"plan"`
	Purpose     string    `json:"purpose,omitempty" text:"reason"`
}

// Validate checks the request's times in loc: Start before End, on the same
// local day, at most MaxBookingLength, and RepeatUntil, when set, between
// Start's day and a year later.
func (c RequestBooking) Validate(loc *time.Location) error {
	if c.Booking == uuid.Nil {
		return Errorf(ErrInvalid, "booking id is required")
	}
	if c.Start.IsZero() || c.End.IsZero() {
		return Errorf(ErrInvalid, "start and end are required")
	}
	if !c.Start.Before(c.End) {
		return Errorf(ErrInvalid, "booking ends (%s) before it starts (%s)", c.End.Format(time.RFC3339), c.Start.Format(time.RFC3339))
	}
	day := DateOf(c.Start.In(loc))
	if DateOf(c.End.In(loc)) != day {
		return Errorf(ErrInvalid, "booking starts and ends on different days (%s to %s)", day, DateOf(c.End.In(loc)))
	}
	if d := c.End.Sub(c.Start); d > MaxBookingLength {
		return Errorf(ErrInvalid, "booking lasts %s, at most %s allowed", d, MaxBookingLength)
	}
	if !c.RepeatUntil.IsZero() {
		last := DateOf(day.In(time.UTC).AddDate(MaxRepeatYears, 0, 0))
		if c.RepeatUntil.Before(day) || c.RepeatUntil.After(last) {
			return Errorf(ErrInvalid, "repeat until %s is not between %s and %s", c.RepeatUntil, day, last)
		}
	}
	return textWithin("purpose", c.Purpose, maxBookingText)
}

// teacherOrPersonnelOf checks that actor is a teacher or personnel of
// establishment uai (or the system); what names the act ("book resources")
// for the error.
func teacherOrPersonnelOf(actor Actor, uai, what string) error {
	switch actor.Profile {
	case ProfileSystem:
		return nil
	case ProfileTeacher, ProfilePersonnel:
		if actor.Establishment != uai {
			return Errorf(ErrWrongEstablishment, "cannot %s in %s", what, uai)
		}
		return nil
	default:
		return Errorf(ErrForbidden, "only teachers and personnel %s", what)
	}
}

// RequestBooking decides a booking request. Times are checked in loc (the
// establishment's time zone, Europe/Paris by default). The booking is
// approved at once when the resource needs no approval.
func (r *Resource) RequestBooking(actor Actor, loc *time.Location, cmd RequestBooking) ([]Event, error) {
	if !r.Exists {
		return nil, Errorf(ErrUnknownResource, "%s", cmd.Resource)
	}
	if err := teacherOrPersonnelOf(actor, r.Establishment, "book resources"); err != nil {
		return nil, err
	}
	if err := cmd.Validate(loc); err != nil {
		return nil, err
	}
	if _, dup := r.Bookings[cmd.Booking]; dup {
		return nil, Errorf(ErrBookingExists, "%s", cmd.Booking)
	}
	// Stored in UTC: one canonical form whatever offset the client sent.
	b := Booking{ID: cmd.Booking, Start: cmd.Start.UTC(), End: cmd.End.UTC(), RepeatUntil: cmd.RepeatUntil}
	if err := r.checkClash(&b, loc); err != nil {
		return nil, err
	}
	events := []Event{BookingRequested{
		Booking: cmd.Booking, Resource: r.ID, By: actor.Account, Start: b.Start, End: b.End,
		RepeatUntil: cmd.RepeatUntil, Purpose: cmd.Purpose,
	}}
	if !r.ApprovalRequired {
		events = append(events, BookingApproved{Booking: cmd.Booking, Resource: r.ID})
	}
	return events, nil
}

// checkClash returns ErrBookingClash naming the first active booking (in
// request order) that one of b's occurrences (in time order) overlaps.
func (r *Resource) checkClash(b *Booking, loc *time.Location) error {
	mine := b.Occurrences(loc)
	span := Occurrence{Start: mine[0].Start, End: mine[len(mine)-1].End}
	type candidate struct {
		id   uuid.UUID
		occs []Occurrence
	}
	// Only bookings whose whole span meets b's are expanded: a resource
	// keeps every booking of its history.
	var others []candidate
	for _, id := range r.order {
		o := r.Bookings[id]
		if id == b.ID || !o.Active() {
			continue
		}
		occs := o.Occurrences(loc)
		if !span.Overlaps(Occurrence{Start: occs[0].Start, End: occs[len(occs)-1].End}) {
			continue
		}
		others = append(others, candidate{id, occs})
	}
	for _, m := range mine {
		for _, o := range others {
			for _, p := range o.occs {
				if m.Overlaps(p) {
					e := Errorf(ErrBookingClash, "the occurrence of %s (%s-%s) overlaps booking %s (%s %s-%s)",
						DateOf(m.Start), m.Start.Format("15:04"), m.End.Format("15:04"),
						o.id, DateOf(p.Start), p.Start.Format("15:04"), p.End.Format("15:04"))
					e.Holder = &Holder{Booking: o.id, By: r.Bookings[o.id].By, Start: p.Start, End: p.End}
					return e
				}
			}
		}
	}
	return nil
}

// booking returns the booking id of resource, or the not-found error that
// applies.
func (r *Resource) booking(resource, id uuid.UUID) (*Booking, error) {
	if !r.Exists {
		return nil, Errorf(ErrUnknownResource, "%s", resource)
	}
	b := r.Bookings[id]
	if b == nil {
		return nil, Errorf(ErrUnknownBooking, "%s", id)
	}
	return b, nil
}

// ApproveBooking approves a pending booking.
type ApproveBooking struct {
	Resource uuid.UUID `json:"resource"`
	Booking  uuid.UUID `json:"booking"`
}

// ApproveBooking decides an approval by the establishment's staff. It
// checks clashes again: the invariant should make it needless, but an
// approval must never be what breaks it.
func (r *Resource) ApproveBooking(actor Actor, loc *time.Location, cmd ApproveBooking) ([]Event, error) {
	b, err := r.booking(cmd.Resource, cmd.Booking)
	if err != nil {
		return nil, err
	}
	if err := mayManageResource(actor, r.Establishment, false, "bookings"); err != nil {
		return nil, err
	}
	if b.State != BookingStatePending {
		return nil, Errorf(ErrBookingNotPending, "booking %s is %s", b.ID, b.State)
	}
	if err := r.checkClash(b, loc); err != nil {
		return nil, err
	}
	return []Event{BookingApproved{Booking: b.ID, Resource: r.ID}}, nil
}

// RefuseBooking refuses a pending booking, saying why.
type RefuseBooking struct {
	Resource uuid.UUID `json:"resource"`
	Booking  uuid.UUID `json:"booking"`
	Reason   string    `json:"reason" text:"reason"`
}

// RefuseBooking decides a refusal by the establishment's staff; the
// requester is owed a reason.
func (r *Resource) RefuseBooking(actor Actor, cmd RefuseBooking) ([]Event, error) {
	b, err := r.booking(cmd.Resource, cmd.Booking)
	if err != nil {
		return nil, err
	}
	if err := mayManageResource(actor, r.Establishment, false, "bookings"); err != nil {
		return nil, err
	}
	if err := requiredTextWithin("reason", cmd.Reason, maxBookingText); err != nil {
		return nil, err
	}
	if b.State != BookingStatePending {
		return nil, Errorf(ErrBookingNotPending, "booking %s is %s", b.ID, b.State)
	}
	return []Event{BookingRefused{Booking: b.ID, Resource: r.ID, Reason: cmd.Reason}}, nil
}

// CancelBooking cancels a pending or approved booking, freeing its slots.
type CancelBooking struct {
	Resource uuid.UUID `json:"resource"`
	Booking  uuid.UUID `json:"booking"`
	Reason   string    `json:"reason,omitempty" text:"reason"`
}

// CancelBooking decides a cancellation by the requester or the
// establishment's staff.
func (r *Resource) CancelBooking(actor Actor, cmd CancelBooking) ([]Event, error) {
	b, err := r.booking(cmd.Resource, cmd.Booking)
	if err != nil {
		return nil, err
	}
	if actor.Account != b.By {
		if err := mayManageResource(actor, r.Establishment, false, "other people's bookings"); err != nil {
			return nil, err
		}
	}
	if err := textWithin("reason", cmd.Reason, maxBookingText); err != nil {
		return nil, err
	}
	if !b.Active() {
		return nil, Errorf(ErrBookingNotActive, "booking %s is %s", b.ID, b.State)
	}
	return []Event{BookingCancelled{Booking: b.ID, Resource: r.ID, Reason: cmd.Reason}}, nil
}
