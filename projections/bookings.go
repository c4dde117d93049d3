package projections

// bookings.v1: the calendar of each bookable room or piece of equipment,
// and the resources of each establishment.
//
// A weekly booking is expanded into its occurrences when it is requested,
// by domain.WeeklyOccurrences in the establishments' time zone
// (Europe/Paris, as the booking commands do), so that a 10:00 booking stays
// at 10:00 when the clocks change. Pending and approved bookings hold their
// occurrences in the calendar; a refused or cancelled one leaves the
// calendar but keeps its document, with its state and reason.
//
// Collections (key -> document):
//
//	resources  "UAI|resource id" -> ResourceEntry (an establishment's
//	           resources: one range scan)
//	bookings   booking id -> BookingEntry: requester, purpose, state
//	           (pending, approved, refused, cancelled), reason, and its
//	           occurrences
//	calendar   "resource id|occurrence start|booking id" ->
//	           BookingOccurrence, for pending and approved bookings only
//
// Occurrence starts are UTC instants at fixed width
// ("2006-03-14T09:00:00Z"), so that key order is time order and a period of
// a resource's calendar is one range scan. Times in documents are UTC.

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionBookings is the persisted name of the bookings read model.
const ProjectionBookings = "bookings.v1"

// Collections of bookings.v1.
const (
	bkResources = "resources"
	bkBookings  = "bookings"
	bkCalendar  = "calendar"
)

// bookingsCollections lists the collections of bookings.v1.
var bookingsCollections = []string{bkBookings, bkCalendar, bkResources}

// bkInstant is the layout of instants in calendar keys.
const bkInstant = "2006-01-02T15:04:05Z"

// ResourceEntry is a bookable resource of an establishment.
type ResourceEntry struct {
	Resource         uuid.UUID           `json:"resource"`
	Establishment    string              `json:"establishment"`
	Kind             domain.ResourceKind `json:"kind"`
	Name             string              `json:"name"`
	ApprovalRequired bool                `json:"approval_required"`
}

// BookingInterval is one occurrence [Start, End) of a booking.
type BookingInterval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// BookingEntry is a booking and where it stands.
type BookingEntry struct {
	Booking     uuid.UUID           `json:"booking"`
	Resource    uuid.UUID           `json:"resource"`
	By          uuid.UUID           `json:"by"`
	Start       time.Time           `json:"start"`
	End         time.Time           `json:"end"`
	RepeatUntil domain.Date         `json:"repeat_until,omitzero"`
	Purpose     string              `json:"purpose,omitempty"`
	State       domain.BookingState `json:"state"`
	// Reason is why it was refused or cancelled.
	Reason      string    `json:"reason,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
	// DecidedAt and DecidedBy tell when and by whom its state last changed
	// (approval, refusal or cancellation).
	DecidedAt time.Time `json:"decided_at,omitzero"`
	DecidedBy uuid.UUID `json:"decided_by,omitzero"`
	// Occurrences in time order.
	Occurrences []BookingInterval `json:"occurrences"`
}

// BookingOccurrence is one occurrence of a pending or approved booking in
// its resource's calendar.
type BookingOccurrence struct {
	Booking  uuid.UUID           `json:"booking"`
	Resource uuid.UUID           `json:"resource"`
	Start    time.Time           `json:"start"`
	End      time.Time           `json:"end"`
	State    domain.BookingState `json:"state"`
	By       uuid.UUID           `json:"by"`
	Purpose  string              `json:"purpose,omitempty"`
}

type bookings struct {
	loc *time.Location
}

// NewBookings returns the reducer of bookings.v1.
func NewBookings() Reducer { return bookings{loc: domain.Paris()} }

func (bookings) Name() string { return ProjectionBookings }

// Collections lists the collections the reducer writes.
func (bookings) Collections() []string { return slices.Clone(bookingsCollections) }

// Prefetch names the booking an event requests or decides.
func (bookings) Prefetch(_ context.Context, _ *Batch, _ domain.Record, e domain.Event, want func(coll, key string)) {
	switch e := e.(type) {
	case domain.BookingRequested:
		want(bkBookings, e.Booking.String())
	case domain.BookingApproved:
		want(bkBookings, e.Booking.String())
	case domain.BookingRefused:
		want(bkBookings, e.Booking.String())
	case domain.BookingCancelled:
		want(bkBookings, e.Booking.String())
	}
}

func (r bookings) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.ResourceRegistered:
		b.Put(bkResources, e.Establishment+"|"+e.Resource.String(), &ResourceEntry{
			Resource: e.Resource, Establishment: e.Establishment, Kind: e.Kind, Name: e.Name,
			ApprovalRequired: e.ApprovalRequired,
		})
	case domain.BookingRequested:
		return r.request(ctx, b, rec, e)
	case domain.BookingApproved:
		return bkDecide(ctx, b, rec, e.Booking, domain.BookingStateApproved, "")
	case domain.BookingRefused:
		return bkDecide(ctx, b, rec, e.Booking, domain.BookingStateRefused, e.Reason)
	case domain.BookingCancelled:
		return bkDecide(ctx, b, rec, e.Booking, domain.BookingStateCancelled, e.Reason)
	}
	return nil
}

func (r bookings) request(ctx context.Context, b *Batch, rec domain.Record, e domain.BookingRequested) error {
	if _, exists, err := Get[BookingEntry](ctx, b, bkBookings, e.Booking.String()); err != nil || exists {
		return err
	}
	bk := &BookingEntry{
		Booking: e.Booking, Resource: e.Resource, By: e.By, Start: e.Start.UTC(), End: e.End.UTC(),
		RepeatUntil: e.RepeatUntil, Purpose: e.Purpose, State: domain.BookingStatePending,
		RequestedAt: rec.Metadata.Time.UTC(),
	}
	for _, o := range domain.WeeklyOccurrences(e.Start, e.End, e.RepeatUntil, r.loc) {
		bk.Occurrences = append(bk.Occurrences, BookingInterval{Start: o.Start.UTC(), End: o.End.UTC()})
	}
	b.Put(bkBookings, e.Booking.String(), bk)
	bkPutCalendar(b, bk)
	return nil
}

// bkDecide moves a booking to state: approved occurrences stay in the
// calendar, refused and cancelled ones leave it. A booking already refused
// or cancelled does not change.
func bkDecide(ctx context.Context, b *Batch, rec domain.Record, booking uuid.UUID, state domain.BookingState, reason string) error {
	bk, ok, err := Get[BookingEntry](ctx, b, bkBookings, booking.String())
	if err != nil || !ok {
		return err
	}
	if bk.State == domain.BookingStateRefused || bk.State == domain.BookingStateCancelled {
		return nil
	}
	bk.State, bk.Reason = state, reason
	bk.DecidedAt, bk.DecidedBy = rec.Metadata.Time.UTC(), rec.Metadata.Actor
	b.Put(bkBookings, booking.String(), bk)
	if state == domain.BookingStateApproved {
		bkPutCalendar(b, bk)
		return nil
	}
	for _, o := range bk.Occurrences {
		b.Delete(bkCalendar, bkCalendarKey(bk.Resource, o.Start, bk.Booking))
	}
	return nil
}

// bkPutCalendar writes a booking's occurrences in its resource's calendar.
func bkPutCalendar(b *Batch, bk *BookingEntry) {
	for _, o := range bk.Occurrences {
		b.Put(bkCalendar, bkCalendarKey(bk.Resource, o.Start, bk.Booking), &BookingOccurrence{
			Booking: bk.Booking, Resource: bk.Resource, Start: o.Start, End: o.End,
			State: bk.State, By: bk.By, Purpose: bk.Purpose,
		})
	}
}

func bkCalendarKey(resource uuid.UUID, start time.Time, booking uuid.UUID) string {
	return resource.String() + "|" + start.UTC().Format(bkInstant) + "|" + booking.String()
}

// Queries of bookings.v1.

// Resources returns an establishment's resources, sorted by name.
func (q *Queries) Resources(ctx context.Context, uai string) ([]ResourceEntry, error) {
	l, err := q.ResourcesPage(ctx, uai, Page{})
	return l.Items, err
}

// ResourcesPage returns a page of an establishment's resources, sorted by
// name (and id).
func (q *Queries) ResourcesPage(ctx context.Context, uai string, p Page) (List[ResourceEntry], error) {
	r, err := q.reader(ctx, ProjectionBookings)
	if err != nil {
		return List[ResourceEntry]{}, err
	}
	page, err := newSorted[ResourceEntry](p)
	if err != nil {
		return List[ResourceEntry]{}, err
	}
	prefix := uai + "|"
	err = ScanJSON(ctx, r, bkResources, prefix, PrefixEnd(prefix), func(_ string, e ResourceEntry) error {
		page.add(e.Name+"\x00"+e.Resource.String(), e)
		return nil
	})
	return page.list(), err
}

// Bookings returns a page of the occurrences of pending and approved
// bookings of a resource that overlap [from, to), by start and booking id.
// A zero from or to is no bound.
func (q *Queries) Bookings(ctx context.Context, resource uuid.UUID, from, to time.Time, p Page) (List[BookingOccurrence], error) {
	r, err := q.reader(ctx, ProjectionBookings)
	if err != nil {
		return List[BookingOccurrence]{}, err
	}
	prefix := resource.String() + "|"
	lo, hi := prefix, PrefixEnd(prefix)
	if !from.IsZero() {
		// An occurrence lasts at most MaxBookingLength: one that starts
		// earlier cannot reach from.
		lo = prefix + from.Add(-domain.MaxBookingLength).UTC().Format(bkInstant)
	}
	if !to.IsZero() {
		// Keys hold whole seconds: a second more keeps a start just before to.
		hi = instantEnd(prefix, to.Add(time.Second).UTC(), bkInstant)
	}
	return scanPage(ctx, r, bkCalendar, prefix, lo, hi, p, func(o BookingOccurrence) bool {
		return (from.IsZero() || o.End.After(from)) && (to.IsZero() || o.Start.Before(to))
	})
}

// Booking returns a booking, whatever its state (domain.ErrUnknownBooking
// if there is none).
func (q *Queries) Booking(ctx context.Context, booking uuid.UUID) (*BookingEntry, error) {
	r, err := q.reader(ctx, ProjectionBookings)
	if err != nil {
		return nil, err
	}
	bk := new(BookingEntry)
	ok, err := GetJSON(ctx, r, bkBookings, booking.String(), bk)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.Errorf(domain.ErrUnknownBooking, "%s", booking)
	}
	return bk, nil
}
