package http

import (
	"context"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) bookingRoutes() []route {
	h := s.cfg.Commands
	const managers = "personnel of the establishment"
	booking := func(r *http.Request, resource, booking *uuid.UUID) error {
		return firstError(setPathID(r, "resource", resource), setPathID(r, "booking", booking))
	}
	return []route{
		commandRoute(s, cmd[domain.RegisterResource]{
			method: "POST", path: "/api/v1/resources", tag: "bookings", status: http.StatusCreated,
			summary: "Register a bookable room or piece of equipment", profiles: "personnel and admins of the establishment",
			run: h.RegisterResource,
		}),
		commandRoute(s, cmd[domain.RequestBooking]{
			method: "POST", path: "/api/v1/resources/{resource}/bookings", tag: "bookings", status: http.StatusCreated,
			summary:  "Request a booking, once or weekly until a date (approved at once when the resource needs no approval)",
			profiles: "teachers and personnel of the establishment",
			fill:     func(r *http.Request, c *domain.RequestBooking) error { return setPathID(r, "resource", &c.Resource) },
			run:      h.RequestBooking,
		}),
		commandRoute(s, cmd[domain.ApproveBooking]{
			method: "POST", path: "/api/v1/resources/{resource}/bookings/{booking}/approval", tag: "bookings", status: http.StatusOK, noBody: true,
			summary: "Approve a pending booking", profiles: managers,
			fill: func(r *http.Request, c *domain.ApproveBooking) error { return booking(r, &c.Resource, &c.Booking) },
			run:  h.ApproveBooking,
		}),
		commandRoute(s, cmd[domain.RefuseBooking]{
			method: "POST", path: "/api/v1/resources/{resource}/bookings/{booking}/refusal", tag: "bookings", status: http.StatusOK,
			summary: "Refuse a pending booking, with a reason", profiles: managers,
			fill: func(r *http.Request, c *domain.RefuseBooking) error { return booking(r, &c.Resource, &c.Booking) },
			run:  h.RefuseBooking,
		}),
		commandRoute(s, cmd[domain.CancelBooking]{
			method: "POST", path: "/api/v1/resources/{resource}/bookings/{booking}/cancellation", tag: "bookings", status: http.StatusOK,
			summary: "Cancel a booking", profiles: "its requester; " + managers,
			fill: func(r *http.Request, c *domain.CancelBooking) error { return booking(r, &c.Resource, &c.Booking) },
			run:  h.CancelBooking,
		}),
		{
			method: "GET", path: "/api/v1/establishments/{uai}/resources", tag: "bookings", status: http.StatusOK,
			summary:  "The bookable resources of an establishment",
			profiles: "teachers, personnel and admins of the establishment; habilitated inspectors",
			response: typeOf[[]projections.ResourceEntry](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				uai, err := pathUAI(r, "uai")
				if err != nil {
					return err
				}
				if err := mayReadResources(principalOf(r), uai); err != nil {
					return err
				}
				res, err := s.cfg.Queries.Resources(r.Context(), uai)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, res)
			},
		},
		{
			method: "GET", path: "/api/v1/resources/{resource}/bookings", tag: "bookings", status: http.StatusOK,
			summary:  "A resource's calendar: the pending and approved occurrences that overlap a period",
			profiles: "teachers, personnel and admins of the establishment; habilitated inspectors",
			response: typeOf[[]projections.BookingOccurrence](),
			query: []param{
				{name: "from", format: "instant", doc: "period start, RFC 3339 or a date (default: no bound)"},
				{name: "to", format: "instant", doc: "period end, exclusive, RFC 3339 or a date (its midnight; default: no bound)"},
			},
			handle: s.getCalendar,
		},
		{
			method: "GET", path: "/api/v1/resources/{resource}/bookings/{booking}", tag: "bookings", status: http.StatusOK,
			summary:  "A booking, whatever its state, with its occurrences",
			profiles: "its requester; whoever reads the resource's calendar",
			response: typeOf[projections.BookingEntry](),
			handle:   s.getBooking,
		},
	}
}

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request) error {
	q := s.query(r)
	from, to := q.instant("from", false), q.instant("to", false)
	if q.err != nil {
		return q.err
	}
	id, err := pathID(r, "resource")
	if err != nil {
		return err
	}
	p := principalOf(r)
	if err := mayBook(p); err != nil {
		return err
	}
	uai, err := s.resourceEstablishment(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := mayReadResources(p, uai); err != nil {
		return err
	}
	occ, err := s.cfg.Queries.Bookings(r.Context(), id, from, to)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, occ)
}

func (s *Server) getBooking(w http.ResponseWriter, r *http.Request) error {
	resource, err := pathID(r, "resource")
	if err != nil {
		return err
	}
	id, err := pathID(r, "booking")
	if err != nil {
		return err
	}
	p := principalOf(r)
	if err := mayBook(p); err != nil {
		return err
	}
	bk, err := s.cfg.Queries.Booking(r.Context(), id)
	if err != nil {
		return err
	}
	if bk.Resource != resource {
		return domain.Errorf(domain.ErrUnknownBooking, "%s on resource %s", id, resource)
	}
	if bk.By != p.actor.Account {
		uai, err := s.resourceEstablishment(r.Context(), p, resource)
		if err != nil {
			return err
		}
		if err := mayReadResources(p, uai); err != nil {
			return err
		}
	}
	return reply(w, http.StatusOK, bk)
}

// resourceEstablishment finds the establishment of a resource among those
// the reader deals with: their own, those they are habilitated for, every
// one for a global administrator. The read models index resources by
// establishment only; a resource found in none of them is unknown to the
// reader (404).
func (s *Server) resourceEstablishment(ctx context.Context, p *principal, resource uuid.UUID) (string, error) {
	var uais []string
	if p.actor.Establishment != "" {
		uais = append(uais, p.actor.Establishment)
	}
	uais = append(uais, p.actor.Habilitations...)
	if p.actor.Profile == domain.ProfileAdmin && p.actor.IsAdmin("") {
		ests, err := s.cfg.Queries.Establishments(ctx)
		if err != nil {
			return "", err
		}
		for _, e := range ests {
			uais = append(uais, e.UAI)
		}
	}
	slices.Sort(uais)
	for _, uai := range slices.Compact(uais) {
		res, err := s.cfg.Queries.Resources(ctx, uai)
		if err != nil {
			return "", err
		}
		if slices.ContainsFunc(res, func(e projections.ResourceEntry) bool { return e.Resource == resource }) {
			return uai, nil
		}
	}
	return "", domain.Errorf(domain.ErrUnknownResource, "%s", resource)
}
