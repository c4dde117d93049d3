package live_test

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/domain"
)

// BenchmarkFanOutSockets measures one event's way from the hub to 1,000
// real sockets on loopback (gorilla clients in the same process; the
// machine's file limit keeps it well under 10,000): each op dispatches an
// event and waits until every client has read it.
func BenchmarkFanOutSockets(b *testing.B) {
	const sockets = 1000
	w := newWorld(b)
	w.mustSchool()
	bb := bustest.MustOpen(b, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(b, bb, nil)
	var pending atomic.Int64
	done := make(chan struct{}, 1)
	for range sockets {
		ws, _, err := dial(n, staff, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ws.Close() })
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				if pending.Add(-1) == 0 {
					done <- struct{}{}
				}
			}
		}()
	}
	waitConnections(b, n.hub, sockets)
	data, _ := json.Marshal(domain.AbsenceRecorded{Absence: uuid.New(), Student: alice, Group: classA, Subject: "maths"})
	b.ResetTimer()
	for i := range b.N {
		pending.Store(sockets)
		n.hub.Dispatch(&live.Event{
			Position: domain.Position{Seq: uint64(1_000_000 + i)}, ID: uuid.New(), Type: "absence.recorded.v1",
			Time: time.Now(), Establishment: uai, Data: data, Subjects: []uuid.UUID{alice, classA},
		})
		<-done
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/sockets, "ns/socket")
}
