package live_test

import (
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/domain"
)

// FuzzAfter opens a socket with a fuzzed ?after=: a value that is not a
// position is a 400 invalid-query-parameter problem before any upgrade,
// never a 500 or a panic; a position gets the catch-up of exactly the
// events after it that the viewer may see, in order, up to the last event
// of the log (a marker sent to the viewer).
func FuzzAfter(f *testing.F) {
	w := newWorld(f)
	w.mustSchool()
	for i := range 20 {
		if i%3 == 0 {
			w.absence(carol, classB)
		} else {
			w.absence(alice, classA)
		}
	}
	w.homework(classA)
	end := w.marker(parentA)
	b := bustest.MustOpen(f, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(f, b, nil)

	// What the parent may see of the whole log, read once.
	var seen []domain.Position
	for _, fr := range mustDial(f, n, parentA, "?after=0").untilPosition(f, end) {
		seen = append(seen, fr.Position)
	}
	if len(seen) < 15 {
		f.Fatalf("the parent sees %d events of the log: the fuzz target would test nothing", len(seen))
	}

	for _, s := range []string{
		"", "0", "1", "5", seen[3].String(), end.String(), "0." + end.String(), "1." + end.String(), "3.2", "18446744073709551615",
		"18446744073709551616", "18446744073709551615.18446744073709551615", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1_0",
		".", "1.", ".1", "1.2.3", "x.y", "\x00", "\uffff", "\xff", "٣", "１",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, after string) {
		p, perr := domain.ParsePosition(after)
		if after != "" && perr != nil {
			ws, resp, err := dial(n, parentA, "?after="+url.QueryEscape(after), nil)
			if ws != nil {
				ws.Close()
				t.Fatalf("?after=%q is no position, and the socket opened", after)
			}
			if resp == nil {
				t.Fatalf("?after=%q: no response: %v", after, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// The dialer keeps the first kilobyte of the body: the type
			// comes first.
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.HasPrefix(string(body), `{"type":"https://schoollife.example/problems/invalid-query-parameter"`) {
				t.Fatalf("?after=%q: %d %s %s, want a 400 invalid-query-parameter problem", after, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			return
		}
		if after == "" || !p.Less(end) {
			// Nothing to catch up: the socket opens (what it receives
			// live is the other tests').
			mustDial(t, n, parentA, "?after="+url.QueryEscape(after)).ws.Close()
			return
		}
		got := mustDial(t, n, parentA, "?after="+url.QueryEscape(after)).untilPosition(t, end)
		want := slices.DeleteFunc(slices.Clone(seen), func(q domain.Position) bool { return !p.Less(q) })
		if len(got) != len(want) {
			t.Fatalf("?after=%s: %d frames, want %d", after, len(got), len(want))
		}
		for i, fr := range got {
			if fr.Position != want[i] {
				t.Fatalf("?after=%s: frame %d at %s, want %s", after, i, fr.Position, want[i])
			}
		}
	})
}

// untilPosition reads frames up to the one at end, included.
func (c *client) untilPosition(t testing.TB, end domain.Position) []frame {
	t.Helper()
	var out []frame
	for {
		fr, err := c.next(patience)
		if err != nil {
			t.Fatalf("after %d frames, waiting for the one at %s: %v", len(out), end, err)
		}
		out = append(out, frame{Position: fr.Position, Type: fr.Type})
		if fr.Position == end {
			return out
		}
		if end.Less(fr.Position) {
			t.Fatalf("frame at %s, after the last event %s", fr.Position, end)
		}
	}
}

// frame is what FuzzAfter compares of a frame.
type frame struct {
	Position domain.Position
	Type     string
}
