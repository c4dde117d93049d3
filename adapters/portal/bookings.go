package portal

import (
	"net/http"
	"slices"

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
		{method: "POST", path: "/bookings/{resource}", profiles: bookers, handle: p.requestBooking},
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
	return p.ok(w, r, v, "calendar", "title.calendar", data)
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
