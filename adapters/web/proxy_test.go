package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/schoollife/ledger/adapters/web"
)

func TestTrustedProxies(t *testing.T) {
	proxies, err := web.ParseTrustedProxies([]string{"10.0.0.0/8", " 192.0.2.7 ", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy, header ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"through a trusted proxy", "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a forged first hop is not believed", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "10.1.2.3:4000", []string{"198.51.100.1, 192.0.2.7"}, "198.51.100.1"},
		{"header lines read in order", "10.1.2.3:4000", []string{"1.2.3.4", "198.51.100.9"}, "198.51.100.9"},
		{"proxy without a header", "10.1.2.3:4000", nil, "10.1.2.3"},
		{"malformed hop stops the walk", "10.1.2.3:4000", []string{"198.51.100.1, junk"}, "10.1.2.3"},
		{"IPv6 loopback proxy", "[::1]:4000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/tokens", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := proxies.Client(r); got != tc.want {
				t.Errorf("Client = %q, want %q", got, tc.want)
			}
			var seen string
			proxies.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = web.ClientAddr(r) })).
				ServeHTTP(httptest.NewRecorder(), r)
			if seen != tc.want {
				t.Errorf("after Handler, ClientAddr = %q, want %q", seen, tc.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0"} {
		if _, err := web.ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var none web.TrustedProxies
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.1.2.3:4000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := none.Client(r); got != "10.1.2.3" {
		t.Errorf("no proxy trusted: Client = %q", got)
	}
}
