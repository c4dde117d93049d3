package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/adapters/metrics"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/projections/projector"
)

// serverMetrics are the Prometheus metrics of `ledger serve` (--metrics);
// a nil *serverMetrics is metrics turned off, and each method then does
// nothing.
type serverMetrics struct {
	reg      *metrics.Registry
	conns    *metrics.Connections
	http     *metrics.HTTP
	commands *metrics.Commands
	appends  *metrics.Appends
	bus      *metrics.Bus
	// admin is the separate listener's address; empty: /metrics is on the
	// main listener.
	admin string
}

// newServerMetrics builds the registry when cfg turns metrics on.
func newServerMetrics(cfg *Config) (*serverMetrics, error) {
	if !cfg.Metrics {
		return nil, nil
	}
	reg, err := metrics.New()
	if err != nil {
		return nil, err
	}
	m := &serverMetrics{reg: reg, admin: cfg.AdminAddr}
	if m.conns, err = reg.Connections("ledger_http_open_connections",
		"HTTP connections open on the main listener; a websocket leaves this count once upgraded (ledger_live_connections counts it)."); err != nil {
		return nil, err
	}
	if m.http, err = reg.HTTP(); err != nil {
		return nil, err
	}
	if m.commands, err = reg.Commands(); err != nil {
		return nil, err
	}
	if m.appends, err = reg.Appends(); err != nil {
		return nil, err
	}
	if m.bus, err = reg.Bus(); err != nil {
		return nil, err
	}
	return m, nil
}

// buildInfo exposes ledger_build_info: the version, the revision, the Go
// release and the schema version this binary migrates to.
func (m *serverMetrics) buildInfo(v buildVersion, schema int) error {
	if m == nil {
		return nil
	}
	return m.reg.BuildInfo(map[string]string{
		"version": v.Version, "revision": v.Revision, "goversion": v.Go, "schema": strconv.Itoa(schema),
	})
}

// commandObserver is what the command handlers tell their outcomes to
// (nil when off).
func (m *serverMetrics) commandObserver() commands.Observer {
	if m == nil {
		return nil
	}
	return m.commands
}

// groupObserved is a store that commits appends in groups.
type groupObserved interface {
	ObserveGroups(groupcommit.Observer)
}

// watchStore measures the group commit of the store's appends, when it
// has one (SQLite, Postgres).
func (m *serverMetrics) watchStore(store eventStore) {
	if g, ok := store.(groupObserved); ok && m != nil {
		g.ObserveGroups(m.appends)
	}
}

// publisher returns pub, timed when metrics are on.
func (m *serverMetrics) publisher(pub message.Publisher) message.Publisher {
	if m == nil {
		return pub
	}
	return bus.Timed(pub, m.bus.Published)
}

// served is the web layer's hook for each request served (nil when off).
func (m *serverMetrics) served() func(web.Served) {
	if m == nil {
		return nil
	}
	return func(s web.Served) { m.http.Served(s.Route, s.Status, s.Duration) }
}

// watchProjections exposes where each projection stands: on this node
// (running, failures, stopped: the runner's status), as every node sees
// it (position, lag: the last measure), and the readiness verdicts.
func (m *serverMetrics) watchProjections(runner *projector.Runner, lags *lagWatch, rd *readiness) error {
	if m == nil {
		return nil
	}
	label := []string{"projection"}
	byStatus := func(v func(projector.Status) float64) func() []metrics.Sample {
		return func() []metrics.Sample {
			st := runner.Status()
			out := make([]metrics.Sample, len(st))
			for i, s := range st {
				out[i] = metrics.Sample{Value: v(s), Labels: []string{s.Projection}}
			}
			return out
		}
	}
	byLag := func(v func(lagSample, time.Time) (float64, bool)) func() []metrics.Sample {
		return func() []metrics.Sample {
			rep, now := lags.report(), time.Now()
			var out []metrics.Sample
			for _, red := range runner.Reducers() {
				s, ok := rep.Projections[red.Name()]
				if !ok {
					continue
				}
				if x, ok := v(s, now); ok {
					out = append(out, metrics.Sample{Value: x, Labels: []string{red.Name()}})
				}
			}
			return out
		}
	}
	forwarder := func(v func(lagSample, time.Time) (float64, bool)) func() []metrics.Sample {
		return func() []metrics.Sample {
			rep := lags.report()
			if rep.Forwarder == nil {
				return nil
			}
			if x, ok := v(*rep.Forwarder, time.Now()); ok {
				return []metrics.Sample{{Value: x}}
			}
			return nil
		}
	}
	events := func(s lagSample, _ time.Time) (float64, bool) { return float64(s.Events), s.Events >= 0 }
	seconds := func(s lagSample, now time.Time) (float64, bool) { return s.Seconds(now), true }
	return errors.Join(
		m.reg.GaugeVecFunc("ledger_projection_running", "1 while this node runs the projection (it holds its lock), else 0.", label,
			byStatus(func(s projector.Status) float64 { return oneIf(s.Running) })),
		m.reg.GaugeVecFunc("ledger_projection_stopped", "1 while this node's runner has stopped the projection at an event it cannot apply.", label,
			byStatus(func(s projector.Status) float64 { return oneIf(s.Stopped != nil) })),
		m.reg.GaugeVecFunc("ledger_projection_failures", "Failed attempts in a row at the projection's next event on this node.", label,
			byStatus(func(s projector.Status) float64 { return float64(s.Failures) })),
		m.reg.CounterVecFunc("ledger_projection_errors_total", "Failed attempts at events on this node since it started.", label,
			byStatus(func(s projector.Status) float64 { return float64(s.Errors) })),
		m.reg.GaugeVecFunc("ledger_projection_position", "The sequence number of the last event the projection's live generation applied (its checkpoint).", label,
			byLag(func(s lagSample, _ time.Time) (float64, bool) { return float64(s.Position.Seq), true })),
		m.reg.GaugeVecFunc("ledger_projection_lag_events", "Events in the log after the projection's checkpoint, counted up to 100000.", label, byLag(events)),
		m.reg.GaugeVecFunc("ledger_projection_lag_seconds", "Age of the oldest event the projection has not applied (0: at the head).", label, byLag(seconds)),
		m.reg.GaugeVecFunc("ledger_projection_stalled", "1 while the projection keeps failing or is stopped at an event on this node, or has had events to apply without moving for 2 minutes (it then makes /readyz answer 503).", label,
			func() []metrics.Sample {
				checks := assessProjections(runner.Status(), lags.report(), time.Now())
				out := make([]metrics.Sample, len(checks))
				for i, c := range checks {
					out[i] = metrics.Sample{Value: oneIf(!c.OK), Labels: []string{c.Projection}}
				}
				return out
			}),
		m.reg.GaugeVecFunc("ledger_forwarder_lag_events", "Events in the log after the forwarder's checkpoint (not yet published on the bus), counted up to 100000.", nil, forwarder(events)),
		m.reg.GaugeVecFunc("ledger_forwarder_lag_seconds", "Age of the oldest event the forwarder has not published (0: at the head).", nil, forwarder(seconds)),
		m.reg.GaugeFunc("ledger_ready", "1 when /readyz answers 200, 0 when 503.", func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
			defer cancel()
			return oneIf(rd.check(ctx).Ready)
		}),
	)
}

// watchImports exposes this node's import jobs.
func (m *serverMetrics) watchImports(jobs *directoryimport.Jobs) error {
	if m == nil {
		return nil
	}
	byState := func(pick func(directoryimport.JobStats) map[directoryimport.JobState]int64) func() []metrics.Sample {
		return func() []metrics.Sample {
			counts := pick(jobs.Stats())
			out := make([]metrics.Sample, 0, len(counts))
			for state, n := range counts {
				out = append(out, metrics.Sample{Value: float64(n), Labels: []string{string(state)}})
			}
			return out
		}
	}
	return errors.Join(
		m.reg.GaugeVecFunc("ledger_import_jobs", "Directory import jobs of this node not ended yet, by state (queued, running).", []string{"state"},
			byState(func(s directoryimport.JobStats) map[directoryimport.JobState]int64 { return s.Live })),
		m.reg.CounterVecFunc("ledger_import_jobs_ended_total", "Directory import jobs this node ended, by final state (done, refused, failed).", []string{"state"},
			byState(func(s directoryimport.JobStats) map[directoryimport.JobState]int64 { return s.Ended })),
	)
}

func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// watchHub exposes what this node's live hub holds and did.
func (m *serverMetrics) watchHub(hub *live.Hub) error {
	if m == nil {
		return nil
	}
	st := hub.Stats()
	counter := func(name, help string, n interface{ Load() int64 }) error {
		return m.reg.CounterFunc(name, help, func() float64 { return float64(n.Load()) })
	}
	return errors.Join(
		m.reg.GaugeFunc("ledger_live_connections", "Websockets open on this node.", func() float64 { return float64(hub.Connections()) }),
		counter("ledger_live_events_total", "Events this node's hub dispatched to its sockets.", &st.Events),
		counter("ledger_live_queued_total", "Frames queued on this node's sockets (an event counts once per socket that sees it).", &st.Queued),
		counter("ledger_live_duplicates_total", "Events the hub received again from the bus and dropped (a forwarder's repeat after a takeover).", &st.Duplicates),
		counter("ledger_live_foreign_total", "Bus messages of another deployment the hub dropped.", &st.Foreign),
		counter("ledger_live_dropped_total", "Sockets closed for falling too far behind: their queued events were dropped, and the client must reconnect with ?after=.", &st.Dropped),
		counter("ledger_live_ended_total", "Sockets closed for their session, account or lifetime.", &st.Ended),
	)
}

// onMain returns the handler of /metrics on the main listener: nil when
// metrics are off or served on the admin listener.
func (m *serverMetrics) onMain() http.Handler {
	if m == nil || m.admin != "" {
		return nil
	}
	return m.reg.Handler()
}

// connState is the main server's ConnState hook (nil when off).
func (m *serverMetrics) connState() func(net.Conn, http.ConnState) {
	if m == nil {
		return nil
	}
	return m.conns.ConnState
}

// serveAdmin starts the admin listener, which serves /metrics and
// /readyz alone, when one is configured. The returned function shuts it
// down.
func (m *serverMetrics) serveAdmin(ctx context.Context, log *slog.Logger, ready http.Handler) (func(context.Context) error, error) {
	if m == nil || m.admin == "" {
		return func(context.Context) error { return nil }, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.reg.Handler())
	mux.Handle("GET /readyz", ready)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", m.admin)
	if err != nil {
		return nil, fmt.Errorf("listen %s (admin): %w", m.admin, err)
	}
	log.InfoContext(ctx, "serving metrics", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener stopped", "err", err)
		}
	}()
	return srv.Shutdown, nil
}
