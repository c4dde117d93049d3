package auth

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// buckets keeps one token bucket of failed sign-ins per key (a login and a
// client address, or a client address): burst failures at once, then one more every
// window/burst, so that a full burst is allowed again window after the
// last failure. Only failures take tokens; a key whose bucket is empty is
// refused before any password is hashed.
type buckets struct {
	limit  rate.Limit
	burst  int
	window time.Duration
	max    int // keys kept at most

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time // last failure; guarded by buckets.mu
}

func newBuckets(burst int, window time.Duration, max int) *buckets {
	return &buckets{
		limit: rate.Every(window / time.Duration(burst)), burst: burst, window: window, max: max,
		m: make(map[string]*bucket),
	}
}

// wait returns how long key must wait before its next attempt: zero when
// one is allowed now.
func (b *buckets) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	e := b.m[key]
	b.mu.Unlock()
	if e == nil {
		return 0
	}
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	d := time.Duration((1 - tokens) / float64(b.limit) * float64(time.Second))
	return max(d, time.Second)
}

// fail takes a token from key's bucket.
func (b *buckets) fail(key string, now time.Time) {
	b.mu.Lock()
	e := b.m[key]
	if e == nil {
		if len(b.m) >= b.max {
			b.prune(now)
		}
		e = &bucket{lim: rate.NewLimiter(b.limit, b.burst)}
		b.m[key] = e
	}
	e.last = now
	b.mu.Unlock()
	e.lim.AllowN(now, 1)
}

// reset forgets key's failures (after a successful sign-in or a new
// password).
func (b *buckets) reset(key string) {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}

// resetPrefix forgets the failures of every key that starts with prefix
// (a login from every address, after a new password).
func (b *buckets) resetPrefix(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.m {
		if strings.HasPrefix(k, prefix) {
			delete(b.m, k)
		}
	}
}

// prune drops the buckets that are full again. If that is not enough (a
// flood of failures on distinct keys), it drops arbitrary ones down to
// three quarters of max: memory stays bounded, at the price of forgetting
// some failures under such a flood. The caller holds mu.
func (b *buckets) prune(now time.Time) {
	for k, e := range b.m {
		if now.Sub(e.last) >= b.window {
			delete(b.m, k)
		}
	}
	for k := range b.m {
		if len(b.m) < b.max*3/4 {
			break
		}
		delete(b.m, k)
	}
}

// pairKey is the bucket key of a login (normalized) from an address (its
// addrKey). A normalized login holds no NUL, so keys never collide.
func pairKey(login, addr string) string { return login + "\x00" + addr }

// addrKey is the bucket key of a client address: the IP without port, and
// an IPv6 address's /64, which one client can easily rotate within. An
// address that does not parse is used as it is.
func addrKey(addr string) string {
	addr = strings.TrimSpace(addr)
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			if len(addr) > 64 {
				addr = addr[:64]
			}
			return addr
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
