package api

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestRegisterOIDCClient: an administrator registers an OpenID Connect
// client through the API; the answer gives its client id (the service's
// id) and a generated secret whose hash, never the secret, is recorded. A
// replay records nothing more and gives no secret; a public client has
// none; a body naming its own client id or secret hash is refused.
func TestRegisterOIDCClient(t *testing.T) {
	w := newWorld(t)
	path := "/api/v1/establishments/" + w.UAI + "/services"
	srv, store := w.fork(t)
	before := len(w.Records(store))
	req := request{method: "POST", path: path, token: tokenOf(asAdmin), headers: map[string]string{headerIdempotencyKey: "oidc-moodle"},
		body: domain.RegisterService{Name: "Moodle", Kind: domain.ServiceOIDC, URLs: []string{"https://moodle.example.fr/auth/oidc/"},
			PostLogoutURIs: []string{"https://moodle.example.fr/"}, Attributes: []string{domain.AttrDisplayName}}}
	first := do(t, srv, req)
	if first.status != http.StatusCreated {
		t.Fatalf("register: %d %s", first.status, first.body)
	}
	got := mustDecode[ServiceRegistration](t, first)
	if got.ClientID != got.ID.String() || len(got.ClientSecret) < 43 {
		t.Fatalf("client id %q (service %s), secret %q", got.ClientID, got.ID, got.ClientSecret)
	}
	recs := w.Records(store)[before:]
	if len(recs) != 1 {
		t.Fatalf("recorded %d events", len(recs))
	}
	e, err := w.Reg.DecodeRecord(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	reg := e.(domain.ServiceRegistered)
	if reg.ClientID != got.ClientID || reg.SecretHash != domain.HashClientSecret(got.ClientSecret) ||
		len(reg.PostLogoutURIs) != 1 {
		t.Fatalf("registered %+v", reg)
	}
	if bytes.Contains(recs[0].Data, []byte(got.ClientSecret)) {
		t.Fatal("the secret is in the log")
	}

	second := do(t, srv, req)
	replay := mustDecode[ServiceRegistration](t, second)
	if second.status != http.StatusCreated || second.header.Get(headerReplayed) != "true" || replay.ClientSecret != "" || replay.ClientID != got.ClientID {
		t.Fatalf("replay: %d %s", second.status, second.body)
	}
	if n := len(w.Records(store)) - before; n != 1 {
		t.Fatalf("the replay appended %d events", n-1)
	}

	public := do(t, srv, request{method: "POST", path: path, token: tokenOf(asAdmin),
		body: domain.RegisterService{Name: "Appli", Kind: domain.ServiceOIDC, URLs: []string{"http://127.0.0.1:8765/cb"}, Public: true}})
	if p := mustDecode[ServiceRegistration](t, public); public.status != http.StatusCreated || p.ClientID == "" || p.ClientSecret != "" {
		t.Fatalf("public client: %d %s", public.status, public.body)
	}

	for name, body := range map[string]string{
		"own client id":   `{"name": "X", "kind": "oidc", "urls": ["https://x.example.fr/cb"], "client_id": "pronote"}`,
		"own secret hash": `{"name": "X", "kind": "oidc", "urls": ["https://x.example.fr/cb"], "secret_hash": "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		"prefix":          `{"name": "X", "kind": "oidc", "urls": ["https://x.example.fr/*"]}`,
		"http off-host":   `{"name": "X", "kind": "oidc", "urls": ["http://x.example.fr/cb"]}`,
	} {
		n := len(w.Records(store))
		if r := do(t, srv, request{method: "POST", path: path, token: tokenOf(asAdmin), body: body}); r.status/100 != 4 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
		if len(w.Records(store)) != n {
			t.Errorf("%s: recorded", name)
		}
	}
}
