package portal

// The portal's tests run the pages, beside the API as cmd/ledger mounts
// them, over webtest's school.

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/schoollife/ledger/adapters/api"
	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/commands"
)

// The profiles who sign in.
const (
	asStudent        = webtest.AsStudent
	asRelative       = webtest.AsRelative
	asTeacher        = webtest.AsTeacher
	asCPE            = webtest.AsCPE
	asHead           = webtest.AsHead
	asGuest          = webtest.AsGuest
	asInspector      = webtest.AsInspector
	asOtherInspector = webtest.AsOtherInspector
	asEvaluator      = webtest.AsEvaluator
	asAdmin          = webtest.AsAdmin
	asAnonymous      = webtest.AsAnonymous
)

// world is webtest's school with the portal and the API over it.
type world struct {
	*webtest.World
	// srv serves portal at / and the API under /api/.
	srv    http.Handler
	portal *Portal
	// mailed keeps the letters sent by e-mail.
	mailed *letterBox
	// notify keeps subscriptions, addresses and deliveries, on SQLite.
	notify *delivery.Store
}

// notifications returns the notification settings over handlers h.
func (w *world) notifications(h *commands.Handlers) *web.Notifications {
	w.T.Helper()
	if w.notify == nil {
		s, err := sqlite.Open(w.Ctx, filepath.Join(w.T.TempDir(), "notify.db"))
		if err != nil {
			w.T.Fatal(err)
		}
		w.T.Cleanup(func() { _ = s.Close() })
		w.notify = delivery.NewSQLiteStore(s.DB(), s.WithTx)
	}
	return &web.Notifications{Store: w.notify, Commands: h, Queries: w.Queries, Now: w.Clock}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: webtest.NewWorld(t)}
	w.portal, w.srv = w.server(w.H, w.Auth, w.Store)
	return w
}

// server returns the portal at / and the API under /api/ over handlers h,
// auth and the world's read side, whose directory imports run on store.
func (w *world) server(h *commands.Handlers, auth *webtest.FakeAuth, store *memory.Store) (*Portal, http.Handler) {
	w.T.Helper()
	d := w.Deps(h, auth, store)
	erasures := w.ErasureJobs(h)
	a, err := api.NewServer(api.Config{
		Commands: h, Queries: w.Queries, Sessions: d.Sessions, Imports: d.Imports, Now: w.Clock, Location: webtest.Paris,
		Erasures: erasures,
	})
	if err != nil {
		w.T.Fatal(err)
	}
	lw, err := letters.NewWriter(w.Clock)
	if err != nil {
		w.T.Fatal(err)
	}
	lw.Compress = false
	w.mailed = &letterBox{}
	p, err := New(Config{
		Commands: h, Queries: w.Queries, Sessions: d.Sessions, Imports: d.Imports, Now: w.Clock, Location: webtest.Paris,
		Erasures: erasures, Notifications: w.notifications(h),
		Letters: &letters.Office{Writer: lw, Sources: w.Queries, Recorder: h, Mailer: w.mailed, Now: w.Clock, Loc: webtest.Paris},
	})
	if err != nil {
		w.T.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", a.Handler())
	mux.Handle("/", p.Handler())
	return p, mux
}

// fork returns a server whose commands run on a copy of the world's log,
// with a copy of its sessions (its read side stays the world's), so that a
// test's writes touch no other test, and the copy of the log.
func (w *world) fork(t *testing.T) (http.Handler, *memory.Store) {
	t.Helper()
	h, auth, store := w.Fork(t)
	_, srv := w.server(h, auth, store)
	return srv, store
}

// tokenOf is the session token of a profile.
func tokenOf(profile string) string {
	if profile == asAnonymous {
		return ""
	}
	return "tok-" + profile
}
