// Package metrics exposes a process's measures in the Prometheus text
// format: the Go runtime's (goroutines, heap, collections), the
// process's (resident memory, open files, CPU), and what other adapters
// count, read through callbacks so that they need not import Prometheus.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds the collectors of one server and serves them. It is
// built and injected: nothing is registered with Prometheus's global
// default registry.
type Registry struct {
	reg *prometheus.Registry
}

// liveHeap adds the live heap as of the last collection
// (go_gc_heap_live_bytes) to the runtime's default set: unlike the heap in
// use, it does not saw up and down between collections, so a trend
// drawn through it shows a leak sooner.
var liveHeap = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}

// New returns a registry with the Go runtime's collector (go_goroutines,
// go_threads, go_memstats_*, go_gc_heap_live_bytes...) and the process's
// (process_resident_memory_bytes, process_open_fds,
// process_cpu_seconds_total...).
func New() (*Registry, error) {
	reg := prometheus.NewRegistry()
	err := errors.Join(
		reg.Register(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(liveHeap))),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Registry{reg: reg}, nil
}

// Handler serves the registry's metrics (GET /metrics).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// GaugeFunc registers a gauge whose value fn returns at each scrape.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) error {
	return r.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// CounterFunc registers a counter whose value fn returns at each scrape;
// fn must never go down.
func (r *Registry) CounterFunc(name, help string, fn func() float64) error {
	return r.register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

func (r *Registry) register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Connections counts an HTTP server's open connections.
type Connections struct {
	open atomic.Int64
}

// Connections registers the gauge name, the open connections of the
// server whose ConnState hook is the returned counter's.
func (r *Registry) Connections(name, help string) (*Connections, error) {
	c := &Connections{}
	if err := r.GaugeFunc(name, help, func() float64 { return float64(c.open.Load()) }); err != nil {
		return nil, err
	}
	return c, nil
}

// ConnState is an http.Server's ConnState hook. A hijacked connection (a
// websocket) leaves the count: the server no longer tracks it, and it
// never reports it closed.
func (c *Connections) ConnState(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		c.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}
