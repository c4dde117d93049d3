package subjectkeys_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/domain"
)

// countingKeys counts the keys read or created one at a time.
type countingKeys struct {
	*subjectkeys.SQL
	one int
}

func (c *countingKeys) Key(ctx context.Context, subject uuid.UUID) ([]byte, error) {
	c.one++
	return c.SQL.Key(ctx, subject)
}

// sqlStores opens a key store on each SQL database.
func sqlStores() map[string]func(t *testing.T) *subjectkeys.SQL {
	ctx := context.Background()
	return map[string]func(t *testing.T) *subjectkeys.SQL{
		"sqlite": func(t *testing.T) *subjectkeys.SQL {
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return subjectkeys.NewSQLite(s.DB(), s.WithTx)
		},
		"postgres": func(t *testing.T) *subjectkeys.SQL {
			s, err := postgres.Open(ctx, pgtest.MustDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return subjectkeys.NewPostgres(s.Pool())
		},
	}
}

// TestScopedKeysSQL: scoped keys on both stores: created once and read
// back with their scope; a record key destroyed alone; a period's keys
// counted and destroyed together; every key of an erased person
// destroyed, and none created for them after.
func TestScopedKeysSQL(t *testing.T) {
	ctx := context.Background()
	for name, open := range sqlStores() {
		t.Run(name, func(t *testing.T) {
			keys := open(t)
			t.Cleanup(func() { _ = keys.Close() })
			student, other := uuid.New(), uuid.New()
			cat := func(subject uuid.UUID, period string) subjectkeys.Ref {
				return subjectkeys.RefOf(subject, subjectkeys.Scope{Kind: subjectkeys.ScopeCategory, Category: "messages",
					Establishment: "0750001A", Period: period})
			}
			record := subjectkeys.RecordRef(student, domain.RecordSanction, uuid.New())
			refs := []subjectkeys.Ref{cat(student, "2024-2025"), cat(student, "2026-2027"), cat(other, "2024-2025"), record}
			created := map[uuid.UUID][]byte{}
			for _, r := range refs {
				k, err := keys.ScopedKey(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				again, err := keys.ScopedKey(ctx, r)
				if err != nil || !bytes.Equal(k, again) {
					t.Fatalf("the key of %+v asked again differs: %v", r.Scope, err)
				}
				ref, got, ok, err := keys.LookupScoped(ctx, r.ID)
				if err != nil || !ok || !bytes.Equal(got, k) || ref != r {
					t.Fatalf("lookup %+v: %+v, %v, %v", r, ref, ok, err)
				}
				created[r.ID] = k
			}
			if err := keys.DestroyScoped(ctx, record); err != nil {
				t.Fatal(err)
			}
			if _, _, ok, _ := keys.LookupScoped(ctx, record.ID); ok {
				t.Error("a destroyed record key is read")
			}
			if _, err := keys.ScopedKey(ctx, record); !errors.Is(err, subjectkeys.ErrDestroyed) {
				t.Errorf("a destroyed record key is created again: %v", err)
			}
			live, err := keys.LivePeriods(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []subjectkeys.PeriodKeys{
				{Establishment: "0750001A", Category: "messages", Period: "2024-2025", Keys: 2},
				{Establishment: "0750001A", Category: "messages", Period: "2026-2027", Keys: 1},
			}
			if !slices.Equal(live, want) {
				t.Fatalf("live periods %+v, want %+v", live, want)
			}
			if n, err := keys.DestroyPeriod(ctx, want[0]); err != nil || n != 2 {
				t.Fatalf("destroy period: %d, %v", n, err)
			}
			if _, _, ok, _ := keys.LookupScoped(ctx, cat(other, "2024-2025").ID); ok {
				t.Error("a key of an expired period is read")
			}
			if _, got, ok, _ := keys.LookupScoped(ctx, cat(student, "2026-2027").ID); !ok || !bytes.Equal(got, created[cat(student, "2026-2027").ID]) {
				t.Error("the current year's key is gone")
			}
			// Erasing the person: every key of theirs, and none after.
			if err := keys.Destroy(ctx, student); err != nil {
				t.Fatal(err)
			}
			if _, _, ok, _ := keys.LookupScoped(ctx, cat(student, "2026-2027").ID); ok {
				t.Error("an erased person's category key is read")
			}
			if _, err := keys.ScopedKey(ctx, cat(student, "2027-2028")); !errors.Is(err, subjectkeys.ErrDestroyed) {
				t.Errorf("a key created for an erased person: %v", err)
			}
			if live, err := keys.LivePeriods(ctx); err != nil || len(live) != 0 {
				t.Errorf("live periods after all: %+v, %v", live, err)
			}
		})
	}
}

// TestKeysInBulk: Keys creates the missing keys of many subjects in one
// go, keeps those that exist and leaves out the destroyed ones; a cipher
// prepared with them seals without reading a key one at a time. On both
// stores.
func TestKeysInBulk(t *testing.T) {
	ctx := context.Background()
	stores := map[string]func(t *testing.T) *subjectkeys.SQL{
		"sqlite": func(t *testing.T) *subjectkeys.SQL {
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return subjectkeys.NewSQLite(s.DB(), s.WithTx)
		},
		"postgres": func(t *testing.T) *subjectkeys.SQL {
			s, err := postgres.Open(ctx, pgtest.MustDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return subjectkeys.NewPostgres(s.Pool())
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			keys := open(t)
			t.Cleanup(func() { _ = keys.Close() })
			existing, destroyed := uuid.New(), uuid.New()
			before, err := keys.Key(ctx, existing)
			if err != nil {
				t.Fatal(err)
			}
			if err := keys.Destroy(ctx, destroyed); err != nil {
				t.Fatal(err)
			}
			subjects := []uuid.UUID{existing, destroyed}
			for range 1200 { // more than one statement's worth
				subjects = append(subjects, uuid.New())
			}
			got, err := keys.Keys(ctx, subjects)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(subjects)-1 || !bytes.Equal(got[existing], before) {
				t.Fatalf("%d keys for %d subjects (one destroyed); the existing key kept: %v", len(got), len(subjects), bytes.Equal(got[existing], before))
			}
			if _, ok := got[destroyed]; ok {
				t.Fatal("a destroyed key came back")
			}
			again, err := keys.Keys(ctx, subjects[2:4])
			if err != nil || !bytes.Equal(again[subjects[2]], got[subjects[2]]) || !bytes.Equal(again[subjects[3]], got[subjects[3]]) {
				t.Fatalf("keys asked again differ: %v", err)
			}

			counted := &countingKeys{SQL: keys}
			reg := domain.NewRegistry()
			c, err := subjectkeys.New(counted, reg)
			if err != nil {
				t.Fatal(err)
			}
			accounts := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
			if err := c.Prepare(ctx, accounts); err != nil {
				t.Fatal(err)
			}
			for _, a := range accounts {
				if _, err := c.Seal(ctx, domain.Metadata{}, domain.AccountOpened{Account: a, DisplayName: "Zoé Martin"}); err != nil {
					t.Fatal(err)
				}
			}
			if counted.one != 0 {
				t.Fatalf("%d keys read one at a time after Prepare", counted.one)
			}
		})
	}
}
