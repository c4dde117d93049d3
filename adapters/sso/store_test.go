package sso_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/sso"
)

// clock is a test clock moved by hand.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time      { return time.UnixMilli(c.now.Load()) }
func (c *clock) Add(d time.Duration) { c.now.Add(d.Milliseconds()) }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.now.Store(t.UnixMilli())
	return c
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	must(t, err, nil)
}

// must checks err is want (nil: no error).
func must(t *testing.T, err, want error) {
	t.Helper()
	if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

// stores opens a Store on each dialect (Postgres skips outside CI when no
// server answers, saying how to enable it).
func stores(t *testing.T) map[string]func(t *testing.T) *sso.Store {
	return map[string]func(t *testing.T) *sso.Store{
		"sqlite": func(t *testing.T) *sso.Store {
			es, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = es.Close() })
			return sso.NewSQLite(es.DB(), es.WithTx)
		},
		"postgres": func(t *testing.T) *sso.Store {
			ctx := context.Background()
			es, err := postgres.Open(ctx, pgtest.MustDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := es.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			s := sso.NewPostgres(es.Pool())
			t.Cleanup(func() { _ = s.Close(); es.Close() })
			return s
		},
	}
}

// TestStore: requests are answered once and expire; an assertion is
// accepted once, even when several nodes try at once; unmatched identities
// count their attempts and leave after the retention.
func TestStore(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock(time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC))
			s := open(t).WithClock(c.Now)

			t.Run("requests", func(t *testing.T) {
				req := sso.PendingRequest{ID: "id-1", Provider: "educonnect", ReturnTo: "/feed"}
				mustNil(t, s.SaveRequest(ctx, req, c.Now().Add(10*time.Minute)))
				got, err := s.PeekRequest(ctx, "id-1")
				mustNil(t, err)
				if got != req {
					t.Fatalf("request %+v, want %+v", got, req)
				}
				_, err = s.PeekRequest(ctx, "id-2")
				must(t, err, sso.ErrUnknownRequest)
				mustNil(t, s.ConsumeRequest(ctx, "id-1"))
				must(t, s.ConsumeRequest(ctx, "id-1"), sso.ErrUnknownRequest)
				_, err = s.PeekRequest(ctx, "id-1")
				must(t, err, sso.ErrUnknownRequest)

				mustNil(t, s.SaveRequest(ctx, sso.PendingRequest{ID: "id-3", Provider: "p", ReturnTo: "/"}, c.Now().Add(10*time.Minute)))
				c.Add(11 * time.Minute)
				_, err = s.PeekRequest(ctx, "id-3")
				must(t, err, sso.ErrUnknownRequest)
			})

			t.Run("assertions", func(t *testing.T) {
				var wins atomic.Int32
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						err := s.ConsumeAssertion(ctx, "assertion-1", c.Now().Add(5*time.Minute))
						switch {
						case err == nil:
							wins.Add(1)
						case !errors.Is(err, sso.ErrReplayed):
							t.Errorf("consume: %v", err)
						}
					})
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Fatalf("%d consumers won", wins.Load())
				}
				// Once expired, the id is dropped: an assertion that old is
				// refused by its lifetime anyway.
				c.Add(6 * time.Minute)
				mustNil(t, s.ConsumeAssertion(ctx, "assertion-2", c.Now().Add(5*time.Minute)))
				mustNil(t, s.ConsumeAssertion(ctx, "assertion-1", c.Now().Add(5*time.Minute)))
			})

			t.Run("unmatched", func(t *testing.T) {
				u := sso.Unmatched{Provider: "educonnect", Subject: "s1", Reason: sso.ReasonNone, Name: "Agnès MARTIN", Hint: "profil 2", Establishment: "0130001A"}
				mustNil(t, s.NoteUnmatched(ctx, u))
				c.Add(time.Hour)
				u.Reason = sso.ReasonSeveral
				mustNil(t, s.NoteUnmatched(ctx, u))
				mustNil(t, s.NoteUnmatched(ctx, sso.Unmatched{Provider: "educonnect", Subject: "s2", Reason: sso.ReasonNone}))
				list, err := s.ListUnmatched(ctx, "", 10)
				mustNil(t, err)
				if len(list) != 2 || list[0].Subject != "s1" || list[1].Subject != "s2" {
					t.Fatalf("list %+v", list)
				}
				// An establishment's administrators see what names it.
				list, err = s.ListUnmatched(ctx, "0130001A", 10)
				mustNil(t, err)
				if len(list) != 1 || list[0].Subject != "s1" || list[0].Establishment != "0130001A" {
					t.Fatalf("list of 0130001A %+v", list)
				}
				one, ok, err := s.UnmatchedOne(ctx, "educonnect", "s1")
				mustNil(t, err)
				if !ok || one.Attempts != 2 || one.Reason != sso.ReasonSeveral || !one.LastSeen.After(one.FirstSeen) {
					t.Fatalf("s1: %+v", one)
				}
				mustNil(t, s.ForgetUnmatched(ctx, "educonnect", "s2"))
				c.Add(sso.UnmatchedRetention + time.Minute)
				if list, err := s.ListUnmatched(ctx, "", 10); err != nil || len(list) != 0 {
					t.Fatalf("after the retention: %+v %v", list, err)
				}
				// The next note drops the old rows for good.
				mustNil(t, s.NoteUnmatched(ctx, sso.Unmatched{Provider: "educonnect", Subject: "s3", Reason: sso.ReasonNone}))
				if _, ok, err := s.UnmatchedOne(ctx, "educonnect", "s1"); err != nil || ok {
					t.Fatalf("s1 kept past the retention: %v %v", ok, err)
				}
			})
		})
	}
}

// TestStoreSessions: a provider's session is taken once at sign-out, and
// not after it expired.
func TestStoreSessions(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock(time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC))
			s := open(t).WithClock(c.Now)
			ps := sso.ProviderSession{Session: "sess-1", Provider: "educonnect", Subject: "nameid", SessionIndex: "idx"}
			mustNil(t, s.SaveSession(ctx, ps, c.Now().Add(time.Hour)))
			got, ok, err := s.TakeSession(ctx, "sess-1")
			mustNil(t, err)
			if !ok || got != ps {
				t.Fatalf("taken %+v %v", got, ok)
			}
			if _, ok, err := s.TakeSession(ctx, "sess-1"); err != nil || ok {
				t.Fatalf("taken twice: %v %v", ok, err)
			}
			mustNil(t, s.SaveSession(ctx, sso.ProviderSession{Session: "sess-2", Provider: "p", Subject: "s"}, c.Now().Add(time.Hour)))
			c.Add(2 * time.Hour)
			if _, ok, err := s.TakeSession(ctx, "sess-2"); err != nil || ok {
				t.Fatalf("an expired session taken: %v %v", ok, err)
			}
		})
	}
}
