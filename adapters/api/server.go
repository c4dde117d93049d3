// Package api is the ledger's JSON API: every command of the domain and
// every query of the read models under /api/v1, sign-in, and the OpenAPI
// document generated from the same route table that registers the routes.
// Sessions, problems, decoding and the read policy are adapters/web's,
// shared with the portal.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/schoollife/ledger/adapters/subjectexport"
	"github.com/schoollife/ledger/adapters/web"
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
	// Sessions signs in and authenticates (shared with the portal).
	Sessions *web.Sessions
	// Live, when set, is mounted at GET /api/v1/live behind authentication;
	// it finds the signed-in actor with web.ActorFromContext.
	Live   http.Handler
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default 1 MiB); larger ones get
	// 413.
	MaxBodyBytes int64
	// Now is the clock of "today" in views (time.Now by default).
	Now func() time.Time
	// Location is the establishments' time zone, for dates in query
	// parameters (Europe/Paris by default).
	Location *time.Location

	// Imports, when set, starts the directory imports administrators upload as background
	// jobs (POST /api/v1/imports) and reads their status and report.
	Imports *web.Imports
	// Timetables, when set, runs the timetable imports administrators
	// upload (POST /api/v1/timetable-imports).
	Timetables TimetableImporter

	// Timeouts are the deadlines of requests (web's defaults when zero).
	Timeouts web.Timeouts

	// Exports, when set, writes the exports of persons' data (GET
	// /api/v1/accounts/{account}/export).
	Exports *subjectexport.Exporter
	// Erasures, when set, records the erasures of persons' data that
	// administrators ask for and runs their scrubs (POST
	// /api/v1/accounts/{account}/erasure, GET /api/v1/erasures).
	Erasures web.ErasureJobs
	// SmallCount is the smallest count of school-life acts the indicators
	// show: smaller ones (from 1) are hidden (projections.SuppressSmallCounts;
	// projections.DefaultSmallCount when 0, 1 hides nothing).
	SmallCount int
	// Trail, when set, gathers the reads of children's files by those who
	// are neither the child nor their relatives (docs/privacy.md).
	Trail *web.Trail
	// Notifications, when set, serves notification preferences, push
	// subscriptions and dead letters (docs/notifications.md).
	Notifications *web.Notifications
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	switch {
	case c.Commands == nil:
		return errors.New("api: Commands is required")
	case c.Queries == nil:
		return errors.New("api: Queries is required")
	case c.Sessions == nil:
		return errors.New("api: Sessions is required")
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("api: MaxBodyBytes %d is negative", c.MaxBodyBytes)
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
	if c.SmallCount == 0 {
		c.SmallCount = projections.DefaultSmallCount
	}
	if c.SmallCount < 0 {
		return fmt.Errorf("api: SmallCount %d is negative", c.SmallCount)
	}
	if err := c.Timeouts.Validate(); err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return nil
}

// Server serves the API.
type Server struct {
	cfg  Config
	log  *slog.Logger
	dec  web.Decoder
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
	handler http.Handler
}

// NewServer returns a server with every route registered.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection(),
		dec: web.Decoder{MaxBodyBytes: cfg.MaxBodyBytes, Location: cfg.Location},
	}
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.register(rt)
	}
	// Every API response carries these.
	headers := http.Header{"X-Content-Type-Options": {"nosniff"}, "Cache-Control": {"no-store"}}
	noRoute := func(r *http.Request) string { return r.Method + " " + r.URL.Path }
	s.handler = web.Recover(s.fail, web.Headers(headers, web.Fallback(s.fail, s.mux, noRoute)))
	return s, nil
}

// Handler returns the API, to be mounted at /api/.
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
		s.servicesRoutes(),
		s.fileRoutes(),
		s.officeRoutes(),
		s.alertRoutes(),
		s.importRoutes(),
		s.timetableImportRoutes(),
		s.auditRoutes(),
		s.privacyRoutes(),
		s.erasureRoutes(),
		s.consultationRoutes(),
		s.notificationRoutes(),
		s.indicatorRoutes(),
		s.liveRoutes(),
		s.openAPIRoutes(),
	} {
		rts = append(rts, group...)
	}
	return rts
}

// register puts a route on the mux behind its middleware: its deadline,
// cross-origin protection, then authentication unless the route is public.
func (s *Server) register(rt route) {
	pattern := rt.method + " " + rt.path
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, web.WithDeadline(s.cfg.Timeouts, rt.timeout, s.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.csrf.Check(r); err != nil {
			s.fail(w, r, web.ErrCrossOrigin)
			return
		}
		if !rt.public {
			p, err := s.cfg.Sessions.Authenticate(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			r = r.WithContext(web.WithPrincipal(r.Context(), p))
		}
		if err := rt.handle(w, r); err != nil {
			s.fail(w, r, err)
		}
	})))
}

// fail writes err as a problem.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	web.WriteProblem(s.log, w, r, err)
}

// liveRoutes mounts the websocket endpoint when there is one.
func (s *Server) liveRoutes() []route {
	if s.cfg.Live == nil {
		return nil
	}
	return []route{{
		method: "GET", path: "/api/v1/live", tag: "live", status: http.StatusSwitchingProtocols,
		timeout:  web.TimeoutNone, // the socket keeps its own deadlines
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
