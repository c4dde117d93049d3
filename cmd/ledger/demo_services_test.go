package main

import (
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestDemoService: `serve --demo` (on :0) registers a demo CAS service
// and a demo OpenID Connect client at the address it listens on, and
// serves the demo service under /demo-service/: a teacher signed in on
// the portal reaches it through both protocols without signing in again,
// and it shows the attributes the ledger gave it. Each access appends
// service.accessed.v1.
func TestDemoService(t *testing.T) {
	t.Parallel()
	store := MustLedgerFile(t)
	path := strings.TrimPrefix(store, "sqlite:")
	srv := startServe(t, "--store", store, "--demo")
	srv.mustLog(t, `msg=serving addr=`)
	base := "http://" + regexp.MustCompile(`msg=serving addr=(\S+)`).FindStringSubmatch(srv.log.String())[1]

	b := newBrowser(t, base, true)
	if resp, body := b.get(t, base+"/demo-service/"); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, "Service de démonstration") || !strings.Contains(body, `href="/demo-service/oidc"`) {
		t.Fatalf("demo service's page: %d\n%s", resp.StatusCode, body)
	}
	// Not signed in: the CAS flow leads to the portal's sign-in page.
	if resp, _ := b.get(t, base+"/demo-service/cas"); resp.Request.URL.Path != "/login" {
		t.Fatalf("not signed in, the CAS flow ended at %s", resp.Request.URL)
	}
	if resp, body := b.signIn(t, "prof.martin", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d\n%.500s", resp.StatusCode, body)
	}
	before := accesses(t, path)
	for _, c := range []struct{ path, protocol string }{
		{"/demo-service/cas", "Connecté par CAS 3.0"},
		{"/demo-service/oidc", "Connecté par OpenID Connect"},
	} {
		var body string
		// The registration reaches the read model in the background.
		waitFor(t, "the demo service through "+c.path, func() bool {
			var resp *http.Response
			resp, body = b.get(t, base+c.path)
			return resp.StatusCode == http.StatusOK && strings.Contains(body, c.protocol)
		})
		for _, want := range []string{"M. Martin", "prof.martin", "National_ENS", DemoUAI, "ENTPersonProfils"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the demo service was not given %s:\n%s", c.path, want, body)
			}
		}
	}
	if got := accesses(t, path); got < before+2 {
		t.Fatalf("%d accesses recorded for the two flows", got-before)
	}
}

// TestDemoServiceBases: the demo service is registered at the issuer, or
// at the loopback address listened on, never at another.
func TestDemoServiceBases(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		issuer string
		addr   net.Addr
		want   string
	}{
		{"", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080 http://localhost:8080"},
		{"", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8081}, "http://127.0.0.1:8081 http://localhost:8081"},
		{"", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8080}, ""},
		{"https://ent.example.fr/", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8080}, "https://ent.example.fr"},
	} {
		if got := strings.Join(demoServiceBases(c.issuer, c.addr), " "); got != c.want {
			t.Errorf("%q %s: %q, want %q", c.issuer, c.addr, got, c.want)
		}
	}
}
