package pgtest

import (
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Proxy is a TCP proxy between the code under test and the PostgreSQL
// server: Cut makes the server unreachable (every connection dropped, new
// ones refused), Restore reachable again, on the same address, while the
// code under test keeps running.
type Proxy struct {
	t           testing.TB
	network, to string // the server
	addr        string // where the proxy listens
	mu          sync.Mutex
	ln          net.Listener // nil while cut
	conns       map[net.Conn]struct{}
	closed      bool
	wg          sync.WaitGroup
}

// MustProxy starts a proxy to the server of dsn (a URL, as MustDatabase
// returns for a URL) and returns it and dsn pointed at it. It stops when
// the test ends.
func MustProxy(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgtest: proxy: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skipf("pgtest: the test server's DSN is not a URL; set %s=postgres://... to run this test", EnvDSN)
	}
	p := &Proxy{t: t, network: "tcp", to: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), conns: map[net.Conn]struct{}{}}
	if strings.HasPrefix(cfg.Host, "/") {
		p.network, p.to = "unix", cfg.Host+"/.s.PGSQL."+strconv.Itoa(int(cfg.Port))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: proxy: %v", err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.close)
	q := u.Query()
	q.Del("host") // a host parameter would win over the URL's
	u.RawQuery = q.Encode()
	u.Host = p.addr
	return p, u.String()
}

// Addr is where the proxy listens.
func (p *Proxy) Addr() string { return p.addr }

// Cut drops every connection through the proxy and refuses new ones (its
// port is closed) until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// Restore accepts connections again, on the same address.
func (p *Proxy) Restore() {
	p.t.Helper()
	p.mu.Lock()
	if p.ln != nil || p.closed {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("pgtest: proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// serve accepts on ln until it is closed, each connection copied both
// ways to the server.
func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial(p.network, p.to)
			if err != nil {
				_ = c.Close()
				continue
			}
			if !p.track(c, s) {
				continue
			}
			p.wg.Go(func() { p.pipe(c, s) })
			p.wg.Go(func() { p.pipe(s, c) })
		}
	})
}

// track records a pair of connections, unless the proxy was cut meanwhile
// (then it closes them).
func (p *Proxy) track(c, s net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		_, _ = c.Close(), s.Close()
		return false
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	return true
}

// pipe copies from one connection to the other, then closes both: either
// side closing ends the pair.
func (p *Proxy) pipe(from, to net.Conn) {
	_, _ = io.Copy(to, from)
	_, _ = from.Close(), to.Close()
	p.mu.Lock()
	delete(p.conns, from)
	delete(p.conns, to)
	p.mu.Unlock()
}

// close stops the proxy for good.
func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Cut()
	p.wg.Wait()
}
