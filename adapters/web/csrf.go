package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// ErrCSRF refuses a form whose token is missing or wrong.
var ErrCSRF = &Error{status: http.StatusForbidden, typ: "csrf-token", title: "the form's security token is missing or wrong"}

// CSRFToken is the CSRF token of a session: a MAC of a fixed label keyed
// by the session's secret token. Every node computes it alike (no state to
// share), it differs for every session, and the page that holds it does
// not reveal the session token.
func CSRFToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("ledger portal csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SameToken compares a form's token with the expected one in constant
// time.
func SameToken(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}

// RandomToken returns 32 random bytes, URL-safe.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
