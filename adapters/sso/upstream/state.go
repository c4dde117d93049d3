package upstream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// A sign-in in progress (the OpenID Connect state, nonce and PKCE
// verifier; the CAS state; the return path) is kept in a cookie of the
// browser that started it, sealed with AES-256-GCM under a server key:
// the browser can neither read nor change it, another browser does not
// have it (so a callback forged into someone else's browser finds
// nothing), and it lives a few minutes. It is deleted by the first
// callback that reads it, and the provider consumes its code or ticket, so
// a callback replayed finds nothing to complete. No table is written for
// people who have not signed in yet, which nobody can fill up from
// outside.

// ErrNoState is returned when a callback carries no sign-in in progress of
// this browser: no cookie (expired, already used, another browser), a
// cookie sealed under another key, changed, or for another provider.
var ErrNoState = errors.New("no sign-in in progress in this browser")

// StateKeySize is the size of a state key; shorter secrets are refused.
const StateKeySize = 32

// StateCookies seals and opens the cookies of sign-ins in progress.
type StateCookies struct {
	aead   cipher.AEAD
	prefix string
	secure bool
	ttl    time.Duration
	now    func() time.Time
}

// NewStateCookies returns the cookies named prefix+"_"+…, sealed under a
// key derived from secret (at least StateKeySize bytes; nodes that serve
// the same site must share it), living ttl by the clock now, Secure when
// the site is served over HTTPS.
func NewStateCookies(secret []byte, prefix string, secure bool, ttl time.Duration, now func() time.Time) (*StateCookies, error) {
	if len(secret) < StateKeySize {
		return nil, fmt.Errorf("state key: %d bytes, at least %d", len(secret), StateKeySize)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ledger sso state cookie v1 " + prefix))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	return &StateCookies{aead: aead, prefix: prefix, secure: secure, ttl: ttl, now: now}, nil
}

// StateCookiesFor returns the state cookies of the site at base (Secure
// over https), sealed under key, or under a random key when key is nil
// (a single node: nodes serving one site must share theirs).
func StateCookiesFor(key []byte, prefix string, base *url.URL, ttl time.Duration, now func() time.Time) (*StateCookies, error) {
	if key == nil {
		key = RandomKey()
	}
	return NewStateCookies(key, prefix, base.Scheme == "https", ttl, now)
}

// RandomKey returns a fresh random state key, for a single node that has
// no configured one.
func RandomKey() []byte {
	b := make([]byte, StateKeySize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

// RandomToken returns 32 random bytes, URL-safe: states and nonces.
func RandomToken() string {
	return base64.RawURLEncoding.EncodeToString(RandomKey())
}

// sealed is what a state cookie holds.
type sealed struct {
	Provider string          `json:"p"`
	State    string          `json:"s"`
	Expires  int64           `json:"e"`
	Data     json.RawMessage `json:"d"`
}

// name is the cookie's name for a state: several sign-ins may be in
// progress in one browser (two tabs), each has its cookie.
func (c *StateCookies) name(state string) string {
	sum := sha256.Sum256([]byte(state))
	return c.prefix + "_" + hex.EncodeToString(sum[:8])
}

// Set stores data, the sign-in in progress of state with provider, in a
// cookie sent back only to path (the provider's callback).
func (c *StateCookies) Set(w http.ResponseWriter, path, provider, state string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("state cookie: %w", err)
	}
	plain, err := json.Marshal(sealed{Provider: provider, State: state, Expires: c.now().Add(c.ttl).Unix(), Data: raw})
	if err != nil {
		return fmt.Errorf("state cookie: %w", err)
	}
	name := c.name(state)
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce)
	box := c.aead.Seal(nonce, nonce, plain, []byte(name))
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: base64.RawURLEncoding.EncodeToString(box), Path: path,
		MaxAge: int(c.ttl / time.Second), HttpOnly: true, Secure: c.secure,
		// Lax: the provider's redirect back is a top-level GET, which
		// carries it; a request from another site's page does not.
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// Take reads the sign-in in progress of state with provider into data and
// deletes its cookie, whatever it held: one callback only reads it.
func (c *StateCookies) Take(w http.ResponseWriter, r *http.Request, path, provider, state string, data any) error {
	if state == "" || len(state) > 200 {
		return ErrNoState
	}
	name := c.name(state)
	ck, err := r.Cookie(name)
	if err != nil {
		return ErrNoState
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	box, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(box) < c.aead.NonceSize() {
		return ErrNoState
	}
	plain, err := c.aead.Open(nil, box[:c.aead.NonceSize()], box[c.aead.NonceSize():], []byte(name))
	if err != nil {
		return ErrNoState
	}
	var s sealed
	if err := json.Unmarshal(plain, &s); err != nil {
		return ErrNoState
	}
	if s.Provider != provider || !hmac.Equal([]byte(s.State), []byte(state)) || !c.now().Before(time.Unix(s.Expires, 0)) {
		return ErrNoState
	}
	if err := json.Unmarshal(s.Data, data); err != nil {
		return ErrNoState
	}
	return nil
}
