package projections_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// countingTx counts the Gets that reach the store; it hides GetMany, so a
// batch over it cannot preload.
type countingTx struct {
	projections.DocTx
	gets *int
}

func (c countingTx) Get(ctx context.Context, coll, key string) ([]byte, bool, error) {
	*c.gets++
	return c.DocTx.Get(ctx, coll, key)
}

// preloadingTx is a countingTx that can preload.
type preloadingTx struct {
	countingTx
	asked *int
}

func (p preloadingTx) GetMany(ctx context.Context, coll string, keys []string, fn func(string, []byte) error) error {
	*p.asked += len(keys)
	return p.DocTx.(projections.DocMultiGetter).GetMany(ctx, coll, keys, fn)
}

// applyHistory applies recs to a fresh namespace in batches of the
// runner's size, as Runner.apply does, with or without preloading, and
// returns the Gets that reached the store and the keys preloaded.
func applyHistory(t *testing.T, red projections.Reducer, recs []domain.Record, preload bool) (*projections.MemoryDocs, int, int) {
	t.Helper()
	ctx := context.Background()
	reg := domain.NewRegistry()
	docs := projections.NewMemoryDocs()
	gets, asked := 0, 0
	for i := 0; i < len(recs); i += benchBatch {
		batch := recs[i:min(i+benchBatch, len(recs))]
		err := docs.Update(ctx, "p@1", func(tx projections.DocTx) error {
			var r projections.DocReader = countingTx{tx, &gets}
			if preload {
				r = preloadingTx{countingTx{tx, &gets}, &asked}
			}
			b := projections.NewBatch(r)
			if err := projections.ApplyAll(ctx, reg, red, b, batch); err != nil {
				return err
			}
			changes, err := b.Changes()
			if err != nil {
				return err
			}
			return tx.Put(ctx, changes)
		})
		if err != nil {
			t.Fatalf("%s: batch at %d: %v", red.Name(), i, err)
		}
	}
	return docs, gets, asked
}

// TestPrefetchSameDocumentsFewerReads applies a simulated history to every
// reducer with and without preloading: the documents must be the same, and
// a Prefetcher must leave almost no Get to the store. Almost: Prefetch sees
// the documents as stored before the batch, so a document found through
// one the batch itself changes (the relatives of a student who joined a
// group earlier in the batch) is read when Apply gets to it.
func TestPrefetchSameDocumentsFewerReads(t *testing.T) {
	recs, err := benchHistory()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, red := range projections.Reducers(domain.Paris()) {
		t.Run(red.Name(), func(t *testing.T) {
			plain, plainGets, _ := applyHistory(t, red, recs, false)
			pre, preGets, asked := applyHistory(t, red, recs, true)

			colls, ok := red.(collections)
			if !ok {
				t.Fatalf("%s does not list its collections", red.Name())
			}
			total := 0
			for _, coll := range colls.Collections() {
				want := map[string][]byte{}
				if err := plain.Reader("p@1").Scan(ctx, coll, "", "", func(k string, d []byte) error {
					want[k] = bytes.Clone(d)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				got := 0
				if err := pre.Reader("p@1").Scan(ctx, coll, "", "", func(k string, d []byte) error {
					got++
					if w, ok := want[k]; !ok || !bytes.Equal(w, d) {
						t.Errorf("%s/%s: preloaded %s, plain %s", coll, k, d, w)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if got != len(want) {
					t.Errorf("%s: %d documents preloaded, %d plain", coll, got, len(want))
				}
				total += got
			}
			if total == 0 {
				t.Fatalf("%s wrote no documents over %d events", red.Name(), len(recs))
			}

			if _, ok := red.(projections.Prefetcher); !ok {
				if asked != 0 {
					t.Errorf("%s is no Prefetcher but %d keys were preloaded", red.Name(), asked)
				}
				t.Logf("%s: %d Gets (no Prefetcher)", red.Name(), plainGets)
				return
			}
			t.Logf("%s: %d Gets without preloading; with it %d keys preloaded, %d Gets", red.Name(), plainGets, asked, preGets)
			if plainGets == 0 {
				t.Fatalf("%s read nothing over %d events: nothing to preload", red.Name(), len(recs))
			}
			if preGets > plainGets/20 {
				t.Errorf("%s: %d of %d Gets still reach the store with preloading", red.Name(), preGets, plainGets)
			}
		})
	}
}

// TestPreloadAndPeek checks the batch's side: preloaded documents are
// decoded once and got without a read, absent ones are remembered, a
// write wins over a preload, and Peek never reads the store.
func TestPreloadAndPeek(t *testing.T) {
	ctx := context.Background()
	docs := projections.NewMemoryDocs()
	if err := docs.Update(ctx, "p@1", func(tx projections.DocTx) error {
		return tx.Put(ctx, []projections.Doc{
			{Coll: "c", Key: "a", Value: []byte(`{"n":1}`)},
			{Coll: "c", Key: "b", Value: []byte(`{"n":2}`)},
		})
	}); err != nil {
		t.Fatal(err)
	}
	type doc struct {
		N int `json:"n"`
	}
	err := docs.Update(ctx, "p@1", func(tx projections.DocTx) error {
		gets, asked := 0, 0
		b := projections.NewBatch(preloadingTx{countingTx{tx, &gets}, &asked})
		if _, ok := projections.Peek[doc](b, "c", "a"); ok {
			t.Error("Peek found a document nobody read")
		}
		b.Put("c", "b", &doc{N: 20})
		n, err := b.Preload(ctx, map[string][]string{"c": {"a", "b", "missing", "a"}})
		if err != nil {
			return err
		}
		if n != 2 || asked != 2 {
			t.Errorf("Preload looked for %d (store asked %d), want 2: a and missing (b is written, a named twice)", n, asked)
		}
		if v, ok := projections.Peek[doc](b, "c", "a"); !ok || v.N != 1 {
			t.Errorf("Peek a = %v, %v", v, ok)
		}
		if _, ok := projections.Peek[doc](b, "c", "missing"); ok {
			t.Error("Peek found a document that does not exist")
		}
		a, ok, err := projections.Get[doc](ctx, b, "c", "a")
		if err != nil || !ok || a.N != 1 {
			t.Errorf("Get a = %v, %v, %v", a, ok, err)
		}
		bv, ok, err := projections.Get[doc](ctx, b, "c", "b")
		if err != nil || !ok || bv.N != 20 {
			t.Errorf("Get b = %v, %v, %v: the batch's write must win", bv, ok, err)
		}
		if _, ok, err := projections.Get[doc](ctx, b, "c", "missing"); err != nil || ok {
			t.Errorf("Get missing = %v, %v", ok, err)
		}
		if gets != 0 {
			t.Errorf("%d Gets reached the store", gets)
		}
		if n, err := b.Preload(ctx, map[string][]string{"c": {"a", "missing"}}); err != nil || n != 0 {
			t.Errorf("second Preload looked for %d (%v), want 0", n, err)
		}
		changes, err := b.Changes()
		if err != nil {
			return err
		}
		if len(changes) != 1 || changes[0].Key != "b" {
			t.Errorf("changes %v: preloading must write nothing", changes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
