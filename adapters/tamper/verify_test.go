package tamper

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// verifyLog is a log of streams as a store would hold it, for the pure
// checks; the adapters' tests tamper with real tables.
type verifyLog struct {
	events []StoredEvent // global order
	heads  map[string]StreamHead
	seals  []Seal
}

func newVerifyLog(streams ...string) *verifyLog {
	l := &verifyLog{heads: map[string]StreamHead{}}
	for i := range 12 {
		st := streams[i%len(streams)]
		h := l.heads[st]
		e := StoredEvent{
			Position: domain.Position{Tx: 7, Seq: uint64(i + 1)}, ID: uuid.New(), Stream: st, Version: h.Version + 1,
			Type: "test.v1", Data: fmt.Appendf(nil, `{"i":%d}`, i), Metadata: []byte(`{}`),
		}
		e.Hash = e.chainHash(h.Hash, e.Version)
		l.heads[st] = StreamHead{Version: e.Version, Hash: e.Hash}
		l.events = append(l.events, e)
	}
	return l
}

// seal seals the events after the last seal up to index upTo (exclusive).
func (l *verifyLog) seal(upTo int) {
	var prev Seal
	from := 0
	if len(l.seals) > 0 {
		prev = l.seals[len(l.seals)-1]
		from = slices.IndexFunc(l.events, func(e StoredEvent) bool { return e.Position == prev.UpTo }) + 1
	}
	h := NewSealHash(prev.Hash, prev.Seq+1)
	for _, e := range l.events[from:upTo] {
		h.Add(e.Position, e.Hash)
	}
	s := Seal{Seq: prev.Seq + 1, UpTo: l.events[upTo-1].Position, Count: h.Count()}
	s.Hash = h.Sum(s.UpTo)
	l.seals = append(l.seals, s)
}

func (l *verifyLog) verify() VerifyReport {
	v := NewVerifier()
	byStream := map[string][]StoredEvent{}
	var names []string
	for _, e := range l.events {
		if byStream[e.Stream] == nil {
			names = append(names, e.Stream)
		}
		byStream[e.Stream] = append(byStream[e.Stream], e)
	}
	slices.Sort(names)
	for _, n := range names {
		evs := byStream[n]
		slices.SortFunc(evs, func(a, b StoredEvent) int { return int(a.Version) - int(b.Version) })
		if h, ok := l.heads[n]; ok {
			v.Stream(n, evs, &h)
		} else {
			v.Stream(n, evs, nil)
		}
	}
	for n, h := range l.heads {
		if byStream[n] == nil {
			v.OrphanHead(n, h)
		}
	}
	v.Seals(l.seals)
	for _, e := range l.events {
		v.Global(e.Position, e.Hash)
	}
	return v.Report()
}

func TestVerifierIntact(t *testing.T) {
	l := newVerifyLog("x", "y", "z")
	l.seal(5)
	l.seal(9)
	r := l.verify()
	if !r.OK() || r.Events != 12 || r.Streams != 3 || r.Seals != 2 || r.Sealed != 9 || r.LastSeal.Seq != 2 || len(r.Problems) != 0 {
		t.Fatalf("intact: %+v", r)
	}
}

func TestVerifierSealEndGone(t *testing.T) {
	l := newVerifyLog("x", "y", "z")
	l.seal(6)
	l.seal(9)
	// The last event of seal 1 and its whole stream vanish (z: events 3, 6,
	// 9, 12), so the chains all hold.
	l.events = slices.DeleteFunc(l.events, func(e StoredEvent) bool { return e.Stream == "z" })
	delete(l.heads, "z")
	r := l.verify()
	if r.Found != 2 || r.Problems[0].Kind != TamperSeal || r.Problems[0].Seal != 1 || r.Problems[1].Seal != 2 {
		t.Fatalf("whole stream gone across two seals: %v", r.Problems)
	}
	if r.Problems[0].String() != "seal 1: the events after position 0 up to 7.6 are 4, 6 when sealed: events deleted (a whole stream, if every chain holds)" {
		t.Fatalf("first problem: %s", r.Problems[0])
	}
}

func TestVerifierOrdersProblems(t *testing.T) {
	l := newVerifyLog("x", "y", "z")
	l.seal(12)
	l.events[7].Data = []byte(`{"i":70}`) // y version 3
	l.events[1].Data = []byte(`{"i":10}`) // y version 1
	l.events[3].Data = []byte(`{"i":30}`) // x version 2
	r := l.verify()
	var got []string
	for _, p := range r.Problems {
		got = append(got, fmt.Sprintf("%s %s %d", p.Kind, p.Stream, p.Version))
	}
	// One problem per stream (its first), in log order. The seal holds:
	// it covers the events' hashes, which the chains tie to the contents.
	want := []string{"edited y 1", "edited x 2"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems %v, want %v", got, want)
	}
}
