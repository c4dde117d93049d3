package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections/projector"
)

// Readiness: /readyz answers 200 when this node can serve as it should,
// 503 when not, with a JSON body naming each check. /healthz stays
// liveness only: the process answers.
const (
	// pingTimeout bounds the store's check: a store slower than this to
	// answer one query is as good as unreachable for the requests.
	pingTimeout = 2 * time.Second
	// stallAfter is how long a projection may have events to apply and
	// not move before it counts as stalled: it runs on no node, or is
	// stuck on another. Longer than the runner's retry of a lock (2 s) and
	// than a catch-up batch takes, shorter than an operator cares to wait.
	stallAfter = 2 * time.Minute
	// readyFailures is the failures in a row at one event from which a
	// projection that is still retrying makes the node not ready: one or
	// two are a lost race, three are the event.
	readyFailures = 3
	// lagStale is how old the last measure of the lags may be before the
	// measures count as failing.
	lagStale = 4 * lagEvery
)

// schemaVersioner is a store that records its migrations (SQLite,
// Postgres).
type schemaVersioner interface {
	SchemaVersion(ctx context.Context) (applied, known int, err error)
}

// readiness checks this node.
type readiness struct {
	store  eventStore
	runner *projector.Runner
	lags   *lagWatch
	build  buildVersion
	log    *slog.Logger
	now    func() time.Time
}

// readyReport is /readyz's body.
type readyReport struct {
	Ready  bool         `json:"ready"`
	Build  buildVersion `json:"build"`
	Schema *schemaState `json:"schema,omitempty"`
	Checks []readyCheck `json:"checks"`
}

// schemaState is the database's schema version against this binary's.
type schemaState struct {
	Database int `json:"database"`
	Binary   int `json:"binary"`
}

// readyCheck is one check. A projection's names where it stands: when
// not ok, the position and type of the event it is stuck at.
type readyCheck struct {
	Check      string   `json:"check"`
	Projection string   `json:"projection,omitempty"`
	OK         bool     `json:"ok"`
	State      string   `json:"state,omitempty"`
	Detail     string   `json:"detail,omitempty"`
	Position   string   `json:"position,omitempty"`
	EventType  string   `json:"event_type,omitempty"`
	Attempts   int      `json:"attempts,omitempty"`
	Since      string   `json:"since,omitempty"`
	RunsHere   *bool    `json:"runs_here,omitempty"`
	LagEvents  *int64   `json:"lag_events,omitempty"`
	LagSeconds *float64 `json:"lag_seconds,omitempty"`
}

// Projection states in /readyz.
const (
	stateFollowing = "following" // ok: applying the log, or at its head
	stateFailing   = "failing"   // retrying an event it failed readyFailures times
	stateStopped   = "stopped"   // stopped at an event after its attempts
	stateStalled   = "stalled"   // events to apply, no progress for stallAfter
)

// check runs every check: the store and its schema now, the projections
// as the runner and the last lag measure have them.
func (rd *readiness) check(ctx context.Context) readyReport {
	rep := readyReport{Ready: true, Build: rd.build}
	add := func(c readyCheck) {
		rep.Checks = append(rep.Checks, c)
		rep.Ready = rep.Ready && c.OK
	}
	store, schema := rd.checkStore(ctx)
	add(store)
	if schema != nil {
		rep.Schema = &schema.state
		add(schema.check)
	}
	now := rd.now()
	lags := rd.lags.report()
	add(readModelsCheck(lags, now))
	for _, c := range assessProjections(rd.runner.Status(), lags, now) {
		add(c)
	}
	return rep
}

// schemaResult is the schema's check and state.
type schemaResult struct {
	check readyCheck
	state schemaState
}

// checkStore checks that the event store answers within pingTimeout and
// that its schema is the one this binary migrates to (nil: the store has
// no schema of ours, EventStoreDB).
func (rd *readiness) checkStore(ctx context.Context) (readyCheck, *schemaResult) {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	store := readyCheck{Check: "store", OK: true}
	unreachable := func(err error) (readyCheck, *schemaResult) {
		rd.log.WarnContext(ctx, "readiness: the event store does not answer", "err", err)
		store.OK, store.Detail = false, "the event store does not answer (see the log)"
		return store, nil
	}
	sv, ok := rd.store.(schemaVersioner)
	if !ok {
		if _, err := rd.store.ReadAll(ctx, domain.Start, 1); err != nil {
			return unreachable(err)
		}
		return store, nil
	}
	applied, known, err := sv.SchemaVersion(ctx)
	if err != nil {
		return unreachable(err)
	}
	res := &schemaResult{check: readyCheck{Check: "schema", OK: true}, state: schemaState{Database: applied, Binary: known}}
	switch {
	case applied < known:
		res.check.OK = false
		res.check.Detail = fmt.Sprintf("the database's schema (%d) is older than this binary's (%d): run ledger migrate", applied, known)
	case applied > known:
		// A newer node migrated it: this one serves on during a rolling
		// upgrade (migrations only add).
		res.check.Detail = fmt.Sprintf("the database's schema (%d) is newer than this binary's (%d): upgrade this node", applied, known)
	}
	return store, res
}

// readModelsCheck: the last lag measure read the read models' store, and
// is recent.
func readModelsCheck(lags lagReport, now time.Time) readyCheck {
	c := readyCheck{Check: "readmodels", OK: true}
	switch {
	case lags.Err != nil:
		c.OK, c.Detail = false, "the read models cannot be read (see the log)"
	case lags.At.IsZero():
		c.OK, c.Detail = false, "not measured yet"
	case now.Sub(lags.At) > lagStale:
		c.OK, c.Detail = false, "the read models were last read "+lags.At.UTC().Format(time.RFC3339)
	}
	return c
}

// assessProjections tells, for each projection, whether it follows the
// log: not when this node's runner stopped it at an event, or keeps failing
// at one, or when, seen from the shared checkpoints, it has events to apply
// and has not moved for stallAfter (it runs on no node, or is stuck on
// another).
func assessProjections(statuses []projector.Status, lags lagReport, now time.Time) []readyCheck {
	out := make([]readyCheck, 0, len(statuses))
	for _, st := range statuses {
		here := st.Running
		c := readyCheck{Check: "projection", Projection: st.Projection, OK: true, State: stateFollowing, RunsHere: &here}
		sample, measured := lags.Projections[st.Projection]
		if measured {
			c.Position = sample.Position.String()
			if sample.Events >= 0 {
				n := sample.Events
				c.LagEvents = &n
			}
			secs := sample.Seconds(now)
			c.LagSeconds = &secs
		}
		stuckAt := func(state string, s *projector.Stop, detail string) {
			c.OK, c.State, c.Detail = false, state, detail
			c.Position, c.EventType, c.Attempts = s.Position.String(), s.Type, s.Attempts
			c.Since = s.At.UTC().Format(time.RFC3339)
		}
		switch {
		case st.Stopped != nil:
			stuckAt(stateStopped, st.Stopped, "stopped at an event it cannot apply: fix the cause, then resume it (SIGHUP), restart or rebuild it")
		case st.Failing != nil && st.Failures >= readyFailures:
			stuckAt(stateFailing, st.Failing, "cannot apply an event, retrying")
		case measured && sample.stalled(now, stallAfter):
			c.OK, c.State = false, stateStalled
			c.Detail = fmt.Sprintf("events to apply and no progress for %s: it runs on no node, or is stuck on another", now.Sub(sample.Moved).Round(time.Second))
			c.Position = sample.Next.String()
			c.Since = sample.Moved.UTC().Format(time.RFC3339)
		}
		out = append(out, c)
	}
	return out
}

// ServeHTTP answers /readyz.
func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := rd.check(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !rep.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}

// resumeOnHangup resumes the projections this node stopped at an event,
// at each signal, until ctx ends: once the cause is fixed, `systemctl
// reload` (kill -HUP) tries their event again without a restart.
func resumeOnHangup[T any](ctx context.Context, hangups <-chan T, runner *projector.Runner, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hangups:
		}
		resumed := 0
		for _, st := range runner.Status() {
			if st.Stopped == nil {
				continue
			}
			if err := runner.Resume(st.Projection); err != nil {
				log.ErrorContext(ctx, "resume projection", "projection", st.Projection, "err", err)
				continue
			}
			log.InfoContext(ctx, "resuming projection", "projection", st.Projection, "position", st.Stopped.Position.String())
			resumed++
		}
		log.InfoContext(ctx, "hangup: stopped projections resumed", "resumed", resumed)
	}
}
