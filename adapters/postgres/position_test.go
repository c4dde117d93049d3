package postgres

import (
	"context"
	"math"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestBarePositions: a position without a transaction id (the form of
// SQLite's positions, which a client may send in ?after=) is read as the
// sequence number it names. Past the head it reads nothing and Wait waits
// instead of returning at once; naming an event, it reads what follows
// that event; any number, up to the largest, is accepted.
func TestBarePositions(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	mustAppend(t, s, "bare-a", domain.NoStream(), newEvents(3))
	mustAppend(t, s, "bare-b", domain.NoStream(), newEvents(2))
	all := mustReadN(t, s, domain.Start, 5)
	if len(all) != 5 {
		t.Fatalf("%d events readable, want 5", len(all))
	}

	t.Run("NamesAnEvent", func(t *testing.T) {
		second := all[1].Position
		got := mustReadAll(t, s, domain.Position{Seq: second.Seq})
		if len(got) != 3 || got[0].ID != all[2].ID {
			t.Fatalf("after the bare seq %d: %d events, want the 3 after %v", second.Seq, len(got), second)
		}
	})

	t.Run("PastTheHead", func(t *testing.T) {
		for _, seq := range []uint64{all[4].Position.Seq + 1, 999999999999, math.MaxUint64} {
			if got := mustReadAll(t, s, domain.Position{Seq: seq}); len(got) != 0 {
				t.Fatalf("after the bare seq %d, past the head: %d events from %v", seq, len(got), got[0].Position)
			}
		}
		timers := useFakeTimers(s)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := goWait(ctx, s, domain.Position{Seq: 999999999999})
		timers.mustArm(t, done)
		cancel()
		_ = mustReturn(t, done)
	})
}
