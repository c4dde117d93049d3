package web

// Every request runs under a deadline, so that no request holds the
// server's memory and database for longer than a client could care to
// wait: its context ends at the deadline (queries then stop), and a request
// that failed because of it answers 503 request-timeout. Three classes:
// ordinary requests, routes that legitimately take long (uploads, exports),
// and websockets, which keep their own deadlines (adapters/live).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Timeout is the deadline class of a route.
type Timeout int

// Deadline classes.
const (
	// TimeoutDefault is ordinary requests: Timeouts.Request.
	TimeoutDefault Timeout = iota
	// TimeoutLong is uploads and exports: Timeouts.Long, and the
	// connection's read and write deadlines follow it.
	TimeoutLong
	// TimeoutNone is websockets, which manage their own deadlines.
	TimeoutNone
)

// Default deadlines.
const (
	DefaultRequestTimeout     = 30 * time.Second
	DefaultLongRequestTimeout = 2 * time.Hour
	// WriteGrace is how long after its deadline a request may still write
	// its answer (the 503): the server's write timeout is the request
	// timeout plus this, and a long route's write deadline its own plus
	// this.
	WriteGrace = 10 * time.Second
)

// Timeouts are the deadlines of requests (zero: the defaults).
type Timeouts struct {
	// Request bounds ordinary requests.
	Request time.Duration
	// Long bounds uploads of directory feeds and exports.
	Long time.Duration
}

// Validate checks the timeouts and fills the defaults.
func (t *Timeouts) Validate() error {
	if t.Request == 0 {
		t.Request = DefaultRequestTimeout
	}
	if t.Long == 0 {
		t.Long = DefaultLongRequestTimeout
	}
	switch {
	case t.Request < 0:
		return fmt.Errorf("request timeout %s is negative", t.Request)
	case t.Long < t.Request:
		return fmt.Errorf("long request timeout %s is shorter than the request timeout %s", t.Long, t.Request)
	}
	return nil
}

// Of returns the deadline of class (0: none).
func (t Timeouts) Of(class Timeout) time.Duration {
	switch class {
	case TimeoutDefault:
		return t.Request
	case TimeoutLong:
		return t.Long
	}
	return 0
}

// WithDeadline runs next under the deadline of class, and logs at warning
// level, with its route, a request still running when its deadline
// passed. A long route also moves the connection's read and write
// deadlines (an upload over a slow line outlasts the server's read
// timeout, an export its write timeout).
func WithDeadline(t Timeouts, class Timeout, log *slog.Logger, next http.Handler) http.Handler {
	d := t.Of(class)
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, cancel := context.WithTimeoutCause(r.Context(), d, ErrRequestTimeout)
		defer cancel()
		if class == TimeoutLong {
			// Not every writer has deadlines (a test's recorder).
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(start.Add(d + WriteGrace))
			_ = rc.SetWriteDeadline(start.Add(d + WriteGrace))
		}
		defer func() {
			// Deferred: a stream cut short panics with ErrAbortHandler.
			if errors.Is(context.Cause(ctx), ErrRequestTimeout) {
				log.WarnContext(r.Context(), "request deadline passed", "method", r.Method, "route", r.Pattern,
					"timeout", d, "elapsed", time.Since(start).Round(time.Millisecond))
			}
		}()
		// w itself, not a wrapper: http.MaxBytesReader and the
		// ResponseController reach the connection through it.
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// PastDeadline returns ErrRequestTimeout in place of the internal failure
// of a request whose deadline passed: whatever failed on the way (a query
// cut short, a driver's own error), the deadline is what the client must
// hear of. Other errors stand.
func PastDeadline(r *http.Request, err error) error {
	if err == nil || !errors.Is(context.Cause(r.Context()), ErrRequestTimeout) {
		return err
	}
	if p, _ := ProblemOf(err); p.Status != http.StatusInternalServerError {
		return err
	}
	return fmt.Errorf("%w: %w", ErrRequestTimeout, err)
}
