package directoryimport

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// store is what the tests need of an event store.
type store interface {
	commands.EventStore
	Log
}

// harness runs imports against a store with a settable clock.
type harness struct {
	t     *testing.T
	ctx   context.Context
	store store
	reg   *domain.Registry
	h     *commands.Handlers
	im    *Importer
	now   time.Time
}

func newHarness(t *testing.T, s store) *harness {
	t.Helper()
	if s == nil {
		s = memory.New()
	}
	x := &harness{t: t, ctx: context.Background(), store: s, reg: domain.NewRegistry(),
		now: time.Date(2024, time.September, 2, 6, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return x.now }
	h, err := commands.New(commands.Config{Store: s, Registry: x.reg, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	x.h = h
	im, err := New(Config{Handlers: h, Registry: x.reg, Log: s, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	x.im = im
	return x
}

// sources returns the sources of testdata paths (files or directories).
func (x *harness) sources(format Format, profile domain.Profile, paths ...string) []Source {
	x.t.Helper()
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			paths[i] = filepath.Join("testdata", p)
		}
	}
	srcs, err := FileSources(format, profile, "", paths...)
	if err != nil {
		x.t.Fatal(err)
	}
	return srcs
}

// run imports sources with opts and returns the report, the error and the
// records appended.
func (x *harness) run(srcs []Source, opts Options) (*Report, []domain.Record, error) {
	x.t.Helper()
	before := x.head()
	rep, err := x.im.Import(x.ctx, srcs, opts)
	recs, rerr := x.store.ReadAll(x.ctx, before, 0)
	if rerr != nil {
		x.t.Fatal(rerr)
	}
	return rep, recs, err
}

// MustImport imports and fails the test on an error or a failed change.
func (x *harness) MustImport(srcs []Source, opts Options) (*Report, []domain.Record) {
	x.t.Helper()
	rep, recs, err := x.run(srcs, opts)
	if err != nil {
		x.t.Fatalf("import: %v", err)
	}
	if len(rep.Failed) > 0 {
		x.t.Fatalf("failed changes: %v", rep.Failed)
	}
	if len(recs) != rep.Events {
		x.t.Fatalf("report says %d events, the log got %d", rep.Events, len(recs))
	}
	return rep, recs
}

// MustNotChange imports and checks nothing is planned nor appended.
func (x *harness) MustNotChange(srcs []Source, opts Options) *Report {
	x.t.Helper()
	rep, recs := x.MustImport(srcs, opts)
	if len(recs) != 0 {
		x.t.Fatalf("re-import appended %d events; planned %v", len(recs), rep.Planned)
	}
	for k, n := range rep.Planned {
		if n != 0 {
			x.t.Fatalf("re-import planned %d %s", n, k)
		}
	}
	return rep
}

func (x *harness) head() domain.Position {
	x.t.Helper()
	var pos domain.Position
	for {
		recs, err := x.store.ReadAll(x.ctx, pos, 1000)
		if err != nil {
			x.t.Fatal(err)
		}
		if len(recs) == 0 {
			return pos
		}
		pos = recs[len(recs)-1].Position
	}
}

// dir folds the directory as it is now.
func (x *harness) dir() *LogDirectory {
	x.t.Helper()
	d, err := LoadDirectory(x.ctx, x.store, x.reg)
	if err != nil {
		x.t.Fatal(err)
	}
	return d
}

// account returns the account of a join id.
func (x *harness) account(joinID string) Account {
	x.t.Helper()
	a, ok := x.dir().Account(joinID)
	if !ok {
		x.t.Fatalf("no account for %s", joinID)
	}
	return a
}

// wantCounts checks the counts of a report (kinds not listed: zero).
func wantCounts(t *testing.T, got map[ChangeKind]int, want map[ChangeKind]int) {
	t.Helper()
	for _, k := range ChangeKinds {
		if got[k] != want[k] {
			t.Errorf("%s: got %d, want %d", k, got[k], want[k])
		}
	}
}

// groupsOf renders an account's memberships as "NAME/role/subject".
func groupsOf(a Account) []string {
	var out []string
	for _, m := range a.Memberships {
		s := m.Group.Name + "/" + string(m.Role)
		if m.Subject != "" {
			s += "/" + m.Subject
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// relatives renders a student's links as "EXTERNAL_ID" or "EXTERNAL_ID*"
// (legal guardian).
func relatives(a Account) []string {
	var out []string
	for _, r := range a.Relatives {
		s := r.ExternalID
		if r.LegalGuardian {
			s += "*"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
