package directoryimport

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// openActor opens an account the imports run as.
func (x *harness) openActor(t *testing.T, name, uai string, p domain.Profile) uuid.UUID {
	t.Helper()
	id := domain.DeterministicID("actor-test", name)
	if _, err := x.h.OpenAccount(x.ctx, commands.Request{System: true}, domain.OpenAccount{
		Account: id, Establishment: uai, Profile: p, DisplayName: name,
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// An administrator runs every kind of change an import makes: the events
// carry the administrator as actor, under one correlation id per import.
func TestImportAsAdministrator(t *testing.T) {
	x := newHarness(t, nil)
	admin := x.openActor(t, "admin", "", domain.ProfileAdmin)
	opts := DefaultOptions()
	opts.Actor = admin
	check := func(rep *Report, recs []domain.Record) {
		t.Helper()
		if rep.Actor != admin {
			t.Fatalf("report actor %s, want %s", rep.Actor, admin)
		}
		for _, r := range recs {
			md := r.Metadata
			if md.Actor != admin || md.Profile != domain.ProfileAdmin || md.CorrelationID != rep.CorrelationID || md.Command == "" {
				t.Fatalf("%s@%d: metadata %+v, want admin %s under %s", r.Stream, r.Version, md, admin, rep.CorrelationID)
			}
		}
	}
	rep, recs := x.MustImport(x.sources(FormatAAF, "", "aaf/full"), opts)
	if len(recs) == 0 {
		t.Fatal("the full feed appended nothing")
	}
	if got := strings.Join(rep.Establishments, ","); got != "0130001A,0130002B" {
		t.Errorf("establishments %s", got)
	}
	check(rep, recs)
	x.MustNotChange(x.sources(FormatAAF, "", "aaf/full"), opts)

	x.now = x.now.Add(14 * 24 * time.Hour)
	rep, recs = x.MustImport(x.sources(FormatAAF, "", "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml", "aaf/delta"), opts)
	check(rep, recs)
	if rep.Applied[LeaveGroup] == 0 || rep.Applied[UnlinkRelative] == 0 {
		t.Fatalf("delta applied %v", rep.Applied)
	}

	// Missing from a full feed, flagged, then closed after the grace period.
	dir := t.TempDir()
	eleve := readFile(t, "testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml")
	start := strings.Index(eleve, "<identifier><id>E001</id>")
	begin := strings.LastIndex(eleve[:start], "<addRequest>")
	end := strings.Index(eleve[start:], "</addRequest>") + start + len("</addRequest>")
	writeFile(t, filepath.Join(dir, "ENT_Complet_20241001_Eleve_0000.xml"), eleve[:begin]+eleve[end:])
	copyFile(t, "testdata/aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml", filepath.Join(dir, "ENT_Complet_20241001_EtabEducNat_0000.xml"))
	rep, recs = x.MustImport(x.sources(FormatAAF, "", dir), opts)
	check(rep, recs)
	x.now = x.now.Add(31 * 24 * time.Hour)
	rep, recs = x.MustImport(x.sources(FormatAAF, "", dir), opts)
	check(rep, recs)
	if rep.Applied[FlagMissing]+rep.Applied[CloseAccount] == 0 {
		t.Fatalf("applied %v, want flags and closings", rep.Applied)
	}
}

// An import by an account that may not administer every establishment of
// the feed is refused whole, dry run included, and writes nothing.
func TestImportRefusedForAnotherEstablishmentsAdministrator(t *testing.T) {
	x := newHarness(t, nil)
	for _, uai := range []string{"0840003C", "0130001A"} {
		if _, err := x.h.RegisterEstablishment(x.ctx, commands.Request{System: true}, domain.RegisterEstablishment{
			UAI: uai, Name: "École " + uai, Kind: domain.KindEcole, Departement: uai[:2]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, uai string
		profile   domain.Profile
	}{
		{"admin of another establishment", "0840003C", domain.ProfileAdmin},
		{"admin of one of the feed's two", "0130001A", domain.ProfileAdmin},
		{"personnel", "0130001A", domain.ProfilePersonnel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			actor := x.openActor(t, tc.name, tc.uai, tc.profile)
			for _, dry := range []bool{true, false} {
				opts := DefaultOptions()
				opts.Actor, opts.DryRun = actor, dry
				rep, recs, err := x.run(x.sources(FormatAAF, "", "aaf/full"), opts)
				if !errors.Is(err, ErrRefused) || !errors.Is(err, domain.ErrForbidden) {
					t.Fatalf("dry run %v: err %v, want a forbidden refusal", dry, err)
				}
				if rep == nil || rep.Refused == "" || rep.Events != 0 || len(recs) != 0 {
					t.Fatalf("dry run %v: report %+v, %d records appended", dry, rep, len(recs))
				}
			}
		})
	}
	// An unknown account neither.
	opts := DefaultOptions()
	opts.Actor = uuid.New()
	if _, recs, err := x.run(x.sources(FormatAAF, "", "aaf/full"), opts); !errors.Is(err, domain.ErrForbidden) || len(recs) != 0 {
		t.Fatalf("unknown actor: err %v, %d records", err, len(recs))
	}
}
