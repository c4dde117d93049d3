package metrics

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The recorders below are what `serve` hands to the parts it measures.
// Their methods take plain strings, numbers and durations, so that each
// part declares the small interface it calls (web's access log, the
// command handlers' Observer, the group committer's) without importing
// this package. Every label takes its values from a closed set: route
// patterns, command names and outcomes, status codes; never a path, an id
// or a name.

// Sample is one labelled value of a family read through a callback: its
// label values in the family's order.
type Sample struct {
	Value  float64
	Labels []string
}

// GaugeVecFunc registers a labelled gauge whose samples fn returns at each
// scrape.
func (r *Registry) GaugeVecFunc(name, help string, labels []string, fn func() []Sample) error {
	return r.register(&vecFunc{desc: prometheus.NewDesc(name, help, labels, nil), kind: prometheus.GaugeValue, fn: fn})
}

// CounterVecFunc registers a labelled counter whose samples fn returns at
// each scrape; no sample may ever go down.
func (r *Registry) CounterVecFunc(name, help string, labels []string, fn func() []Sample) error {
	return r.register(&vecFunc{desc: prometheus.NewDesc(name, help, labels, nil), kind: prometheus.CounterValue, fn: fn})
}

// vecFunc is a family whose samples a callback returns.
type vecFunc struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	fn   func() []Sample
}

func (v *vecFunc) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

func (v *vecFunc) Collect(ch chan<- prometheus.Metric) {
	for _, s := range v.fn() {
		m, err := prometheus.NewConstMetric(v.desc, v.kind, s.Value, s.Labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(v.desc, err)
		}
		ch <- m
	}
}

// BuildInfo registers ledger_build_info, always 1, whose labels say what
// runs: the version, the revision, the Go release and the schema version.
func (r *Registry) BuildInfo(labels map[string]string) error {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ledger_build_info", Help: "The running binary: version, revision, Go release and the schema version it migrates to (always 1).",
		ConstLabels: labels,
	})
	g.Set(1)
	return r.register(g)
}

// Unmatched is the route label of a request no route matched.
const Unmatched = "unmatched"

// HTTP counts and times the requests the web layer served.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// HTTPBuckets are the bounds of the request durations, in seconds: from a
// cached read to the request deadline (30 s by default).
var HTTPBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// HTTP registers ledger_http_requests_total{route,code} and
// ledger_http_request_duration_seconds{route}.
func (r *Registry) HTTP() (*HTTP, error) {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_http_requests_total",
			Help: "HTTP requests served, by route pattern (unmatched: none) and status code; a websocket counts once, at its upgrade (101).",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ledger_http_request_duration_seconds", Help: "Time to serve an HTTP request, by route pattern; a websocket's is its upgrade's.",
			Buckets: HTTPBuckets,
		}, []string{"route"}),
	}
	if err := r.registerAll(h.requests, h.duration); err != nil {
		return nil, err
	}
	return h, nil
}

// Served records one request: route is its pattern ("" or Unmatched when
// none matched).
func (h *HTTP) Served(route string, status int, d time.Duration) {
	if route == "" {
		route = Unmatched
	}
	h.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	h.duration.WithLabelValues(route).Observe(d.Seconds())
}

// Commands counts the commands handled and their outcomes.
type Commands struct {
	done    *prometheus.CounterVec
	retries *prometheus.CounterVec
}

// Commands registers ledger_commands_total{command,outcome} and
// ledger_command_retries_total{command}.
func (r *Registry) Commands() (*Commands, error) {
	c := &Commands{
		done: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_commands_total",
			Help: "Commands handled, by command and outcome: accepted, replayed (an idempotency key's earlier result), invalid, forbidden, not_found, rule, conflict, unavailable, canceled, error.",
		}, []string{"command", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_command_retries_total", Help: "Version conflicts a command met and retried, by command.",
		}, []string{"command"}),
	}
	if err := r.registerAll(c.done, c.retries); err != nil {
		return nil, err
	}
	return c, nil
}

// CommandDone records a command's outcome. A command seen has its
// retries' series from then on, at 0 until one: alerts and rates read it.
func (c *Commands) CommandDone(command, outcome string) {
	c.done.WithLabelValues(command, outcome).Inc()
	c.retries.WithLabelValues(command)
}

// CommandRetried records a version conflict the command retries.
func (c *Commands) CommandRetried(command string) { c.retries.WithLabelValues(command).Inc() }

// Appends measures the group commit of appends.
type Appends struct {
	appends  *prometheus.CounterVec
	events   prometheus.Counter
	size     prometheus.Histogram
	duration prometheus.Histogram
}

// Appends registers ledger_appends_total{outcome},
// ledger_appended_events_total, ledger_append_group_size and
// ledger_append_group_duration_seconds.
func (r *Registry) Appends() (*Appends, error) {
	a := &Appends{
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_appends_total", Help: "Appends committed in groups, by outcome: written, or refused alone inside their group (a version conflict, a duplicate) or with it (the transaction failed).",
		}, []string{"outcome"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ledger_appended_events_total", Help: "Events written by the appends committed in groups.",
		}),
		size: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ledger_append_group_size", Help: "Appends per group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 to 256, the largest group
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ledger_append_group_duration_seconds", Help: "Time to run and commit a group's transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 10), // 0.5 ms to about 2 s
		}),
	}
	if err := r.registerAll(a.appends, a.events, a.size, a.duration); err != nil {
		return nil, err
	}
	// Both outcomes exist from the start, at 0 until one happens.
	a.appends.WithLabelValues("written")
	a.appends.WithLabelValues("refused")
	return a, nil
}

// GroupCommitted records one group: appends in it, failed of them, the
// events the others wrote, and its transaction's time.
func (a *Appends) GroupCommitted(appends, failed, events int, d time.Duration) {
	a.appends.WithLabelValues("written").Add(float64(appends - failed))
	a.appends.WithLabelValues("refused").Add(float64(failed))
	a.events.Add(float64(events))
	a.size.Observe(float64(appends))
	a.duration.Observe(d.Seconds())
}

// Bus times what the forwarder and sign-outs publish on the bus.
type Bus struct {
	duration *prometheus.HistogramVec
	messages prometheus.Counter
}

// Bus registers ledger_bus_publish_duration_seconds{outcome} and
// ledger_bus_published_messages_total.
func (r *Registry) Bus() (*Bus, error) {
	b := &Bus{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ledger_bus_publish_duration_seconds", Help: "Time to publish a batch of messages on the bus, by outcome (ok, error).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 11), // 0.1 ms to about 6 s
		}, []string{"outcome"}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ledger_bus_published_messages_total", Help: "Messages published on the bus.",
		}),
	}
	if err := r.registerAll(b.duration, b.messages); err != nil {
		return nil, err
	}
	b.duration.WithLabelValues("ok")
	b.duration.WithLabelValues("error")
	return b, nil
}

// Published records one publish of messages.
func (b *Bus) Published(messages int, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	} else {
		b.messages.Add(float64(messages))
	}
	b.duration.WithLabelValues(outcome).Observe(d.Seconds())
}

func (r *Registry) registerAll(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}
