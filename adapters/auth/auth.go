// Package auth signs users in: local credentials (a login and an argon2id
// password hash per account), portal sessions and API tokens, and rate
// limits on failed sign-ins. It keeps its tables in the event store's
// database (migrations/*/0200_auth.sql), on SQLite (NewSQLite) or Postgres
// (NewPostgres), through one implementation over database/sql, like
// adapters/readstore.
//
// Credentials and sessions are not events: a hash must be replaceable and a
// session deletable. What the history needs of a sign-in, the "user
// connected" event, is the caller's to append (commands.RecordConnection,
// then ActivateAccount on the first one).
//
// # Errors and their HTTP statuses
//
//	ErrBadCredentials   401  wrong login or password, closed account: one error for all
//	ErrUnauthenticated  401  missing, unknown, expired or revoked token
//	ErrRateLimited      429  too many failures for the login from this address, or from the address (see RateLimitError)
//	ErrLoginTaken       409  the login belongs to another account
//	ErrInvalidLogin     400  (domain.CodeInvalid)
//	ErrPasswordPolicy   400  (domain.CodeInvalid)
//
// # Several nodes
//
// Rate limits are counted in memory, per process: behind N nodes a client
// gets up to N times the failures before being refused. Sessions and
// credentials are in the database and shared by every node.
//
// # Outages
//
// Errors of the database that are outages are marked as such
// (domain.IsUnavailable). Two kinds of session are then answered by the
// process itself (local.go): one the database could not store (its disk
// full: the user still signs in, to read), kept in memory and stored at a
// later use; and, while the database cannot be read, one this process
// opened or resolved, as the database last confirmed it. Both work on
// their node only (docs/deployments.md says what that means behind a load
// balancer); a password reset ends them on every node.
//
// # Throttling that cannot be turned against a user
//
// Failures are counted per (login, address) and per address, never per
// login alone: someone who knows a teacher's login can slow down and then
// stop their own guesses, not her sign-in from anywhere else. A correct
// password from an address that is not throttled always signs in.
package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Errors of sign-in. They are plain errors, not domain errors: the domain
// has no code for "who are you?" (401) or "slow down" (429); the HTTP layer
// maps them as the package documentation says.
var (
	// ErrBadCredentials is every failed sign-in: unknown login, wrong
	// password, closed account. One error, so that no answer tells whether
	// an account exists.
	ErrBadCredentials = errors.New("auth: bad login or password")
	// ErrRateLimited is a sign-in refused, before the password is checked,
	// because the login or the address failed too often. It comes as a
	// *RateLimitError that tells when to retry.
	ErrRateLimited = errors.New("auth: too many failed sign-ins, try again later")
	// ErrUnauthenticated is a token that signs no one in.
	ErrUnauthenticated = errors.New("auth: not signed in")
)

// ErrLoginTaken is a login already held by another account. Unlike the
// sign-in errors it is a domain conflict (409, exit status 3) that only an
// administrator setting credentials meets.
var ErrLoginTaken = &domain.Error{Code: domain.CodeConflict, Type: "login-taken", Title: "login is taken by another account"}

// RateLimitError is the error of a rate-limited sign-in; errors.Is(err,
// ErrRateLimited) holds.
type RateLimitError struct {
	// Wait is how long until the next attempt may be checked.
	Wait time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", ErrRateLimited, e.Wait.Round(time.Second))
}

// RetryAfter returns Wait, for a Retry-After header (adapters/web looks
// for this method).
func (e *RateLimitError) RetryAfter() time.Duration { return e.Wait }

// Is makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Kinds of token.
const (
	// KindSession is a portal session (the cookie): it ends after
	// SessionIdle without use, and SessionMax after the sign-in at most.
	KindSession = "session"
	// KindToken is an API client's bearer token: it expires TokenTTL after
	// it was issued, used or not.
	KindToken = "token"
)

// Defaults of the configuration.
const (
	// DefaultSessionIdle: a portal session lasts a school day without use;
	// each use moves its end (see Resolve).
	DefaultSessionIdle = 12 * time.Hour
	// DefaultSessionMax: whatever its use, a session ends a week after the
	// sign-in.
	DefaultSessionMax = 7 * 24 * time.Hour
	// DefaultTokenTTL is the lifetime of an API token.
	DefaultTokenTTL = 30 * 24 * time.Hour
	// DefaultLoginFailures failures per DefaultFailureWindow of one login
	// from one client address throttle that login from that address only.
	DefaultLoginFailures = 5
	// DefaultAddrFailures failures per DefaultFailureWindow throttle a
	// client address, whatever the login. A whole school may sign in from
	// one address (one NAT, the académie's proxy): raise it there rather
	// than throttle a school.
	DefaultAddrFailures = 20
	// DefaultFailureWindow is the window of both limits.
	DefaultFailureWindow = 15 * time.Minute
	// maxKeys bounds the logins and addresses whose failures are counted.
	maxKeys = 100_000
)

// Config configures a Service. The zero value is valid: Validate fills the
// defaults.
type Config struct {
	// Params of new hashes (DefaultParams when zero).
	Params Params
	// SessionIdle, SessionMax and TokenTTL are the lifetimes of sessions
	// and tokens.
	SessionIdle, SessionMax, TokenTTL time.Duration
	// LoginFailures and AddrFailures are how many failed sign-ins a login
	// from one client address, and a client address whatever the login,
	// may have per FailureWindow.
	LoginFailures, AddrFailures int
	FailureWindow               time.Duration
	// MaxHashing bounds the argon2id computations running at once: each
	// takes Params.Memory. Default: GOMAXPROCS, at least 2. Sign-ins
	// beyond wait their turn (or their context).
	MaxHashing int
	// Active, when set, tells whether an account may sign in (it exists
	// and is not closed in the directory). Authenticate calls it once the
	// password is right and answers ErrBadCredentials when it says no.
	// Without it every account with credentials signs in and the caller
	// must check the account itself. Resolve does not call it: closing an
	// account should call RevokeAccount.
	Active func(ctx context.Context, account uuid.UUID) (bool, error)
	// Now is the clock (time.Now by default; tests set their own).
	Now func() time.Time
	// Logger reports what sign-in recovers from by itself (a corrupted
	// hash, a re-hash that failed). Discarded by default.
	Logger *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Params == (Params{}) {
		c.Params = DefaultParams()
	}
	if err := c.Params.validate(); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	setDefault(&c.SessionIdle, DefaultSessionIdle)
	setDefault(&c.SessionMax, DefaultSessionMax)
	setDefault(&c.TokenTTL, DefaultTokenTTL)
	setDefault(&c.LoginFailures, DefaultLoginFailures)
	setDefault(&c.AddrFailures, DefaultAddrFailures)
	setDefault(&c.FailureWindow, DefaultFailureWindow)
	setDefault(&c.MaxHashing, max(2, runtime.GOMAXPROCS(0)))
	switch {
	case c.SessionIdle < 0 || c.SessionMax < c.SessionIdle || c.TokenTTL < 0:
		return fmt.Errorf("auth: session idle %s, session max %s and token lifetime %s must be positive, max at least idle", c.SessionIdle, c.SessionMax, c.TokenTTL)
	case c.LoginFailures < 0 || c.AddrFailures < 0 || c.FailureWindow < 0 || c.MaxHashing < 0:
		return errors.New("auth: failure limits, window and MaxHashing must be positive")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Service signs users in. It is safe for concurrent use.
type Service struct {
	db      *sql.DB // reads
	write   func(ctx context.Context, fn func(*sql.Tx) error) error
	d       dialect
	closeDB func() error

	cfg Config
	// pairs counts failures per (login, address), addrs per address;
	// nothing counts per login alone (see the package documentation).
	pairs   *buckets
	addrs   *buckets
	hashing chan struct{} // a semaphore of MaxHashing slots
	// dummy is the hash verified when a login is unknown, so that an
	// unknown login costs what a wrong password does.
	dummy     string
	dummyRuns atomic.Int64

	// local holds the sessions this process vouches for when the database
	// cannot (local.go).
	local *localSessions
	// noSlideUntil is when sessions may slide again after an outage (Unix
	// milliseconds).
	noSlideUntil atomic.Int64
}

func newService(db *sql.DB, write func(context.Context, func(*sql.Tx) error) error, d dialect, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dummy, err := hashPassword(rand.Text(), cfg.Params)
	if err != nil {
		return nil, err
	}
	return &Service{
		db: db, d: d,
		// Every write's outage is marked, whatever the database: callers
		// tell a full disk from a failure by it.
		write:   func(ctx context.Context, fn func(*sql.Tx) error) error { return d.outage(write(ctx, fn)) },
		local:   newLocalSessions(),
		cfg:     cfg,
		pairs:   newBuckets(cfg.LoginFailures, cfg.FailureWindow, maxKeys),
		addrs:   newBuckets(cfg.AddrFailures, cfg.FailureWindow, maxKeys),
		hashing: make(chan struct{}, cfg.MaxHashing),
		dummy:   dummy,
	}, nil
}

// Close releases what the constructor opened; pools given to it stay open.
func (s *Service) Close() error {
	if s.closeDB != nil {
		return s.closeDB()
	}
	return nil
}

// acquire takes a hashing slot, or gives up when ctx ends.
func (s *Service) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// limited returns a *RateLimitError when the login may not try now from
// the address, or the address may not try at all.
func (s *Service) limited(pair, addr string, now time.Time) error {
	if d := max(s.pairs.wait(pair, now), s.addrs.wait(addr, now)); d > 0 {
		return &RateLimitError{Wait: d}
	}
	return nil
}

// credential is a row of auth_credentials.
type credential struct {
	account uuid.UUID
	login   string
	hash    string
}

// Authenticate checks a login and password from a client address; it
// returns the account id, or ErrBadCredentials (generic) or ErrRateLimited
// (a *RateLimitError). addr is the client's IP address, as the HTTP layer
// trusts it (behind a proxy, from its forwarding header); a port is ignored
// and IPv6 addresses count per /64.
//
// An unknown login is checked against a dummy hash, so that it takes as
// long as a wrong password, and counts as a failure of that login like any
// other. A password hashed with parameters weaker than the configured ones
// is hashed again on success.
func (s *Service) Authenticate(ctx context.Context, login, password, addr string) (uuid.UUID, error) {
	key, err := normalizeLogin(login)
	valid := err == nil
	if !valid {
		// Still limited and counted, under a key no valid login has.
		key = "\x00" + login[:min(len(login), MaxLoginBytes)]
	}
	ak := addrKey(addr)
	pair := pairKey(key, ak)
	// Refused early without taking a hashing slot, then again once the slot
	// is held, since failures may have come in while waiting for it.
	if err := s.limited(pair, ak, s.cfg.Now()); err != nil {
		return uuid.Nil, err
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return uuid.Nil, fmt.Errorf("authenticate: %w", err)
	}
	defer release()
	now := s.cfg.Now()
	if err := s.limited(pair, ak, now); err != nil {
		return uuid.Nil, err
	}

	var (
		cred  credential
		found bool
	)
	if valid && len(password) <= MaxPasswordBytes {
		if cred, found, err = s.credential(ctx, key); err != nil {
			return uuid.Nil, fmt.Errorf("authenticate: %w", err)
		}
	}
	if len(password) <= MaxPasswordBytes {
		password = normalizePassword(password)
	}
	ok, weaker := false, false
	if found {
		if ok, weaker, err = verifyPassword(cred.hash, password, s.cfg.Params); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "stored password hash is unreadable", "account", cred.account, "err", err)
		}
	} else {
		s.dummyRuns.Add(1)
		_, _, _ = verifyPassword(s.dummy, password, s.cfg.Params)
	}
	if ok && s.cfg.Active != nil {
		active, err := s.cfg.Active(ctx, cred.account)
		if err != nil {
			return uuid.Nil, fmt.Errorf("authenticate: account state: %w", err)
		}
		ok = active
	}
	if !ok {
		s.pairs.fail(pair, now)
		s.addrs.fail(ak, now)
		return uuid.Nil, ErrBadCredentials
	}
	s.pairs.reset(pair)
	if weaker {
		s.rehash(ctx, cred, password)
	}
	return cred.account, nil
}

// rehash replaces a hash made with weaker parameters, unless the password
// changed meanwhile. Sign-in succeeds whatever happens here.
func (s *Service) rehash(ctx context.Context, cred credential, password string) {
	h, err := hashPassword(password, s.cfg.Params)
	if err == nil {
		err = s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE auth_credentials SET hash = $1, updated_at = $2 WHERE account = $3 AND hash = $4`,
				h, s.cfg.Now().UnixMilli(), cred.account, cred.hash)
			return err
		})
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "password re-hash failed", "account", cred.account, "err", err)
	}
}

func (s *Service) credential(ctx context.Context, key string) (credential, bool, error) {
	var c credential
	err := s.db.QueryRowContext(ctx, `SELECT account, login, hash FROM auth_credentials WHERE login_key = $1`, key).
		Scan(&c.account, &c.login, &c.hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return credential{}, false, nil
	case err != nil:
		return credential{}, false, fmt.Errorf("read credentials: %w", s.d.outage(err))
	}
	return c, true, nil
}

// Account returns the account a login belongs to and the login as it was
// set, or a domain not-found error. It is for administration (the CLI), not
// for anonymous callers: it tells whether a login exists.
func (s *Service) Account(ctx context.Context, login string) (uuid.UUID, string, error) {
	key, err := normalizeLogin(login)
	if err != nil {
		return uuid.Nil, "", err
	}
	c, found, err := s.credential(ctx, key)
	if err != nil {
		return uuid.Nil, "", err
	}
	if !found {
		return uuid.Nil, "", domain.Errorf(domain.ErrNotFound, "no account has login %q", login)
	}
	return c.account, c.login, nil
}

// SetPassword creates or replaces the credentials of an account: its
// login (ErrLoginTaken if another account holds it) and password (at least
// MinPasswordChars characters, at most MaxPasswordBytes bytes). Replacing
// them ends every session and token of the account, so that a reset locks
// out whoever knew the old password; a user who changed their own password
// needs a new session. The login's failure count is reset.
func (s *Service) SetPassword(ctx context.Context, account uuid.UUID, login, password string) error {
	if account == uuid.Nil {
		return domain.Errorf(domain.ErrInvalid, "set password: no account")
	}
	key, err := normalizeLogin(login)
	if err != nil {
		return err
	}
	password, err = checkPassword(password)
	if err != nil {
		return err
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	h, err := hashPassword(password, s.cfg.Params)
	release()
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var holder uuid.UUID
		err := tx.QueryRowContext(ctx, `SELECT account FROM auth_credentials WHERE login_key = $1`, key).Scan(&holder)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case holder != account:
			return domain.Errorf(ErrLoginTaken, "%q", login)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_credentials (account, login, login_key, hash, updated_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (account) DO UPDATE SET login = excluded.login, login_key = excluded.login_key, hash = excluded.hash, updated_at = excluded.updated_at`,
			account, login, key, h, s.cfg.Now().UnixMilli()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE account = $1`, account)
		return err
	})
	if err != nil {
		if s.d.unique(err) { // another account took the login meanwhile
			return domain.Errorf(ErrLoginTaken, "%q", login)
		}
		var de *domain.Error
		if errors.As(err, &de) {
			return err
		}
		return fmt.Errorf("set password of %s: %w", account, err)
	}
	s.pairs.resetPrefix(pairKey(key, ""))
	s.local.forgetAccount(account)
	return nil
}
