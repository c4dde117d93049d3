package casclient

import (
	"log/slog"
	"net/http"
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
	stateTTL time.Duration
}

// WithLogger logs failed sign-ins (provider, reason, error) to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHTTPClient validates tickets through c; the default has a
// 10-second timeout.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the clock that sign-ins in progress are checked against.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithStateKey seals the cookies of sign-ins in progress under a key
// derived from secret (at least 32 bytes), shared by every node; without
// it, a random key of this process is used, which suits one node only.
func WithStateKey(secret []byte) Option { return func(o *options) { o.stateKey = secret } }

// WithFailure answers failed sign-ins with f instead of upstream.Page.
func WithFailure(f upstream.FailFunc) Option { return func(o *options) { o.fail = f } }

// WithStateLifetime sets how long a sign-in may stay in progress at the
// server (default 10 minutes).
func WithStateLifetime(d time.Duration) Option { return func(o *options) { o.stateTTL = d } }

func defaults() options {
	return options{
		logger:   slog.New(slog.DiscardHandler),
		client:   &http.Client{Timeout: 10 * time.Second},
		now:      time.Now,
		fail:     upstream.Page,
		stateTTL: 10 * time.Minute,
	}
}
