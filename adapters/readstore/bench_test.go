package readstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// benchStores opens each store a benchmark runs on.
func benchStores(b *testing.B, fn func(b *testing.B, s *readstore.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		s, _ := MustSQLite(b)
		fn(b, s)
	})
	b.Run("sqlite-file", func(b *testing.B) {
		fn(b, MustOpenSQLite(b, filepath.Join(b.TempDir(), "readmodels.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		s, _ := MustPostgres(b)
		fn(b, s)
	})
}

// benchDoc is a document of the size of a day's counters or a short file.
func benchDoc(i int) []byte {
	return fmt.Appendf(nil, `{"student":"s-%06d","absences":%d,"lates":3,"reasons":["maladie","transport"],"last":"2006-03-14T08:00:00Z"}`, i, i%17)
}

// BenchmarkUpdate writes batches of 512 documents with their checkpoint,
// as the runner does: half new keys, half keys written before.
func BenchmarkUpdate(b *testing.B) {
	const batch = 512
	benchStores(b, func(b *testing.B, s *readstore.Store) {
		ctx := context.Background()
		docs := make([]projections.Doc, batch)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			for j := range docs {
				k := i*batch/2 + j // overlaps the previous batch by half
				docs[j] = projections.Doc{Coll: "day", Key: fmt.Sprintf("0751234A|%08d", k), Value: benchDoc(k)}
			}
			i++
			err := s.Update(ctx, "bench.v1@1", func(tx projections.DocTx) error {
				if err := tx.Put(ctx, docs); err != nil {
					return err
				}
				return tx.SetCheckpoint(ctx, domain.Position{Seq: uint64(i)})
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
	})
}

// BenchmarkGet reads documents by key outside any transaction.
func BenchmarkGet(b *testing.B) {
	const n = 10000
	benchStores(b, func(b *testing.B, s *readstore.Store) {
		ctx := context.Background()
		docs := make([]projections.Doc, n)
		for i := range docs {
			docs[i] = projections.Doc{Coll: "file", Key: fmt.Sprintf("s-%06d", i), Value: benchDoc(i)}
		}
		if err := s.Update(ctx, "bench.v1@1", func(tx projections.DocTx) error { return tx.Put(ctx, docs) }); err != nil {
			b.Fatal(err)
		}
		r := s.Reader("bench.v1@1")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok, err := r.Get(ctx, "file", docs[i%n].Key); err != nil || !ok {
				b.Fatal(ok, err)
			}
			i += 7919
		}
	})
}
