package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/schoollife/ledger/domain"
)

// ProblemBase is the base URI of problem types: a problem's type is
// ProblemBase followed by its stable slug (domain.Error.Type for domain
// errors, the slugs below for the HTTP layer's own). The URIs identify;
// they need not resolve. docs/api.md lists them.
const ProblemBase = "https://schoollife.example/problems/"

// problemMediaType is RFC 9457's media type.
const problemMediaType = "application/problem+json"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// httpError is an error of the HTTP layer itself, with its own status and
// stable type slug.
type httpError struct {
	status int
	typ    string
	title  string
	detail string
	// retryAfter is sent as Retry-After (429).
	retryAfter time.Duration
}

func (e *httpError) Error() string {
	if e.detail == "" {
		return e.title
	}
	return e.title + ": " + e.detail
}

// Is matches errors of the same type, as domain.Error does.
func (e *httpError) Is(target error) bool {
	var t *httpError
	return errors.As(target, &t) && t.typ == e.typ
}

// with returns a copy of e with a detail.
func (e *httpError) with(format string, args ...any) *httpError {
	c := *e
	c.detail = fmt.Sprintf(format, args...)
	return &c
}

// The HTTP layer's problems. Their slugs are persisted in clients: never
// rename one.
var (
	errMalformedJSON    = &httpError{status: http.StatusBadRequest, typ: "malformed-json", title: "the request body is not valid JSON"}
	errUnknownField     = &httpError{status: http.StatusBadRequest, typ: "unknown-field", title: "the request body has a field this operation does not take"}
	errInvalidField     = &httpError{status: http.StatusBadRequest, typ: "invalid-field", title: "a field of the request body has the wrong type or format"}
	errPathMismatch     = &httpError{status: http.StatusBadRequest, typ: "path-body-mismatch", title: "the request body names another entity than the path"}
	errInvalidPath      = &httpError{status: http.StatusBadRequest, typ: "invalid-path-parameter", title: "a path parameter is malformed"}
	errInvalidQuery     = &httpError{status: http.StatusBadRequest, typ: "invalid-query-parameter", title: "a query parameter is malformed"}
	errInvalidHeader    = &httpError{status: http.StatusBadRequest, typ: "invalid-idempotency-key", title: "the Idempotency-Key header is malformed"}
	errBodyTooLarge     = &httpError{status: http.StatusRequestEntityTooLarge, typ: "body-too-large", title: "the request body is too large"}
	errUnsupportedMedia = &httpError{status: http.StatusUnsupportedMediaType, typ: "unsupported-media-type", title: "the request body must be application/json"}
	errUnauthenticated  = &httpError{status: http.StatusUnauthorized, typ: "unauthenticated", title: "sign in first"}
	errBadCredentials   = &httpError{status: http.StatusUnauthorized, typ: "bad-credentials", title: "unknown login or wrong password"}
	errRateLimited      = &httpError{status: http.StatusTooManyRequests, typ: "rate-limited", title: "too many failed sign-ins, try again later"}
	errCrossOrigin      = &httpError{status: http.StatusForbidden, typ: "cross-origin-request", title: "cross-origin requests that change state are refused"}
	errNoRoute          = &httpError{status: http.StatusNotFound, typ: "no-such-route", title: "no such route"}
	errMethodNotAllowed = &httpError{status: http.StatusMethodNotAllowed, typ: "method-not-allowed", title: "method not allowed on this route"}
	errInternal         = &httpError{status: http.StatusInternalServerError, typ: "internal", title: "internal error"}
)

// defaultRetryAfter is sent with a 429 whose error does not say how long
// to wait.
const defaultRetryAfter = time.Minute

// statusOf maps a domain error code to its HTTP status.
func statusOf(c domain.Code) int {
	switch c {
	case domain.CodeInvalid:
		return http.StatusBadRequest
	case domain.CodeForbidden:
		return http.StatusForbidden
	case domain.CodeNotFound:
		return http.StatusNotFound
	case domain.CodeConflict:
		return http.StatusConflict
	case domain.CodeRule:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// problemOf is the one place errors become problems: the HTTP layer's own,
// then domain errors by code; anything else is a generic 500 (the caller
// logs it, the client never sees it).
func problemOf(err error) (Problem, *httpError) {
	var he *httpError
	if errors.As(err, &he) {
		return Problem{Type: ProblemBase + he.typ, Title: he.title, Status: he.status, Detail: he.detail}, he
	}
	var de *domain.Error
	if errors.As(err, &de) {
		if status := statusOf(de.Code); status != http.StatusInternalServerError {
			return Problem{Type: ProblemBase + de.Type, Title: de.Title, Status: status, Detail: de.Detail}, nil
		}
	}
	return Problem{Type: ProblemBase + errInternal.typ, Title: errInternal.title, Status: errInternal.status}, errInternal
}

// fail writes err as a problem. Internal errors are logged with the
// request, never sent.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, he := problemOf(err)
	p.Instance = r.URL.Path
	switch {
	case p.Status >= 500 && errors.Is(err, context.Canceled):
		s.log.InfoContext(r.Context(), "request cancelled", "method", r.Method, "path", r.URL.Path, "err", err)
	case p.Status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", p.Status, "type", p.Type)
	}
	h := w.Header()
	switch p.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="ledger"`)
	case http.StatusTooManyRequests:
		wait := defaultRetryAfter
		if he != nil && he.retryAfter > 0 {
			wait = he.retryAfter
		}
		h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	}
	body, _ := json.Marshal(p) // a Problem always encodes
	h.Set("Content-Type", problemMediaType)
	h.Del("Content-Disposition")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}

// problemTypes lists every problem type the HTTP layer itself sends, for
// the documentation test.
func problemTypes() []*httpError {
	return []*httpError{
		errMalformedJSON, errUnknownField, errInvalidField, errPathMismatch, errInvalidPath, errInvalidQuery,
		errInvalidHeader, errBodyTooLarge, errUnsupportedMedia, errUnauthenticated, errBadCredentials,
		errRateLimited, errCrossOrigin, errNoRoute, errMethodNotAllowed, errInternal, errNotMultipart,
	}
}
