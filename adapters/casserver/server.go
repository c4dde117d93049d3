package casserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Sessions are the portal's sessions (web.Sessions).
type Sessions interface {
	Authenticate(r *http.Request) (*web.Principal, error)
	SignOut(r *http.Request, token string) error
	ClearCookie() *http.Cookie
	SecureCookies() bool
}

// Directory reads the registered services and the accounts
// (projections.Queries).
type Directory interface {
	ServicesFor(ctx context.Context, kind domain.ServiceKind, u string) ([]projections.ServiceEntry, error)
	Service(ctx context.Context, id uuid.UUID) (*projections.ServiceEntry, error)
	Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
}

// Logins gives the login of an account (adapters/auth).
type Logins interface {
	LoginOf(ctx context.Context, account uuid.UUID) (string, bool, error)
}

// Accesses records an access to a service (commands.Handlers).
type Accesses interface {
	RecordServiceAccess(ctx context.Context, req commands.Request, cmd domain.RecordServiceAccess) (commands.Result, error)
}

// Ticket lifetimes.
const (
	// DefaultTicketLifetime is how long a service ticket may wait for its
	// validation: the browser's redirect and the service's call back,
	// with room for a slow network.
	DefaultTicketLifetime = 30 * time.Second
	MinTicketLifetime     = 10 * time.Second
	MaxTicketLifetime     = 5 * time.Minute
	// DefaultLogoutTimeout bounds each single-logout request.
	DefaultLogoutTimeout = 5 * time.Second
)

// Config configures the server.
type Config struct {
	Sessions  Sessions
	Directory Directory
	Accesses  Accesses
	Tickets   *Tickets
	// Logins, when set, gives the ENTPersonLogin attribute.
	Logins Logins
	// TicketLifetime is how long a ticket is valid (DefaultTicketLifetime
	// when 0; from MinTicketLifetime to MaxTicketLifetime).
	TicketLifetime time.Duration
	// SessionLifetime bounds how long the services a session reached are
	// kept for single logout when the session's end is unknown (12 hours
	// by default).
	SessionLifetime time.Duration
	// Client posts the single-logout requests (a client with
	// LogoutTimeout by default).
	Client        *http.Client
	LogoutTimeout time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	switch {
	case c.Sessions == nil:
		return errors.New("casserver: Sessions is required")
	case c.Directory == nil:
		return errors.New("casserver: Directory is required")
	case c.Accesses == nil:
		return errors.New("casserver: Accesses is required")
	case c.Tickets == nil:
		return errors.New("casserver: Tickets is required")
	}
	if c.TicketLifetime == 0 {
		c.TicketLifetime = DefaultTicketLifetime
	}
	if c.TicketLifetime < MinTicketLifetime || c.TicketLifetime > MaxTicketLifetime {
		return fmt.Errorf("casserver: ticket lifetime %s is not between %s and %s", c.TicketLifetime, MinTicketLifetime, MaxTicketLifetime)
	}
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = 12 * time.Hour
	}
	if c.LogoutTimeout <= 0 {
		c.LogoutTimeout = DefaultLogoutTimeout
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.LogoutTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Server is the CAS server.
type Server struct {
	cfg Config
	log *slog.Logger
	// purged is when this node last purged expired tickets.
	mu     sync.Mutex
	purged time.Time
}

// New returns the server of cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, log: cfg.Logger}, nil
}

// Routes of the CAS server.
const (
	PathLogin      = "/cas/login"
	PathLogout     = "/cas/logout"
	PathValidate2  = "/cas/serviceValidate"
	PathValidate3  = "/cas/p3/serviceValidate"
	renewCookie    = "ledger_cas_renew"
	renewCookieAge = 600
)

// Handler serves the CAS routes; mount it at /cas/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathLogin, s.login)
	mux.HandleFunc("GET "+PathLogout, s.logout)
	mux.HandleFunc("GET "+PathValidate2, func(w http.ResponseWriter, r *http.Request) { s.validate(w, r, false) })
	mux.HandleFunc("GET "+PathValidate3, func(w http.ResponseWriter, r *http.Request) { s.validate(w, r, true) })
	mux.HandleFunc("/cas/", func(w http.ResponseWriter, r *http.Request) {
		s.page(w, http.StatusNotFound, pageNotFound)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Tickets travel in URLs: no page of the ledger's sends them on
		// in a Referer, none is framed, nothing is cached.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

// principal returns the signed-in account of r, nil when there is none.
func (s *Server) principal(r *http.Request) (*web.Principal, error) {
	p, err := s.cfg.Sessions.Authenticate(r)
	if errors.Is(err, web.ErrUnauthenticated) {
		return nil, nil
	}
	return p, err
}

// service returns the registered CAS service of a service URL, nil when
// none matches.
func (s *Server) service(ctx context.Context, u string) (*projections.ServiceEntry, error) {
	found, err := s.cfg.Directory.ServicesFor(ctx, domain.ServiceCAS, u)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return &found[0], nil
}

// login is /cas/login (CAS 2.1): a signed-in person is sent back to the
// service with a ticket; the others sign in first (or, with gateway, go
// back without one). renew asks for a fresh sign-in even with a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	target := q.Get("service")
	renew, gateway := q.Get("renew") != "" && q.Get("renew") != "false", q.Get("gateway") != "" && q.Get("gateway") != "false"
	p, err := s.principal(r)
	if err != nil {
		s.fail(w, r, "authenticate", err)
		return
	}
	if target == "" {
		// No service: the ledger's own sign-in.
		if p == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	svc, err := s.service(ctx, target)
	if err != nil {
		s.fail(w, r, "find the service", err)
		return
	}
	if svc == nil {
		s.log.InfoContext(ctx, "CAS login for an unregistered service", "service", target)
		s.page(w, http.StatusForbidden, pageUnregistered)
		return
	}
	if p == nil {
		if gateway && !renew {
			// Never ask: back to the service, without a ticket.
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if renew {
			// The session met on the way back is the fresh one.
			s.setRenewCookie(w, renewNoSession)
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	ctx = web.WithPrincipal(ctx, p)
	session, expires, _ := web.SessionFromContext(ctx)
	renewed := false
	if renew {
		// A fresh sign-in: the session must be newer than the one this
		// browser had when renew was asked (the cookie names it).
		c, err := r.Cookie(renewCookie)
		if err != nil || c.Value == "" || c.Value == session {
			token, _ := web.RequestToken(r)
			if err := s.cfg.Sessions.SignOut(r.WithContext(context.WithValue(ctx, keepServices{}, true)), token); err != nil {
				s.fail(w, r, "end the session to renew", err)
				return
			}
			http.SetCookie(w, s.cfg.Sessions.ClearCookie())
			s.setRenewCookie(w, session)
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		// The services the old session reached now belong to the new one.
		if c.Value != renewNoSession {
			if err := s.cfg.Tickets.Move(ctx, c.Value, session); err != nil {
				s.log.WarnContext(ctx, "services of a renewed session not moved", "err", err)
			}
		}
		http.SetCookie(w, &http.Cookie{Name: renewCookie, Value: "", Path: "/cas/", MaxAge: -1, HttpOnly: true,
			Secure: s.cfg.Sessions.SecureCookies(), SameSite: http.SameSiteLaxMode})
		renewed = true
	}
	if expires.IsZero() {
		expires = s.cfg.Now().Add(s.cfg.SessionLifetime)
	}
	s.purge(ctx)
	ticket, err := s.cfg.Tickets.Issue(ctx, Ticket{
		Service: target, ServiceID: svc.ID, Account: p.Actor().Account, Session: session, Renewed: renewed,
		Expires: s.cfg.Now().Add(s.cfg.TicketLifetime),
	})
	if err != nil {
		s.fail(w, r, "issue a ticket", err)
		return
	}
	http.Redirect(w, r, withTicket(target, ticket), http.StatusSeeOther)
}

// renewNoSession is the renew cookie's value when renew was asked without
// a session: any session met afterwards is a fresh sign-in.
const renewNoSession = "-"

// setRenewCookie remembers, for the way back from the sign-in page, which
// session was there when renew was asked (web.SessionID, or
// renewNoSession): a session other than it is a fresh sign-in.
func (s *Server) setRenewCookie(w http.ResponseWriter, session string) {
	http.SetCookie(w, &http.Cookie{
		Name: renewCookie, Value: session, Path: "/cas/", MaxAge: renewCookieAge,
		HttpOnly: true, Secure: s.cfg.Sessions.SecureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

// keepServices marks a sign-out that keeps the services of the session for
// the renewed one (SessionEnded then sends no single logout).
type keepServices struct{}

// withTicket adds the ticket to the service URL's query.
func withTicket(service, ticket string) string {
	u, err := url.Parse(service)
	if err != nil {
		return service
	}
	q := u.Query()
	q.Set("ticket", ticket)
	u.RawQuery = q.Encode()
	return u.String()
}

// purge deletes expired tickets, at most once a minute per node.
func (s *Server) purge(ctx context.Context) {
	now := s.cfg.Now()
	s.mu.Lock()
	due := now.Sub(s.purged) >= time.Minute
	if due {
		s.purged = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	if n, err := s.cfg.Tickets.Purge(ctx, now); err != nil {
		s.log.WarnContext(ctx, "expired CAS tickets not purged", "err", err)
	} else if n > 0 {
		s.log.DebugContext(ctx, "expired CAS tickets purged", "rows", n)
	}
}

// fail shows a page for an internal failure, after logging it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), "CAS: "+what, "err", err)
	s.page(w, http.StatusInternalServerError, pageUnavailable)
}
