package projections_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// consultationsHistory: two batches of the lycée's trail (Durand reads
// Alice's file twice, the inspector her history and then the export;
// Durand reads Bruno's page the next day) and one of the collège's.
func consultationsHistory(t *testing.T) *world {
	w := newWorld(t)
	c := func(reader uuid.UUID, p domain.Profile, student uuid.UUID, what, first, last string, n int) domain.Consultation {
		return domain.Consultation{Reader: reader, Profile: p, Student: student, What: what, First: at(first).UTC(), Last: at(last).UTC(), Count: n}
	}
	emitAt(w, at("2006-03-13 10:31"), system(uaiLycee), domain.ConsultationsStream(uaiLycee), domain.ConsultationsRecorded{
		Establishment: uaiLycee, Consultations: []domain.Consultation{
			c(durand, domain.ProfileTeacher, alice, domain.ConsultFile, "2006-03-13 10:02", "2006-03-13 10:20", 2),
			c(inspector, domain.ProfileInspector, alice, domain.ConsultHistory, "2006-03-13 10:10", "2006-03-13 10:10", 1),
			c(inspector, domain.ProfileInspector, uuid.Nil, domain.ConsultExport, "2006-03-13 10:25", "2006-03-13 10:25", 1),
		},
	})
	emitAt(w, at("2006-03-14 09:01"), system(uaiLycee), domain.ConsultationsStream(uaiLycee), domain.ConsultationsRecorded{
		Establishment: uaiLycee, Consultations: []domain.Consultation{
			c(durand, domain.ProfileTeacher, bruno, domain.ConsultView, "2006-03-14 08:30", "2006-03-14 08:45", 3),
		},
	})
	emitAt(w, at("2006-03-14 09:01"), system(uaiCollege), domain.ConsultationsStream(uaiCollege), domain.ConsultationsRecorded{
		Establishment: uaiCollege, Consultations: []domain.Consultation{
			c(moreau, domain.ProfileTeacher, chloe, domain.ConsultFile, "2006-03-14 08:00", "2006-03-14 08:00", 1),
		},
	})
	return w
}

func TestConsultations(t *testing.T) {
	w := consultationsHistory(t)
	entry := func(reader uuid.UUID, p domain.Profile, student uuid.UUID, what, first, last string, n int) projections.ConsultationEntry {
		return projections.ConsultationEntry{Establishment: uaiLycee, Reader: reader, Profile: p, Student: student, What: what,
			First: at(first).UTC(), Last: at(last).UTC(), Count: n}
	}
	bruno := entry(durand, domain.ProfileTeacher, bruno, domain.ConsultView, "2006-03-14 08:30", "2006-03-14 08:45", 3)
	export := entry(inspector, domain.ProfileInspector, uuid.Nil, domain.ConsultExport, "2006-03-13 10:25", "2006-03-13 10:25", 1)
	file := entry(durand, domain.ProfileTeacher, alice, domain.ConsultFile, "2006-03-13 10:02", "2006-03-13 10:20", 2)
	history := entry(inspector, domain.ProfileInspector, alice, domain.ConsultHistory, "2006-03-13 10:10", "2006-03-13 10:10", 1)

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 2, projections.NewConsultations())
		for _, c := range []struct {
			name string
			f    projections.ConsultationFilter
			want []projections.ConsultationEntry
		}{
			{"all, latest first", projections.ConsultationFilter{}, []projections.ConsultationEntry{bruno, export, file, history}},
			{"Alice's file, and the export", projections.ConsultationFilter{Student: alice}, []projections.ConsultationEntry{export, file, history}},
			{"from the 14th", projections.ConsultationFilter{From: at("2006-03-14 00:00")}, []projections.ConsultationEntry{bruno}},
			{"to the 14th", projections.ConsultationFilter{To: at("2006-03-14 00:00")}, []projections.ConsultationEntry{export, file, history}},
			{"last read at the bounds", projections.ConsultationFilter{From: at("2006-03-13 10:20"), To: at("2006-03-13 10:25")}, []projections.ConsultationEntry{file}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := mustItems[projections.ConsultationEntry](t)(q.Consultations(ctx, uaiLycee, c.f, projections.Page{}))
				mustEqualJSON(t, "consultations", got, c.want)
			})
		}
		// A page of two names the rest.
		p1, err := q.Consultations(ctx, uaiLycee, projections.ConsultationFilter{}, projections.Page{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		mustEqualJSON(t, "first page", p1.Items, []projections.ConsultationEntry{bruno, export})
		p2 := mustItems[projections.ConsultationEntry](t)(q.Consultations(ctx, uaiLycee, projections.ConsultationFilter{}, projections.Page{Limit: 2, After: p1.Next}))
		mustEqualJSON(t, "second page", p2, []projections.ConsultationEntry{file, history})
		// The collège's trail is its own.
		other := mustItems[projections.ConsultationEntry](t)(q.Consultations(ctx, uaiCollege, projections.ConsultationFilter{}, projections.Page{}))
		if len(other) != 1 || other[0].Student != chloe {
			t.Errorf("collège trail %+v", other)
		}
	})
}
