package api

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/timetableimport"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// everyWeek is EDT's mask of the 2026-2027 school weeks of zone A.
const everyWeek = "35158501227774"

// timetableEDT is an EDT export for the world's class 6A: mathematics on
// Mondays with its teacher, M. Prof.
const timetableEDT = `<?xml version="1.0" encoding="ISO-8859-1"?>
<EXPORT_EDT>
  <AnneeScolaire DatePremierJourSemaine1="2026-08-31"/>
  <GrilleHoraire><Place Numero="0" LibelleHeureDebut="08h00" LibelleHeureFin="08h55"/></GrilleHoraire>
  <Matiere Ident="M1" Code="MATHS" Libelle="MATHÉMATIQUES"/>
  <Professeur Ident="P1" Nom="Prof" Prenom="M."/>
  <Classe Ident="C1" Nom="6A"/>
  <Cours><Cours Ident="K1" Jour="1" NumeroPlaceDebut="0" NombrePlaces="1"><Matiere Ident="M1"/>
    <Professeur Ident="P1" Semaines="` + everyWeek + `"/><Classe Ident="C1" Semaines="` + everyWeek + `"/></Cours></Cours>
</EXPORT_EDT>
`

// timetableUpload is the upload of timetableEDT for the world's
// establishment, with more fields.
func timetableUpload(w *world, fields map[string]string) any {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	f := map[string]string{"format": "edt", "uai": w.UAI, "zone": "A", "from": "2026-08-31"}
	for k, v := range fields {
		f[k] = v
	}
	for k, v := range f {
		if err := mw.WriteField(k, v); err != nil {
			w.T.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "edt.xml")
	if err == nil {
		_, err = fw.Write([]byte(timetableEDT))
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		w.T.Fatal(err)
	}
	return webtest.MultipartBody{ContentType: mw.FormDataContentType(), Data: buf.Bytes()}
}

func TestTimetableImportAPI(t *testing.T) {
	w := newWorld(t)
	// The world's clock is in 2006; the shipped calendar starts in 2026:
	// these handlers run on a copy of the log with a clock in 2026.
	_, auth, store := w.Fork(t)
	h, err := commands.New(commands.Config{Store: store, Registry: w.Reg,
		Now: func() time.Time { return time.Date(2026, time.August, 28, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	s := w.serverWith(h, auth, store, nil)
	post := func(body any, token string) response {
		return do(t, s, request{method: "POST", path: "/api/v1/timetable-imports", body: body, token: token})
	}
	before := len(w.Records(store))

	if r := post(timetableUpload(w, nil), tokenOf(asTeacher)); r.status != http.StatusForbidden {
		t.Fatalf("teacher: %d %s", r.status, r.body)
	}
	r := post(timetableUpload(w, map[string]string{"dry_run": "true"}), tokenOf(asAdmin))
	if r.status != http.StatusOK {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	rep := mustDecode[timetableimport.Report](t, r)
	if !rep.DryRun || rep.Plan == nil || len(rep.Plan.Add) == 0 || rep.Added != 0 || len(w.Records(store)) != before {
		t.Fatalf("dry run report %+v", rep)
	}

	r = post(timetableUpload(w, nil), tokenOf(asAdmin))
	rep = mustDecode[timetableimport.Report](t, r)
	recs := w.Records(store)[before:]
	if r.status != http.StatusOK || rep.Added == 0 || len(recs) != rep.Added || rep.Actor != w.Accounts[asAdmin] {
		t.Fatalf("import: %d, report %+v, %d records", r.status, rep, len(recs))
	}
	for _, rec := range recs {
		if m := rec.Metadata; rec.Type != (domain.LessonScheduled{}).EventType() || m.CorrelationID != rep.CorrelationID ||
			m.Actor != w.Accounts[asAdmin] || m.Profile != domain.ProfileAdmin {
			t.Fatalf("record %s %s", rec.Type, rec.Metadata)
		}
	}
	r = post(timetableUpload(w, nil), tokenOf(asAdmin))
	if rep = mustDecode[timetableimport.Report](t, r); rep.Added+rep.Removed != 0 || len(w.Records(store)) != before+len(recs) {
		t.Fatalf("re-import: %+v", rep)
	}

	for name, c := range map[string]struct {
		body   any
		status int
	}{
		"zone D":        {timetableUpload(w, map[string]string{"zone": "D"}), http.StatusBadRequest},
		"format":        {timetableUpload(w, map[string]string{"format": "pronote"}), http.StatusBadRequest},
		"bad share":     {timetableUpload(w, map[string]string{"max_unmatched": "lots"}), http.StatusBadRequest},
		"not multipart": {map[string]string{"format": "edt"}, http.StatusUnsupportedMediaType},
	} {
		if r := post(c.body, tokenOf(asAdmin)); r.status != c.status || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s %s", name, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
}
