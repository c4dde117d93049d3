package oidcclient

import (
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/schoollife/ledger/adapters/sso/upstream"
)

// Option changes how New builds the handler.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	client   *http.Client
	now      func() time.Time
	stateKey []byte
	fail     upstream.FailFunc
	getenv   func(string) string
	stateTTL time.Duration
}

// WithLogger logs failed sign-ins (provider, reason, error; never a
// secret or token) to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHTTPClient reaches providers (discovery, keys, token, userinfo)
// through c; the default has a 10-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the clock that ID token lifetimes and sign-ins in
// progress are checked against.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithStateKey seals the cookies of sign-ins in progress under a key
// derived from secret (at least 32 bytes). Every node serving the site
// must share it; without it, a random key of this process is used, which
// suits one node only.
func WithStateKey(secret []byte) Option { return func(o *options) { o.stateKey = secret } }

// WithFailure answers failed sign-ins with f instead of upstream.Page.
func WithFailure(f upstream.FailFunc) Option { return func(o *options) { o.fail = f } }

// WithGetenv reads the environment variables that hold client secrets
// through getenv instead of os.Getenv.
func WithGetenv(getenv func(string) string) Option { return func(o *options) { o.getenv = getenv } }

// WithStateLifetime sets how long a sign-in may stay in progress at the
// provider (default 10 minutes).
func WithStateLifetime(d time.Duration) Option { return func(o *options) { o.stateTTL = d } }

func defaults() options {
	return options{
		logger:   slog.New(slog.DiscardHandler),
		client:   &http.Client{Timeout: 10 * time.Second},
		now:      time.Now,
		fail:     upstream.Page,
		getenv:   os.Getenv,
		stateTTL: 10 * time.Minute,
	}
}
