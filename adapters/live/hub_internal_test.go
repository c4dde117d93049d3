package live

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestDispatchIndexMatchesEveryFilter: the hub looks only at the sockets
// indexed under an event's subjects and establishment. Over random
// viewers and events, each socket must get exactly the events its filter
// matches when asked about every event, as a scan of every socket would
// deliver them, and each once; removed sockets get nothing more.
func TestDispatchIndexMatchesEveryFilter(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2007, 13))
	ids := make([]uuid.UUID, 40)
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(i)})
	}
	pick := func(n int) []uuid.UUID {
		var out []uuid.UUID
		for range rnd.IntN(n + 1) {
			out = appendNew(out, ids[rnd.IntN(len(ids))])
		}
		return out
	}
	uais := []string{"0750001A", "0750002B", "0750003C"}
	types := make([]string, 0, len(classes))
	for typ := range classes {
		types = append(types, typ)
	}
	slices.Sort(types)

	h := newHub(HubConfig{Topic: Topic, Logger: slog.New(slog.DiscardHandler)})
	conns := make([]*conn, 300)
	for i := range conns {
		f := &filter{scope: scope(1 + rnd.IntN(3)), self: ids[rnd.IntN(len(ids))], member: pick(3)}
		switch f.scope {
		case scopeFamily:
			f.students, f.classes = pick(2), pick(2)
		case scopeTeacher:
			f.taught = pick(3)
		case scopeStaff:
			f.establishment = uais[rnd.IntN(len(uais))]
		}
		conns[i] = newConn(f, 1<<20)
		h.add(conns[i])
	}
	removed := map[*conn]bool{}
	want := map[*conn][]domain.Position{}
	for seq := range uint64(3000) {
		if seq == 1500 { // a third of the sockets leave halfway
			for _, c := range conns[:100] {
				h.remove(c)
				removed[c] = true
			}
		}
		ev := &Event{
			Position: domain.Position{Seq: seq + 1}, ID: uuid.New(), Type: types[rnd.IntN(len(types))],
			Time: time.Unix(0, 0).UTC(), Data: []byte(`{}`), Subjects: pick(4),
		}
		if rnd.IntN(4) > 0 {
			ev.Establishment = uais[rnd.IntN(len(uais))]
		}
		for _, c := range conns {
			if !removed[c] && c.f.match(ev, classes[ev.Type]) {
				want[c] = append(want[c], ev.Position)
			}
		}
		h.Dispatch(ev)
	}
	delivered := 0
	for i, c := range conns {
		var got []domain.Position
		for _, it := range c.take(nil) {
			got = append(got, it.pos)
		}
		delivered += len(got)
		if !slices.Equal(got, want[c]) {
			t.Errorf("socket %d (%+v): got %d events, want %d", i, *c.f, len(got), len(want[c]))
		}
	}
	if delivered < 1000 {
		t.Fatalf("only %d deliveries: the random cases test too little", delivered)
	}
	if h.Connections() != 200 {
		t.Fatalf("%d connections after removing 100 of 300", h.Connections())
	}
	for _, c := range conns[:100] {
		for _, l := range h.bySubject {
			if slices.Contains(l, c) {
				t.Fatal("a removed socket is still indexed by subject")
			}
		}
		for _, l := range h.byEstablishment {
			if slices.Contains(l, c) {
				t.Fatal("a removed socket is still indexed by establishment")
			}
		}
	}
}
