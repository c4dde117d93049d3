package projections_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// sealedReasons stands for the subjects' keys: it opens "SEALED" into the
// clear text.
type sealedReasons struct{}

func (sealedReasons) Open(_ string, data []byte) ([]byte, error) {
	return bytes.ReplaceAll(data, []byte("SEALED"), []byte("bavardages")), nil
}

// TestAuditOpensPersonalFields: the audit read model keeps payloads as
// stored (personal fields sealed); its history, recent acts and export
// give them opened.
func TestAuditOpensPersonalFields(t *testing.T) {
	w := school(t)
	byHead := actor{id: head, profile: domain.ProfilePersonnel, uai: uaiLycee}
	w.emit(byHead, domain.DisciplineStream(alice), domain.PunishmentGiven{
		Punishment: id("sealed"), Student: alice, Kind: domain.PunishmentDetention, Date: domain.MustDate("2006-03-13"), Reason: "SEALED",
	})
	docs := projections.NewMemoryDocs()
	q := w.MustProject(t, docs, 512, projections.NewAudit())
	opened := projections.NewQueries(docs, docs, w.log, w.reg.WithOpener(sealedReasons{}), paris)
	ctx := context.Background()
	h, err := opened.History(ctx, alice, projections.HistoryFilter{Types: []string{"punishment.given.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := q.History(ctx, alice, projections.HistoryFilter{Types: []string{"punishment.given.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	last := func(l projections.List[projections.AuditEntry]) []byte { return l.Items[len(l.Items)-1].Data }
	if !bytes.Contains(last(h), []byte("bavardages")) || !bytes.Contains(last(stored), []byte("SEALED")) {
		t.Fatalf("history opened %s, stored %s", last(h), last(stored))
	}
	recent, err := opened.RecentBy(ctx, head, []string{"punishment.given.v1"}, domain.Position{}, 5)
	if err != nil || len(recent.Items) == 0 || !bytes.Contains(recent.Items[0].Data, []byte("bavardages")) {
		t.Fatalf("recent acts: %v, %+v", err, recent.Items)
	}
	var out bytes.Buffer
	if err := opened.ExportEstablishment(ctx, &out, uaiLycee, domain.MustDate("2006-01-01").In(paris), domain.MustDate("2007-01-01").In(paris)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("bavardages")) || bytes.Contains(out.Bytes(), []byte("SEALED")) {
		t.Fatalf("export:\n%s", out.Bytes())
	}
}
