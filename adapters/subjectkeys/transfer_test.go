package subjectkeys_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/domain"
)

// TestResealKeepsSealedAndErases: Reseal seals what is in clear, keeps a
// sealed value byte for byte, writes the placeholder for an erased
// person's value in clear, and refuses a sealed value that does not open.
func TestResealKeepsSealedAndErases(t *testing.T) {
	ctx := context.Background()
	c, reg := newCipher(t, subjectkeys.NewMemory())
	alive, erased := uuid.New(), uuid.New()

	clear := domain.PunishmentGiven{Punishment: uuid.New(), Student: alive, Kind: domain.PunishmentDetention, Reason: "en clair"}
	out, changed, err := c.Reseal(ctx, domain.Metadata{}, clear)
	if err != nil || !changed {
		t.Fatalf("reseal a clear value: %v, changed %v", err, changed)
	}
	sealed := out.(domain.PunishmentGiven).Reason
	// A punishment's reason is a school-life act: sealed with the
	// student's key of that category and school year.
	if !strings.HasPrefix(sealed, subjectkeys.PrefixScoped) {
		t.Fatalf("not sealed with a scoped key of the student: %q", sealed)
	}
	typ, data, err := reg.Encode(out)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := reg.Decode(typ, data); err != nil || e.(domain.PunishmentGiven).Reason != "en clair" {
		t.Errorf("opens to %+v, %v", e, err)
	}

	again, changed, err := c.Reseal(ctx, domain.Metadata{}, out)
	if err != nil || changed || again.(domain.PunishmentGiven).Reason != sealed {
		t.Errorf("a sealed value: %+v, changed %v, %v", again, changed, err)
	}

	if err := c.Destroy(ctx, erased); err != nil {
		t.Fatal(err)
	}
	gone, changed, err := c.Reseal(ctx, domain.Metadata{}, domain.PunishmentGiven{Student: erased, Reason: "nom en clair"})
	if err != nil || !changed || gone.(domain.PunishmentGiven).Reason != subjectkeys.Placeholder {
		t.Errorf("an erased person's clear value: %+v, changed %v, %v", gone, changed, err)
	}
	masked, err := c.Mask(ctx, domain.Metadata{}, domain.PunishmentGiven{Student: erased, Reason: "nom en clair"})
	if err != nil || masked.(domain.PunishmentGiven).Reason != subjectkeys.Placeholder {
		t.Errorf("mask: %+v, %v", masked, err)
	}

	bad := clear
	bad.Reason = sealed[:len(sealed)-4] + "AAAA"
	if _, _, err := c.Reseal(ctx, domain.Metadata{}, bad); !errors.Is(err, subjectkeys.ErrSealed) {
		t.Errorf("a sealed value that does not open: %v, want ErrSealed", err)
	}
}

// TestRowsPut: the rows of a table of keys, put into another, give the
// same keys, and the destroyed ones stay destroyed; putting them again,
// or a destruction over a live key, keeps the table right. On both
// stores.
func TestRowsPut(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) *subjectkeys.SQL{
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
			k := subjectkeys.NewPostgres(s.Pool())
			t.Cleanup(func() { _ = k.Close() })
			return k
		},
	}
	for name, mk := range open {
		t.Run(name, func(t *testing.T) {
			from, to := mk(t), mk(t)
			a, b, c := uuid.New(), uuid.New(), uuid.New()
			ka, err := from.Key(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := from.Key(ctx, b); err != nil {
				t.Fatal(err)
			}
			if err := from.Destroy(ctx, b); err != nil {
				t.Fatal(err)
			}
			// c is alive in the destination, destroyed in the source.
			if _, err := to.Key(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := from.Destroy(ctx, c); err != nil {
				t.Fatal(err)
			}
			var rows []subjectkeys.Row
			if err := from.Rows(ctx, func(r subjectkeys.Row) error { rows = append(rows, r); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 {
				t.Fatalf("%d rows, want 3", len(rows))
			}
			for range 2 {
				if err := to.Put(ctx, rows); err != nil {
					t.Fatal(err)
				}
			}
			if k, ok, err := to.Lookup(ctx, a); err != nil || !ok || !bytes.Equal(k, ka) {
				t.Errorf("a's key in the destination: %v, %v", ok, err)
			}
			for _, s := range []uuid.UUID{b, c} {
				if _, ok, err := to.Destroyed(ctx, s); err != nil || !ok {
					t.Errorf("%s not destroyed in the destination: %v", s, err)
				}
			}
		})
	}
}
