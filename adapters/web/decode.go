package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
// MaxBodyBytes, no unknown field, one value and nothing after it.
func (d Decoder) JSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkJSON(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, d.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return ErrMalformedJSON.With("more than one JSON value in the body")
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

// decodeError classifies an error of encoding/json.
func decodeError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return ErrBodyTooLarge.With("at most %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return ErrMalformedJSON.With("the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ErrMalformedJSON.With("the body ends in the middle of a value")
	case errors.As(err, &syntax):
		return ErrMalformedJSON.With("%s at byte %d", syntax.Error(), syntax.Offset)
	case errors.As(err, &typ):
		return ErrInvalidField.With("field %q: %s is not %s", typ.Field, typ.Value, typ.Type)
	case strings.Contains(err.Error(), "unknown field"):
		// encoding/json has no type for it.
		return ErrUnknownField.With("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	// What is left comes from a field's own decoding (a date, a uuid).
	return ErrInvalidField.With("%s", err.Error())
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
