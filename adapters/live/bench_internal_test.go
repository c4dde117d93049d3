package live

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// benchHub returns a hub serving subscribers sockets without a network:
// the benchmark measures the hub's work (filter, frame, queue), not the
// kernel's. filterOf returns the i-th socket's filter.
func benchHub(b *testing.B, subscribers int, filterOf func(i int) *filter) (*Hub, []*conn) {
	b.Helper()
	h := newHub(HubConfig{Topic: Topic, Logger: slog.New(slog.DiscardHandler)})
	conns := make([]*conn, subscribers)
	for i := range conns {
		conns[i] = newConn(filterOf(i), DefaultQueueSize)
		h.add(conns[i])
	}
	return h, conns
}

func benchEvent(seq uint64, student, group uuid.UUID) *Event {
	e := domain.AbsenceRecorded{
		Absence: uuid.New(), Lesson: uuid.New(), Student: student, Group: group,
		Date: domain.MustDate("2006-03-13"), Slot: domain.Slot{Start: "08:00", End: "09:00"}, Subject: "maths",
	}
	data, _ := json.Marshal(e)
	return &Event{
		Position: domain.Position{Seq: seq}, ID: uuid.New(), Stream: domain.LessonStream(e.Lesson), Version: 1,
		Type: e.EventType(), Time: time.Now().UTC(), Establishment: "0750001A", Actor: uuid.New(),
		Data: data, Subjects: domain.Subjects(e),
	}
}

// BenchmarkFanOut dispatches one event to 10,000 sockets that all may see
// it (staff of the establishment); each op is one event, queued on every
// socket, then taken off the queues as the writers would.
func BenchmarkFanOut(b *testing.B) {
	const subscribers = 10000
	h, conns := benchHub(b, subscribers, func(int) *filter {
		return &filter{scope: scopeStaff, self: uuid.New(), establishment: "0750001A"}
	})
	student, group := uuid.New(), uuid.New()
	spare := make([][]item, len(conns))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Dispatch(benchEvent(uint64(i+1), student, group))
		for j, c := range conns {
			spare[j] = c.take(spare[j])[:0]
		}
	}
	b.StopTimer()
	if q := h.stats.Queued.Load(); q != int64(b.N)*subscribers {
		b.Fatalf("queued %d frames, want %d", q, int64(b.N)*subscribers)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/subscribers, "ns/socket")
}

// BenchmarkFanOutFiltered dispatches one absence among 10,000 parents'
// sockets, each of another child: one socket receives it, the others are
// filtered out.
func BenchmarkFanOutFiltered(b *testing.B) {
	const subscribers = 10000
	children := make([]uuid.UUID, subscribers)
	h, conns := benchHub(b, subscribers, func(i int) *filter {
		children[i] = uuid.New()
		return &filter{scope: scopeFamily, self: uuid.New(), students: []uuid.UUID{children[i]}, classes: []uuid.UUID{uuid.New()}}
	})
	group := uuid.New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Dispatch(benchEvent(uint64(i+1), children[i%subscribers], group))
		conns[i%subscribers].take(nil)
	}
	b.StopTimer()
	if q := h.stats.Queued.Load(); q != int64(b.N) {
		b.Fatalf("queued %d frames, want %d", q, b.N)
	}
}

func BenchmarkEventEncode(b *testing.B) {
	ev := benchEvent(1, uuid.New(), uuid.New())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ev.Message(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventDecode(b *testing.B) {
	m, err := benchEvent(1, uuid.New(), uuid.New()).Message()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(m.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEvent(m.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewEvent decodes a record to find its subjects (what the
// forwarder and a catch-up do per event).
func BenchmarkNewEvent(b *testing.B) {
	reg := domain.NewRegistry()
	ev := benchEvent(1, uuid.New(), uuid.New())
	rec := domain.Record{ID: ev.ID, Stream: ev.Stream, Version: 1, Position: ev.Position, Type: ev.Type, Data: ev.Data}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewEvent(reg, rec); err != nil {
			b.Fatal(err)
		}
	}
}
