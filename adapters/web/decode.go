package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Decoder reads what clients send, JSON bodies and forms, query and path
// parameters; its errors are all *Error (a form's fields: ErrInvalidForm).
type Decoder struct {
	// MaxBodyBytes bounds JSON and form bodies; larger ones get 413.
	MaxBodyBytes int64
	// Location is the establishments' time zone, for dates in query
	// parameters.
	Location *time.Location
}

// JSON reads a JSON request body into v: application/json only, at most
// MaxBodyBytes, one JSON object and nothing after it. It is strict where
// encoding/json is lenient, so that what a client meant is what is
// recorded: field names match exactly (encoding/json matches them without
// regard to case, so "Absent" beside "absent" slipped past the unknown-field
// check), a name appears once, no unknown field, strings are valid UTF-8
// (lone surrogate escapes included: encoding/json silently turns them into
// U+FFFD), and the body is an object (encoding/json takes null for an empty
// command). github.com/go-json-experiment/json, the proposal for
// encoding/json/v2, does all of this by default in the one pass that
// decodes, where a pre-pass would parse every body twice and still need
// the Go types' field names.
func (d Decoder) JSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkJSON(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, d.MaxBodyBytes))
	if err != nil {
		return decodeError(err)
	}
	switch trimmed := bytes.TrimLeft(body, " \t\r\n"); {
	case len(trimmed) == 0:
		return ErrMalformedJSON.With("the body is empty")
	case trimmed[0] != '{':
		return ErrMalformedJSON.With("the body must be a JSON object")
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return decodeError(err)
	}
	return nil
}

// Form reads a posted form's body (r.PostForm), at most MaxBodyBytes.
func (d Decoder) Form(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, d.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ErrBodyTooLarge.With("at most %d bytes", tooLarge.Limit)
		}
		return ErrInvalidForm.With("the form could not be read")
	}
	return nil
}

// checkJSON accepts application/json, in UTF-8 if a charset is given.
func checkJSON(contentType string) error {
	if contentType == "" {
		return ErrUnsupportedMedia.With("no Content-Type")
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return ErrUnsupportedMedia.With("Content-Type %q", contentType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return ErrUnsupportedMedia.With("charset %q: JSON is UTF-8", cs)
	}
	return nil
}

// decodeError classifies an error of reading or decoding a JSON body.
func decodeError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *jsontext.SyntacticError
		semantic *json.SemanticError
	)
	switch {
	case errors.As(err, &tooLarge):
		return ErrBodyTooLarge.With("at most %d bytes", tooLarge.Limit)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ErrMalformedJSON.With("the body ends in the middle of a value")
	case errors.As(err, &syntax):
		switch {
		case errors.Is(syntax.Err, jsontext.ErrDuplicateName):
			return ErrMalformedJSON.With("field %q appears twice", fieldOf(syntax.JSONPointer))
		case syntax.Err != nil:
			return ErrMalformedJSON.With("%s at byte %d", strings.TrimPrefix(syntax.Err.Error(), "jsontext: "), syntax.ByteOffset)
		}
		return ErrMalformedJSON.With("at byte %d", syntax.ByteOffset)
	case errors.As(err, &semantic):
		field := fieldOf(semantic.JSONPointer)
		switch {
		case errors.Is(semantic.Err, json.ErrUnknownName):
			// Names match exactly: "Absent" is as unknown as "teacher".
			return ErrUnknownField.With("unknown field %q", field)
		case semantic.Err != nil:
			// A field's own decoding (a date, a uuid) says what is wrong.
			return ErrInvalidField.With("field %q: %s", field, semantic.Err)
		case semantic.GoType != nil:
			return ErrInvalidField.With("field %q: %s is not %s", field, semantic.JSONKind, semantic.GoType)
		}
		return ErrInvalidField.With("field %q", field)
	}
	return ErrMalformedJSON.With("the body could not be read")
}

// fieldOf names the field a JSON pointer ("/late/0/minutes") leads to, as
// "late.0.minutes".
func fieldOf(p jsontext.Pointer) string {
	return strings.ReplaceAll(strings.TrimPrefix(string(p), "/"), "/", ".")
}

// PathID parses the uuid path parameter name.
func PathID(r *http.Request, name string) (uuid.UUID, error) {
	v := r.PathValue(name)
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return uuid.Nil, ErrInvalidPath.With("%s %q is not a uuid", name, v)
	}
	return id, nil
}

// SetPathID sets *dst to the uuid path parameter name. A body that named
// the entity already must name the same one.
func SetPathID(r *http.Request, name string, dst *uuid.UUID) error {
	id, err := PathID(r, name)
	if err != nil {
		return err
	}
	if *dst != uuid.Nil && *dst != id {
		return ErrPathMismatch.With("%s is %s in the path, %s in the body", name, id, *dst)
	}
	*dst = id
	return nil
}

// PathUAI returns the UAI path parameter name.
func PathUAI(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !domain.ValidUAI(v) {
		return "", ErrInvalidPath.With("%s %q is not a UAI (seven digits and a letter)", name, v)
	}
	return v, nil
}

// Limits of list queries.
const (
	defaultLimit = 50
	maxLimit     = 500
	// MaxHistoryLimit is the most events a history page holds (the API's
	// history, the portal's audit).
	MaxHistoryLimit = 1000
)

// Query reads query parameters; the first malformed one is kept in err,
// so that a handler reads them all and checks once.
type Query struct {
	v   url.Values
	loc *time.Location
	err error
}

// Query returns the query parameters of r.
func (d Decoder) Query(r *http.Request) *Query {
	return &Query{v: r.URL.Query(), loc: d.Location}
}

// Err is the first malformed parameter read.
func (q *Query) Err() error { return q.err }

// Fail keeps the first malformed parameter.
func (q *Query) Fail(name, format string, args ...any) {
	if q.err == nil {
		q.err = ErrInvalidQuery.With("%s: "+format, append([]any{name}, args...)...)
	}
}

// Str returns a parameter as is.
func (q *Query) Str(name string) string { return q.v.Get(name) }

// Date reads "2006-01-02" (zero when absent).
func (q *Query) Date(name string) domain.Date {
	v := q.v.Get(name)
	if v == "" {
		return domain.Date{}
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		q.Fail(name, "%q is not a date (2006-01-02)", v)
	}
	return d
}

// Instant reads an RFC 3339 time, or a date meaning its first instant in
// the establishments' time zone (its last when endOfDay is set). Zero when
// absent.
func (q *Query) Instant(name string, endOfDay bool) time.Time {
	v := q.v.Get(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		q.Fail(name, "%q is neither an RFC 3339 time nor a date", v)
		return time.Time{}
	}
	if endOfDay {
		return d.AddDays(1).In(q.loc).Add(-time.Nanosecond)
	}
	return d.In(q.loc)
}

// ID reads a uuid (uuid.Nil when absent).
func (q *Query) ID(name string) uuid.UUID {
	v := q.v.Get(name)
	if v == "" {
		return uuid.Nil
	}
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		q.Fail(name, "%q is not a uuid", v)
	}
	return id
}

// UAI reads a UAI ("" when absent).
func (q *Query) UAI(name string) string {
	v := q.v.Get(name)
	if v != "" && !domain.ValidUAI(v) {
		q.Fail(name, "%q is not a UAI (seven digits and a letter)", v)
	}
	return v
}

// Position reads a global position ("SEQ" or "TX.SEQ").
func (q *Query) Position(name string) domain.Position {
	v := q.v.Get(name)
	if v == "" {
		return domain.Start
	}
	p, err := domain.ParsePosition(v)
	if err != nil {
		q.Fail(name, "%q is not a position (SEQ or TX.SEQ)", v)
	}
	return p
}

// Limit reads the page size: defaultLimit when absent, 1 to maxLimit.
func (q *Query) Limit() int { return q.LimitIn(defaultLimit, maxLimit) }

// LimitIn reads the page size: def when absent, 1 to most.
func (q *Query) LimitIn(def, most int) int {
	v := q.v.Get("limit")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		q.Fail("limit", "%q is not a number from 1 to %d", v, most)
		return def
	}
	return n
}

// List reads a comma-separated or repeated parameter.
func (q *Query) List(name string) []string {
	var out []string
	for _, v := range q.v[name] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// MaxIdempotencyKey is the longest idempotency key.
const MaxIdempotencyKey = 255

// ValidIdempotencyKey reports whether k is 1 to MaxIdempotencyKey visible
// ASCII characters.
func ValidIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
