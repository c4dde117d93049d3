package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the reverse proxies whose X-Forwarded-For the server
// believes. Behind a proxy every request comes from the proxy's address:
// sign-in throttling per address (adapters/auth) would then count every
// user as one, and a burst of wrong passwords from anyone would slow
// everyone down. From a trusted proxy, the client is the right-most address
// of X-Forwarded-For that is not itself a trusted proxy; from anywhere else
// the header is ignored, since a client can write what it likes there.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies reads addresses and CIDR prefixes (10.0.0.1,
// 10.0.0.0/8, ::1).
func ParseTrustedProxies(specs []string) (TrustedProxies, error) {
	var t TrustedProxies
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			t.prefixes = append(t.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return TrustedProxies{}, fmt.Errorf("trusted proxy %q is not an address or a CIDR prefix (10.0.0.1, 10.0.0.0/8)", s)
		}
		a = a.Unmap()
		t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

// trusts says whether addr is one of the proxies.
func (t TrustedProxies) trusts(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Client returns the client's address of r: the connection's, or, when the
// connection comes from a trusted proxy, the right-most address of
// X-Forwarded-For that is not a trusted proxy (every header line read, in
// order). A malformed entry stops the walk at the last good address.
func (t TrustedProxies) Client(r *http.Request) string {
	peer := ClientAddr(r)
	addr, err := netip.ParseAddr(peer)
	if err != nil || !t.trusts(addr) {
		return peer
	}
	var hops []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(line, ",")...)
	}
	client := addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
		if !t.trusts(client) {
			break
		}
	}
	return client.String()
}

// Handler sets each request's RemoteAddr to its client's address (port 0
// when it came through a proxy), so that everything after it, throttling
// and logs alike, sees the client. With no proxy trusted it is next.
func (t TrustedProxies) Handler(next http.Handler) http.Handler {
	if len(t.prefixes) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if client := t.Client(r); client != ClientAddr(r) {
			r2 := *r
			r2.RemoteAddr = net.JoinHostPort(client, "0")
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}
