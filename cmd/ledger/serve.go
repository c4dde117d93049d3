package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/schoollife/ledger/adapters/api"
	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/casserver"
	"github.com/schoollife/ledger/adapters/demoservice"
	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/adapters/oidcprovider"
	"github.com/schoollife/ledger/adapters/portal"
	"github.com/schoollife/ledger/adapters/timetableimport"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/projections/projector"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	var cfg Config
	if err := m.parse(&cfg, "serve", args, true, nil); err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	build := readBuildVersion()
	measures, err := newServerMetrics(&cfg)
	if err != nil {
		return err
	}
	a, err := openAppWaiting(ctx, &cfg, log, wiring{metrics: measures, tuneRunner: m.tuneRunner})
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped before the stores could be opened", "err", err)
			return nil
		}
		return err
	}
	defer a.Close()

	// Projections run beside the server; with several nodes on one
	// database each projection runs on the node that holds its lock.
	bg, stopBackground := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.runner.Run(bg); err != nil {
			log.Error("projections stopped", "err", err)
		}
	})
	if v, ok := a.store.(verifier); ok && cfg.SealEvery > 0 {
		wg.Go(func() { a.sealEvery(bg, v, cfg.SealEvery) })
	}
	// Sanctions leave the students' files on their day (docs/discipline.md).
	wg.Go(func() { a.effaceDaily(bg, time.Hour) })
	// Alerts of the school-life office (docs/notifications.md).
	wg.Go(func() { a.raiseAlerts(bg, alertEvery, time.Now) })
	// Personal data past its retention expires every night (docs/privacy.md).
	if cfg.Retention && a.cipher != nil {
		wg.Go(func() { a.retainDaily(bg, cfg.RetentionHour, time.Now) })
	}
	defer func() {
		stopBackground()
		wg.Wait()
	}()
	ready, err := a.watchReadiness(ctx, bg, &wg, build)
	if err != nil {
		return err
	}
	if m.hangups != nil {
		wg.Go(func() { resumeOnHangup(bg, m.hangups, a.runner, log) })
	}

	authSvc, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{Logger: log})
	if err != nil {
		return err
	}
	defer closeAuth()
	// Single sign-on (--sso, or the demo's identity provider).
	signOn, err := newSSOServe(&cfg, a.store, log, m.getenv)
	if err != nil {
		return err
	}
	defer func() { _ = signOn.Close() }()
	if cfg.Demo {
		demo := demoDeps{handlersAt: a.handlersAt, creds: authSvc, log: a.store, plans: cfg.PlanWindow}
		if err := seedDemo(ctx, demo, time.Now(), m.stdout); err != nil {
			return err
		}
	}
	liveHandler, signOuts, err := a.startLive(bg, &cfg, &wg)
	if err != nil {
		return err
	}
	// Administrators upload directory feeds: the importer of `ledger
	// import`, run as background jobs kept in the read-model store (every
	// node reads them), one import at a time across the nodes.
	importer, err := directoryimport.New(directoryimport.Config{Handlers: a.commands, Registry: a.reg, Log: a.store, Logger: log})
	if err != nil {
		return err
	}
	importJobs, err := directoryimport.NewJobs(directoryimport.JobsConfig{
		Importer: importer, Store: directoryimport.NewDocJobs(a.docs), Locker: a.docs, Logger: log,
	})
	if err != nil {
		return err
	}
	// Closed after the HTTP server shut down, below; here too on the way
	// out of an error, before the stores close (Close may run twice).
	defer importJobs.Close()
	if err := a.metrics.watchImports(importJobs); err != nil {
		return err
	}
	// Administrators upload timetables: the importer of `ledger import
	// edt|udt`, within the request.
	timetables, err := timetableimport.New(timetableimport.Config{Handlers: a.commands, Registry: a.reg, Log: a.store, Logger: log})
	if err != nil {
		return err
	}
	// Administrators erase persons' data: each erasure is recorded at
	// once, its scrub (every projection rebuilt, the database compacted)
	// runs in the background (erasures.go). Not on a store that keeps
	// personal data unencrypted.
	var erasures web.ErasureJobs
	if a.cipher != nil {
		jobs, err := a.erasureJobs()
		if err != nil {
			return err
		}
		wg.Go(func() { jobs.Run(bg) })
		erasures = jobs
	}
	// Families are reached outside the portal when a channel is
	// configured (notify.go).
	notifications, err := a.startNotify(bg, &cfg, &wg)
	if err != nil {
		return err
	}
	var accessLog *slog.Logger
	if cfg.AccessLog {
		accessLog = log
	}
	// The consultation trail, written every minute and, once the server
	// has stopped answering, at shutdown (stopBackground, wg.Wait below).
	trail, err := web.NewTrail(web.TrailConfig{Writer: a.commands, Logger: log})
	if err != nil {
		return err
	}
	wg.Go(func() { trail.Run(bg) })
	importDefaults := cfg.Import.Options()
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	// The ledger as CAS server of the school's services: its tickets in
	// the event store's database.
	casTickets := openCASTickets(a.store)
	if casTickets == nil {
		log.Warn("the CAS server is off: this event store keeps no service tickets", "store", redact(cfg.Store))
	} else {
		defer func() { _ = casTickets.Close() }()
	}
	var oidc func(*web.Sessions) (http.Handler, error)
	if cfg.OIDCProvider {
		// zitadel's op writes its "request error" lines to the process's
		// default logger whatever logger it is given: make it the ledger's.
		if m.ownsProcess {
			slog.SetDefault(log)
		}
		oidc = func(s *web.Sessions) (http.Handler, error) {
			logins, _ := any(authSvc).(loginsOf)
			p, err := a.oidcProvider(ctx, &cfg, s, logins)
			if err != nil {
				return nil, err
			}
			return p.Handler(), nil
		}
	}
	// Listening before the handler is built: the demo service is
	// registered at the address listened on (":0" included), and single
	// sign-on without a base_url is served there.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	var demoClient string
	if cfg.Demo && casTickets != nil && cfg.OIDCProvider {
		issuer, _ := cfg.oidcIssuer()
		if demoClient, err = registerDemoServices(ctx, a.commands, demoServiceBases(issuer, ln.Addr()), log); err != nil {
			return err
		}
	}
	handler, err := webHandler(webDeps{
		casTickets: casTickets, casTicketLifetime: cfg.CASTicketLifetime, logins: authSvc,
		app: a, auth: authSvc, live: liveHandler, sessionEnded: signOuts.SignedOut, importJobs: importJobs, timetables: timetables,
		log: log, secureCookies: cfg.SecureCookies,
		maxImport: cfg.Import.MaxBytes, importOpts: &importDefaults, timeouts: cfg.Timeouts,
		metrics: a.metrics.onMain(), ready: ready, accessLog: accessLog, served: a.metrics.served(),
		proxies: proxies, smallCount: cfg.SmallCount, trail: trail, oidc: oidc, erasures: erasures, notifications: notifications,
		demoClient: demoClient, oidcIssuer: cfg.OIDCIssuer,
		sso: signOn, ssoCtx: ctx, listener: listenerURL(ln.Addr()), revoker: authSvc,
	})
	if err != nil {
		return err
	}
	wg.Go(func() { signOn.run(bg) })
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A request past its deadline still writes its 503; the long
		// routes move their connection's deadlines themselves.
		WriteTimeout: cfg.Timeouts.Request + web.WriteGrace,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:    a.metrics.connState(),
	}
	stopAdmin, err := a.metrics.serveAdmin(ctx, log, ready)
	if err != nil {
		return err
	}
	// Stopped with the main server below; here too on the way out of an
	// error (a second shutdown does nothing).
	defer func() { _ = stopAdmin(context.WithoutCancel(ctx)) }()
	log.InfoContext(ctx, "serving", "addr", ln.Addr().String(), "store", redact(cfg.Store))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := errors.Join(srv.Shutdown(sctx), stopAdmin(sctx)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	// No upload starts a job any more: stop the running import, kept
	// failed (started again, it finishes the job), while the stores are
	// still open for the jobs to write their end.
	_ = importJobs.Close()
	stopBackground()
	wg.Wait()
	log.Info("stopped")
	return nil
}

// redact hides a password in a store URL for logs.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil || u.User == nil {
		return spec
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// sealEvery seals the log periodically, on the one node that holds the
// sealer lock, and logs each seal's hash so that it is kept outside the
// database too.
func (a *app) sealEvery(ctx context.Context, v verifier, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		held, release, ok, err := a.docs.TryAcquire(ctx, "sealer")
		if err != nil || !ok {
			continue
		}
		seal, sealed, err := v.Seal(held)
		release()
		switch {
		case err != nil:
			a.log.Warn("seal", "err", err)
		case sealed:
			a.log.Info("log sealed", "seal", seal.Seq, "up_to", seal.UpTo.String(), "events", seal.Count, "hash", hex.EncodeToString(seal.Hash))
		}
	}
}

// startLive opens the bus (cfg.Bus), starts this node's hub and the
// forwarder (which runs on one elected node at a time) and returns the
// websocket endpoint, and what tells every node's hub of a sign-out. They
// stop when ctx ends.
func (a *app) startLive(ctx context.Context, cfg *Config, wg *sync.WaitGroup) (http.Handler, live.SignOuts, error) {
	busCfg := cfg.Bus
	name, err := a.deploymentName(ctx, cfg)
	if err != nil {
		return nil, live.SignOuts{}, err
	}
	busCfg.Deployment = name
	b, err := bus.Open(ctx, busCfg, a.log)
	if err != nil {
		return nil, live.SignOuts{}, fmt.Errorf("open bus: %w", err)
	}
	a.closers = append(a.closers, b.Close)
	pub := a.metrics.publisher(b.Publisher)
	a.log.InfoContext(ctx, "live updates", "bus", b.Kind, "deployment", b.Deployment, "namespace", busCfg.Namespace(), "node", b.Node)
	hub, err := live.NewHub(live.HubConfig{
		Subscriber: b.Subscriber, Deployment: b.Deployment, Registry: a.reg, Logger: a.log,
		Directory: a.queries, Progress: live.ProjectionProgress{Docs: a.docs, Gens: a.docs},
	})
	if err != nil {
		return nil, live.SignOuts{}, err
	}
	if err := a.metrics.watchHub(hub); err != nil {
		return nil, live.SignOuts{}, err
	}
	wg.Go(func() {
		if err := hub.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("live hub stopped", "err", err)
		}
	})
	select {
	case <-hub.Ready():
	case <-ctx.Done():
		return nil, live.SignOuts{}, ctx.Err()
	}
	fwd, err := live.NewForwarder(live.ForwarderConfig{
		Log: a.store, Registry: a.reg, Publisher: pub, Locker: a.docs, Deployment: b.Deployment,
		Checkpoints: live.DocCheckpoints{Docs: a.docs}, Logger: a.log,
	})
	if err != nil {
		return nil, live.SignOuts{}, err
	}
	wg.Go(func() {
		if err := fwd.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("live forwarder stopped", "err", err)
		}
	})
	h, err := live.NewHandler(live.HandlerConfig{
		Hub: hub, Log: a.store, Registry: a.reg, Directory: a.queries, Logger: a.log,
		AllowedOrigins: cfg.AllowedOrigins,
		Viewer: func(r *http.Request) (live.Viewer, error) {
			actor, ok := web.ActorFromContext(r.Context())
			if !ok {
				return live.Viewer{}, errors.New("not signed in")
			}
			return live.Viewer{Account: actor.Account}, nil
		},
		Session: func(r *http.Request) (live.Session, bool) {
			id, expires, ok := web.SessionFromContext(r.Context())
			return live.Session{ID: id, Expires: expires}, ok
		},
	})
	return h, live.SignOuts{Publisher: pub, Deployment: b.Deployment}, err
}

// webDeps are what the web layer is built from.
type webDeps struct {
	app *app
	// proxies name the client of requests that come through them.
	proxies       web.TrustedProxies
	auth          web.Auth
	live          http.Handler
	sessionEnded  func(ctx context.Context, session string) error
	importJobs    web.ImportJobs
	timetables    api.TimetableImporter
	log           *slog.Logger
	secureCookies bool
	maxImport     int64
	importOpts    *directoryimport.Options
	timeouts      web.Timeouts
	// metrics serves /metrics on this listener (nil: not here).
	metrics http.Handler
	// ready answers /readyz (nil: not served).
	ready http.Handler
	// accessLog receives a line per request (nil: none); served each
	// request's measure (nil: none).
	accessLog *slog.Logger
	served    func(web.Served)
	// smallCount is the smallest act count the indicators show.
	smallCount int
	// trail gathers the reads of children's files (nil: none).
	trail *web.Trail
	// casTickets keeps the CAS server's tickets (nil: no CAS server);
	// casTicketLifetime is their lifetime, logins gives the login released.
	casTickets        *casserver.Tickets
	casTicketLifetime time.Duration
	logins            casserver.Logins
	// oidc builds the OpenID provider on the portal's sessions (nil: not
	// served).
	oidc func(*web.Sessions) (http.Handler, error)
	// erasures records the erasures administrators ask for and scrubs
	// after them (nil: none).
	erasures web.ErasureJobs
	// demoClient is the demo service's OpenID Connect client id (serve
	// --demo; "": no demo service); oidcIssuer the provider's issuer.
	demoClient, oidcIssuer string
	// sso is single sign-on (nil: none), mounted with ssoCtx at listener's
	// address unless its file names one; revoker ends the sessions of the
	// people an identity provider logs out.
	sso      *ssoServe
	ssoCtx   context.Context
	listener *url.URL
	revoker  accountRevoker
	// notifications serves notification settings and dead letters (nil:
	// notifications are off).
	notifications *web.Notifications
}

// webHandler mounts the JSON API under /api/ and the portal at /, sharing
// one set of sessions and of import jobs, beside /healthz, /readyz and,
// when given, /metrics (no session: a probe or a scraper has none), all
// behind the request ids and the access log.
func webHandler(d webDeps) (http.Handler, error) {
	a := d.app
	// A sign-out closes the session's live sockets and, once the CAS
	// server is built below, ends its sessions on the school's services.
	var cas *casserver.Server
	sessionEnded := func(ctx context.Context, session string) error {
		var errs []error
		if d.sessionEnded != nil {
			errs = append(errs, d.sessionEnded(ctx, session))
		}
		if cas != nil {
			errs = append(errs, cas.SessionEnded(ctx, session))
		}
		return errors.Join(errs...)
	}
	sessions, err := web.NewSessions(web.SessionsConfig{
		Auth: d.auth, Accounts: a.queries, Connections: a.commands, Logger: d.log, SecureCookies: d.secureCookies,
		SessionEnded: sessionEnded,
		AuthErrors: web.AuthErrors{
			BadCredentials: auth.ErrBadCredentials, RateLimited: auth.ErrRateLimited, Unauthenticated: auth.ErrUnauthenticated,
		},
	})
	if err != nil {
		return nil, err
	}
	imports, err := web.NewImports(web.ImportsConfig{Jobs: d.importJobs, MaxBytes: d.maxImport, Defaults: d.importOpts})
	if err != nil {
		return nil, err
	}
	exports, err := a.exporter()
	if err != nil {
		return nil, err
	}
	apiSrv, err := api.NewServer(api.Config{
		Commands: a.commands, Queries: a.queries, Sessions: sessions, Imports: imports, Timetables: d.timetables, Live: d.live,
		Logger: d.log, Location: a.loc, Timeouts: d.timeouts, Exports: exports, SmallCount: d.smallCount, Trail: d.trail,
		Erasures: d.erasures, Notifications: d.notifications,
	})
	if err != nil {
		return nil, err
	}
	var signOn portal.SSO
	if d.sso != nil {
		signOn = d.sso
	}
	// Letters by e-mail wait for the guardians' addresses and a mail
	// relay (docs/notifications.md, "Letters"): the PDF alone until then.
	letterOffice, err := a.newLetterOffice(nil)
	if err != nil {
		return nil, err
	}
	pages, err := portal.New(portal.Config{
		Commands: a.commands, Queries: a.queries, Sessions: sessions, Imports: imports,
		Logger: d.log, Location: a.loc, Timeouts: d.timeouts, SmallCount: d.smallCount, Trail: d.trail,
		Erasures: d.erasures, Notifications: d.notifications, Letters: letterOffice,
		SSO: signOn,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	if d.casTickets != nil {
		cas, err = casserver.New(casserver.Config{
			Sessions: sessions, Directory: a.queries, Accesses: a.commands, Tickets: d.casTickets, Logins: d.logins,
			TicketLifetime: d.casTicketLifetime, Logger: d.log,
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/cas/", cas.Handler())
	}
	if d.sso != nil {
		w := ssoWeb{serve: d.sso, dir: a.queries, linker: a.commands, revoker: d.revoker, log: d.log}
		if err := w.mount(d.ssoCtx, mux, d.listener, sessions, pages); err != nil {
			return nil, err
		}
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	if d.ready != nil {
		mux.Handle("GET /readyz", d.ready)
	}
	if d.metrics != nil {
		mux.Handle("GET /metrics", d.metrics)
	}
	mux.Handle("/api/", apiSrv.Handler())
	if d.oidc != nil {
		provider, err := d.oidc(sessions)
		if err != nil {
			return nil, err
		}
		mux.Handle(oidcprovider.DiscoveryPath, provider)
		mux.Handle(oidcprovider.Prefix, provider)
	}
	if d.demoClient != "" {
		demo, err := demoservice.New(demoservice.Config{ClientID: d.demoClient, Issuer: d.oidcIssuer, Logger: d.log})
		if err != nil {
			return nil, err
		}
		mux.Handle(demoservice.Prefix, demo.Handler())
	}
	mux.Handle("/", pages.Handler())
	return d.proxies.Handler(web.Access(web.AccessConfig{Logger: d.accessLog, Observe: d.served}, mux)), nil
}

// watchReadiness starts measuring the projections' lag (until bg ends),
// after a first measure, and returns the readiness of this node; with
// metrics on, it exposes what it measures.
func (a *app) watchReadiness(ctx, bg context.Context, wg *sync.WaitGroup, build buildVersion) (*readiness, error) {
	var count projector.Counter
	if c, ok := a.store.(projector.Counter); ok {
		count = c
	}
	fwd := live.DocCheckpoints{Docs: a.docs}
	lags := newLagWatch(a.runner, a.store, count, fwd.Checkpoint, a.log)
	lags.measure(ctx)
	wg.Go(func() { lags.run(bg) })
	rd := &readiness{store: a.store, runner: a.runner, lags: lags, build: build, log: a.log, now: time.Now}
	schema := 0
	if sv, ok := a.store.(schemaVersioner); ok {
		_, known, err := sv.SchemaVersion(ctx)
		if err != nil {
			return nil, err
		}
		schema = known
	}
	return rd, errors.Join(a.metrics.buildInfo(build, schema), a.metrics.watchProjections(a.runner, lags, rd))
}
