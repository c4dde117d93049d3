package subjectkeys_test

import (
	"bytes"
	"context"
	"path/filepath"
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
