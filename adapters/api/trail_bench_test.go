package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// BenchmarkStudentFileRead reads a student's file as their teacher,
// without the consultation trail and with it, so that the two compare
// (docs/performance.md, "Consultation trail"). With it, it reports the
// bytes of the payload of the events written per consultation, as one
// batch per minute would write them: every read of the benchmark by one
// reader of one file folds into one consultation, so it writes a batch of
// 100 distinct consultations to measure them.
func BenchmarkStudentFileRead(b *testing.B) {
	for _, traced := range []bool{false, true} {
		name := "without-trail"
		if traced {
			name = "with-trail"
		}
		b.Run(name, func(b *testing.B) {
			w := &world{World: webtest.NewWorld(b)}
			var trail *web.Trail
			if traced {
				var err error
				if trail, err = web.NewTrail(web.TrailConfig{Writer: w.H, Every: time.Hour}); err != nil {
					b.Fatal(err)
				}
			}
			srv := w.serverWith(w.H, w.Auth, w.Store, func(c *Config) { c.Trail = trail })
			path := "/api/v1/students/" + w.Accounts[asStudent].String() + "/file"
			token := tokenOf(asTeacher)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.StopTimer()
			if traced {
				batch := make([]domain.Consultation, 100)
				for i := range batch {
					batch[i] = domain.Consultation{Reader: webtest.ID("reader"), Profile: domain.ProfileTeacher, Student: webtest.ID(string(rune('a' + i))),
						What: domain.ConsultFile, First: time.Now().UTC(), Last: time.Now().UTC(), Count: 3}
				}
				data, err := json.Marshal(domain.ConsultationsRecorded{Establishment: w.UAI, Consultations: batch})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(data))/float64(len(batch)), "event-bytes/consultation")
			}
		})
	}
}
