package projections_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// TestSanctionEffacement: an effaced sanction leaves the student's file and
// the family's and student's feeds; the incident stays; sanctions whose
// date came are listed until their effacement is recorded.
func TestSanctionEffacement(t *testing.T) {
	w := school(t)
	byHead := actor{id: head, profile: domain.ProfilePersonnel, uai: uaiLycee}
	exclusion := id("exclusion")
	w.emit(byHead, domain.DisciplineStream(alice), domain.SanctionPronounced{
		Sanction: exclusion, Student: alice, Kind: domain.SanctionTemporaryExclusion, Date: domain.MustDate("2006-03-11"), Days: 2,
		Reason: "violence", Incident: id("fight"), Authority: domain.AuthorityHead, EffacedOn: domain.MustDate("2007-03-11"),
		Sursis: &domain.Sursis{Days: 1, Until: domain.MustDate("2006-12-31")},
	})
	w.emit(byHead, domain.DisciplineStream(alice), domain.SursisRevoked{
		Sanction: exclusion, Student: alice, Date: domain.MustDate("2006-03-12"), Authority: domain.AuthorityHead, Reason: "récidive",
	})
	reducers := []projections.Reducer{projections.NewStudentFile(), projections.NewNotifications()}
	t.Run("before", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, docs DocStoreAll) {
			ctx := context.Background()
			q := w.MustProject(t, docs, 512, reducers...)
			f, err := q.StudentFile(ctx, alice, domain.Date{}, domain.Date{})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(f.Sanctions, func(s projections.FileSanction) bool { return s.Sanction == exclusion })
			if i < 0 || f.Sanctions[i].SursisRevoked != domain.MustDate("2006-03-12") || f.Sanctions[i].Sursis == nil {
				t.Fatalf("sanctions on file: %+v", f.Sanctions)
			}
			if n := feedAbout(t, q, mother, exclusion); n != 2 {
				t.Fatalf("mother's feed has %d notifications about the exclusion, want 2 (pronounced, revoked)", n)
			}
			due, err := q.DueEffacements(ctx, domain.MustDate("2006-09-01"))
			if err != nil {
				t.Fatal(err)
			}
			// The warning (2006-03-09) falls due on 1 September; the annulled
			// blâme too (annulled, it is still on file); the exclusion not.
			var got []uuid.UUID
			for _, d := range due {
				if d.Student != alice || d.EffacedOn != domain.MustDate("2006-09-01") {
					t.Fatalf("due %+v", d)
				}
				got = append(got, d.Sanction)
			}
			if !slices.Equal(got, []uuid.UUID{id("warning"), id("blame")}) {
				t.Fatalf("due on 1 September: %v, want the warning and the blâme", got)
			}
		})
	})

	w.emit(byHead, domain.DisciplineStream(alice), domain.SanctionEffaced{
		Sanction: exclusion, Student: alice, Date: domain.MustDate("2006-06-30"), Basis: domain.EffacementChangeOfEstablishment,
	})
	t.Run("after", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, docs DocStoreAll) {
			ctx := context.Background()
			q := w.MustProject(t, docs, 512, reducers...)
			f, err := q.StudentFile(ctx, alice, domain.Date{}, domain.Date{})
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(f.Sanctions, func(s projections.FileSanction) bool { return s.Sanction == exclusion }) {
				t.Fatalf("effaced sanction still on file: %+v", f.Sanctions)
			}
			if !slices.ContainsFunc(f.Incidents, func(i projections.FileIncident) bool { return i.Incident == id("fight") }) {
				t.Fatal("the incident left the file with the sanction")
			}
			for _, who := range []uuid.UUID{mother, alice} {
				if n := feedAbout(t, q, who, exclusion); n != 0 {
					t.Fatalf("%s's feed still has %d notifications about the effaced sanction", who, n)
				}
			}
			if n := feedAbout(t, q, mother, id("warning")); n == 0 {
				t.Fatal("the effacement removed another sanction's notification")
			}
		})
	})
}

// feedAbout counts the notifications of account's feed about act.
func feedAbout(t *testing.T, q *projections.Queries, account, act uuid.UUID) int {
	t.Helper()
	notes := mustItems[projections.Notification](t)(q.Notifications(context.Background(), account, projections.Page{Limit: 500}))
	n := 0
	for _, note := range notes {
		if note.Ref == act {
			n++
		}
	}
	return n
}
