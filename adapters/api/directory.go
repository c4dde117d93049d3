package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Bodies of the directory commands named partly or wholly by their path;
// they keep the OpenAPI document's schema names and hide the path's ids.
type (
	// CloseAccountRequest closes the account of the path.
	CloseAccountRequest struct {
		Account uuid.UUID `json:"-"`
		Reason  string    `json:"reason"`
	}
	// HabilitationsRequest sets the establishments the inspector of the
	// path may audit.
	HabilitationsRequest struct {
		Account        uuid.UUID `json:"-"`
		Establishments []string  `json:"establishments"`
	}
	// LinkIdentityRequest links an external identity (an identity
	// provider's name and its identifier of the person, as the portal's
	// list of unmatched identities shows them) to the account of the path.
	LinkIdentityRequest struct {
		Account  uuid.UUID `json:"-"`
		Provider string    `json:"provider"`
		Subject  string    `json:"subject"`
	}
	// pathAccount, pathLink, pathMembership, pathEntry: commands named by
	// their path alone.
	pathAccount    struct{ Account uuid.UUID }
	pathLink       struct{ Student, Relative uuid.UUID }
	pathMembership struct {
		Group, Account uuid.UUID
		Role           domain.Role
	}
	pathEntry struct{ Group, Entry uuid.UUID }
)

func (s *Server) meRoutes() []route {
	return []route{{
		method: "GET", path: "/api/v1/me", tag: "directory", status: http.StatusOK,
		summary:  "The signed-in account: profile, function, establishment, habilitations, children, groups",
		profiles: "any signed-in account",
		response: typeOf[projections.AccountEntry](),
		handle: func(w http.ResponseWriter, r *http.Request) error {
			return reply(w, http.StatusOK, web.PrincipalOf(r).Account())
		},
	}}
}

func (s *Server) directoryRoutes() []route {
	h := s.cfg.Commands
	const admin = "admin"
	const adminOrStaff = "admin; personnel of the establishment"
	return []route{
		commandRoute(s, cmd[domain.RegisterEstablishment]{
			method: "POST", path: "/api/v1/establishments", tag: "directory", status: http.StatusCreated,
			summary: "Register an establishment", profiles: admin, run: h.RegisterEstablishment,
		}),
		commandRoute(s, cmd[domain.OpenAccount]{
			method: "POST", path: "/api/v1/accounts", tag: "directory", status: http.StatusCreated,
			summary: "Open an account", profiles: admin, run: h.OpenAccount,
		}),
		commandRoute(s, cmd[domain.UpdateAccount]{
			method: "PUT", path: "/api/v1/accounts/{account}", tag: "directory", status: http.StatusOK,
			summary: "Update an account's establishment, function and display name", profiles: admin,
			fill: func(r *http.Request, c *domain.UpdateAccount) error { return web.SetPathID(r, "account", &c.Account) },
			run:  h.UpdateAccount,
		}),
		commandRoute(s, cmd[pathAccount]{
			method: "POST", path: "/api/v1/accounts/{account}/activation", tag: "directory", status: http.StatusOK, noBody: true,
			summary: "Activate an account (done by the first sign-in)", profiles: "the account itself; admin",
			fill: func(r *http.Request, c *pathAccount) error { return web.SetPathID(r, "account", &c.Account) },
			run: func(ctx context.Context, req commands.Request, c pathAccount) (commands.Result, error) {
				return h.ActivateAccount(ctx, req, domain.ActivateAccount{Account: c.Account})
			},
		}),
		commandRoute(s, cmd[CloseAccountRequest]{
			method: "POST", path: "/api/v1/accounts/{account}/closure", tag: "directory", status: http.StatusOK,
			summary: "Close an account", profiles: admin,
			fill: func(r *http.Request, c *CloseAccountRequest) error { return web.SetPathID(r, "account", &c.Account) },
			run: func(ctx context.Context, req commands.Request, c CloseAccountRequest) (commands.Result, error) {
				return h.CloseAccount(ctx, req, domain.CloseAccount{Account: c.Account, Reason: c.Reason})
			},
		}),
		commandRoute(s, cmd[LinkIdentityRequest]{
			method: "POST", path: "/api/v1/accounts/{account}/identities", tag: "directory", status: http.StatusCreated,
			summary: "Link an external identity (single sign-on) to an account, by hand", profiles: admin,
			fill: func(r *http.Request, c *LinkIdentityRequest) error { return web.SetPathID(r, "account", &c.Account) },
			run: func(ctx context.Context, req commands.Request, c LinkIdentityRequest) (commands.Result, error) {
				// One identity, one account (the directory knows the others').
				if other, err := s.cfg.Queries.AccountByIdentity(ctx, c.Provider, c.Subject); err == nil && other.ID != c.Account {
					return commands.Result{}, domain.Errorf(domain.ErrIdentityLinked, "%s is linked to another account", c.Provider)
				}
				return h.LinkIdentity(ctx, req, domain.LinkIdentity{
					Account: c.Account, Provider: c.Provider, Subject: c.Subject, How: domain.IdentityByAdministrator,
				})
			},
		}),
		commandRoute(s, cmd[HabilitationsRequest]{
			method: "PUT", path: "/api/v1/accounts/{account}/habilitations", tag: "directory", status: http.StatusOK,
			summary: "Set the establishments an inspector may audit", profiles: "global admin",
			fill: func(r *http.Request, c *HabilitationsRequest) error { return web.SetPathID(r, "account", &c.Account) },
			run: func(ctx context.Context, req commands.Request, c HabilitationsRequest) (commands.Result, error) {
				return h.HabilitateInspector(ctx, req, domain.HabilitateInspector{Account: c.Account, Establishments: c.Establishments})
			},
		}),
		commandRoute(s, cmd[domain.LinkRelative]{
			method: "POST", path: "/api/v1/students/{student}/relatives", tag: "directory", status: http.StatusCreated,
			summary: "Link a relative to a student", profiles: admin,
			fill: func(r *http.Request, c *domain.LinkRelative) error { return web.SetPathID(r, "student", &c.Student) },
			run:  h.LinkRelative,
		}),
		commandRoute(s, cmd[pathLink]{
			method: "DELETE", path: "/api/v1/students/{student}/relatives/{relative}", tag: "directory", status: http.StatusOK, noBody: true,
			summary: "Unlink a relative from a student", profiles: admin,
			fill: func(r *http.Request, c *pathLink) error {
				return firstError(web.SetPathID(r, "student", &c.Student), web.SetPathID(r, "relative", &c.Relative))
			},
			run: func(ctx context.Context, req commands.Request, c pathLink) (commands.Result, error) {
				return h.UnlinkRelative(ctx, req, domain.UnlinkRelative{Student: c.Student, Relative: c.Relative})
			},
		}),
		commandRoute(s, cmd[domain.CreateGroup]{
			method: "POST", path: "/api/v1/groups", tag: "directory", status: http.StatusCreated,
			summary: "Create a class or teaching group", profiles: adminOrStaff, run: h.CreateGroup,
		}),
		commandRoute(s, cmd[domain.JoinGroup]{
			method: "POST", path: "/api/v1/groups/{group}/members", tag: "directory", status: http.StatusCreated,
			summary: "Put an account in a group, as student, teacher or head teacher", profiles: adminOrStaff,
			fill: func(r *http.Request, c *domain.JoinGroup) error { return web.SetPathID(r, "group", &c.Group) },
			run:  h.JoinGroup,
		}),
		commandRoute(s, cmd[pathMembership]{
			method: "DELETE", path: "/api/v1/groups/{group}/members/{account}/{role}", tag: "directory", status: http.StatusOK, noBody: true,
			summary: "Remove an account from a group role", profiles: adminOrStaff,
			fill: func(r *http.Request, c *pathMembership) error {
				c.Role = domain.Role(r.PathValue("role"))
				return firstError(web.SetPathID(r, "group", &c.Group), web.SetPathID(r, "account", &c.Account))
			},
			run: func(ctx context.Context, req commands.Request, c pathMembership) (commands.Result, error) {
				return h.LeaveGroup(ctx, req, domain.LeaveGroup{Group: c.Group, Account: c.Account, Role: c.Role})
			},
		}),
		commandRoute(s, cmd[domain.ScheduleLesson]{
			method: "POST", path: "/api/v1/groups/{group}/timetable", tag: "directory", status: http.StatusCreated,
			summary: "Put a weekly lesson in a group's timetable", profiles: adminOrStaff,
			fill: func(r *http.Request, c *domain.ScheduleLesson) error { return web.SetPathID(r, "group", &c.Group) },
			run:  h.ScheduleLesson,
		}),
		commandRoute(s, cmd[pathEntry]{
			method: "DELETE", path: "/api/v1/groups/{group}/timetable/{entry}", tag: "directory", status: http.StatusOK, noBody: true,
			summary: "Remove a timetable entry", profiles: adminOrStaff,
			fill: func(r *http.Request, c *pathEntry) error {
				return firstError(web.SetPathID(r, "group", &c.Group), web.SetPathID(r, "entry", &c.Entry))
			},
			run: func(ctx context.Context, req commands.Request, c pathEntry) (commands.Result, error) {
				return h.UnscheduleLesson(ctx, req, domain.UnscheduleLesson{Group: c.Group, Entry: c.Entry})
			},
		}),

		{
			method: "GET", path: "/api/v1/establishments", tag: "directory", status: http.StatusOK,
			summary: "Every establishment (reference data), by UAI", profiles: "any signed-in account",
			response: typeOf[[]projections.EstablishmentEntry](), paged: true,
			query: listParams(web.MaxListLimit),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				q := s.dec.Query(r)
				page := listPage(q)
				if q.Err() != nil {
					return q.Err()
				}
				ests, err := s.cfg.Queries.EstablishmentsPage(r.Context(), page)
				if err != nil {
					return err
				}
				return replyPage(w, r, ests)
			},
		},
		{
			method: "GET", path: "/api/v1/establishments/{uai}", tag: "directory", status: http.StatusOK,
			summary: "An establishment and its justification reasons", profiles: "any signed-in account",
			response: typeOf[projections.EstablishmentEntry](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				uai, err := web.PathUAI(r, "uai")
				if err != nil {
					return err
				}
				est, err := s.cfg.Queries.Establishment(r.Context(), uai)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, est)
			},
		},
		{
			method: "GET", path: "/api/v1/establishments/{uai}/groups", tag: "directory", status: http.StatusOK,
			summary:  "The groups of an establishment, by name",
			profiles: "teachers, personnel and admins of the establishment; habilitated inspectors",
			response: typeOf[[]projections.GroupSummary](), paged: true,
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
				if err := web.MayListGroups(web.PrincipalOf(r), uai); err != nil {
					return err
				}
				groups, err := s.cfg.Queries.GroupsOfEstablishmentPage(r.Context(), uai, page)
				if err != nil {
					return err
				}
				return replyPage(w, r, groups)
			},
		},
		{
			method: "GET", path: "/api/v1/accounts/{account}", tag: "directory", status: http.StatusOK,
			summary:  "An account's directory entry",
			profiles: "the account itself; its relatives and teachers (of a student); personnel and admins of its establishment; habilitated inspectors",
			response: typeOf[projections.AccountEntry](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				id, err := web.PathID(r, "account")
				if err != nil {
					return err
				}
				acc, err := s.cfg.Queries.Account(r.Context(), id)
				if err != nil {
					return err
				}
				if err := web.MayReadAccount(web.PrincipalOf(r), acc); err != nil {
					return err
				}
				return reply(w, http.StatusOK, acc)
			},
		},
		{
			method: "GET", path: "/api/v1/groups/{group}", tag: "directory", status: http.StatusOK,
			summary:  "A group: members by role and timetable",
			profiles: "its members; personnel and admins of its establishment; habilitated inspectors",
			response: typeOf[projections.GroupEntry](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				g, err := web.PathGroup(r, s.cfg.Queries)
				if err != nil {
					return err
				}
				if err := web.MayReadGroup(web.PrincipalOf(r), g); err != nil {
					return err
				}
				return reply(w, http.StatusOK, g)
			},
		},
	}
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
