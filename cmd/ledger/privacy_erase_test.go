package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// TestEraseSubject: on both stores, a student's sanction reason, the
// reason their parent declared for an absence and a message they wrote
// are stored encrypted; once the student is erased (ledger privacy
// erase), none of them is left in the database's files, the history
// still verifies, the read models rebuilt show the placeholder, another
// person's data is untouched and the indicators are unchanged.
func TestEraseSubject(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testErase(t, "sqlite:"+filepath.Join(dir, "ledger.db"), func(t *testing.T) []string { return filesUnder(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.MustDatabase(t)
		testErase(t, dsn, func(t *testing.T) []string { return postgresFiles(t, dsn) })
	})
}

func testErase(t *testing.T, store string, files func(t *testing.T) []string) {
	ctx := context.Background()
	cfg := Config{Store: store, ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	creds, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAuth()
	now := parisTime(t, "2026-12-07 12:00")
	d := &demoApp{app: a, cfg: cfg, creds: creds}
	d.seed(t, now)
	h, err := a.handlersAt(func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}

	lea, parent, teacher := demoStudentID(0), demoID("account", "parent.durand"), demoID("account", "prof.garcia")
	head := demoID("account", "principale.aubert")
	mark := strings.ReplaceAll(uuid.NewString(), "-", "")
	sanctionMark, declaredMark, bodyMark, otherMark := "sanction"+mark, "declared"+mark, "body"+mark, "other"+mark
	sanction := uuid.New()
	as := func(who uuid.UUID) commands.Request { return commands.Request{Actor: who} }
	if _, err := h.PronounceSanction(ctx, as(head), domain.PronounceSanction{Sanction: sanction, Student: lea,
		Kind: domain.SanctionWarning, Date: domain.DateOf(now), Reason: sanctionMark}); err != nil {
		t.Fatal(err)
	}
	absence := lastAbsence(t, d, lea)
	if _, err := h.DeclareAbsenceReason(ctx, as(parent), domain.DeclareAbsenceReason{Lesson: absence.Lesson, Student: lea, Reason: declaredMark}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.SendMessage(ctx, as(lea), domain.SendMessage{ToAccounts: []uuid.UUID{teacher}, Subject: "Question", Body: bodyMark}); err != nil {
		t.Fatal(err)
	}
	// Another person's data, which the erasure leaves alone.
	if _, err := h.SendMessage(ctx, as(teacher), domain.SendMessage{ToAccounts: []uuid.UUID{parent}, Subject: "Réponse", Body: otherMark}); err != nil {
		t.Fatal(err)
	}

	// The log holds ciphertext only: no event's payload holds a marker.
	for _, r := range d.records(t) {
		for _, m := range []string{sanctionMark, declaredMark, bodyMark, otherMark} {
			if bytes.Contains(r.Data, []byte(m)) {
				t.Fatalf("event %s (%s) holds %q in clear", r.ID, r.Type, m)
			}
		}
	}
	d.rebuild(t)
	// The read models hold them in clear until the erasure: the search of
	// the files finds them (it would find them after, if they were left).
	checkpoint(t, a.store)
	if found := search(t, files(t), sanctionMark, declaredMark, bodyMark); len(found) == 0 {
		t.Fatal("no marker in the database's files before the erasure: the search finds nothing")
	}
	before := indicators(t, a)

	var out bytes.Buffer
	if err := a.erase(ctx, domain.EraseSubject{Subject: lea, Reason: "demande du 3 décembre", Basis: "RGPD art. 17"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	checkpoint(t, a.store)
	if found := search(t, files(t), sanctionMark, declaredMark, bodyMark); len(found) > 0 {
		t.Errorf("after the erasure, the database's files hold %v", found)
	}

	// The history still verifies.
	rep, err := a.store.(verifier).Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	// The read models show the placeholder; another person's data stays.
	file, err := a.queries.StudentFile(ctx, lea, domain.DateOf(now).AddDays(-400), domain.DateOf(now))
	if err != nil {
		t.Fatal(err)
	}
	var reason string
	for _, s := range file.Sanctions {
		if s.Sanction == sanction {
			reason = s.Reason
		}
	}
	if reason != subjectkeys.Placeholder {
		t.Errorf("the sanction's reason in the student file: %q", reason)
	}
	inbox, err := a.queries.Mailbox(ctx, parent, projections.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !mailboxHolds(t, a, parent, inbox, otherMark) {
		t.Error("another person's message was erased too")
	}
	// The log reads with placeholders, and the erasure is in it.
	erased, scrubbed := false, false
	for _, r := range d.records(t) {
		e, err := a.reg.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		switch e := e.(type) {
		case domain.SanctionPronounced:
			if e.Sanction == sanction && e.Reason != subjectkeys.Placeholder {
				t.Errorf("sanction reason decodes to %q", e.Reason)
			}
		case domain.SubjectErased:
			erased = e.Subject == lea && e.Basis == "RGPD art. 17" && r.Metadata.Command == commands.CmdEraseSubject
		case domain.SubjectScrubbed:
			scrubbed = e.Subject == lea && erased
		}
	}
	if !erased || !scrubbed {
		t.Errorf("erasure in the log: %v, its scrub after it: %v", erased, scrubbed)
	}
	if after := indicators(t, a); !reflect.DeepEqual(before, after) {
		t.Errorf("indicators changed by the erasure:\n before %+v\n after  %+v", before, after)
	}
	// Nothing personal about the erased student is written again; a second
	// erasure is refused, its key destroyed still.
	_, err = h.SendMessage(ctx, as(lea), domain.SendMessage{ToAccounts: []uuid.UUID{teacher}, Subject: "Encore", Body: "encore"})
	if !errors.Is(err, domain.ErrSubjectErased) {
		t.Errorf("a message by the erased student: %v, want ErrSubjectErased", err)
	}
	if _, err := a.commands.EraseSubject(ctx, commands.Request{System: true}, domain.EraseSubject{Subject: lea, Reason: "x", Basis: "y"}); !errors.Is(err, domain.ErrSubjectErased) {
		t.Errorf("second erasure: %v", err)
	}
}

// lastAbsence returns the last absence of student recorded in the log.
func lastAbsence(t *testing.T, d *demoApp, student uuid.UUID) domain.AbsenceRecorded {
	t.Helper()
	var last domain.AbsenceRecorded
	for _, r := range d.records(t) {
		if e, err := d.reg.DecodeRecord(r); err == nil {
			if a, ok := e.(domain.AbsenceRecorded); ok && a.Student == student {
				last = a
			}
		}
	}
	if last.Absence == uuid.Nil {
		t.Fatal("the demo has no absence of the student")
	}
	return last
}

// mailboxHolds reports whether a mailbox entry's message has body.
func mailboxHolds(t *testing.T, a *app, account uuid.UUID, inbox projections.List[projections.MailboxEntry], body string) bool {
	t.Helper()
	for _, m := range inbox.Items {
		if strings.Contains(m.Subject, "Réponse") {
			msg, err := a.queries.Message(context.Background(), m.Message)
			if err != nil {
				t.Fatal(err)
			}
			return msg.Body == body
		}
	}
	return false
}

// indicators are the demo establishment's indicators of its year.
func indicators(t *testing.T, a *app) []projections.IndicatorRow {
	t.Helper()
	q := projections.IndicatorQuery{From: domain.MustDate("2026-09-01"), To: domain.MustDate("2026-12-31"),
		Establishment: DemoUAI, Granularity: projections.Granularity("month")}
	rows, err := a.queries.Indicators(context.Background(), q, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Items) == 0 {
		t.Fatal("no indicators")
	}
	replayed, err := projections.ReplayIndicators(context.Background(), a.store, a.reg, a.loc, q, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows.Items, replayed) {
		t.Errorf("indicators %+v, replayed %+v", rows.Items, replayed)
	}
	return rows.Items
}

// checkpoint writes what the server keeps in memory into the table files
// (Postgres; SQLite's are read with their write-ahead log).
func checkpoint(t *testing.T, store eventStore) {
	t.Helper()
	if s, ok := store.(interface{ Pool() *pgxpool.Pool }); ok {
		if _, err := s.Pool().Exec(context.Background(), "CHECKPOINT"); err != nil {
			t.Fatal(err)
		}
	}
}

// search returns the markers found in files.
func search(t *testing.T, files []string, markers ...string) []string {
	t.Helper()
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markers {
			if bytes.Contains(b, []byte(m)) {
				found = append(found, m+" in "+filepath.Base(f))
			}
		}
	}
	return found
}

// filesUnder lists the files of dir (the SQLite file, its -wal and -shm).
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// postgresFiles lists the files of every relation of the database (tables,
// their TOAST tables and indexes), each segment: the test reads the data
// directory, which it skips when it cannot (but fails under CI).
func postgresFiles(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dataDir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadDir(dataDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Postgres data directory %s is not readable: %v", dataDir, err)
		}
		t.Skipf("the Postgres data directory %s is not readable by this user (%v): the raw files cannot be searched", dataDir, err)
	}
	rows, err := conn.Query(ctx, `SELECT pg_relation_filepath(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 't', 'i', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		AND pg_relation_filepath(c.oid) IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		base := filepath.Join(dataDir, p)
		segs, _ := filepath.Glob(base + ".*")
		out = append(out, base)
		out = append(out, segs...)
	}
	if len(out) == 0 {
		t.Fatal("no relation file")
	}
	return out
}
