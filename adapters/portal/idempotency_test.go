package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestPortalFormKeyReused: a form sent again with its key but other
// values (the browser's back button, then another entry), or the key of
// another form, records nothing and says so in French, without a code or
// the key.
func TestPortalFormKeyReused(t *testing.T) {
	w := newWorld(t)
	key := "portal-" + uuid.NewString()
	form := func(values url.Values) url.Values {
		values.Set(fieldIdempotency, key)
		return values
	}
	first := post("/messages", asTeacher, form(url.Values{"to": {w.Accounts[asRelative].String()}, "subject": {"Sortie"}, "body": {"Mardi"}}))
	tests := []struct {
		name string
		req  pageReq
	}{
		{"other values", post("/messages", asTeacher, form(url.Values{"to": {w.Accounts[asRelative].String()}, "subject": {"Sortie"}, "body": {"Jeudi"}}))},
		{"another form", post("/news", asTeacher, form(url.Values{"title": {"Sortie"}, "body": {"Mardi"}}))},
		{"another account", post("/messages", asCPE, form(url.Values{"to": {w.Accounts[asRelative].String()}, "subject": {"Sortie"}, "body": {"Mardi"}}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := w.fork(t)
			mustPage(t, visit(t, s, first), http.StatusSeeOther)
			before := len(w.Records(store))
			r := visit(t, s, tt.req)
			mustPage(t, r, http.StatusUnprocessableEntity, "Ce formulaire a déjà été envoyé avec d&#39;autres valeurs")
			for _, leak := range []string{key, "idempotency", "SendMessage", "PublishArticle", "request"} {
				if strings.Contains(r.body, leak) {
					t.Errorf("the page shows %q:\n%s", leak, r.body)
				}
			}
			if n := len(w.Records(store)); n != before {
				t.Fatalf("%d events recorded", n-before)
			}
			// The first form sent again is still a replay.
			if again := visit(t, s, first); !strings.Contains(again.header.Get("Location"), "ok=replayed") {
				t.Errorf("the first form again: %d, Location %q", again.status, again.header.Get("Location"))
			}
		})
	}
}
