package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// outageLog is a copy of the world's log whose appends fail with an
// outage of one kind, as the store adapters mark them (their own tests
// show the real errors they mark); reads work.
type outageLog struct {
	*memory.Store
	kind *domain.Error
}

func (l outageLog) Append(_ context.Context, stream string, _ domain.ExpectedVersion, _ []domain.Envelope) (domain.AppendResult, error) {
	return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, domain.Outage(l.kind, errors.New("database or disk is full (13)")))
}

// TestEventStoreOutage: while the event store takes no appends (full, out
// of reach) and the read side answers, users still sign in, without
// their connection recorded, and read; commands answer 503 with
// Retry-After and the outage's slug.
func TestEventStoreOutage(t *testing.T) {
	w := newWorld(t)
	for _, kind := range []*domain.Error{domain.ErrStoreFull, domain.ErrUnavailable} {
		t.Run(kind.Type, func(t *testing.T) {
			_, auth, store := w.Fork(t)
			h, err := commands.New(commands.Config{Store: outageLog{store, kind}, Registry: w.Reg, Now: w.Clock})
			if err != nil {
				t.Fatal(err)
			}
			srv := w.server(h, auth, store)
			before := len(w.Records(store))

			r := do(t, srv, request{method: "POST", path: "/api/v1/tokens", body: SignInRequest{Login: asTeacher, Password: webtest.Password}})
			if r.status != http.StatusCreated {
				t.Fatalf("sign-in: %d %s", r.status, r.body)
			}
			token := mustDecode[TokenResponse](t, r).Token
			if r := do(t, srv, request{method: "GET", path: "/api/v1/me", token: token}); r.status != http.StatusOK {
				t.Errorf("read: %d %s", r.status, r.body)
			}

			r = do(t, srv, request{method: "POST", path: "/api/v1/messages", token: token,
				body: domain.SendMessage{ToAccounts: []uuid.UUID{w.Accounts[asCPE]}, Subject: "Bonjour", Body: "Réunion mardi"}})
			mustProblem(t, r, http.StatusServiceUnavailable, kind.Type)
			if got := r.header.Get("Retry-After"); got != "5" {
				t.Errorf("Retry-After %q, want 5", got)
			}
			if n := len(w.Records(store)) - before; n != 0 {
				t.Errorf("%d events recorded", n)
			}
		})
	}
}
