package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Code classifies an error for the boundaries (HTTP status, exit code).
type Code string

// Codes, mapped to HTTP statuses in one place (adapters/web).
const (
	CodeInvalid   Code = "invalid"   // malformed input: 400
	CodeForbidden Code = "forbidden" // the actor may not do this: 403
	CodeNotFound  Code = "not_found" // 404
	CodeConflict  Code = "conflict"  // version conflict, booking clash: 409
	CodeRule      Code = "rule"      // a domain rule is broken: 422
	// CodeUnavailable is an outage, neither the request's fault nor a
	// bug: a store cannot be reached or is out of space. 503; trying again
	// later may succeed.
	CodeUnavailable Code = "unavailable"
)

// Error is the ledger's one error type. Type is a stable slug (it becomes the
// problem type URI); two errors are the same error when their Types match,
// whatever their Detail.
type Error struct {
	Code   Code
	Type   string
	Title  string
	Detail string
	// Field names the input an invalid-input error is about, as clients
	// spell it ("reason", "reasons[1].label"), when it is about one; Rule
	// says which of the field's rules it broke, and Limit bounds it.
	Field string
	Rule  FieldRule
	Limit int
	// Holder is what a clash ran into, for the person to see who holds
	// what they asked for (ErrBookingClash).
	Holder *Holder
}

// FieldRule is a rule of a command's field that an invalid input broke.
type FieldRule string

// The rules ValidateInput checks.
const (
	RuleTooLong    FieldRule = "too-long"   // more characters than Limit
	RuleOneLine    FieldRule = "one-line"   // a line break in a one-line text
	RuleCharacters FieldRule = "characters" // a control character or invalid UTF-8
	RuleCalendar   FieldRule = "calendar"   // a date outside the calendar's window
)

// Holder is the booking a request clashed with: who holds it, and its
// occurrence that overlaps.
type Holder struct {
	Booking    uuid.UUID
	By         uuid.UUID
	Start, End time.Time
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Title
	}
	return e.Title + ": " + e.Detail
}

// Is matches errors of the same Type.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Type == e.Type
}

// Errorf returns a copy of sentinel with a detail message.
func Errorf(sentinel *Error, format string, args ...any) *Error {
	c := *sentinel
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// fieldError returns ErrInvalid about field, which broke rule.
func fieldError(field string, rule FieldRule, limit int, format string, args ...any) *Error {
	e := Errorf(ErrInvalid, "%s: "+format, append([]any{field}, args...)...)
	e.Field, e.Rule, e.Limit = field, rule, limit
	return e
}

// CodeOf returns the code of err's domain error, or "" if it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newError(code Code, typ, title string) *Error {
	return &Error{Code: code, Type: typ, Title: title}
}

// Store and command errors shared by every aggregate.
var (
	ErrVersionConflict = newError(CodeConflict, "version-conflict", "the stream changed since it was read")
	ErrDuplicateEvent  = newError(CodeConflict, "duplicate-event", "an event with this id is already stored elsewhere")
	ErrIdempotencyKey  = newError(CodeRule, "idempotency-key-reused", "this idempotency key was used for another request")
	ErrInvalid         = newError(CodeInvalid, "invalid-input", "invalid input")
	ErrForbidden       = newError(CodeForbidden, "forbidden", "not allowed")
	ErrNotFound        = newError(CodeNotFound, "not-found", "not found")
)

// Outages. The store adapters mark their driver's errors with one of these
// (Outage), each adapter knowing which of its errors are outages; ports
// and the web layer only ask IsUnavailable or compare the sentinels.
var (
	// ErrUnavailable: a store cannot be reached, refuses connections,
	// is shutting down or is locked.
	ErrUnavailable = newError(CodeUnavailable, "store-unavailable", "the service is briefly unavailable, try again in a few moments")
	// ErrStoreFull: a store is out of space. What is stored can still be
	// read; nothing can be written until space is freed.
	ErrStoreFull = newError(CodeUnavailable, "store-full", "the service cannot record anything for now; reading still works")
)

// Outage returns cause marked as an outage of kind (ErrUnavailable or
// ErrStoreFull): errors.Is finds kind and cause's own errors alike, and
// the problem a client sees is kind's, without cause's text. Its message,
// for logs, is "store unavailable: " or "store full: " and cause's.
func Outage(kind *Error, cause error) error {
	return &outage{kind: kind, cause: cause}
}

type outage struct {
	kind  *Error
	cause error
}

func (o *outage) Error() string {
	return strings.ReplaceAll(o.kind.Type, "-", " ") + ": " + o.cause.Error()
}

// Unwrap gives kind first: errors.As finds it before any error of cause.
func (o *outage) Unwrap() []error { return []error{o.kind, o.cause} }

// IsUnavailable reports whether err is an outage of any kind: callers that
// can do without the store (a best-effort write, a start that waits for
// it) tell an outage from a failure by it.
func IsUnavailable(err error) bool { return CodeOf(err) == CodeUnavailable }
