package projector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/schoollife/ledger/projections"
)

// onlyReader hides a reader's GetMany.
type onlyReader struct{ projections.DocReader }

// A reader over a committing batch answers as the namespace will once the
// batch has committed: Get, GetMany and Scan over any range, with
// documents added, replaced and deleted, in two collections, whether the
// reader below can read many documents at once or not.
func TestPendingReadsAsCommitted(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		before, after := projections.NewMemoryDocs(), projections.NewMemoryDocs()
		key := func() string { return fmt.Sprintf("k%02d", r.IntN(40)) }
		colls := []string{"a", "b"}
		var base []projections.Doc
		for range 30 {
			base = append(base, projections.Doc{Coll: colls[r.IntN(2)], Key: key(), Value: fmt.Appendf(nil, `"base %d"`, r.IntN(100))})
		}
		var batch []projections.Doc
		seen := map[docKey]bool{}
		for range 20 {
			d := projections.Doc{Coll: colls[r.IntN(2)], Key: key()}
			if seen[docKey{d.Coll, d.Key}] {
				continue
			}
			seen[docKey{d.Coll, d.Key}] = true
			if r.IntN(3) > 0 {
				d.Value = fmt.Appendf(nil, `"batch %d"`, r.IntN(100))
			}
			batch = append(batch, d)
		}
		projections.SortDocs(batch)
		put := func(m *projections.MemoryDocs, docs ...[]projections.Doc) {
			if err := m.Update(ctx, "p@1", func(tx projections.DocTx) error {
				for _, d := range docs {
					if err := tx.Put(ctx, d); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		put(before, base)
		put(after, base, batch)
		want := after.Reader("p@1")
		for _, below := range []projections.DocReader{before.Reader("p@1"), onlyReader{before.Reader("p@1")}} {
			got := newPending(below, batch)
			name := fmt.Sprintf("seed %d, below %T", seed, below)
			for _, coll := range colls {
				for i := range 42 {
					k := fmt.Sprintf("k%02d", i)
					gv, gok, err := got.Get(ctx, coll, k)
					if err != nil {
						t.Fatal(err)
					}
					wv, wok, _ := want.Get(ctx, coll, k)
					if gok != wok || string(gv) != string(wv) {
						t.Fatalf("%s: Get(%s, %s) = %s %v, want %s %v", name, coll, k, gv, gok, wv, wok)
					}
				}
				var keys []string
				for range 25 {
					keys = append(keys, key())
				}
				if g, w := getMany(t, got, coll, keys), getMany(t, want.(projections.DocMultiGetter), coll, keys); !slices.Equal(g, w) {
					t.Fatalf("%s: GetMany(%s, %v) = %v, want %v", name, coll, keys, g, w)
				}
				for range 10 {
					from, to := key(), key()
					if r.IntN(4) == 0 {
						to = ""
					}
					if r.IntN(4) == 0 {
						from = ""
					}
					if g, w := scan(t, got, coll, from, to), scan(t, want, coll, from, to); !slices.Equal(g, w) {
						t.Fatalf("%s: Scan(%s, %q, %q) = %v, want %v", name, coll, from, to, g, w)
					}
				}
			}
		}
	}
}

// getMany returns "key=doc" for each document given, sorted, and fails on
// a key given twice.
func getMany(t *testing.T, r projections.DocMultiGetter, coll string, keys []string) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	if err := r.GetMany(context.Background(), coll, keys, func(k string, doc []byte) error {
		if seen[k] {
			t.Errorf("GetMany gave %s twice", k)
		}
		seen[k] = true
		out = append(out, k+"="+string(doc))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// scan returns "key=doc" for each document of the scan, in its order.
func scan(t *testing.T, r projections.DocReader, coll, from, to string) []string {
	t.Helper()
	var out []string
	if err := r.Scan(context.Background(), coll, from, to, func(k string, doc []byte) error {
		out = append(out, k+"="+string(doc))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
