package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// TestLogAheadOfServer: a log whose transaction ids lie past the server's
// counter, as a logical dump restored into a younger cluster leaves it, is
// refused by Migrate (hence by every program that serves or changes it)
// and by Verify, naming the cause; the same log below the counter passes.
func TestLogAheadOfServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpen(t, pgtest.MustDatabase(t))
	defer s.Close()
	storetest.MustAppend(t, s, storetest.NewStream("a"), domain.NoStream(), storetest.NewEvents(3))
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate of a readable log: %v", err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("Verify of a readable log: %+v, %v", r, err)
	}

	// As if written by a cluster 2^40 transactions further on.
	if _, err := s.pool.Exec(ctx, `UPDATE events SET tx_id = (tx_id::text::bigint + 1099511627776)::text::xid8`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); !errors.Is(err, ErrAheadOfServer) {
		t.Fatalf("Migrate of a log ahead of the server: %v, want ErrAheadOfServer", err)
	}
	if _, err := s.Verify(ctx); !errors.Is(err, ErrAheadOfServer) {
		t.Fatalf("Verify of a log ahead of the server: %v, want ErrAheadOfServer", err)
	}
	// What the check guards against: no reader sees those events.
	recs, err := s.ReadAll(ctx, domain.Position{}, 0)
	if err != nil || len(recs) != 0 {
		t.Fatalf("ReadAll of a log ahead of the server: %d events, %v", len(recs), err)
	}
}
