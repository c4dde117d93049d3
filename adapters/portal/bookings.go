package portal

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) bookingPages() []page {
	bookers := []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel}
	return []page{
		{method: "GET", path: "/bookings", profiles: bookers, handle: p.resourcesPage},
		{method: "GET", path: "/bookings/{resource}", profiles: bookers, handle: p.calendarPage},
		{method: "POST", path: "/bookings/{resource}", profiles: bookers, handle: p.onForm(bookingForm, p.showCalendar, p.requestBooking)},
	}
}

// resourcesPage lists the establishment's rooms and equipment.
func (p *Portal) resourcesPage(w http.ResponseWriter, r *http.Request, v *view) error {
	uai := v.Me.Establishment
	if err := web.MayReadResources(v.principal, uai); err != nil {
		return err
	}
	res, err := p.cfg.Queries.Resources(r.Context(), uai)
	if err != nil {
		return err
	}
	return p.ok(w, r, v, "resources", "title.bookings", res)
}

// calendarDay is a day of a resource's week.
type calendarDay struct {
	Date        domain.Date
	Occurrences []projections.BookingOccurrence
}

// calendarData is a resource's week and the booking form.
type calendarData struct {
	Resource   projections.ResourceEntry
	Week       domain.Date
	Prev, Next domain.Date
	Days       []calendarDay
	Names      map[uuid.UUID]string
	Today      domain.Date
	// Slots are the lesson hours of the establishment's timetables (or
	// usual ones when it has none), offered for the start and the end;
	// Date, Start and End fill a fresh form: the next lesson's slot.
	Slots      []domain.Slot
	Date       domain.Date
	Start, End string
}

// bookingForm is the calendar page's form.
var bookingForm = formSpec{
	name: "booking", fields: []string{"date", "start", "end", "purpose", "repeat_until"},
	// A time outside the calendar is its day's.
	aliases: map[string]string{"start": "date", "end": "date"},
}

// usualSlots are the lesson hours of a collège, for an establishment
// whose timetables are not known.
var usualSlots = []domain.Slot{
	{Start: "08:00", End: "08:55"}, {Start: "09:00", End: "09:55"}, {Start: "10:10", End: "11:05"}, {Start: "11:10", End: "12:05"},
	{Start: "13:30", End: "14:25"}, {Start: "14:30", End: "15:25"}, {Start: "15:40", End: "16:35"}, {Start: "16:40", End: "17:35"},
}

// lessonSlots returns the lesson hours of the timetables the reader may
// read (their own groups; every group of the establishment for its
// personnel), sorted, or usualSlots when there are none.
func (p *Portal) lessonSlots(r *http.Request, v *view) ([]domain.Slot, error) {
	var ids []uuid.UUID
	for _, m := range v.Me.Groups {
		ids = append(ids, m.Group)
	}
	if web.MayListGroups(v.principal, v.Me.Establishment) == nil {
		groups, err := p.cfg.Queries.GroupsOfEstablishment(r.Context(), v.Me.Establishment)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			ids = append(ids, g.ID)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	var slots []domain.Slot
	for _, id := range slices.Compact(ids) {
		g, err := p.cfg.Queries.Group(r.Context(), id)
		if err != nil {
			return nil, err
		}
		if web.MayReadGroup(v.principal, g) != nil {
			continue
		}
		for _, e := range g.Timetable {
			slots = append(slots, e.Slot)
		}
	}
	if len(slots) == 0 {
		return usualSlots, nil
	}
	slices.SortFunc(slots, func(a, b domain.Slot) int { return strings.Compare(a.Start+a.End, b.Start+b.End) })
	return slices.Compact(slots), nil
}

// nextSlot is the first slot that starts after now, today, else the
// first one on the next school day (Monday to Saturday).
func nextSlot(slots []domain.Slot, now time.Time) (domain.Date, domain.Slot) {
	day, clock := domain.DateOf(now), now.Format("15:04")
	for _, s := range slots {
		if s.Start > clock && day.Weekday() != time.Sunday {
			return day, s
		}
	}
	day = day.AddDays(1)
	if day.Weekday() == time.Sunday {
		day = day.AddDays(1)
	}
	return day, slots[0]
}

// resource returns the resource of the path, among the reader's
// establishment's.
func (p *Portal) resource(r *http.Request, v *view) (projections.ResourceEntry, error) {
	id, err := web.PathID(r, "resource")
	if err != nil {
		return projections.ResourceEntry{}, err
	}
	uai := v.Me.Establishment
	if err := web.MayReadResources(v.principal, uai); err != nil {
		return projections.ResourceEntry{}, err
	}
	all, err := p.cfg.Queries.Resources(r.Context(), uai)
	if err != nil {
		return projections.ResourceEntry{}, err
	}
	i := slices.IndexFunc(all, func(e projections.ResourceEntry) bool { return e.Resource == id })
	if i < 0 {
		return projections.ResourceEntry{}, domain.Errorf(domain.ErrUnknownResource, "%s", id)
	}
	return all[i], nil
}

// calendarPage shows a resource's week (Monday to Saturday) with its
// pending and approved bookings, and the form to book it.
func (p *Portal) calendarPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showCalendar(w, r, v, http.StatusOK)
}

// showCalendar renders a resource's week and its form with status (a
// refused form's, whose week is that of the date typed).
func (p *Portal) showCalendar(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	res, err := p.resource(r, v)
	if err != nil {
		return err
	}
	q := p.dec.Query(r)
	week := q.Date("week")
	if q.Err() != nil {
		return q.Err()
	}
	t := today(p.now(), p.cfg.Location)
	if d, err := domain.ParseDate(v.Typed(bookingForm.name, "date", nil)); err == nil {
		week = d
	}
	if week.IsZero() {
		week = t
	}
	week = week.AddDays(-((int(week.Weekday()) + 6) % 7)) // its Monday
	loc := p.cfg.Location
	// A week of one resource: as many occurrences as fit without a clash.
	week7, err := p.cfg.Queries.Bookings(r.Context(), res.Resource, week.In(loc), week.AddDays(7).In(loc), projections.Page{Limit: web.MaxListLimit})
	if err != nil {
		return err
	}
	occ := week7.Items
	data := calendarData{Resource: res, Week: week, Prev: week.AddDays(-7), Next: week.AddDays(7), Names: map[uuid.UUID]string{}, Today: t}
	if data.Slots, err = p.lessonSlots(r, v); err != nil {
		return err
	}
	var next domain.Slot
	data.Date, next = nextSlot(data.Slots, p.now().In(loc))
	data.Start, data.End = next.Start, next.End
	n := p.names()
	for i := range 6 {
		day := calendarDay{Date: week.AddDays(i)}
		for _, o := range occ {
			if domain.DateOf(o.Start.In(loc)) == day.Date {
				day.Occurrences = append(day.Occurrences, o)
				data.Names[o.By] = n.of(r, o.By)
			}
		}
		data.Days = append(data.Days, day)
	}
	p.render(w, r, status, v, "calendar", "title.calendar", data)
	return nil
}

// requestBooking books the resource once, or weekly until a date.
func (p *Portal) requestBooking(w http.ResponseWriter, r *http.Request, v *view) error {
	res, err := p.resource(r, v)
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	d := f.Date("date")
	cmd := domain.RequestBooking{
		Resource: res.Resource, Start: f.Clock("start", d, p.cfg.Location), End: f.Clock("end", d, p.cfg.Location),
		RepeatUntil: f.OptDate("repeat_until"), Purpose: f.Str("purpose"),
	}
	if f.Err() != nil {
		return f.Err()
	}
	switch {
	case !cmd.End.After(cmd.Start):
		return atField(domain.Errorf(domain.ErrInvalid, "the booking ends before it starts"), "end", v.T("form.booking_end"))
	case cmd.End.Sub(cmd.Start) > domain.MaxBookingLength:
		return atField(domain.Errorf(domain.ErrInvalid, "the booking is too long"), "end", v.T("form.booking_long", int(domain.MaxBookingLength.Hours())))
	case !cmd.RepeatUntil.IsZero() && cmd.RepeatUntil.Before(d):
		return atField(domain.Errorf(domain.ErrInvalid, "repeated until before its day"), "repeat_until", v.T("form.booking_until"))
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	result, err := p.cfg.Commands.RequestBooking(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/bookings/"+res.Resource.String()+"?week="+d.String(), "booked", result)
}
