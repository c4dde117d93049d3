package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/adapters/metrics"
)

// serverMetrics are the Prometheus metrics of `ledger serve` (--metrics);
// a nil *serverMetrics is metrics turned off, and each method then does
// nothing.
type serverMetrics struct {
	reg   *metrics.Registry
	conns *metrics.Connections
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
	conns, err := reg.Connections("ledger_http_open_connections",
		"HTTP connections open on the main listener; a websocket leaves this count once upgraded (ledger_live_connections counts it).")
	if err != nil {
		return nil, err
	}
	return &serverMetrics{reg: reg, conns: conns, admin: cfg.AdminAddr}, nil
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
		counter("ledger_live_dropped_total", "Sockets closed for falling too far behind.", &st.Dropped),
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

// serveAdmin starts the admin listener, which serves /metrics alone, when
// one is configured. The returned function shuts it down.
func (m *serverMetrics) serveAdmin(ctx context.Context, log *slog.Logger) (func(context.Context) error, error) {
	if m == nil || m.admin == "" {
		return func(context.Context) error { return nil }, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.reg.Handler())
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
