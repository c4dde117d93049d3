package api

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) bookingRoutes() []route {
	h := s.cfg.Commands
	const managers = "personnel of the establishment"
	booking := func(r *http.Request, resource, booking *uuid.UUID) error {
		return firstError(web.SetPathID(r, "resource", resource), web.SetPathID(r, "booking", booking))
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
			fill: func(r *http.Request, c *domain.RequestBooking) error {
				return web.SetPathID(r, "resource", &c.Resource)
			},
			run: h.RequestBooking,
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
			response: typeOf[[]projections.ResourceEntry](), paged: true,
			query: listParams(web.MaxListLimit),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				q := s.dec.Query(r)
				page := listPage(q)
				if q.Err() != nil {
					return q.Err()
				}
				uai, err := web.PathUAI(r, "uai")
				if err != nil {
					return err
				}
				if err := web.MayReadResources(web.PrincipalOf(r), uai); err != nil {
					return err
				}
				res, err := s.cfg.Queries.ResourcesPage(r.Context(), uai, page)
				if err != nil {
					return err
				}
				return replyPage(w, r, res)
			},
		},
		{
			method: "GET", path: "/api/v1/resources/{resource}/bookings", tag: "bookings", status: http.StatusOK,
			summary:  "A resource's calendar: the pending and approved occurrences that overlap a period",
			profiles: "teachers, personnel and admins of the establishment; habilitated inspectors",
			response: typeOf[[]projections.BookingOccurrence](), paged: true,
			query: append([]param{
				{name: "from", format: "instant", doc: "period start, RFC 3339 or a date (default: no bound)"},
				{name: "to", format: "instant", doc: "period end, exclusive, RFC 3339 or a date (its midnight; default: no bound)"},
			}, listParams(web.MaxListLimit)...),
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
	q := s.dec.Query(r)
	from, to := q.Instant("from", false), q.Instant("to", false)
	page := listPage(q)
	if q.Err() != nil {
		return q.Err()
	}
	id, err := web.PathID(r, "resource")
	if err != nil {
		return err
	}
	p := web.PrincipalOf(r)
	if err := web.MayBook(p); err != nil {
		return err
	}
	uai, err := web.ResourceEstablishment(r.Context(), s.cfg.Queries, p, id)
	if err != nil {
		return err
	}
	if err := web.MayReadResources(p, uai); err != nil {
		return err
	}
	occ, err := s.cfg.Queries.Bookings(r.Context(), id, from, to, page)
	if err != nil {
		return err
	}
	return replyPage(w, r, occ)
}

func (s *Server) getBooking(w http.ResponseWriter, r *http.Request) error {
	resource, err := web.PathID(r, "resource")
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "booking")
	if err != nil {
		return err
	}
	p := web.PrincipalOf(r)
	if err := web.MayBook(p); err != nil {
		return err
	}
	bk, err := s.cfg.Queries.Booking(r.Context(), id)
	if err != nil {
		return err
	}
	if bk.Resource != resource {
		return domain.Errorf(domain.ErrUnknownBooking, "%s on resource %s", id, resource)
	}
	if bk.By != p.Actor().Account {
		uai, err := web.ResourceEstablishment(r.Context(), s.cfg.Queries, p, resource)
		if err != nil {
			return err
		}
		if err := web.MayReadResources(p, uai); err != nil {
			return err
		}
	}
	return reply(w, http.StatusOK, bk)
}
