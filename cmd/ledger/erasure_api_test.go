package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// TestEraseThroughTheAPI: on both stores, through the real program, the
// demo's administrator erases a student with POST
// /api/v1/accounts/{account}/erasure and follows the scrub to its end; a
// second student whose erasure was recorded before the server started
// (a scrub interrupted) is scrubbed on start. Then the raw bytes of the
// database's files hold none of the students' texts, the student's file
// page shows the placeholder, a second erasure is refused, and once the
// server stopped the history verifies.
func TestEraseThroughTheAPI(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testEraseAPI(t, "sqlite:"+filepath.Join(dir, "ledger.db"), func(t *testing.T) []string { return filesUnder(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.MustDatabase(t)
		testEraseAPI(t, dsn, func(t *testing.T) []string {
			mustCheckpoint(t, dsn)
			return postgresFiles(t, dsn)
		})
	})
}

func testEraseAPI(t *testing.T, store string, files func(t *testing.T) []string) {
	ctx := context.Background()
	lea, hugo := demoStudentID(0), demoStudentID(1)
	mark := strings.ReplaceAll(uuid.NewString(), "-", "")
	leaMark, hugoMark := "lea"+mark, "hugo"+mark

	// The demo, with a sanction for each student, and Hugo erased as a
	// node would before dying: the erasure recorded, no scrub.
	func() {
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
		d := &demoApp{app: a, cfg: cfg, creds: creds}
		d.seed(t, time.Now())
		head := commands.Request{Actor: demoID("account", "principale.aubert")}
		for _, s := range []struct {
			student uuid.UUID
			reason  string
		}{{lea, leaMark}, {hugo, hugoMark}} {
			if _, err := a.commands.PronounceSanction(ctx, head, domain.PronounceSanction{Sanction: uuid.New(), Student: s.student,
				Kind: domain.SanctionWarning, Date: domain.DateOf(time.Now().In(a.loc)), Reason: s.reason}); err != nil {
				t.Fatal(err)
			}
		}
		d.rebuild(t)
		if _, err := a.commands.EraseSubject(ctx, commands.Request{System: true},
			domain.EraseSubject{Subject: hugo, Reason: "demande du 1er décembre", Basis: "RGPD art. 17"}); err != nil {
			t.Fatal(err)
		}
	}()
	if found := search(t, files(t), leaMark, hugoMark); len(found) < 2 {
		t.Fatalf("the files hold %v before the erasure: the search finds nothing", found)
	}

	srv := startServe(t, "--store", store)
	srv.mustLog(t, `msg=serving addr=`)
	base := "http://" + regexp.MustCompile(`msg=serving addr=(\S+)`).FindStringSubmatch(srv.log.String())[1]
	admin := MustToken(t, base, "admin.demo", DemoPassword)

	// Only the establishment's administrator erases; the reason is
	// required and validated.
	headToken := MustToken(t, base, "principale.aubert", DemoPassword)
	if r := call(t, "POST", base+"/api/v1/accounts/"+lea.String()+"/erasure", headToken, map[string]string{"reason": "demande"}); r.status != http.StatusForbidden {
		t.Errorf("the head erased: %d %s", r.status, r.body)
	}
	for _, reason := range []string{"", "demande\x00"} {
		if r := call(t, "POST", base+"/api/v1/accounts/"+lea.String()+"/erasure", admin, map[string]string{"reason": reason}); r.status != http.StatusBadRequest {
			t.Errorf("reason %q: %d %s", reason, r.status, r.body)
		}
	}
	r := call(t, "POST", base+"/api/v1/accounts/"+lea.String()+"/erasure", admin, map[string]string{"reason": "demande de la famille du 3 décembre"})
	if r.status != http.StatusAccepted || r.header.Get("Location") != "/api/v1/erasures/"+lea.String() {
		t.Fatalf("erasure: %d, Location %q: %s", r.status, r.header.Get("Location"), r.body)
	}
	var e erasure.Erasure
	mustJSON(t, r.body, &e)
	if e.Subject != lea || e.Basis != web.DefaultErasureBasis || e.State == erasure.StateDone || e.State == erasure.StateFailed {
		t.Errorf("the erasure answered: %+v", e)
	}
	// Both erasures end: Léa's asked for, Hugo's resumed on start.
	for _, id := range []uuid.UUID{lea, hugo} {
		e := mustErasureDone(t, base, admin, id)
		if e.Scrubbed.IsZero() {
			t.Errorf("erasure of %s done with no scrub time: %+v", id, e)
		}
	}
	srv.mustLog(t, `msg="erasure with no scrub recorded: scrub resumed" subject=`+hugo.String())
	srv.mustLog(t, `msg="scrub: database compacted"`)

	var list []erasure.Erasure
	mustJSON(t, call(t, "GET", base+"/api/v1/erasures", admin, nil).body, &list)
	if len(list) != 2 || list[0].Subject != lea || list[1].Subject != hugo {
		t.Errorf("the erasures listed: %+v", list)
	}
	r = call(t, "POST", base+"/api/v1/accounts/"+lea.String()+"/erasure", admin, map[string]string{"reason": "encore"})
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "erasure-exists") {
		t.Errorf("a second erasure: %d %s", r.status, r.body)
	}

	// The student's file page, as the head reads it.
	req, err := http.NewRequest("GET", base+"/students/"+lea.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: headToken})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(subjectkeys.Placeholder)) || bytes.Contains(page, []byte(leaMark)) {
		t.Errorf("the student's file page (%d) shows no placeholder, or the reason:\n%s", resp.StatusCode, page)
	}

	// The raw bytes, while the server runs.
	if found := search(t, files(t), leaMark, hugoMark); len(found) > 0 {
		t.Errorf("after the erasures, the database's files hold %v", found)
	}
	srv.cancel()
	if err := srv.mustStop(t); err != nil {
		t.Fatalf("serve: %v\n%s", err, srv.log)
	}
	if found := search(t, files(t), leaMark, hugoMark); len(found) > 0 {
		t.Errorf("after the server stopped, the database's files hold %v", found)
	}
	cfg := Config{Store: store, ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rep, err := a.store.(verifier).Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// mustErasureDone polls an erasure's status URL until its scrub is done
// (and fails at once if it failed).
func mustErasureDone(t *testing.T, base, token string, subject uuid.UUID) erasure.Erasure {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := call(t, "GET", base+"/api/v1/erasures/"+subject.String(), token, nil)
		var e erasure.Erasure
		if r.status == http.StatusOK {
			mustJSON(t, r.body, &e)
		}
		switch {
		case r.status == http.StatusOK && e.State == erasure.StateDone:
			if r.header.Get("Retry-After") != "" {
				t.Errorf("a done erasure says Retry-After %q", r.header.Get("Retry-After"))
			}
			return e
		case r.status == http.StatusOK && e.State == erasure.StateFailed:
			t.Fatalf("the scrub of %s failed: %s", subject, e.Error)
		case r.status != http.StatusOK && r.status != http.StatusNotFound:
			// 404: the read model has not read a resumed erasure yet.
			t.Fatalf("erasure of %s: %d %s", subject, r.status, r.body)
		case time.Now().After(deadline):
			t.Fatalf("the erasure of %s never ended: %d %s", subject, r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// mustCheckpoint writes what the Postgres server keeps in memory into the
// table files.
func mustCheckpoint(t *testing.T, dsn string) {
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
