package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
)

// cheap keeps hashing fast in tests (a valid argon2id, far too weak for
// real use).
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Clock is a settable clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

func NewClock() *Clock {
	return &Clock{now: time.Date(2007, 3, 12, 8, 0, 0, 0, time.UTC)}
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// backend opens services on one database, and reads its tables.
type backend struct {
	// open returns a service on the database; cfg's zero fields get the
	// tests' defaults (cheap parameters, no clock set).
	open func(t *testing.T, cfg auth.Config) *auth.Service
	db   *sql.DB
	// exec writes behind the service's back.
	exec func(t *testing.T, query string, args ...any)
}

// forEachStore runs fn on SQLite and on Postgres (skipped without a
// server outside CI).
func forEachStore(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, MustSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, MustPostgres(t))
	})
}

func withDefaults(cfg auth.Config) auth.Config {
	if cfg.Params == (auth.Params{}) {
		cfg.Params = cheap
	}
	return cfg
}

// MustSQLite returns a backend on a fresh SQLite event store's file.
func MustSQLite(t *testing.T) backend {
	t.Helper()
	es, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = es.Close() })
	return backend{
		db: es.DB(),
		exec: func(t *testing.T, query string, args ...any) {
			t.Helper()
			err := es.WithTx(context.Background(), func(tx *sql.Tx) error {
				_, err := tx.ExecContext(context.Background(), query, args...)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		open: func(t *testing.T, cfg auth.Config) *auth.Service {
			t.Helper()
			s, err := auth.NewSQLite(es.DB(), es.WithTx, withDefaults(cfg))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
}

// MustPostgres returns a backend on a fresh, migrated Postgres database.
func MustPostgres(t *testing.T) backend {
	t.Helper()
	ctx := context.Background()
	es, err := postgres.Open(ctx, pgtest.MustDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := es.Migrate(ctx); err != nil {
		_ = es.Close()
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(es.Pool())
	t.Cleanup(func() {
		_ = db.Close()
		_ = es.Close()
	})
	return backend{
		db: db,
		exec: func(t *testing.T, query string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
				t.Fatal(err)
			}
		},
		open: func(t *testing.T, cfg auth.Config) *auth.Service {
			t.Helper()
			s, err := auth.NewPostgres(es.Pool(), withDefaults(cfg))
			if err != nil {
				t.Fatal(err)
			}
			// Registered after the pool's cleanup, so run before it.
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
}

func MustSetPassword(t *testing.T, s *auth.Service, account uuid.UUID, login, password string) {
	t.Helper()
	if err := s.SetPassword(context.Background(), account, login, password); err != nil {
		t.Fatalf("set password of %s (%s): %v", account, login, err)
	}
}

func MustNewSession(t *testing.T, s *auth.Service, account uuid.UUID, kind string) (string, time.Time) {
	t.Helper()
	tok, exp, err := s.NewSession(context.Background(), account, kind)
	if err != nil {
		t.Fatalf("new %s: %v", kind, err)
	}
	return tok, exp
}

func TestAuthenticate(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t, auth.Config{})
		jean := uuid.New()
		MustSetPassword(t, s, jean, "Jean.Dupont", "correct horse battery")

		for _, login := range []string{"Jean.Dupont", "jean.dupont", "JEAN.DUPONT", "ＪＥＡＮ.ＤＵＰＯＮＴ"} {
			got, err := s.Authenticate(ctx, login, "correct horse battery", "192.0.2.1")
			if err != nil || got != jean {
				t.Errorf("authenticate %q = %s, %v; want %s", login, got, err, jean)
			}
		}
		if n := s.DummyVerifications(); n != 0 {
			t.Errorf("%d dummy verifications for a known login", n)
		}

		// Every failure is the same error, and nothing in it names the
		// cause.
		for _, tc := range []struct {
			name, login, password string
			dummy                 bool // the unknown-login path ran
		}{
			{"wrong password", "jean.dupont", "correct horse batterY", false},
			{"empty password", "jean.dupont", "", false},
			{"unknown login", "marie.curie", "correct horse battery", true},
			{"invalid login", "jean dupont", "correct horse battery", true},
			{"empty login", "", "correct horse battery", true},
			{"oversized password", "jean.dupont", strings.Repeat("x", auth.MaxPasswordBytes+1), true},
		} {
			before := s.DummyVerifications()
			got, err := s.Authenticate(ctx, tc.login, tc.password, "192.0.2.2")
			if !errors.Is(err, auth.ErrBadCredentials) || got != uuid.Nil {
				t.Errorf("%s: %s, %v; want ErrBadCredentials", tc.name, got, err)
			}
			if err != nil && err.Error() != auth.ErrBadCredentials.Error() {
				t.Errorf("%s: error %q says more than the generic one", tc.name, err)
			}
			if ran := s.DummyVerifications() > before; ran != tc.dummy {
				t.Errorf("%s: dummy verification ran = %v, want %v", tc.name, ran, tc.dummy)
			}
		}
	})
}

func TestLoginUnique(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t, auth.Config{})
		marie, paul := uuid.New(), uuid.New()
		MustSetPassword(t, s, marie, "Marie", "marie's password")

		err := s.SetPassword(ctx, paul, "MARIE", "paul's password!")
		if !errors.Is(err, auth.ErrLoginTaken) || domain.CodeOf(err) != domain.CodeConflict {
			t.Fatalf("second account on MARIE: %v, want ErrLoginTaken (conflict)", err)
		}
		// The holder may set its own password again, under any case.
		MustSetPassword(t, s, marie, "marie", "marie's new password")
		if _, err := s.Authenticate(ctx, "Marie", "marie's password", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("old password: %v, want ErrBadCredentials", err)
		}
		if got, err := s.Authenticate(ctx, "MARIE", "marie's new password", "192.0.2.1"); err != nil || got != marie {
			t.Errorf("new password: %s, %v", got, err)
		}
		// Renamed, the login is free for another account.
		MustSetPassword(t, s, marie, "marie.curie", "marie's new password")
		MustSetPassword(t, s, paul, "Marie", "paul's password!")
		if got, _, err := s.Account(ctx, "marie"); err != nil || got != paul {
			t.Errorf("account of marie = %s, %v; want paul", got, err)
		}
		if got, login, err := s.Account(ctx, "MARIE.CURIE"); err != nil || got != marie || login != "marie.curie" {
			t.Errorf("account of marie.curie = %s %q, %v; want marie", got, login, err)
		}
		if _, _, err := s.Account(ctx, "nobody"); domain.CodeOf(err) != domain.CodeNotFound {
			t.Errorf("account of nobody: %v, want not found", err)
		}

		var n int
		if err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM auth_credentials`).Scan(&n); err != nil || n != 2 {
			t.Errorf("%d credentials, %v; want 2", n, err)
		}
	})
}

func TestSetPasswordRefuses(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t, auth.Config{})
		for _, tc := range []struct {
			name     string
			account  uuid.UUID
			login    string
			password string
			want     error
		}{
			{"short password", uuid.New(), "jean", "too short", auth.ErrPasswordPolicy},
			{"long password", uuid.New(), "jean", strings.Repeat("p", auth.MaxPasswordBytes+1), auth.ErrPasswordPolicy},
			{"space in login", uuid.New(), "jean dupont", "long enough password", auth.ErrInvalidLogin},
			{"no account", uuid.Nil, "jean", "long enough password", domain.ErrInvalid},
		} {
			err := s.SetPassword(ctx, tc.account, tc.login, tc.password)
			if !errors.Is(err, tc.want) || domain.CodeOf(err) != domain.CodeInvalid {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
	})
}

// TestRehash: a hash made with parameters weaker than the service's is
// replaced at the next sign-in, with the service's parameters.
func TestRehash(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		old := b.open(t, auth.Config{Params: cheap})
		id := uuid.New()
		MustSetPassword(t, old, id, "rose", "a rose by any name")
		stronger := cheap
		stronger.Memory, stronger.Time = 128, 2
		s := b.open(t, auth.Config{Params: stronger})

		hash := func() string {
			var h string
			if err := b.db.QueryRowContext(ctx, `SELECT hash FROM auth_credentials WHERE account = $1`, id).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		if h := hash(); !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("hash %q, want cheap parameters", h)
		}
		if _, err := s.Authenticate(ctx, "rose", "a rose by any name!", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
		if h := hash(); !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("hash %q changed after a failed sign-in", h)
		}
		if _, err := s.Authenticate(ctx, "rose", "a rose by any name", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		h := hash()
		if !strings.HasPrefix(h, "$argon2id$v=19$m=128,t=2,p=1$") {
			t.Errorf("hash %q after sign-in, want m=128,t=2", h)
		}
		// Still the same password, under both services.
		for _, svc := range []*auth.Service{s, old} {
			if got, err := svc.Authenticate(ctx, "rose", "a rose by any name", "192.0.2.1"); err != nil || got != id {
				t.Errorf("after re-hash: %s, %v", got, err)
			}
		}
		if hash() != h {
			t.Error("a stronger hash was replaced by a weaker one")
		}
	})
}

// TestUnreadableHash: a corrupted hash fails sign-in like a wrong
// password, and is logged.
func TestUnreadableHash(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		var logs syncBuffer
		s := b.open(t, auth.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		id := uuid.New()
		MustSetPassword(t, s, id, "abel", "abel's password")
		b.exec(t, `UPDATE auth_credentials SET hash = '$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA' WHERE account = $1`, id)
		if _, err := s.Authenticate(ctx, "abel", "abel's password", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("corrupted hash: %v, want ErrBadCredentials", err)
		}
		if !strings.Contains(logs.String(), "unreadable") {
			t.Errorf("nothing logged: %q", logs.String())
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRateLimitPerLoginAndAddress: failures throttle a login from the
// address they come from, never the login from everywhere: whoever knows
// a teacher's login cannot lock her out.
func TestRateLimitPerLoginAndAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		clock := NewClock()
		s := b.open(t, auth.Config{Now: clock.Now})
		id := uuid.New()
		MustSetPassword(t, s, id, "claire", "claire's password")
		const attacker = "192.0.2.66"

		// Five failures from one address...
		for i := range auth.DefaultLoginFailures {
			if _, err := s.Authenticate(ctx, "Claire", "guess", attacker); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		// ...throttle the login from that address, even with the right
		// password...
		_, err := s.Authenticate(ctx, "claire", "claire's password", attacker)
		var rl *auth.RateLimitError
		if !errors.Is(err, auth.ErrRateLimited) || !errors.As(err, &rl) {
			t.Fatalf("sixth attempt from the same address: %v, want ErrRateLimited", err)
		}
		step := auth.DefaultFailureWindow / auth.DefaultLoginFailures
		if rl.RetryAfter() <= 0 || rl.RetryAfter() > step {
			t.Errorf("retry after %s, want (0, %s]", rl.RetryAfter(), step)
		}
		// ...but not from anywhere else: the right password signs in.
		if got, err := s.Authenticate(ctx, "claire", "claire's password", "198.51.100.1"); err != nil || got != id {
			t.Fatalf("from another address: %s, %v, want a sign-in", got, err)
		}
		// One attempt comes back every window/burst.
		clock.Advance(step)
		if _, err := s.Authenticate(ctx, "claire", "guess", attacker); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("after %s: %v, want one more try", step, err)
		}
		if _, err := s.Authenticate(ctx, "claire", "claire's password", attacker); !errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("then: %v, want ErrRateLimited", err)
		}
		// Other logins from that address are not throttled (under the
		// address's own limit).
		MustSetPassword(t, s, uuid.New(), "denis", "denis's password")
		if _, err := s.Authenticate(ctx, "denis", "denis's password", attacker); err != nil {
			t.Errorf("another login: %v", err)
		}

		// Failures spread over many addresses never lock the login: each
		// address has its own count, and the right password from a fresh
		// one signs in.
		for i := range 4 * auth.DefaultLoginFailures {
			addr := fmt.Sprintf("203.0.113.%d", 1+i/auth.DefaultLoginFailures)
			if _, err := s.Authenticate(ctx, "claire", "guess", addr); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("spread failure %d from %s: %v", i+1, addr, err)
			}
		}
		if got, err := s.Authenticate(ctx, "claire", "claire's password", "198.51.100.2"); err != nil || got != id {
			t.Fatalf("after failures from elsewhere: %s, %v, want a sign-in", got, err)
		}

		// A success resets the login's count from that address.
		clock.Advance(step)
		if got, err := s.Authenticate(ctx, "claire", "claire's password", attacker); err != nil || got != id {
			t.Fatalf("after another %s: %s, %v", step, got, err)
		}
		for i := range auth.DefaultLoginFailures {
			if _, err := s.Authenticate(ctx, "claire", "guess", attacker); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d after a success: %v", i+1, err)
			}
		}
		// The window refills the whole burst.
		clock.Advance(auth.DefaultFailureWindow)
		for i := range auth.DefaultLoginFailures {
			if _, err := s.Authenticate(ctx, "claire", "guess", attacker); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d after the window: %v", i+1, err)
			}
		}
		// A new password forgets the login's failures from every address.
		MustSetPassword(t, s, id, "claire", "claire's new password")
		if got, err := s.Authenticate(ctx, "claire", "claire's new password", attacker); err != nil || got != id {
			t.Fatalf("after a new password: %s, %v", got, err)
		}

		// An unknown login is throttled the same way: the limit does not
		// tell which logins exist.
		for i := range auth.DefaultLoginFailures {
			if _, err := s.Authenticate(ctx, "nobody", "guess", "203.0.113.200"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("unknown login, failure %d: %v", i+1, err)
			}
		}
		if _, err := s.Authenticate(ctx, "NOBODY", "guess", "203.0.113.200"); !errors.Is(err, auth.ErrRateLimited) {
			t.Errorf("unknown login, sixth attempt: %v, want ErrRateLimited", err)
		}
	})
}

func TestRateLimitPerAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		clock := NewClock()
		s := b.open(t, auth.Config{Now: clock.Now, AddrFailures: 3})
		id := uuid.New()
		MustSetPassword(t, s, id, "emile", "emile's password")

		// Three failures on three logins from one IPv6 /64 (ports and
		// interface ids vary)...
		for i, addr := range []string{"[2001:db8:5:6::1]:4000", "2001:db8:5:6::2", "[2001:db8:5:6:aa::3]:80"} {
			if _, err := s.Authenticate(ctx, "user"+string(rune('a'+i)), "guess", addr); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		// ...lock that network, whatever the login.
		if _, err := s.Authenticate(ctx, "emile", "emile's password", "2001:db8:5:6::99"); !errors.Is(err, auth.ErrRateLimited) {
			t.Fatalf("fourth attempt from the /64: %v, want ErrRateLimited", err)
		}
		// Other addresses are not affected.
		for _, addr := range []string{"2001:db8:5:7::1", "192.0.2.1:5555"} {
			if got, err := s.Authenticate(ctx, "emile", "emile's password", addr); err != nil || got != id {
				t.Errorf("from %s: %s, %v", addr, got, err)
			}
		}
		// A success does not reset an address (one known password would
		// otherwise let a spraying client go on forever).
		if _, err := s.Authenticate(ctx, "emile", "emile's password", "2001:db8:5:6::1"); !errors.Is(err, auth.ErrRateLimited) {
			t.Errorf("from the /64 again: %v, want ErrRateLimited", err)
		}
		clock.Advance(auth.DefaultFailureWindow / 3)
		if _, err := s.Authenticate(ctx, "emile", "emile's password", "2001:db8:5:6::1"); err != nil {
			t.Errorf("after window/burst: %v", err)
		}
	})
}

// TestRateLimitConcurrent: concurrent failures on one login from one
// address get at most the limit through, give or take the sign-ins
// hashing at once.
func TestRateLimitConcurrent(t *testing.T) {
	b := MustSQLite(t)
	s := b.open(t, auth.Config{Params: cheap, MaxHashing: 2})
	MustSetPassword(t, s, uuid.New(), "target", "target's password")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		checked int
	)
	for i := range 40 {
		wg.Go(func() {
			_, err := s.Authenticate(context.Background(), "target", "guess", fmt.Sprintf("[2001:db8::%x]:%d", i, 1000+i))
			switch {
			case errors.Is(err, auth.ErrBadCredentials):
				mu.Lock()
				checked++
				mu.Unlock()
			case !errors.Is(err, auth.ErrRateLimited):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if checked < auth.DefaultLoginFailures || checked > auth.DefaultLoginFailures+1 {
		t.Errorf("%d passwords checked, want %d (+1 racing)", checked, auth.DefaultLoginFailures)
	}
}

func TestActiveHook(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		open, closed := uuid.New(), uuid.New()
		s := b.open(t, auth.Config{Active: func(_ context.Context, id uuid.UUID) (bool, error) {
			return id != closed, nil
		}})
		MustSetPassword(t, s, open, "ouvert", "open sesame!")
		MustSetPassword(t, s, closed, "ferme", "open sesame!")
		if got, err := s.Authenticate(ctx, "ouvert", "open sesame!", "192.0.2.1"); err != nil || got != open {
			t.Errorf("open account: %s, %v", got, err)
		}
		if _, err := s.Authenticate(ctx, "ferme", "open sesame!", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("closed account: %v, want ErrBadCredentials", err)
		}
	})
}

// TestTokensStoredHashed: the table holds the SHA-256 of a token's bytes,
// never the token.
func TestTokensStoredHashed(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t, auth.Config{})
		id := uuid.New()
		tokens := map[string]string{}
		for _, kind := range []string{auth.KindSession, auth.KindToken} {
			tok, _ := MustNewSession(t, s, id, kind)
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil || len(raw) != 32 {
				t.Fatalf("%s %q: %d bytes, %v; want 32 base64url bytes", kind, tok, len(raw), err)
			}
			tokens[kind] = tok
		}
		if tokens[auth.KindSession] == tokens[auth.KindToken] {
			t.Fatal("two tokens are equal")
		}
		rows, err := b.db.QueryContext(ctx, `SELECT token_hash, account, kind, created_at, expires_at, ends_at FROM auth_sessions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
			var (
				hash, account, kind []byte
				c, e, en            int64
			)
			if err := rows.Scan(&hash, &account, &kind, &c, &e, &en); err != nil {
				t.Fatal(err)
			}
			tok := tokens[string(kind)]
			raw, _ := base64.RawURLEncoding.DecodeString(tok)
			sum := sha256.Sum256(raw)
			if !bytes.Equal(hash, sum[:]) {
				t.Errorf("%s stored as %x, want the SHA-256 of its bytes %x", kind, hash, sum)
			}
			for _, col := range [][]byte{hash, account, kind} {
				if bytes.Contains(col, []byte(tok)) || bytes.Contains(col, raw) {
					t.Errorf("%s: a column holds the token", kind)
				}
			}
		}
		if err := rows.Err(); err != nil || n != 2 {
			t.Errorf("%d rows, %v; want 2", n, err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		id := uuid.New()
		resolves := func(s *auth.Service, tok string) bool {
			t.Helper()
			got, err := s.Resolve(ctx, tok)
			switch {
			case err == nil && got == id:
				return true
			case errors.Is(err, auth.ErrUnauthenticated):
				return false
			}
			t.Fatalf("resolve: %s, %v", got, err)
			return false
		}

		clock := NewClock()
		s := b.open(t, auth.Config{Now: clock.Now})
		start := clock.Now()
		sess, exp := MustNewSession(t, s, id, auth.KindSession)
		if !exp.Equal(start.Add(auth.DefaultSessionMax)) {
			t.Errorf("session expires %s at the latest, want %s", exp, start.Add(auth.DefaultSessionMax))
		}
		// A session used within its idle time slides...
		clock.Advance(11 * time.Hour)
		if !resolves(s, sess) {
			t.Fatal("session ended before its idle time")
		}
		clock.Advance(11 * time.Hour) // 22 h after the sign-in, 11 h after use
		if !resolves(s, sess) {
			t.Fatal("a used session did not slide")
		}
		// ...and ends after idle time unused.
		clock.Advance(auth.DefaultSessionIdle + time.Millisecond)
		if resolves(s, sess) {
			t.Error("session outlived its idle time")
		}

		// Used every few hours, a session still ends SessionMax after the
		// sign-in.
		clock = NewClock()
		s = b.open(t, auth.Config{Now: clock.Now})
		sess, _ = MustNewSession(t, s, id, auth.KindSession)
		for clock.Now().Before(start.Add(auth.DefaultSessionMax)) {
			if !resolves(s, sess) {
				t.Fatalf("session ended %s after the sign-in, used every 6 h", clock.Now().Sub(start))
			}
			clock.Advance(6 * time.Hour)
		}
		if resolves(s, sess) {
			t.Errorf("session outlived SessionMax (%s after the sign-in)", clock.Now().Sub(start))
		}

		// A token does not slide: used daily, it ends TokenTTL after it was
		// issued.
		clock = NewClock()
		s = b.open(t, auth.Config{Now: clock.Now})
		tok, exp := MustNewSession(t, s, id, auth.KindToken)
		if !exp.Equal(start.Add(auth.DefaultTokenTTL)) {
			t.Errorf("token expires %s, want %s", exp, start.Add(auth.DefaultTokenTTL))
		}
		for clock.Now().Before(start.Add(auth.DefaultTokenTTL - 24*time.Hour)) {
			clock.Advance(24 * time.Hour)
			if !resolves(s, tok) {
				t.Fatalf("token ended %s after it was issued", clock.Now().Sub(start))
			}
		}
		clock.Advance(start.Add(auth.DefaultTokenTTL).Sub(clock.Now()) - time.Millisecond)
		if !resolves(s, tok) {
			t.Error("token ended before TokenTTL")
		}
		clock.Advance(time.Millisecond)
		if resolves(s, tok) {
			t.Error("token outlived TokenTTL")
		}

		// Expired rows stay until the account's next session or a purge.
		if n, err := s.PurgeExpired(ctx); err != nil || n != 3 {
			t.Errorf("purged %d, %v; want the two sessions and the token", n, err)
		}
		if n, err := s.PurgeExpired(ctx); err != nil || n != 0 {
			t.Errorf("purged %d again, %v", n, err)
		}
	})
}

func TestRevoke(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t, auth.Config{})
		id := uuid.New()
		a, _ := MustNewSession(t, s, id, auth.KindSession)
		c, _ := MustNewSession(t, s, id, auth.KindToken)
		if err := s.Revoke(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(ctx, a); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("revoked session: %v, want ErrUnauthenticated", err)
		}
		if got, err := s.Resolve(ctx, c); err != nil || got != id {
			t.Errorf("other token after revoking one: %s, %v", got, err)
		}
		for _, tok := range []string{a, "", "garbage", strings.Repeat("A", 43), a + "="} {
			if err := s.Revoke(ctx, tok); err != nil {
				t.Errorf("revoke %q: %v, want nil (sign-out is idempotent)", tok, err)
			}
			if _, err := s.Resolve(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("resolve %q: %v, want ErrUnauthenticated", tok, err)
			}
		}
		// All of an account's sessions end with RevokeAccount, or with a
		// new password.
		other := uuid.New()
		d, _ := MustNewSession(t, s, other, auth.KindSession)
		if err := s.RevokeAccount(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(ctx, c); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("token after RevokeAccount: %v", err)
		}
		if got, err := s.Resolve(ctx, d); err != nil || got != other {
			t.Errorf("another account's session after RevokeAccount: %s, %v", got, err)
		}
		MustSetPassword(t, s, other, "other", "other's password")
		if _, err := s.Resolve(ctx, d); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("session after a new password: %v, want ErrUnauthenticated", err)
		}

		if _, _, err := s.NewSession(ctx, id, "cookie"); domain.CodeOf(err) != domain.CodeInvalid {
			t.Errorf("kind cookie: %v, want invalid", err)
		}
		if _, _, err := s.NewSession(ctx, uuid.Nil, auth.KindSession); domain.CodeOf(err) != domain.CodeInvalid {
			t.Errorf("no account: %v, want invalid", err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	var c auth.Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Params != auth.DefaultParams() || c.SessionIdle != auth.DefaultSessionIdle || c.TokenTTL != auth.DefaultTokenTTL ||
		c.LoginFailures != 5 || c.AddrFailures != 20 || c.FailureWindow != 15*time.Minute || c.MaxHashing < 2 {
		t.Errorf("defaults: %+v", c)
	}
	for name, c := range map[string]auth.Config{
		"weak params":   {Params: auth.Params{Memory: 8, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}},
		"max < idle":    {SessionIdle: 2 * time.Hour, SessionMax: time.Hour},
		"negative rate": {LoginFailures: -1},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
}
