package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// storeFiles is a store's spec and how to list the files of its database.
type storeFiles struct {
	spec  string
	files func(t *testing.T) []string
}

func sqliteStore(t *testing.T) storeFiles {
	dir := t.TempDir()
	return storeFiles{spec: "sqlite:" + filepath.Join(dir, "ledger.db"), files: func(t *testing.T) []string { return filesUnder(t, dir) }}
}

func postgresStore(t *testing.T) storeFiles {
	dsn := pgtest.MustDatabase(t)
	return storeFiles{spec: dsn, files: func(t *testing.T) []string {
		pgCheckpoint(t, dsn)
		return postgresFiles(t, dsn)
	}}
}

// pgCheckpoint writes what Postgres keeps in memory into the table files.
func pgCheckpoint(t *testing.T, dsn string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
}

// TestPrivacyReseal: a store written before sealing (the demo and a few
// acts recorded by handlers with no sealer, one act sealed, a student
// erased, which leaves her clear texts in the log) is copied by `ledger
// privacy reseal`: the copy's files hold none of the texts, its history
// verifies, its events read as the source's (the erased student's as the
// placeholder), the keys and credentials moved, and an erasure in the copy
// then removes a person's texts from its files.
func TestPrivacyReseal(t *testing.T) {
	t.Parallel()
	t.Run("sqlite to sqlite", func(t *testing.T) {
		t.Parallel()
		testReseal(t, sqliteStore(t), sqliteStore(t))
	})
	t.Run("postgres to postgres", func(t *testing.T) {
		t.Parallel()
		testReseal(t, postgresStore(t), postgresStore(t))
	})
	t.Run("sqlite to postgres", func(t *testing.T) {
		t.Parallel()
		testReseal(t, sqliteStore(t), postgresStore(t))
	})
}

// unsealedSource is what writeUnsealed recorded.
type unsealedSource struct {
	// erased is the erased student; other the teacher whose texts stay.
	erased, other uuid.UUID
	// erasedMarks are texts about the erased student, otherMarks the
	// teacher's (one in clear, one sealed), names the demo's people's.
	erasedMarks, otherMarks, names []string
	sanction                       uuid.UUID
	events                         int
}

// writeUnsealed writes the demo into store as a ledger with no sealer
// did, then a sealed message, then erases a student.
func writeUnsealed(t *testing.T, store string) unsealedSource {
	t.Helper()
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
	// Before sealing: the handlers have no sealer.
	sealer := a.commandsConfig.Sealer
	a.commandsConfig.Sealer = nil
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
	src := unsealedSource{erased: lea, other: teacher, sanction: uuid.New(),
		erasedMarks: []string{"sanction" + mark, "declared" + mark, "body" + mark},
		otherMarks:  []string{"clear" + mark, "sealed" + mark},
		names:       []string{"Léa Durand", "Claire Durand"}}
	as := func(who uuid.UUID) commands.Request { return commands.Request{Actor: who} }
	if _, err := h.PronounceSanction(ctx, as(head), domain.PronounceSanction{Sanction: src.sanction, Student: lea,
		Kind: domain.SanctionWarning, Date: domain.DateOf(now), Reason: src.erasedMarks[0]}); err != nil {
		t.Fatal(err)
	}
	absence := lastAbsence(t, d, lea)
	if _, err := h.DeclareAbsenceReason(ctx, as(parent), domain.DeclareAbsenceReason{Lesson: absence.Lesson, Student: lea, Reason: src.erasedMarks[1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.SendMessage(ctx, as(lea), domain.SendMessage{ToAccounts: []uuid.UUID{teacher}, Subject: "Question", Body: src.erasedMarks[2]}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.SendMessage(ctx, as(teacher), domain.SendMessage{ToAccounts: []uuid.UUID{parent}, Subject: "Réponse", Body: src.otherMarks[0]}); err != nil {
		t.Fatal(err)
	}
	// Sealing on: a message sealed with the teacher's key, then the
	// student's erasure, which cannot reach her texts in clear.
	a.commandsConfig.Sealer = sealer
	h, err = a.handlersAt(func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.SendMessage(ctx, as(teacher), domain.SendMessage{ToAccounts: []uuid.UUID{parent}, Subject: "Suite", Body: src.otherMarks[1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.EraseSubject(ctx, commands.Request{System: true}, domain.EraseSubject{Subject: lea, Reason: "demande du 3 décembre", Basis: "RGPD art. 17"}); err != nil {
		t.Fatal(err)
	}
	recs := readableRecords(t, a.store)
	src.events = len(recs)
	clear := 0
	for _, r := range recs {
		for _, m := range append(append([]string{}, src.erasedMarks...), src.otherMarks...) {
			if bytes.Contains(r.Data, []byte(m)) {
				clear++
			}
		}
	}
	if clear != 4 {
		t.Fatalf("%d of the 4 texts written in clear are in the source's log", clear)
	}
	return src
}

// readableRecords reads the whole log once every event stored is readable
// (on Postgres, a transaction of another test may hold the newest back).
func readableRecords(t *testing.T, store eventStore) []domain.Record {
	t.Helper()
	ctx := context.Background()
	want := countEvents(ctx, store)
	var recs []domain.Record
	for {
		page, err := store.ReadAll(ctx, recsEnd(recs), 0)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, page...)
		if len(recs) >= want {
			return recs
		}
		if err := store.Wait(ctx, recsEnd(recs)); err != nil {
			t.Fatal(err)
		}
	}
}

// recsEnd is the position after which the log is read next.
func recsEnd(recs []domain.Record) domain.Position {
	if len(recs) == 0 {
		return domain.Start
	}
	return recs[len(recs)-1].Position
}

func testReseal(t *testing.T, from, to storeFiles) {
	ctx := context.Background()
	src := writeUnsealed(t, from.spec)

	var out, errOut bytes.Buffer
	m := NewMain(&out, &errOut, func(string) string { return "" })
	if err := m.Run(ctx, []string{"privacy", "reseal", "--from", from.spec, "--to", to.spec, "--batch", "300"}); err != nil {
		t.Fatalf("reseal: %v\n%s%s", err, out.String(), errOut.String())
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "history intact") {
		t.Errorf("no verification of the copy in the report:\n%s", out.String())
	}

	// No text of a person is left in clear in the copy's files.
	all := append(append(append([]string{}, src.erasedMarks...), src.otherMarks...), src.names...)
	if found := search(t, to.files(t), all...); len(found) > 0 {
		t.Errorf("the copy's files hold %v", found)
	}
	// The source still does (the search would find them).
	if found := search(t, from.files(t), src.erasedMarks...); len(found) == 0 {
		t.Error("the source's files hold none of the texts: the search finds nothing")
	}

	cfg := Config{Store: to.spec, ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rep, err := a.store.(verifier).Verify(ctx)
	if err != nil || !rep.OK() || rep.Events != src.events+1 || rep.Sealed != rep.Events {
		t.Fatalf("verify the copy: %+v, %v (want %d events, all sealed)", rep, err, src.events+1)
	}
	// The copy's log: the record of the copy, then the source's events,
	// which read as they did but the erased student's texts.
	recs := readableRecords(t, a.store)
	first, err := a.reg.DecodeRecord(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := first.(domain.StoreResealed); !ok || r.Events != uint64(src.events) || r.SourceSeal == "" ||
		recs[0].Metadata.Command != commands.CmdResealStore || recs[0].Metadata.Profile != domain.ProfileSystem {
		t.Errorf("first event %+v, %+v", first, recs[0].Metadata)
	}
	bodies := map[string]bool{}
	for _, r := range recs[1:] {
		e, err := a.reg.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		switch e := e.(type) {
		case domain.SanctionPronounced:
			if e.Sanction == src.sanction && e.Reason != subjectkeys.Placeholder {
				t.Errorf("the erased student's sanction reads %q", e.Reason)
			}
		case domain.MessageSent:
			bodies[e.Body] = true
		}
	}
	if !bodies[src.otherMarks[0]] || !bodies[src.otherMarks[1]] || !bodies[subjectkeys.Placeholder] || bodies[src.erasedMarks[2]] {
		t.Errorf("message bodies in the copy: %v", bodies)
	}
	// Credentials moved, but the erased student's; no session did.
	creds, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAuth()
	if id, _, err := creds.Account(ctx, "prof.garcia"); err != nil || id != src.other {
		t.Errorf("the teacher's credentials in the copy: %s, %v", id, err)
	}
	if _, _, err := creds.Account(ctx, demoStudentLogin(0)); err == nil {
		t.Error("the erased student's credentials were copied")
	}

	// Erasure now works in the copy: the teacher's texts leave its files.
	var eout bytes.Buffer
	if err := a.erase(ctx, domain.EraseSubject{Subject: src.other, Reason: "départ", Basis: "RGPD art. 17"}, &eout, io.Discard); err != nil {
		t.Fatal(err)
	}
	msgs := 0
	for _, r := range readableRecords(t, a.store) {
		e, err := a.reg.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := e.(domain.MessageSent); ok && e.From == src.other {
			msgs++
			if e.Body != subjectkeys.Placeholder {
				t.Errorf("after the teacher's erasure, a message of theirs reads %q", e.Body)
			}
		}
	}
	if msgs < 2 {
		t.Errorf("%d messages of the teacher in the copy", msgs)
	}
	if rep, err := a.store.(verifier).Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("verify after the erasure: %+v, %v", rep, err)
	}
}

// TestPrivacyResealResumes: a copy interrupted after its first batches
// resumes where it stopped, and ends checked and verified; run once more,
// it has nothing left to copy.
func TestPrivacyResealResumes(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testResealResumes(t, sqliteStore(t), sqliteStore(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testResealResumes(t, postgresStore(t), postgresStore(t))
	})
}

func testResealResumes(t *testing.T, from, to storeFiles) {
	ctx := context.Background()
	src := writeUnsealed(t, from.spec)

	interrupted, cancel := context.WithCancel(ctx)
	defer cancel()
	var batches atomic.Int32
	var out bytes.Buffer
	cfg := Config{LogLevel: "info", LogFormat: "text"}
	rs := resealer{cfg: &cfg, log: slog.New(slog.DiscardHandler), batch: 100, stdout: &out, stderr: io.Discard,
		progressed: func(int) {
			if batches.Add(1) == 2 {
				cancel()
			}
		}}
	if _, err := rs.run(interrupted, from.spec, to.spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy: %v", err)
	}
	rs.progressed = nil
	out.Reset()
	rep, err := rs.run(ctx, from.spec, to.spec)
	if err != nil {
		t.Fatalf("resumed copy: %v\n%s", err, out.String())
	}
	if rep.Resumed < 200 || rep.Resumed >= src.events || rep.Compared != src.events || !rep.Verify.OK() {
		t.Errorf("resumed after %d events of %d, compared %d, verify %+v", rep.Resumed, src.events, rep.Compared, rep.Verify)
	}
	if !strings.Contains(out.String(), "resuming the copy") {
		t.Errorf("the report does not say the copy resumed:\n%s", out.String())
	}
	out.Reset()
	rep, err = rs.run(ctx, from.spec, to.spec)
	if err != nil || rep.Resumed != src.events || rep.Compared != src.events {
		t.Errorf("third run: %+v, %v\n%s", rep, err, out.String())
	}
}

// TestPrivacyResealRefuses: a destination holding a ledger of its own, a
// source that is an EventStoreDB, and a source that changed since the copy
// began are refused.
func TestPrivacyResealRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from, other := sqliteStore(t), sqliteStore(t)
	writeUnsealed(t, from.spec)
	writeUnsealed(t, other.spec)
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := NewMain(&out, &errOut, func(string) string { return "" }).Exit(ctx, append([]string{"privacy", "reseal"}, args...))
		return code, out.String() + errOut.String()
	}
	if code, msg := run("--from", from.spec, "--to", other.spec); code == 0 || !strings.Contains(msg, "not empty") {
		t.Errorf("a destination with a ledger: exit %d, %s", code, msg)
	}
	if code, msg := run("--from", "esdb://127.0.0.1:2113?tls=false", "--to", other.spec); code != 2 || !strings.Contains(msg, "EventStoreDB") {
		t.Errorf("an EventStoreDB source: exit %d, %s", code, msg)
	}
	if code, msg := run("--from", from.spec, "--to", from.spec); code != 2 {
		t.Errorf("the same store: exit %d, %s", code, msg)
	}
	// A copy begun, then the source written to: the copy is not resumed.
	to := sqliteStore(t)
	if code, msg := run("--from", from.spec, "--to", to.spec); code != 0 {
		t.Fatalf("copy: exit %d, %s", code, msg)
	}
	cfg := Config{Store: from.spec, ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.commands.SendMessage(ctx, commands.Request{Actor: demoID("account", "prof.garcia")},
		domain.SendMessage{ToAccounts: []uuid.UUID{demoID("account", "parent.durand")}, Subject: "Après", Body: "après la copie"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if code, msg := run("--from", from.spec, "--to", to.spec); code == 0 || !strings.Contains(msg, "changed since the copy began") {
		t.Errorf("a source changed since: exit %d, %s", code, msg)
	}
}
