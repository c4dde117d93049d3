package subjectexport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/portal"
	"github.com/schoollife/ledger/adapters/subjectexport"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// world is the test school with, for Léa (the student): the absence,
// warning and class message of webtest's school, an incident where she
// is the author and Hugo (another student) the victim, and a message
// Hugo sent her.
func world(t *testing.T) (*webtest.World, *subjectexport.Exporter) {
	t.Helper()
	w := webtest.NewWorld(t)
	a := w.Accounts
	w.Must(w.H.ReportIncident(w.Ctx, webtest.As(a[webtest.AsCPE]), domain.ReportIncident{
		Establishment: w.UAI, OccurredAt: time.Date(2006, 3, 13, 10, 15, 0, 0, webtest.Paris), Place: "Cour",
		Seriousness: domain.SeriousnessSerious, Description: "Hugo bousculé par Léa",
		Protagonists: []domain.Protagonist{{Account: a[webtest.AsStudent], Role: domain.ProtagonistAuthor}, {Account: w.Student2, Role: domain.ProtagonistVictim}},
	}))
	w.Must(w.H.SendMessage(w.Ctx, webtest.As(w.Student2), domain.SendMessage{
		ToAccounts: []uuid.UUID{a[webtest.AsStudent], a[webtest.AsTeacher]}, Subject: "Devoirs", Body: "Tu as noté les exercices ?",
	}))
	w.CatchUp()
	return w, exporter(t, w, 0)
}

func exporter(t *testing.T, w *webtest.World, batch int) *subjectexport.Exporter {
	t.Helper()
	fr, err := portal.French()
	if err != nil {
		t.Fatal(err)
	}
	x, err := subjectexport.New(subjectexport.Config{
		Log: w.Store, Directory: w.Queries, Registry: w.Reg, Recorder: w.H, Words: fr, Location: webtest.Paris,
		Now: w.Clock, Batch: batch, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

type archive struct {
	Subject     uuid.UUID `json:"subject"`
	GeneratedAt time.Time `json:"generated_at"`
	Directory   struct {
		Account struct {
			ID          uuid.UUID `json:"id"`
			DisplayName string    `json:"display_name"`
			Relatives   []struct {
				DisplayName string `json:"display_name"`
			} `json:"relatives"`
			Groups []struct {
				Name string `json:"name"`
			} `json:"groups"`
		} `json:"account"`
		Establishments []struct {
			Name string `json:"name"`
		} `json:"establishments"`
	} `json:"directory"`
	StudentFile []struct {
		Counts struct {
			Absences, Sanctions, Incidents int
		} `json:"counts"`
	} `json:"student_file"`
	Events []struct {
		ID         uuid.UUID       `json:"id"`
		Type       string          `json:"type"`
		Label      string          `json:"label"`
		Time       time.Time       `json:"time"`
		Data       json.RawMessage `json:"data"`
		Redacted   string          `json:"redacted"`
		OtherRoles []string        `json:"other_protagonists"`
	} `json:"events"`
}

func decodeArchive(t *testing.T, b []byte) archive {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("not one valid JSON document:\n%s", b)
	}
	var a archive
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// expected returns the ids of the events of the log about student, found
// the plain way: every event whose subjects include them, and the
// messages sent to their class by someone else.
func expected(t *testing.T, w *webtest.World, student uuid.UUID) []uuid.UUID {
	var ids []uuid.UUID
	for _, rec := range w.Records(w.Store) {
		e, err := w.Reg.DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		m, isMsg := e.(domain.MessageSent)
		if slices.Contains(domain.Subjects(e), student) || isMsg && m.From != student && slices.Contains(m.ToGroups, w.Class) {
			ids = append(ids, rec.ID)
		}
	}
	return ids
}

// TestStudentArchive: a student's JSON archive is one valid document
// holding her directory entry, her current file, and exactly the events
// of the log about her, in log order, each with its French label;
// Hugo, the other protagonist of her incident, is neither named nor
// identified, and only his role is shown.
func TestStudentArchive(t *testing.T) {
	w, x := world(t)
	lea := w.Accounts[webtest.AsStudent]
	var out bytes.Buffer
	if err := x.Export(w.Ctx, &out, webtest.As(lea), lea, domain.ExportJSON); err != nil {
		t.Fatal(err)
	}
	a := decodeArchive(t, out.Bytes())
	if a.Subject != lea || a.Directory.Account.DisplayName != "Léa" || !a.GeneratedAt.Equal(w.Now) {
		t.Fatalf("head: %+v", a)
	}
	if len(a.Directory.Account.Relatives) != 1 || a.Directory.Account.Relatives[0].DisplayName != "Parent de Léa" ||
		len(a.Directory.Account.Groups) != 1 || a.Directory.Account.Groups[0].Name != "6A" ||
		len(a.Directory.Establishments) != 1 || a.Directory.Establishments[0].Name != "Collège Mistral" {
		t.Fatalf("directory: %+v", a.Directory)
	}
	if len(a.StudentFile) != 1 || a.StudentFile[0].Counts.Absences != 1 || a.StudentFile[0].Counts.Sanctions != 1 || a.StudentFile[0].Counts.Incidents != 1 {
		t.Fatalf("student file: %+v", a.StudentFile)
	}
	want := expected(t, w, lea)
	var got []uuid.UUID
	types := map[string]int{}
	for i, e := range a.Events {
		got = append(got, e.ID)
		types[e.Type]++
		if e.Label == "" || e.Label == e.Type {
			t.Errorf("%s has no French label: %q", e.Type, e.Label)
		}
		if i > 0 && e.Time.Before(a.Events[i-1].Time) {
			t.Errorf("event %d before the one it follows", i)
		}
	}
	// The export records itself before it reads the log: it is its last
	// event.
	if last := a.Events[len(a.Events)-1]; last.Type != "privacy.data_exported.v1" {
		t.Fatalf("last event %s, want the export's own record", last.Type)
	}
	if !slices.Equal(got[:len(got)-1], want[:len(want)-1]) || len(got) != len(want) {
		t.Fatalf("events %v, want those of the log about her %v", got, want)
	}
	for _, typ := range []string{"absence.recorded.v1", "sanction.pronounced.v1", "incident.reported.v1", "message.sent.v1", "relative.linked.v1", "group.member_joined.v1"} {
		if types[typ] == 0 {
			t.Errorf("no %s in %v", typ, types)
		}
	}
	if types["message.sent.v1"] != 2 {
		t.Errorf("%d messages, want the class message and Hugo's", types["message.sent.v1"])
	}
	for _, e := range a.Events {
		switch e.Type {
		case "incident.reported.v1":
			// Hugo is in the incident only as a role.
			if e.Redacted == "" || !slices.Equal(e.OtherRoles, []string{"victim"}) || bytes.Contains(e.Data, []byte(w.Student2.String())) {
				t.Errorf("incident: redacted %q, others %v, data %s", e.Redacted, e.OtherRoles, e.Data)
			}
		case "message.sent.v1":
			// Hugo's message names him as its sender, and no other
			// recipient than her.
			var m domain.MessageSent
			if err := json.Unmarshal(e.Data, &m); err != nil {
				t.Fatal(err)
			}
			if m.From == w.Student2 && (!slices.Equal(m.ToAccounts, []uuid.UUID{lea}) || e.Redacted == "") {
				t.Errorf("Hugo's message: %+v, redacted %q", m, e.Redacted)
			}
		}
	}
	body := out.String()
	if strings.Contains(body, "Hugo bousculé") {
		t.Error("the archive holds the incident's description")
	}
	for _, kept := range []string{"Tu as noté les exercices ?", "Autorisation à signer.", "Insolence"} {
		if !strings.Contains(body, kept) {
			t.Errorf("the archive lacks %q", kept)
		}
	}
}

// TestStudentSummary: the readable summary is a French HTML page with its
// sections, dates in French and labels for codes, the teacher's name, and
// not Hugo's.
func TestStudentSummary(t *testing.T) {
	w, x := world(t)
	lea := w.Accounts[webtest.AsStudent]
	var out bytes.Buffer
	if err := x.Export(w.Ctx, &out, webtest.As(lea), lea, domain.ExportHTML); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, want := range []string{
		`<html lang="fr">`, "Données personnelles de Léa", "Identité et annuaire", "Collège Mistral", "Parent de Léa",
		"Vie scolaire", "Messages envoyés et reçus", "Avertissement", "Insolence", "Auteur", "Victime",
		"identité non communiquée", "Sortie au musée", "Autorisation à signer.", "M. Prof", "Mme Principale",
		"lundi 13 mars 2006", "Export des données personnelles",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the summary lacks %q", want)
		}
	}
	for _, leak := range []string{"Hugo", w.Student2.String(), "incident.reported.v1", "avertissement", "<script"} {
		if strings.Contains(page, leak) {
			t.Errorf("the summary holds %q", leak)
		}
	}
}

// TestParentExport: a legal guardian exports their child's data; another
// parent, a teacher and the head are refused and nothing is written or
// recorded; an administrator exports on request.
func TestParentExport(t *testing.T) {
	w, x := world(t)
	a := w.Accounts
	lea := a[webtest.AsStudent]
	var out bytes.Buffer
	if err := x.Export(w.Ctx, &out, webtest.As(a[webtest.AsRelative]), lea, domain.ExportJSON); err != nil {
		t.Fatal(err)
	}
	if got := decodeArchive(t, out.Bytes()); got.Subject != lea || len(got.Events) == 0 {
		t.Fatalf("the parent's export: %+v", got)
	}
	other := uuid.New()
	w.Must(w.H.OpenAccount(w.Ctx, webtest.System(), domain.OpenAccount{Account: other, Establishment: w.UAI, Profile: domain.ProfileRelative, DisplayName: "Parent de Hugo"}))
	w.Must(w.H.LinkRelative(w.Ctx, webtest.System(), domain.LinkRelative{Student: w.Student2, Relative: other, LegalGuardian: true}))
	before := len(w.Records(w.Store))
	for _, who := range []uuid.UUID{other, a[webtest.AsTeacher], a[webtest.AsHead]} {
		out.Reset()
		err := x.Export(w.Ctx, &out, webtest.As(who), lea, domain.ExportHTML)
		if !errors.Is(err, domain.ErrForbidden) || out.Len() > 0 {
			t.Fatalf("%s: %v, %d bytes written", who, err, out.Len())
		}
	}
	if after := len(w.Records(w.Store)); after != before {
		t.Fatalf("refused exports recorded %d events", after-before)
	}
	out.Reset()
	if err := x.Export(w.Ctx, &out, webtest.As(a[webtest.AsAdmin]), lea, domain.ExportHTML); err != nil || !strings.Contains(out.String(), "Léa") {
		t.Fatalf("the administrator's export: %v", err)
	}
	// Each export is traceable: who exported whose data, in which format.
	var traces []domain.DataExported
	for _, rec := range w.Records(w.Store) {
		if rec.Type == "privacy.data_exported.v1" {
			e, _ := w.Reg.DecodeRecord(rec)
			traces = append(traces, e.(domain.DataExported))
		}
	}
	if len(traces) != 2 || traces[0] != (domain.DataExported{Subject: lea, Exporter: a[webtest.AsRelative], Format: domain.ExportJSON}) ||
		traces[1] != (domain.DataExported{Subject: lea, Exporter: a[webtest.AsAdmin], Format: domain.ExportHTML}) {
		t.Fatalf("traces %+v", traces)
	}
}

// countingLog is the log, counting what an export reads of it, and
// checking when asked what the export holds elsewhere meanwhile.
type countingLog struct {
	subjectexport.Log
	reads, most int
	onRead      func(n int)
}

func (l *countingLog) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	recs, err := l.Log.ReadAll(ctx, after, limit)
	l.reads++
	l.most = max(l.most, len(recs))
	if l.onRead != nil {
		l.onRead(l.reads)
	}
	return recs, err
}

// flushes records how many reads of the log were made at each flush.
type flushes struct {
	bytes.Buffer
	log *countingLog
	at  []int
}

func (f *flushes) Flush() error { f.at = append(f.at, f.log.reads); return nil }

// TestStreams: with a few thousand events about the student, the export
// reads the log a batch at a time, and writes while it reads: the archive
// reaches its writer before the log is read to its end, and the summary's
// sections wait on disk, not in memory.
func TestStreams(t *testing.T) {
	w, _ := world(t)
	lea := w.Accounts[webtest.AsStudent]
	const n = 3000
	for i := range n {
		w.Must(w.H.RecordConnection(w.Ctx, webtest.As(lea), domain.RecordConnection{Method: domain.SignInPassword}))
		if i%3 == 0 {
			w.Must(w.H.RecordConnection(w.Ctx, webtest.As(w.Student2), domain.RecordConnection{Method: domain.SignInPassword}))
		}
	}
	const batch = 100
	fr, err := portal.French()
	if err != nil {
		t.Fatal(err)
	}
	spools := t.TempDir()
	log := &countingLog{Log: w.Store}
	x, err := subjectexport.New(subjectexport.Config{
		Log: log, Directory: w.Queries, Registry: w.Reg, Recorder: w.H, Words: fr, Location: webtest.Paris,
		Now: w.Clock, Batch: batch, TempDir: spools,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := &flushes{log: log}
	if err := x.Export(w.Ctx, out, webtest.As(lea), lea, domain.ExportJSON); err != nil {
		t.Fatal(err)
	}
	total := log.reads
	if log.most > batch || total < n/batch {
		t.Fatalf("read %d times, at most %d events at a time (batch %d)", total, log.most, batch)
	}
	if len(out.at) < 2 || out.at[0] >= total/2 {
		t.Fatalf("flushed after reads %v of %d: the archive waited for the whole log", out.at, total)
	}
	a := decodeArchive(t, out.Bytes())
	if got, want := len(a.Events), len(expected(t, w, lea)); got != want {
		t.Fatalf("%d events, want %d", got, want)
	}

	// The summary: halfway through the log, its sections are on disk.
	var onDisk int64
	log.reads, log.onRead = 0, func(r int) {
		if r != total/2 {
			return
		}
		entries, _ := os.ReadDir(spools)
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				onDisk += info.Size()
			}
		}
	}
	out = &flushes{log: log}
	if err := x.Export(w.Ctx, out, webtest.As(lea), lea, domain.ExportHTML); err != nil {
		t.Fatal(err)
	}
	if onDisk < 100_000 {
		t.Fatalf("%d bytes of sections on disk halfway through the log", onDisk)
	}
	if strings.Count(out.String(), "<tr><td>") < n {
		t.Fatalf("the summary shows %d events", strings.Count(out.String(), "<tr><td>"))
	}
	if entries, _ := os.ReadDir(spools); len(entries) != 0 {
		t.Fatalf("%d spool files left", len(entries))
	}
}
