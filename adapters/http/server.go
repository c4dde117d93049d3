// Package http is the ledger's JSON API: every command of the domain and
// every query of the read models under /api/v1, sign-in and sessions,
// errors as application/problem+json, and the OpenAPI document generated
// from the same route table that registers the routes; and the portal, the
// pages of every profile at / (portal*.go, templates/, static/).
//
// It is named after what it wraps (benbjohnson/wtf's http package): inside
// it, the identifier http is net/http.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// DefaultMaxBodyBytes bounds request bodies unless Config says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Config configures the API server.
type Config struct {
	Commands *commands.Handlers
	Queries  *projections.Queries
	Auth     Auth
	// AuthErrors are the sentinels Auth's errors are matched against with
	// errors.Is (adapters/auth's ErrBadCredentials, ErrRateLimited,
	// ErrUnauthenticated).
	AuthErrors AuthErrors
	// Live, when set, is mounted at GET /api/v1/live behind authentication;
	// it finds the signed-in actor with ActorFromContext and the session
	// with SessionFromContext.
	Live http.Handler
	// SessionEnded, when set, is told of each sign-out with the session's
	// id (SessionFromContext), so that the live sockets opened with it
	// close on every node.
	SessionEnded func(ctx context.Context, session string) error
	Logger       *slog.Logger
	// SecureCookies marks the session cookie Secure (behind TLS).
	SecureCookies bool
	// MaxBodyBytes bounds request bodies (default 1 MiB); larger ones get
	// 413.
	MaxBodyBytes int64
	// Now is the clock of "today" in views and of cookie lifetimes
	// (time.Now by default).
	Now func() time.Time
	// Location is the establishments' time zone, for dates in query
	// parameters (Europe/Paris by default).
	Location *time.Location

	// Importer, when set, runs the directory imports administrators upload
	// (POST /api/v1/imports, the portal's import page).
	Importer Importer
	// ImportReports keeps the imports' reports (namespace imports@1): the
	// read-model store, so that they outlive the process and every node
	// reads them. In memory when unset.
	ImportReports projections.DocStore
	// MaxImportBytes bounds an uploaded feed (default 256 MiB); larger ones
	// get 413. Files are streamed to temporary files.
	MaxImportBytes int64
	// ImportDefaults are the settings of an uploaded import the upload does
	// not give (grace period, rejected share): directoryimport's defaults
	// when unset.
	ImportDefaults *directoryimport.Options
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	switch {
	case c.Commands == nil:
		return errors.New("http: Commands is required")
	case c.Queries == nil:
		return errors.New("http: Queries is required")
	case c.Auth == nil:
		return errors.New("http: Auth is required")
	}
	if err := c.AuthErrors.validate(); err != nil {
		return err
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("http: MaxBodyBytes %d is negative", c.MaxBodyBytes)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = domain.Paris()
	}
	if c.MaxImportBytes == 0 {
		c.MaxImportBytes = DefaultMaxImportBytes
	}
	if c.MaxImportBytes < 0 {
		return fmt.Errorf("http: MaxImportBytes %d is negative", c.MaxImportBytes)
	}
	if c.ImportReports == nil {
		c.ImportReports = projections.NewMemoryDocs()
	}
	if c.ImportDefaults == nil {
		d := directoryimport.DefaultOptions()
		c.ImportDefaults = &d
	}
	if err := c.ImportDefaults.Validate(); err != nil {
		return fmt.Errorf("http: ImportDefaults: %w", err)
	}
	return nil
}

// Server serves the API.
type Server struct {
	cfg  Config
	log  *slog.Logger
	mux  *http.ServeMux
	csrf *http.CrossOriginProtection
	// routes is the route table: what is registered is what the OpenAPI
	// document describes.
	routes []route
	// patterns lists the patterns registered on mux, in order.
	patterns []string
	// openapi is the document, rendered on first use.
	openapi struct {
		once sync.Once
		doc  []byte
		err  error
	}
	portal  *portal
	handler http.Handler
}

// NewServer returns a server with every route registered.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.register(rt)
	}
	p, err := newPortal(s)
	if err != nil {
		return nil, err
	}
	s.portal = p
	root := http.NewServeMux()
	root.Handle("/api/", s.recoverer(s.headers(s.fallback(s.mux))))
	root.Handle("/", p.handler)
	s.handler = root
	return s, nil
}

// Handler returns the API under /api/ and the portal at /.
func (s *Server) Handler() http.Handler { return s.handler }

// routeTable lists every route, grouped as the files that handle them.
func (s *Server) routeTable() []route {
	var rts []route
	for _, group := range [][]route{
		s.sessionRoutes(),
		s.meRoutes(),
		s.directoryRoutes(),
		s.lessonRoutes(),
		s.disciplineRoutes(),
		s.homeworkRoutes(),
		s.messageRoutes(),
		s.bookingRoutes(),
		s.newsRoutes(),
		s.fileRoutes(),
		s.officeRoutes(),
		s.importRoutes(),
		s.auditRoutes(),
		s.indicatorRoutes(),
		s.liveRoutes(),
		s.openAPIRoutes(),
	} {
		rts = append(rts, group...)
	}
	return rts
}

// register puts a route on the mux behind its middleware: cross-origin
// protection, then authentication unless the route is public.
func (s *Server) register(rt route) {
	pattern := rt.method + " " + rt.path
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.csrf.Check(r); err != nil {
			s.fail(w, r, errCrossOrigin)
			return
		}
		if !rt.public {
			p, err := s.authenticate(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			r = r.WithContext(withPrincipal(r.Context(), p))
		}
		if err := rt.handle(w, r); err != nil {
			s.fail(w, r, err)
		}
	}))
}

// headers sets the headers every API response carries.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a 500 problem, logged. http.ErrAbortHandler
// (a stream cut short on purpose) goes through.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.fail(w, r, fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// fallback answers requests no route matches (404) or whose method no
// route of the path takes (405) with a problem instead of the mux's plain
// text.
func (s *Server) fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own answer tells 404 from 405 (with its Allow header).
		rec := &statusRecorder{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			s.fail(w, r, errMethodNotAllowed.with("%s does not take %s", r.URL.Path, r.Method))
			return
		}
		s.fail(w, r, errNoRoute.with("%s %s", r.Method, r.URL.Path))
	})
}

// statusRecorder keeps the status and headers a handler writes, and drops
// its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

// liveRoutes mounts the websocket endpoint when there is one.
func (s *Server) liveRoutes() []route {
	if s.cfg.Live == nil {
		return nil
	}
	return []route{{
		method: "GET", path: "/api/v1/live", tag: "live", status: http.StatusSwitchingProtocols,
		summary:  "Live events: a websocket that receives each new event the signed-in account may see",
		profiles: "any signed-in account",
		query:    []param{{name: "after", format: "position", doc: "deliver the events after this global position first"}},
		handle: func(w http.ResponseWriter, r *http.Request) error {
			s.cfg.Live.ServeHTTP(w, r)
			return nil
		},
	}}
}

// now is the server's clock.
func (s *Server) now() time.Time { return s.cfg.Now() }
