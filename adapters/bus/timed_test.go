package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/schoollife/ledger/adapters/bus"
)

// TestTimed: every publish is told to the observer, with its messages and
// its error, and its error is the publisher's.
func TestTimed(t *testing.T) {
	t.Parallel()
	b, err := bus.Open(context.Background(), bus.Config{Kind: bus.GoChannel}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type publish struct {
		messages int
		failed   bool
	}
	var seen []publish
	pub := bus.Timed(b.Publisher, func(n int, d time.Duration, err error) {
		if d < 0 {
			t.Errorf("negative duration %s", d)
		}
		seen = append(seen, publish{n, err != nil})
	})
	msgs := []*message.Message{message.NewMessage("1", nil), message.NewMessage("2", nil)}
	if err := pub.Publish("topic", msgs...); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("topic", message.NewMessage("3", nil)); err == nil {
		t.Error("publishing on a closed bus succeeded")
	}
	if len(seen) != 2 || seen[0] != (publish{2, false}) || seen[1] != (publish{1, true}) {
		t.Errorf("observed %+v, want two messages published, then one that failed", seen)
	}
	if bus.Timed(b.Publisher, nil) != b.Publisher {
		t.Error("no observer: the publisher should be returned as is")
	}
}
