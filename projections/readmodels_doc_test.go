package projections_test

// The SQL examples of docs/read-models.md are run here, so that the
// document stays true to the read models: every ```sql sqlite block runs on
// a SQLite read-model store and every ```sql postgres block on a Postgres
// one (skipped outside CI when no server answers), both filled by the
// sample histories of this package's tests, every projection rebuilt once
// so that its live generation is 2 and a query that does not go through
// rm_generations finds nothing. A block fails the test if it errors,
// returns no row, or returns a column that is NULL in every row (a JSON
// path that names no field). The two dialects' examples come in pairs
// that must return as many rows.
//
// Examples name their parameters: :name in SQLite (bound as the sqlite3
// shell's .param set does), :'name' in Postgres (psql's quoted
// interpolation of \set variables); docParams gives their sample values.
//
// To try the examples by hand, keep the SQLite sample:
//
//	READMODELS_SAMPLE_DB=/tmp/sample.db go test ./projections -run TestReadModelsDocSQL
//	sqlite3 /tmp/sample.db

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// readModelsDoc is the document under test.
const readModelsDoc = "../docs/read-models.md"

// docParams are the values of the examples' parameters in the sample
// histories.
func docParams() map[string]string {
	return map[string]string{
		"uai":      uaiLycee,         // every history's main establishment
		"day":      "2006-03-13",     // the school's "today"
		"time":     "10:30",          // and its "now"
		"from":     "2006-03-01",     // a period of two months
		"to":       "2006-04-30",     //
		"student":  alice.String(),   // the school's student with the fullest file
		"group":    class2A.String(), // her class
		"teacher":  durand.String(),  // her maths teacher
		"account":  rmID(4).String(), // the parent of the mailbox and notifications histories
		"sender":   mbxTeacher.String(),
		"resource": bkgRoom.String(),       // the bookings history's room
		"at":       "2006-09-04T12:00:00Z", // an instant of the news history
	}
}

// sqlBlock is a fenced SQL example of the document.
type sqlBlock struct {
	dialect string // "sqlite" or "postgres"
	line    int    // of the opening fence
	text    string
}

func (b sqlBlock) String() string { return fmt.Sprintf("%s:%d (%s)", readModelsDoc, b.line, b.dialect) }

// docSQLBlocks reads the document's ```sql blocks; each must name its
// dialect.
func docSQLBlocks(t *testing.T) (blocks []sqlBlock, doc string) {
	t.Helper()
	raw, err := os.ReadFile(readModelsDoc)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	var cur *sqlBlock
	var body []string
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur != nil {
			if trimmed == "```" {
				cur.text = strings.Join(body, "\n")
				blocks = append(blocks, *cur)
				cur, body = nil, nil
				continue
			}
			body = append(body, line)
			continue
		}
		info, ok := strings.CutPrefix(trimmed, "```")
		if !ok {
			continue
		}
		fields := strings.Fields(info)
		if len(fields) == 0 || fields[0] != "sql" {
			continue
		}
		if len(fields) != 2 || (fields[1] != "sqlite" && fields[1] != "postgres") {
			t.Errorf("%s:%d: a SQL block must be tagged ```sql sqlite or ```sql postgres, not %q", readModelsDoc, n, trimmed)
		}
		cur = &sqlBlock{line: n}
		if len(fields) > 1 {
			cur.dialect = fields[1]
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: SQL block not closed", readModelsDoc, cur.line)
	}
	return blocks, string(raw)
}

var (
	// sqliteParam is a parameter of a SQLite example.
	sqliteParam = regexp.MustCompile(`(^|[^:\w]):([a-z_]+)`)
	// pgParam is a parameter of a Postgres example; pgBareParam one not
	// quoted as psql's :'name' (a cast is ::type).
	pgParam     = regexp.MustCompile(`:'([a-z_]+)'`)
	pgBareParam = regexp.MustCompile(`(^|[^:\w]):([a-z_]+)`)
)

// withoutComments drops -- comments, so that parameters named in them are
// not taken for the statement's.
func withoutComments(q string) string {
	lines := strings.Split(q, "\n")
	for i, l := range lines {
		if j := strings.Index(l, "--"); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return strings.Join(lines, "\n")
}

// sqliteArgs binds the parameters a SQLite example uses.
func sqliteArgs(q string, params map[string]string) ([]any, error) {
	var args []any
	seen := map[string]bool{}
	for _, m := range sqliteParam.FindAllStringSubmatch(withoutComments(q), -1) {
		name := m[2]
		if seen[name] {
			continue
		}
		seen[name] = true
		v, ok := params[name]
		if !ok {
			return nil, fmt.Errorf("parameter :%s has no sample value (see docParams)", name)
		}
		args = append(args, sql.Named(name, v))
	}
	return args, nil
}

// pgSubstitute interpolates a Postgres example's parameters as psql does.
func pgSubstitute(q string, params map[string]string) (string, error) {
	if m := pgBareParam.FindStringSubmatch(withoutComments(q)); m != nil {
		return "", fmt.Errorf("parameter :%s must be written :'%s' (psql quotes it)", m[2], m[2])
	}
	var err error
	out := pgParam.ReplaceAllStringFunc(q, func(s string) string {
		name := pgParam.FindStringSubmatch(s)[1]
		v, ok := params[name]
		if !ok {
			err = fmt.Errorf("parameter :'%s' has no sample value (see docParams)", name)
			return s
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	})
	return out, err
}

// resultCheck counts rows and notes the columns that were never non-NULL.
type resultCheck struct {
	cols    []string
	nonNull []bool
	rows    int
}

func (c *resultCheck) row(values []any) {
	c.rows++
	for i, v := range values {
		if v != nil {
			c.nonNull[i] = true
		}
	}
}

func (c *resultCheck) err() error {
	if c.rows == 0 {
		return fmt.Errorf("no row in the sample")
	}
	var null []string
	for i, ok := range c.nonNull {
		if !ok {
			null = append(null, c.cols[i])
		}
	}
	if len(null) > 0 {
		return fmt.Errorf("columns %s are NULL in every row", strings.Join(null, ", "))
	}
	return nil
}

// sampleHistories returns the sample histories and the projections each
// fills: the school feeds the portal, audit and indicator read models, the
// other histories the read model their tests check.
func sampleHistories(t *testing.T) []struct {
	w        *world
	reducers []projections.Reducer
} {
	notifications, _ := notificationsHistory(t)
	return []struct {
		w        *world
		reducers []projections.Reducer
	}{
		{schoolConnected(t), []projections.Reducer{
			projections.NewDirectory(), projections.NewStudentFile(), projections.NewOffice(), projections.NewTextbook(),
			projections.NewAudit(), projections.NewIndicators(paris),
		}},
		{mailboxHistory(t), []projections.Reducer{projections.NewMailbox()}},
		{notifications, []projections.Reducer{projections.NewNotifications()}},
		{bookingsHistory(t), []projections.Reducer{projections.NewBookings()}},
		{newsHistory(t), []projections.Reducer{projections.NewNews()}},
		{consultationsHistory(t), []projections.Reducer{projections.NewConsultations()}},
		{erasuresHistory(t), []projections.Reducer{projections.NewErasures()}},
		{alertsHistory(t), []projections.Reducer{projections.NewAlerts()}},
	}
}

// schoolConnected is the school of the portal tests, whose people then
// sign in over two months, so that the indicators' examples have
// connections per profile and more than one month.
func schoolConnected(t *testing.T) *world {
	w := school(t)
	for _, c := range []struct {
		when    string
		who     uuid.UUID
		profile domain.Profile
	}{
		{"2006-03-13 07:55", durand, domain.ProfileTeacher},
		{"2006-03-13 12:10", alice, domain.ProfileStudent},
		{"2006-03-13 18:30", mother, domain.ProfileRelative},
		{"2006-03-14 08:05", head, domain.ProfilePersonnel},
		{"2006-04-03 17:45", alice, domain.ProfileStudent},
		{"2006-04-03 20:15", bruno, domain.ProfileStudent},
		{"2006-04-04 07:50", leroy, domain.ProfileTeacher},
	} {
		w.now = at(c.when).UTC()
		w.emit(actor{id: c.who, profile: c.profile, uai: uaiLycee}, domain.ConnectionsStream(c.who), domain.UserConnected{
			Account: c.who, Profile: c.profile, Establishment: uaiLycee, Method: domain.SignInPassword})
	}
	return w
}

// fillSample projects the sample histories into docs, then rebuilds every
// projection, so that generation 2 is live and generation 1 is gone.
func fillSample(t *testing.T, docs DocStoreAll) {
	t.Helper()
	ctx := context.Background()
	filled := map[string]bool{}
	for _, h := range sampleHistories(t) {
		h.w.MustProject(t, docs, 16, h.reducers...)
		r := h.w.runnerFor(t, docs, 512, h.reducers...)
		for _, red := range h.reducers {
			if err := r.Rebuild(ctx, red.Name(), nil); err != nil {
				t.Fatalf("rebuild %s: %v", red.Name(), err)
			}
			g, err := docs.Generations(ctx, red.Name())
			if err != nil {
				t.Fatal(err)
			}
			if g != (projections.Generations{Live: 2}) {
				t.Fatalf("%s: generations %+v after a rebuild", red.Name(), g)
			}
			filled[red.Name()] = true
		}
	}
	for _, red := range projections.Reducers(paris) {
		if !filled[red.Name()] {
			t.Fatalf("the sample does not fill %s", red.Name())
		}
	}
}

// TestReadModelsDocSQL runs the document's SQL examples on both stores.
func TestReadModelsDocSQL(t *testing.T) {
	blocks, doc := docSQLBlocks(t)
	var lite, pg []sqlBlock
	for _, b := range blocks {
		if b.dialect == "sqlite" {
			lite = append(lite, b)
		} else {
			pg = append(pg, b)
		}
	}
	if len(lite) == 0 {
		t.Fatalf("%s has no ```sql sqlite example", readModelsDoc)
	}
	if len(lite) != len(pg) {
		t.Errorf("%s has %d SQLite examples and %d Postgres ones: give each in both dialects", readModelsDoc, len(lite), len(pg))
	}
	// Every read model has its section and examples in both dialects.
	for _, red := range projections.Reducers(paris) {
		name := red.Name()
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("%s does not describe %s", readModelsDoc, name)
		}
		for _, set := range [][]sqlBlock{lite, pg} {
			if !slices.ContainsFunc(set, func(b sqlBlock) bool { return strings.Contains(b.text, "'"+name+"'") }) {
				t.Errorf("%s has no %s example querying %s", readModelsDoc, set[0].dialect, name)
			}
		}
	}

	params := docParams()
	var liteRows, pgRows []int
	t.Run("sqlite", func(t *testing.T) {
		ctx := context.Background()
		path := os.Getenv("READMODELS_SAMPLE_DB")
		if path == "" {
			path = filepath.Join(t.TempDir(), "sample.db")
		} else if _, err := os.Stat(path); err == nil {
			t.Fatalf("READMODELS_SAMPLE_DB: %s exists; remove it or name a new file", path)
		}
		es, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := readstore.NewSQLite(es.DB(), es.WithTx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			docs.Close()
			es.Close()
		}()
		fillSample(t, docs)
		for _, b := range lite {
			n, err := runSQLite(ctx, es.DB(), b.text, params)
			if err != nil {
				t.Errorf("%s: %v\n%s", b, err, b.text)
				n = -1
			}
			t.Logf("%s: %d rows", b, n)
			liteRows = append(liteRows, n)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		ctx := context.Background()
		es, err := postgres.Open(ctx, pgtest.MustDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := es.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		docs := readstore.NewPostgres(es.Pool())
		defer func() {
			docs.Close()
			es.Close()
		}()
		fillSample(t, docs)
		for _, b := range pg {
			n, err := runPostgres(ctx, es.Pool(), b.text, params)
			if err != nil {
				t.Errorf("%s: %v\n%s", b, err, b.text)
				n = -1
			}
			t.Logf("%s: %d rows", b, n)
			pgRows = append(pgRows, n)
		}
	})
	if len(liteRows) == len(lite) && len(pgRows) == len(pg) && len(lite) == len(pg) {
		for i := range lite {
			if liteRows[i] >= 0 && pgRows[i] >= 0 && liteRows[i] != pgRows[i] {
				t.Errorf("%s returns %d rows, its Postgres twin %s %d", lite[i], liteRows[i], pg[i], pgRows[i])
			}
		}
	}
}

// runSQLite runs one example read-only and checks its result.
func runSQLite(ctx context.Context, db *sql.DB, q string, params map[string]string) (int, error) {
	args, err := sqliteArgs(q, params)
	if err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	c := &resultCheck{cols: cols, nonNull: make([]bool, len(cols))}
	for rows.Next() {
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return c.rows, err
		}
		c.row(values)
	}
	if err := rows.Err(); err != nil {
		return c.rows, err
	}
	return c.rows, c.err()
}

// runPostgres runs one example in a read-only transaction and checks its
// result.
func runPostgres(ctx context.Context, db interface {
	BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
}, q string, params map[string]string) (int, error) {
	q, err := pgSubstitute(q, params)
	if err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	c := &resultCheck{cols: cols, nonNull: make([]bool, len(cols))}
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			return c.rows, err
		}
		c.row(values)
	}
	if err := rows.Err(); err != nil {
		return c.rows, err
	}
	return c.rows, c.err()
}
