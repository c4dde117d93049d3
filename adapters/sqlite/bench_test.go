package sqlite_test

import (
	"context"
	"testing"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// BenchmarkAppend measures appends of one event (a single act) and of 35
// events (a class's roll call), under each durability setting.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []sqlite.Synchronous{sqlite.SyncFull, sqlite.SyncNormal} {
		for _, size := range []int{1, 35} {
			name := "sync=" + string(sync) + "/events=" + map[int]string{1: "1", 35: "35"}[size]
			b.Run(name, func(b *testing.B) {
				s, _ := MustOpenTemp(b, sqlite.WithSynchronous(sync))
				ctx := context.Background()
				stream := storetest.NewStream("bench")
				batches := make([][]domain.Envelope, b.N)
				for i := range batches {
					batches[i] = storetest.NewEvents(size)
				}
				var version uint64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					res, err := s.Append(ctx, stream, domain.Exact(version), batches[i])
					if err != nil {
						b.Fatal(err)
					}
					version = res.Version
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
