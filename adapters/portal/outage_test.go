package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// outageLog is a copy of the world's log whose appends fail with an
// outage of one kind, as the store adapters mark them; reads work.
type outageLog struct {
	*memory.Store
	kind *domain.Error
}

func (l outageLog) Append(_ context.Context, stream string, _ domain.ExpectedVersion, _ []domain.Envelope) (domain.AppendResult, error) {
	return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, domain.Outage(l.kind, errors.New("connection refused")))
}

// TestPortalStoreOutage: a form sent while the event store is out is a
// 503 page with Retry-After, in French, with no status code nor English;
// pages that read go on.
func TestPortalStoreOutage(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		kind *domain.Error
		want string
	}{
		{domain.ErrUnavailable, "Le service est momentanément indisponible, réessayez dans quelques instants."},
		{domain.ErrStoreFull, "vous pouvez toujours consulter"},
	} {
		t.Run(tc.kind.Type, func(t *testing.T) {
			_, auth, store := w.Fork(t)
			h, err := commands.New(commands.Config{Store: outageLog{store, tc.kind}, Registry: w.Reg, Now: w.Clock})
			if err != nil {
				t.Fatal(err)
			}
			_, s := w.server(h, auth, store)

			r := visit(t, s, post("/messages", asRelative, url.Values{"to": {w.Accounts[asTeacher].String()}, "subject": {"Absence"}, "body": {"Bonjour"}}))
			mustPage(t, r, http.StatusServiceUnavailable, tc.want)
			if got := r.header.Get("Retry-After"); got != "5" {
				t.Errorf("Retry-After %q, want 5", got)
			}
			for _, leak := range []string{"503", tc.kind.Title, "unavailable", "connection refused"} {
				if strings.Contains(r.body, leak) {
					t.Errorf("the page shows %q:\n%s", leak, r.body)
				}
			}
			mustPage(t, visit(t, s, get("/messages", asRelative)), http.StatusOK)
		})
	}
}
