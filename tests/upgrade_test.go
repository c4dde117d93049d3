package tests

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
)

// mustBuildNext builds the ledger of the "next version": this one plus the
// probe migration of migrations/testdata/upgrade (build tag
// ledger_upgrade_probe), the kind of migration a new version brings.
func mustBuildNext(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ledger-next")
	build := exec.Command("go", "build", "-race", "-tags", "ledger_upgrade_probe", "-o", bin, "../cmd/ledger")
	build.Env = os.Environ()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the next version: %v\n%s", err, out)
	}
	return bin
}

// TestRollingUpgrade is a rolling upgrade of two nodes on one Postgres
// database, the procedure of docs/operations.md ("Upgrades"). A node of
// this version serves; a node of the next version starts beside it and
// migrates the database on start. The migration is held at a gate the
// test keeps locked, so that it is surely running while the old node takes
// commands and answers reads. Once it is done both versions serve side by
// side on the new schema (the old one never reads the column it does not
// know), every absence recorded through either reaches both nodes' read
// models, and the history verifies.
//
// The old version is this binary; the next one is this binary plus one
// migration, built here with a build tag (migrations/probe.go): the
// code of the two is the same, what is tested is the schema changing
// under a running node and the nodes of both schemas sharing the log.
func TestRollingUpgrade(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.MustDatabase(t)
	if !strings.HasPrefix(dsn, "postgres") {
		t.Skipf("the test server's DSN %q is not a URL; set LEDGER_TEST_POSTGRES=postgres://... to run this test", dsn)
	}
	next := mustBuildNext(t)
	env := []string{"LEDGER_STORE=" + dsn, "LEDGER_BUS=postgres"}
	old := MustServe(t, append(env, "LEDGER_NODE=old"), "--demo")
	teacher := MustSignIn(t, old.URL, "prof.martin")
	parent := MustSignIn(t, old.URL, "parent.durand")
	lea := parent.me.Children[0].Account
	lessons := []uuid.UUID{rollCall(t, teacher, lea, "15:00", "15:55")}

	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	gateConn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer gateConn.Close(ctx)
	if _, err := gateConn.Exec(ctx, `CREATE TABLE upgrade_gate ()`); err != nil {
		t.Fatal(err)
	}
	gate, err := gateConn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Rollback(ctx)
	if _, err := gate.Exec(ctx, `LOCK TABLE upgrade_gate IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	nextNode := StartServe(t, next, append(env, "LEDGER_NODE=next"))
	migrating := func() bool {
		var n int
		err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%upgrade_probe%'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	eventually(t, startLimit, "the next version migrates, waiting at the gate", migrating)

	// The old version serves while the migration runs.
	for i, slot := range [][2]string{{"16:00", "16:55"}, {"17:00", "17:55"}} {
		lessons = append(lessons, rollCall(t, teacher, lea, slot[0], slot[1]))
		t.Logf("roll call %d acknowledged by the old node during the migration", i+1)
	}
	parent.MustCall("GET", fmt.Sprintf("/api/v1/students/%s/file", lea), nil, nil, http.StatusOK)
	if !migrating() {
		t.Fatal("the migration ended before the gate opened")
	}
	if err := gate.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	nextNode.MustListen()
	var probe bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = 9000)`).Scan(&probe); err != nil || !probe {
		t.Fatalf("the next version's migration is not recorded: %v", err)
	}

	// Both versions serve, on the new schema.
	teacherNext := MustSignIn(t, nextNode.URL, "prof.martin")
	lessons = append(lessons, rollCall(t, teacherNext, lea, "18:00", "18:55"))
	lessons = append(lessons, rollCall(t, teacher, lea, "19:00", "19:55"))
	for _, node := range []*server{old, nextNode} {
		p := MustSignIn(t, node.URL, "parent.durand")
		eventually(t, time.Minute, "every absence reaches the read models of "+node.URL, func() bool {
			var file struct {
				Absences []struct {
					Lesson uuid.UUID `json:"lesson"`
				} `json:"absences"`
			}
			p.MustCall("GET", fmt.Sprintf("/api/v1/students/%s/file", lea), nil, &file, http.StatusOK)
			seen := map[uuid.UUID]bool{}
			for _, a := range file.Absences {
				seen[a.Lesson] = true
			}
			for _, l := range lessons {
				if !seen[l] {
					return false
				}
			}
			return true
		})
	}

	// The old node retires; the history written by both verifies.
	if err := old.Stop(); err != nil {
		t.Errorf("old node: %v\n%s", err, old.Log())
	}
	if err := nextNode.Stop(); err != nil {
		t.Errorf("next node: %v\n%s", err, nextNode.Log())
	}
	stdout, stderr, err := runLedger(t, nil, "verify", "--store", dsn)
	if err != nil || !strings.Contains(stdout, "history intact") {
		t.Fatalf("verify after the upgrade: %v\n%s%s", err, stdout, stderr)
	}
}
