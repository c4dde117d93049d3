package projections_test

import (
	"context"
	"errors"
	"testing"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// admin administers the lycée.
var admin = id("admin")

// erasuresHistory: the lycée's administrator erases Alice, whose scrub
// is recorded, then Bruno, whose scrub is not yet; the ledger erases
// Chloé at the collège on an operator's command.
func erasuresHistory(t *testing.T) *world {
	w := newWorld(t)
	adminOf := actor{id: admin, profile: domain.ProfileAdmin, uai: uaiLycee}
	emitAt(w, at("2006-03-13 11:00"), adminOf, domain.PrivacyStream(alice),
		domain.SubjectErased{Subject: alice, Basis: "RGPD art. 17", Reason: "demande du 10 mars"})
	emitAt(w, at("2006-03-13 11:05"), system(uaiLycee), domain.PrivacyStream(alice), domain.SubjectScrubbed{Subject: alice})
	emitAt(w, at("2006-03-14 09:00"), adminOf, domain.PrivacyStream(bruno),
		domain.SubjectErased{Subject: bruno, Basis: "délai de conservation échu", Reason: "fin de scolarité"})
	emitAt(w, at("2006-03-14 10:00"), system(uaiCollege), domain.PrivacyStream(chloe),
		domain.SubjectErased{Subject: chloe, Basis: "RGPD art. 17", Reason: "demande"})
	return w
}

func TestErasures(t *testing.T) {
	w := erasuresHistory(t)
	aliceE := projections.ErasureEntry{Subject: alice, Establishment: uaiLycee, At: at("2006-03-13 11:00").UTC(), By: admin,
		ByProfile: domain.ProfileAdmin, Basis: "RGPD art. 17", Reason: "demande du 10 mars", Scrubbed: at("2006-03-13 11:05").UTC()}
	brunoE := projections.ErasureEntry{Subject: bruno, Establishment: uaiLycee, At: at("2006-03-14 09:00").UTC(), By: admin,
		ByProfile: domain.ProfileAdmin, Basis: "délai de conservation échu", Reason: "fin de scolarité"}
	chloeE := projections.ErasureEntry{Subject: chloe, Establishment: uaiCollege, At: at("2006-03-14 10:00").UTC(),
		ByProfile: domain.ProfileSystem, Basis: "RGPD art. 17", Reason: "demande"}
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 2, projections.NewErasures())
		got, err := q.Erasure(ctx, uaiLycee, alice)
		if err != nil || *got != aliceE {
			t.Errorf("Alice's erasure: %+v, %v", got, err)
		}
		if _, err := q.Erasure(ctx, uaiCollege, alice); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Alice's erasure at the collège: %v", err)
		}
		for _, c := range []struct {
			name  string
			uais  []string
			limit int
			want  []projections.ErasureEntry
		}{
			{"the lycée's, newest first", []string{uaiLycee}, 0, []projections.ErasureEntry{brunoE, aliceE}},
			{"every establishment's", nil, 0, []projections.ErasureEntry{chloeE, brunoE, aliceE}},
			{"the latest", nil, 1, []projections.ErasureEntry{chloeE}},
			{"an establishment with none", []string{"0000000X"}, 0, []projections.ErasureEntry{}},
		} {
			list, err := q.Erasures(ctx, c.uais, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(c.want) {
				t.Errorf("%s: %+v", c.name, list)
				continue
			}
			for i := range list {
				if list[i] != c.want[i] {
					t.Errorf("%s: [%d] %+v, want %+v", c.name, i, list[i], c.want[i])
				}
			}
		}
	})
}
