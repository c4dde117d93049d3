package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/migrations"
)

// The schema fixtures are databases as each schema version left them: for
// every migration NNNN_name of a dialect, migrations/testdata/sqlite/
// NNNN_name.db and migrations/testdata/postgres/NNNN_name.sql (a plain
// pg_dump) hold a ledger whose schema stops at that migration.
//
// They are written once, when a migration is added, and then kept as they
// are: run
//
//	go test ./cmd/ledger -run TestUpgradeFromEverySchema -write-fixtures
//
// which writes the fixtures that are missing and never touches those that
// exist. A fixture is built with this program's own migrator stopped at
// its version (sqlite.MigrateTo, postgres.Store.MigrateTo), then filled
// with the rows of the tables that version has, copied from a ledger of
// the current schema into which the demo establishment was written
// through the command handlers, its projections built and its log sealed.
// The rows are today's: the fixtures test the schema's migrations, not
// older event shapes (those are the registry's upcasters, tested in
// domain). On Postgres, every event gets transaction id 3 (and seq its
// rank in the log), so that the fixture's positions lie below the counter
// of any server it is loaded into (see postgres.ErrAheadOfServer).
var writeFixtures = flag.Bool("write-fixtures", false, "write the schema fixtures missing under migrations/testdata")

// fixtureDir is where the schema fixtures of a dialect are.
func fixtureDir(dialect string) string {
	return filepath.Join("..", "..", "migrations", "testdata", dialect)
}

// TestUpgradeFromEverySchema: a ledger of each past schema version, SQLite
// and Postgres, migrates to the current one; its history then verifies,
// every projection rebuilds from its whole log, the rebuilt read models
// answer, and its accounts still sign in.
func TestUpgradeFromEverySchema(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		all := must(migrations.For(migrations.SQLite))
		if *writeFixtures {
			writeSQLiteFixtures(t, all)
		}
		fresh := freshSchema(t, "sqlite:"+filepath.Join(t.TempDir(), "fresh.db"))
		for _, m := range all {
			t.Run(m.Name, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "ledger.db")
				copyFixture(t, filepath.Join(fixtureDir(migrations.SQLite), m.Name+".db"), path)
				db := must(sql.Open("sqlite", path))
				var events int
				if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&events); err != nil {
					t.Fatal(err)
				}
				db.Close()
				mustUpgrade(t, "sqlite:"+path, m.Version, events, fresh)
			})
		}
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		all := must(migrations.For(migrations.Postgres))
		if *writeFixtures {
			writePostgresFixtures(t, all)
		}
		fresh := freshSchema(t, pgtest.MustDatabase(t))
		for _, m := range all {
			t.Run(m.Name, func(t *testing.T) {
				t.Parallel()
				fixture := filepath.Join(fixtureDir(migrations.Postgres), m.Name+".sql")
				if _, err := os.Stat(fixture); err != nil {
					t.Fatalf("no fixture of schema version %d: %v (write it with -write-fixtures)", m.Version, err)
				}
				dsn := pgtest.MustDatabase(t)
				runTool(t, "psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname", dsn, "--file", fixture)
				conn := must(pgx.Connect(context.Background(), dsn))
				var events int
				if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&events); err != nil {
					t.Fatal(err)
				}
				conn.Close(context.Background())
				mustUpgrade(t, dsn, m.Version, events, fresh)
			})
		}
	})
}

var rebuiltRE = regexp.MustCompile(`(?m)^(\S+) rebuilt from (\d+) events and swapped in$`)

// mustUpgrade migrates the ledger at store, of schema version from, with
// `ledger migrate`, then checks it as TestUpgradeFromEverySchema says, and
// that its schema is now fresh's, that of a ledger migrated from nothing:
// a released migration edited afterwards shows here.
func mustUpgrade(t *testing.T, store string, from, events int, fresh string) {
	t.Helper()
	if events == 0 {
		t.Fatalf("the fixture of version %d holds no event", from)
	}
	mustLedger(t, "migrate", "--store", store)
	out := mustLedger(t, "verify", "--store", store)
	if want := fmt.Sprintf("events %d,", events); !strings.Contains(out, want) || !strings.Contains(out, "history intact") {
		t.Fatalf("verify after migrating from version %d:\n%s\nwant %q and an intact history", from, out, want)
	}
	out = mustLedger(t, "rebuild", "--store", store)
	rebuilt := rebuiltRE.FindAllStringSubmatch(out, -1)
	ctx := context.Background()
	cfg := Config{Store: store}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(rebuilt) != len(a.runner.Reducers()) {
		t.Fatalf("rebuild after migrating from version %d rebuilt %d projections of %d:\n%s", from, len(rebuilt), len(a.runner.Reducers()), out)
	}
	for _, r := range rebuilt {
		if n, _ := strconv.Atoi(r[2]); n != events {
			t.Errorf("%s rebuilt from %d events, the log holds %d", r[1], n, events)
		}
	}
	if got := schemaOf(t, a.store); got != fresh {
		t.Errorf("schema after migrating from version %d:\n%s\nwant, as migrated from nothing:\n%s", from, got, fresh)
	}

	// The read models rebuilt from the old log answer: Léa's absence and
	// her mother's reason, written by the demo (its last absence: the
	// fixtures written since the demo has a past hold seven weeks of them).
	lea := demoID("account", "lea.durand")
	file, err := a.queries.StudentFile(ctx, lea, domain.Date{}, domain.Date{})
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Absences) == 0 || file.Absences[len(file.Absences)-1].DeclaredReason == "" {
		t.Errorf("Léa's file after the upgrade: %+v, want her last absence with its reason", file.Absences)
	}
	// Credentials came with migration 200: the accounts of a ledger that
	// had them still sign in.
	if from >= 200 {
		svc, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer closeAuth()
		id, err := svc.Authenticate(ctx, "prof.martin", DemoPassword, "127.0.0.1")
		if err != nil || id != demoID("account", "prof.martin") {
			t.Errorf("sign-in after the upgrade: %s, %v", id, err)
		}
	}
}

// freshSchema is the schema of a ledger migrated from nothing at spec.
func freshSchema(t *testing.T, spec string) string {
	t.Helper()
	mustLedger(t, "migrate", "--store", spec)
	store, err := openStore(context.Background(), spec, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	return schemaOf(t, store)
}

// schemaOf describes a store's schema, one line per object, sorted: its
// applied migrations, tables and columns, indexes and constraints.
func schemaOf(t *testing.T, store eventStore) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	switch s := store.(type) {
	case *sqlite.Store:
		rows := must(s.DB().QueryContext(ctx, `SELECT 'migration ' || version || ' ' || name FROM schema_migrations
UNION ALL SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY 1`))
		defer rows.Close()
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	case *postgres.Store:
		rows := must(s.Pool().Query(ctx, `SELECT 'migration ' || version || ' ' || name FROM schema_migrations
UNION ALL SELECT format('column %s.%s %s default %s null %s collate %s', table_name, column_name, data_type,
  coalesce(column_default, '-'), is_nullable, coalesce(collation_name, '-'))
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL SELECT format('constraint %s on %s: %s', conname, conrelid::regclass, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
ORDER BY 1`))
		lines = must(pgx.CollectRows(rows, pgx.RowTo[string]))
	default:
		t.Fatalf("store %T", store)
	}
	return strings.Join(lines, "\n")
}

// copyFixture copies a fixture file, failing when it is missing.
func copyFixture(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("no fixture: %v (write it with -write-fixtures)", err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// missing returns the migrations whose fixture is not at path(m).
func missing(t *testing.T, all []migrations.Migration, path func(migrations.Migration) string) []migrations.Migration {
	t.Helper()
	var out []migrations.Migration
	for _, m := range all {
		if _, err := os.Stat(path(m)); errors.Is(err, fs.ErrNotExist) {
			out = append(out, m)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// mustDemoLedger writes the demo into the migrated, empty store at spec
// through the command handlers, builds every projection and seals the
// log. prepare, when set, runs between the demo and the projections.
func mustDemoLedger(t *testing.T, spec string, prepare func(eventStore)) {
	t.Helper()
	ctx := context.Background()
	cfg := Config{Store: spec, ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	creds, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAuth()
	demo := demoDeps{handlersAt: a.handlersAt, creds: creds, log: a.store, plans: cfg.PlanWindow}
	if err := seedDemo(ctx, demo, time.Now(), io.Discard); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(a.store)
	}
	for _, r := range a.runner.Reducers() {
		if err := a.runner.Rebuild(ctx, r.Name(), func(int) {}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := a.store.(verifier).Seal(ctx); err != nil {
		t.Fatal(err)
	}
}

// writeSQLiteFixtures writes the missing SQLite fixtures.
func writeSQLiteFixtures(t *testing.T, all []migrations.Migration) {
	t.Helper()
	dir := fixtureDir(migrations.SQLite)
	todo := missing(t, all, func(m migrations.Migration) string { return filepath.Join(dir, m.Name+".db") })
	if len(todo) == 0 {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	scratch := filepath.Join(t.TempDir(), "scratch.db")
	mustDemoLedger(t, "sqlite:"+scratch, nil)
	for _, m := range todo {
		tmp := filepath.Join(t.TempDir(), m.Name+".db")
		if err := sqlite.MigrateTo(ctx, tmp, m.Version); err != nil {
			t.Fatal(err)
		}
		db := must(sql.Open("sqlite", tmp))
		db.SetMaxOpenConns(1)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`ATTACH DATABASE ? AS scratch`, scratch)
		for _, table := range sqliteTables(t, db) {
			cols := strings.Join(sqliteColumns(t, db, table), ", ")
			exec(fmt.Sprintf(`INSERT INTO main.%q (%s) SELECT %s FROM scratch.%q`, table, cols, cols, table))
		}
		exec(`DETACH DATABASE scratch`)
		exec(`VACUUM`)
		db.Close()
		copyFixture(t, tmp, filepath.Join(dir, m.Name+".db"))
		t.Logf("wrote %s", filepath.Join(dir, m.Name+".db"))
	}
}

func sqliteTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows := must(db.Query(`SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`))
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func sqliteColumns(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows := must(db.Query(`SELECT name FROM pragma_table_info(?, 'main') ORDER BY cid`, table))
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%q", n))
	}
	return out
}

// writePostgresFixtures writes the missing Postgres fixtures.
func writePostgresFixtures(t *testing.T, all []migrations.Migration) {
	t.Helper()
	dir := fixtureDir(migrations.Postgres)
	todo := missing(t, all, func(m migrations.Migration) string { return filepath.Join(dir, m.Name+".sql") })
	if len(todo) == 0 {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	scratchDSN := pgtest.MustDatabase(t)
	mustDemoLedger(t, scratchDSN, func(s eventStore) {
		// Positions any server can read: transaction 3 (the first normal
		// id, below every server's counter), seq the rank in the log.
		_, err := s.(*postgres.Store).Pool().Exec(ctx, `
UPDATE events e SET seq = r.n + 1000000000 FROM (SELECT seq, row_number() OVER (ORDER BY tx_id, seq) AS n FROM events) r WHERE e.seq = r.seq;
UPDATE events SET seq = seq - 1000000000, tx_id = '3'::xid8;
SELECT setval(pg_get_serial_sequence('events', 'seq'), (SELECT max(seq) FROM events));`)
		if err != nil {
			t.Fatal(err)
		}
	})
	scratch := must(pgx.Connect(ctx, scratchDSN))
	defer scratch.Close(ctx)
	for _, m := range todo {
		dsn := pgtest.MustDatabase(t)
		s := must(postgres.Open(ctx, dsn))
		if err := s.MigrateTo(ctx, m.Version); err != nil {
			t.Fatal(err)
		}
		s.Close()
		fixture := must(pgx.Connect(ctx, dsn))
		for _, table := range postgresTables(t, fixture) {
			cols := strings.Join(postgresColumns(t, fixture, table), ", ")
			var buf strings.Builder
			if _, err := scratch.PgConn().CopyTo(ctx, &buf, fmt.Sprintf(`COPY %q (%s) TO STDOUT`, table, cols)); err != nil {
				t.Fatalf("copy %s out: %v", table, err)
			}
			if _, err := fixture.PgConn().CopyFrom(ctx, strings.NewReader(buf.String()), fmt.Sprintf(`COPY %q (%s) FROM STDIN`, table, cols)); err != nil {
				t.Fatalf("copy %s in: %v", table, err)
			}
		}
		if _, err := fixture.Exec(ctx, `SELECT setval(pg_get_serial_sequence('events', 'seq'), (SELECT max(seq) FROM events))`); err != nil {
			t.Fatal(err)
		}
		fixture.Close(ctx)
		path := filepath.Join(dir, m.Name+".sql")
		dump, err := exec.Command(mustTool(t, "pg_dump"), "--format=plain", "--no-owner", "--no-privileges", "--dbname", dsn).Output()
		if err != nil {
			t.Fatalf("pg_dump: %v", err)
		}
		if err := os.WriteFile(path, stripRestrict(dump), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}

// stripRestrict drops the \restrict and \unrestrict lines recent pg_dumps
// write (they guard psql against a hostile dump): a fixture kept in the
// repository then loads with the psql of any PostgreSQL 15.
func stripRestrict(dump []byte) []byte {
	var out []string
	for _, line := range strings.SplitAfter(string(dump), "\n") {
		if strings.HasPrefix(line, `\restrict `) || strings.HasPrefix(line, `\unrestrict `) {
			continue
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, ""))
}

func postgresTables(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows := must(conn.Query(context.Background(), `SELECT table_name FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name`))
	return must(pgx.CollectRows(rows, pgx.RowTo[string]))
}

func postgresColumns(t *testing.T, conn *pgx.Conn, table string) []string {
	t.Helper()
	rows := must(conn.Query(context.Background(), `SELECT quote_ident(column_name::text) FROM information_schema.columns
WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, table))
	return must(pgx.CollectRows(rows, pgx.RowTo[string]))
}
