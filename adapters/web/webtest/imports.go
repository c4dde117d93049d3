package webtest

import (
	"context"
	"testing"
	"time"
)

// Gate is a directoryimport.Locker that grants the import lock only once
// opened: the jobs of a test wait queued, live, until it says so.
type Gate struct{ open chan struct{} }

// NewGate returns a closed gate.
func NewGate() *Gate { return &Gate{open: make(chan struct{})} }

// Open lets the waiting jobs run.
func (g *Gate) Open() { close(g.open) }

// TryAcquire implements directoryimport.Locker.
func (g *Gate) TryAcquire(ctx context.Context, _ string) (context.Context, func(), bool, error) {
	select {
	case <-g.open:
		return ctx, func() {}, true, nil
	default:
		return nil, nil, false, nil
	}
}

// GateRetry is how often the jobs of a test try a Gate.
const GateRetry = 10 * time.Millisecond

// MustEventually checks ok every few milliseconds until it holds, and
// fails the test if it does not within 30 s (a loaded machine).
func MustEventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for !ok() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}
