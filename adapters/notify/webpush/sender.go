package webpush

import (
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	lib "github.com/SherClockHolmes/webpush-go"
)

// Errors Send wraps, besides the transport's own.
var (
	// ErrInvalidSubscription: the subscription's endpoint or keys are
	// malformed; it can never be delivered to (Result Gone).
	ErrInvalidSubscription = errors.New("invalid push subscription")
	// ErrPayloadTooLarge: the payload is over MaxPayloadSize; nothing was
	// sent (Result TooLarge).
	ErrPayloadTooLarge = errors.New("push payload too large")
	// ErrInvalidOptions: TTL, urgency or topic out of their bounds;
	// nothing was sent (Result Permanent).
	ErrInvalidOptions = errors.New("invalid push options")
)

// MaxTTL is the longest TTL Send accepts: the push services keep a message
// four weeks at most.
const MaxTTL = 28 * 24 * time.Hour

// maxDetail bounds the part of a push service's answer kept in Outcome.
const maxDetail = 256

// Result is what the caller does after a Send.
type Result int

const (
	// Sent: the push service accepted the message (201 Created).
	Sent Result = iota + 1
	// Gone: the subscription no longer exists (404, 410) or can never be
	// delivered to (malformed); delete it.
	Gone
	// TooLarge: the payload is too large (413, or over MaxPayloadSize);
	// resending it as is will fail again.
	TooLarge
	// Retryable: the push service is busy or failing (429, 5xx) or did not
	// answer; send again later, after Outcome.RetryAfter when it is set.
	Retryable
	// Permanent: refused for good (any other answer, 401 and 403 included:
	// the subscription was made for other VAPID keys); do not resend this
	// message to this subscription.
	Permanent
)

func (r Result) String() string {
	switch r {
	case Sent:
		return "sent"
	case Gone:
		return "gone"
	case TooLarge:
		return "too-large"
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Outcome is the push service's answer to one Send, as the caller acts on
// it.
type Outcome struct {
	Result Result
	// Status is the push service's HTTP status, 0 when it gave none.
	Status int
	// RetryAfter is the delay the push service asked for in Retry-After
	// (seconds or an HTTP date) on a Retryable answer; 0 when it named
	// none, and the caller picks its own back-off.
	RetryAfter time.Duration
	// Location is the message's resource on the push service (RFC 8030
	// section 5) on a Sent answer, when it gave one.
	Location string
	// Detail is the start of the push service's answer body on a refusal,
	// at most 256 bytes of valid UTF-8, for logs.
	Detail string
}

// Urgency is the Urgency header of RFC 8030 section 5.3: how soon the
// device should wake for the message.
type Urgency string

// The urgencies of RFC 8030. An empty Urgency sends no header: the push
// service treats the message as normal.
const (
	UrgencyVeryLow Urgency = "very-low"
	UrgencyLow     Urgency = "low"
	UrgencyNormal  Urgency = "normal"
	UrgencyHigh    Urgency = "high"
)

// Options are one message's delivery settings.
type Options struct {
	// TTL is how long the push service keeps the message for a device
	// that is offline, from 0 (deliver now or drop) to MaxTTL; it is sent
	// in whole seconds.
	TTL time.Duration
	// Urgency, when set, is one of the four urgencies.
	Urgency Urgency
	// Topic, when set, makes the push service replace a pending message
	// of the same topic for this subscription: at most 32 characters of
	// the base64url alphabet.
	Topic string
}

func (o Options) validate() error {
	if o.TTL < 0 || o.TTL > MaxTTL {
		return fmt.Errorf("%w: TTL %s outside 0..%s", ErrInvalidOptions, o.TTL, MaxTTL)
	}
	switch o.Urgency {
	case "", UrgencyVeryLow, UrgencyLow, UrgencyNormal, UrgencyHigh:
	default:
		return fmt.Errorf("%w: urgency %q", ErrInvalidOptions, o.Urgency)
	}
	if len(o.Topic) > 32 {
		return fmt.Errorf("%w: topic of %d characters, more than 32", ErrInvalidOptions, len(o.Topic))
	}
	for _, r := range o.Topic {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: topic has the character %q", ErrInvalidOptions, r)
		}
	}
	return nil
}

// Subscription is a browser's PushSubscription: the push service's URL
// for it and its keys, as PushSubscription.toJSON gives them.
type Subscription struct {
	// Endpoint is the https URL the message is posted to.
	Endpoint string
	// P256DH is the subscription's P-256 public key (base64url).
	P256DH string
	// Auth is its 16-byte authentication secret (base64url).
	Auth string
}

// Validate checks the endpoint is an https URL and the keys decode to a
// P-256 point and a 16-byte secret.
func (s Subscription) Validate() error {
	if len(s.Endpoint) > 2048 {
		return fmt.Errorf("%w: endpoint of %d bytes", ErrInvalidSubscription, len(s.Endpoint))
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return fmt.Errorf("%w: endpoint: %w", ErrInvalidSubscription, err)
	}
	if u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: endpoint %q is not an https URL", ErrInvalidSubscription, s.Endpoint)
	}
	key, err := decodeKey(s.P256DH)
	if err != nil {
		return fmt.Errorf("%w: p256dh: %w", ErrInvalidSubscription, err)
	}
	if _, err := ecdh.P256().NewPublicKey(key); err != nil {
		return fmt.Errorf("%w: p256dh: %w", ErrInvalidSubscription, err)
	}
	auth, err := decodeKey(s.Auth)
	if err != nil {
		return fmt.Errorf("%w: auth: %w", ErrInvalidSubscription, err)
	}
	if len(auth) != 16 {
		return fmt.Errorf("%w: auth secret of %d bytes, want 16", ErrInvalidSubscription, len(auth))
	}
	return nil
}

// Config is a Sender's settings.
type Config struct {
	// Keys are the application server's VAPID keys (LoadVAPIDKeys).
	Keys VAPIDKeys
	// Contact is who push services write to about this server, the
	// VAPID "sub" claim: "mailto:" and an e-mail address, or an https URL.
	Contact string
	// Transport carries the requests; nil means http.DefaultTransport.
	// Whatever it is, a request has 30 seconds to be answered and
	// redirects are not followed (a push service that redirects refuses).
	Transport http.RoundTripper
	// Now is the clock Retry-After dates are read against; nil means
	// time.Now.
	Now func() time.Time
}

// Sender posts encrypted messages to push services. It is safe for
// concurrent use.
type Sender struct {
	keys       VAPIDKeys
	subscriber string // the contact in the form the library expects
	client     *http.Client
	now        func() time.Time
}

// NewSender checks cfg and returns a Sender.
func NewSender(cfg Config) (*Sender, error) {
	keys, err := LoadVAPIDKeys(cfg.Keys.Public, cfg.Keys.Private)
	if err != nil {
		return nil, err
	}
	subscriber, err := subscriberOf(cfg.Contact)
	if err != nil {
		return nil, err
	}
	s := &Sender{keys: keys, subscriber: subscriber, now: cfg.Now}
	s.client = &http.Client{
		Transport: cfg.Transport,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// subscriberOf checks the contact and returns it as webpush-go takes it:
// an https URL as is, an e-mail address without its "mailto:" (the
// library adds it back to anything that is not an https URL).
func subscriberOf(contact string) (string, error) {
	switch {
	case strings.HasPrefix(contact, "mailto:"):
		addr := strings.TrimPrefix(contact, "mailto:")
		parsed, err := mail.ParseAddress(addr)
		if err != nil || parsed.Address != addr {
			return "", fmt.Errorf("VAPID contact %q: not mailto: and a bare e-mail address", contact)
		}
		return addr, nil
	case strings.HasPrefix(contact, "https://"):
		u, err := url.Parse(contact)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("VAPID contact %q: not an https URL", contact)
		}
		return contact, nil
	}
	return "", fmt.Errorf("VAPID contact %q: want mailto:address or an https URL", contact)
}

// Send encrypts payload for sub and posts it to sub's push service. The
// Outcome always says what to do next. The error is set when no answer of
// the push service was read: a malformed subscription (Gone), a payload
// over MaxPayloadSize (TooLarge), invalid options (Permanent), or a
// transport failure or ctx's end (Retryable).
func (s *Sender) Send(ctx context.Context, sub Subscription, payload []byte, opts Options) (Outcome, error) {
	if err := sub.Validate(); err != nil {
		return Outcome{Result: Gone}, err
	}
	if len(payload) > MaxPayloadSize {
		return Outcome{Result: TooLarge}, fmt.Errorf("%w: %d bytes, at most %d", ErrPayloadTooLarge, len(payload), MaxPayloadSize)
	}
	if err := opts.validate(); err != nil {
		return Outcome{Result: Permanent}, err
	}
	resp, err := lib.SendNotificationWithContext(ctx, payload, &lib.Subscription{
		Endpoint: sub.Endpoint,
		Keys:     lib.Keys{Auth: sub.Auth, P256dh: sub.P256DH},
	}, &lib.Options{
		HTTPClient:      s.client,
		Subscriber:      s.subscriber,
		Topic:           opts.Topic,
		TTL:             int(opts.TTL / time.Second),
		Urgency:         lib.Urgency(opts.Urgency),
		VAPIDPublicKey:  s.keys.Public,
		VAPIDPrivateKey: s.keys.Private,
	})
	if err != nil {
		return Outcome{Result: Retryable}, fmt.Errorf("push: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetail))
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return s.outcome(resp, body), nil
}

// outcome maps the push service's answer to what the caller does.
func (s *Sender) outcome(resp *http.Response, body []byte) Outcome {
	o := Outcome{Status: resp.StatusCode}
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		o.Result = Sent
		o.Location = resp.Header.Get("Location")
		return o
	case code == http.StatusNotFound || code == http.StatusGone:
		o.Result = Gone
	case code == http.StatusRequestEntityTooLarge:
		o.Result = TooLarge
	case code == http.StatusTooManyRequests || code >= 500:
		o.Result = Retryable
		o.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), s.now())
	default:
		o.Result = Permanent
	}
	// The limit may have cut a character in two: its bytes are dropped.
	o.Detail = strings.ToValidUTF8(string(body), "")
	return o
}

// retryAfter reads a Retry-After header: delta-seconds or an HTTP date,
// against now. A missing, malformed or past value gives 0.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxTTL/time.Second) {
			return MaxTTL
		}
		return time.Duration(secs) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := at.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, MaxTTL)
}
