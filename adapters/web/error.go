package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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

// ProblemMediaType is RFC 9457's media type.
const ProblemMediaType = "application/problem+json"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// Error is an error of the HTTP layer itself, with its own status and
// stable type slug.
type Error struct {
	status int
	typ    string
	title  string
	detail string
	// retryAfter is sent as Retry-After (429, 503).
	retryAfter time.Duration
	// field is the form field a form's error is about, and want what
	// that field should hold (FieldWant); both empty for other errors.
	field, want string
}

func (e *Error) Error() string {
	if e.detail == "" {
		return e.title
	}
	return e.title + ": " + e.detail
}

// Is matches errors of the same type, as domain.Error does.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.typ == e.typ
}

// With returns a copy of e with a detail.
func (e *Error) With(format string, args ...any) *Error {
	c := *e
	c.detail = fmt.Sprintf(format, args...)
	return &c
}

// The HTTP layer's problems. Their slugs are persisted in clients: never
// rename one.
var (
	ErrMalformedJSON    = &Error{status: http.StatusBadRequest, typ: "malformed-json", title: "the request body is not valid JSON"}
	ErrUnknownField     = &Error{status: http.StatusBadRequest, typ: "unknown-field", title: "the request body has a field this operation does not take"}
	ErrInvalidField     = &Error{status: http.StatusBadRequest, typ: "invalid-field", title: "a field of the request body has the wrong type or format"}
	ErrPathMismatch     = &Error{status: http.StatusBadRequest, typ: "path-body-mismatch", title: "the request body names another entity than the path"}
	ErrInvalidPath      = &Error{status: http.StatusBadRequest, typ: "invalid-path-parameter", title: "a path parameter is malformed"}
	ErrInvalidQuery     = &Error{status: http.StatusBadRequest, typ: "invalid-query-parameter", title: "a query parameter is malformed"}
	ErrInvalidHeader    = &Error{status: http.StatusBadRequest, typ: "invalid-idempotency-key", title: "the Idempotency-Key header is malformed"}
	ErrBodyTooLarge     = &Error{status: http.StatusRequestEntityTooLarge, typ: "body-too-large", title: "the request body is too large"}
	ErrUnsupportedMedia = &Error{status: http.StatusUnsupportedMediaType, typ: "unsupported-media-type", title: "the request body must be application/json"}
	ErrUnauthenticated  = &Error{status: http.StatusUnauthorized, typ: "unauthenticated", title: "sign in first"}
	ErrBadCredentials   = &Error{status: http.StatusUnauthorized, typ: "bad-credentials", title: "unknown login or wrong password"}
	ErrRateLimited      = &Error{status: http.StatusTooManyRequests, typ: "rate-limited", title: "too many failed sign-ins, try again later"}
	ErrCrossOrigin      = &Error{status: http.StatusForbidden, typ: "cross-origin-request", title: "cross-origin requests that change state are refused"}
	ErrNoRoute          = &Error{status: http.StatusNotFound, typ: "no-such-route", title: "no such route"}
	ErrMethodNotAllowed = &Error{status: http.StatusMethodNotAllowed, typ: "method-not-allowed", title: "method not allowed on this route"}
	ErrInternal         = &Error{status: http.StatusInternalServerError, typ: "internal", title: "internal error"}
)

// ErrRequestTimeout answers a request that failed because its deadline
// passed (deadline.go).
var ErrRequestTimeout = &Error{status: http.StatusServiceUnavailable, typ: "request-timeout",
	title: "the request took too long: try again, or ask for less"}

// defaultRetryAfter is sent with a 429 whose error does not say how long
// to wait.
const defaultRetryAfter = time.Minute

// unavailableRetryAfter is sent with a 503: an outage of a store may end
// in moments (a restart, a failover), and a client that comes back too
// early gets another 503.
const unavailableRetryAfter = 5 * time.Second

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
	case domain.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrInvalidForm is a form field missing or malformed: the domain's
// invalid input, so that a page and the API name it alike.
var ErrInvalidForm = &Error{status: http.StatusBadRequest, typ: domain.ErrInvalid.Type, title: domain.ErrInvalid.Title}

// ProblemOf is the one place errors become problems: the HTTP layer's own,
// then domain errors by code; anything else is a generic 500 (the caller
// logs it, the client never sees it).
func ProblemOf(err error) (Problem, *Error) {
	var he *Error
	if errors.As(err, &he) {
		return Problem{Type: ProblemBase + he.typ, Title: he.title, Status: he.status, Detail: he.detail}, he
	}
	var de *domain.Error
	if errors.As(err, &de) {
		if status := statusOf(de.Code); status != http.StatusInternalServerError {
			return Problem{Type: ProblemBase + de.Type, Title: de.Title, Status: status, Detail: de.Detail}, nil
		}
	}
	return Problem{Type: ProblemBase + ErrInternal.typ, Title: ErrInternal.title, Status: ErrInternal.status}, ErrInternal
}

// RetryAfter is the Retry-After header of a 429: the error's wait in whole
// seconds, or defaultRetryAfter when it does not say.
func RetryAfter(he *Error) string {
	wait := defaultRetryAfter
	if he != nil && he.retryAfter > 0 {
		wait = he.retryAfter
	}
	return seconds(wait)
}

// seconds writes d in whole seconds, rounded up.
func seconds(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// SetRetryAfter sets Retry-After on the problems that ask the client to
// come back: a 429 (RetryAfter) and a 503 (the error's wait, or a few
// seconds).
func SetRetryAfter(h http.Header, p Problem, he *Error) {
	switch p.Status {
	case http.StatusTooManyRequests:
		h.Set("Retry-After", RetryAfter(he))
	case http.StatusServiceUnavailable:
		wait := unavailableRetryAfter
		if he != nil && he.retryAfter > 0 {
			wait = he.retryAfter
		}
		h.Set("Retry-After", seconds(wait))
	}
}

// LogProblem logs a failed request by what it says: an outage of a store
// as a warning (the store's state, not a bug: no stack to chase), any
// other 5xx as an error, a cancelled request and a refusal quietly.
func LogProblem(log *slog.Logger, r *http.Request, p Problem, err error, msg string) {
	ctx := r.Context()
	switch {
	case errors.Is(err, ErrRequestTimeout):
		// WithDeadline logs it, with its route.
		log.DebugContext(ctx, "request timed out", "method", r.Method, "path", r.URL.Path, "err", err)
	case p.Status >= 500 && errors.Is(err, context.Canceled):
		log.InfoContext(ctx, "request cancelled", "method", r.Method, "path", r.URL.Path, "err", err)
	case domain.IsUnavailable(err):
		log.WarnContext(ctx, "store unavailable", "method", r.Method, "path", r.URL.Path, "type", p.Type, "err", err)
	case p.Status >= 500:
		log.ErrorContext(ctx, msg, "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		log.DebugContext(ctx, "request refused", "method", r.Method, "path", r.URL.Path, "status", p.Status, "type", p.Type)
	}
}

// WriteProblem writes err as a problem. Internal errors are logged with
// the request, never sent.
func WriteProblem(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	err = PastDeadline(r, err)
	p, he := ProblemOf(err)
	p.Instance = r.URL.Path
	LogProblem(log, r, p, err, "request failed")
	h := w.Header()
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="ledger"`)
	}
	SetRetryAfter(h, p, he)
	body, _ := json.Marshal(p) // a Problem always encodes
	h.Set("Content-Type", ProblemMediaType)
	h.Del("Content-Disposition")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}

// ProblemTypes lists every problem type the HTTP layer itself sends, for
// the documentation test.
func ProblemTypes() []*Error {
	return []*Error{
		ErrMalformedJSON, ErrUnknownField, ErrInvalidField, ErrPathMismatch, ErrInvalidPath, ErrInvalidQuery,
		ErrInvalidHeader, ErrBodyTooLarge, ErrUnsupportedMedia, ErrUnauthenticated, ErrBadCredentials,
		ErrRateLimited, ErrCrossOrigin, ErrNoRoute, ErrMethodNotAllowed, ErrInternal, ErrNotMultipart, ErrImportsUnavailable,
		ErrRequestTimeout,
	}
}

// Kinds of value a form field should hold, which an ErrInvalidForm says
// of the field it names: pages tell the person what to type.
const (
	WantValue    = "value"    // a value: the field is required
	WantDate     = "date"     // a date, 2006-01-02 or 02/01/2006
	WantTime     = "time"     // a time of day, 15:04
	WantDateTime = "datetime" // a date and a time of day
	WantNumber   = "number"   // a whole number
	WantChoice   = "choice"   // one of the choices the form offered
)

// FieldOf returns the form field err is about and what it should hold,
// when err is a form's field error (Form.Fail).
func FieldOf(err error) (field, want string, ok bool) {
	var he *Error
	if errors.As(err, &he) && he.field != "" {
		return he.field, he.want, true
	}
	return "", "", false
}

// Type is the error's stable slug.
func (e *Error) Type() string { return e.typ }
