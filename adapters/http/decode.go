package http

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

// decode reads a JSON request body into v: application/json only, at most
// MaxBodyBytes, no unknown field, one value and nothing after it.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkJSON(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return errMalformedJSON.with("more than one JSON value in the body")
	}
	return nil
}

// checkJSON accepts application/json, in UTF-8 if a charset is given.
func checkJSON(contentType string) error {
	if contentType == "" {
		return errUnsupportedMedia.with("no Content-Type")
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return errUnsupportedMedia.with("Content-Type %q", contentType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errUnsupportedMedia.with("charset %q: JSON is UTF-8", cs)
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
		return errBodyTooLarge.with("at most %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return errMalformedJSON.with("the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errMalformedJSON.with("the body ends in the middle of a value")
	case errors.As(err, &syntax):
		return errMalformedJSON.with("%s at byte %d", syntax.Error(), syntax.Offset)
	case errors.As(err, &typ):
		return errInvalidField.with("field %q: %s is not %s", typ.Field, typ.Value, typ.Type)
	case strings.Contains(err.Error(), "unknown field"):
		// encoding/json has no type for it.
		return errUnknownField.with("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	// What is left comes from a field's own decoding (a date, a uuid).
	return errInvalidField.with("%s", err.Error())
}

// pathID parses the uuid path parameter name.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	v := r.PathValue(name)
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return uuid.Nil, errInvalidPath.with("%s %q is not a uuid", name, v)
	}
	return id, nil
}

// setPathID sets *dst to the uuid path parameter name. A body that named
// the entity already must name the same one.
func setPathID(r *http.Request, name string, dst *uuid.UUID) error {
	id, err := pathID(r, name)
	if err != nil {
		return err
	}
	if *dst != uuid.Nil && *dst != id {
		return errPathMismatch.with("%s is %s in the path, %s in the body", name, id, *dst)
	}
	*dst = id
	return nil
}

// pathUAI returns the UAI path parameter name.
func pathUAI(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !domain.ValidUAI(v) {
		return "", errInvalidPath.with("%s %q is not a UAI (seven digits and a letter)", name, v)
	}
	return v, nil
}

// Limits of list queries.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// query reads query parameters; the first malformed one is kept in err,
// so that a handler reads them all and checks once.
type query struct {
	v   url.Values
	loc *time.Location
	err error
}

func (s *Server) query(r *http.Request) *query {
	return &query{v: r.URL.Query(), loc: s.cfg.Location}
}

func (q *query) fail(name, format string, args ...any) {
	if q.err == nil {
		q.err = errInvalidQuery.with("%s: "+format, append([]any{name}, args...)...)
	}
}

// str returns a parameter as is.
func (q *query) str(name string) string { return q.v.Get(name) }

// date reads "2006-01-02" (zero when absent).
func (q *query) date(name string) domain.Date {
	v := q.v.Get(name)
	if v == "" {
		return domain.Date{}
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		q.fail(name, "%q is not a date (2006-01-02)", v)
	}
	return d
}

// instant reads an RFC 3339 time, or a date meaning its first instant in
// the establishments' time zone (its last when endOfDay is set). Zero when
// absent.
func (q *query) instant(name string, endOfDay bool) time.Time {
	v := q.v.Get(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		q.fail(name, "%q is neither an RFC 3339 time nor a date", v)
		return time.Time{}
	}
	if endOfDay {
		return d.AddDays(1).In(q.loc).Add(-time.Nanosecond)
	}
	return d.In(q.loc)
}

// id reads a uuid (uuid.Nil when absent).
func (q *query) id(name string) uuid.UUID {
	v := q.v.Get(name)
	if v == "" {
		return uuid.Nil
	}
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		q.fail(name, "%q is not a uuid", v)
	}
	return id
}

// uai reads a UAI ("" when absent).
func (q *query) uai(name string) string {
	v := q.v.Get(name)
	if v != "" && !domain.ValidUAI(v) {
		q.fail(name, "%q is not a UAI (seven digits and a letter)", v)
	}
	return v
}

// position reads a global position ("SEQ" or "TX.SEQ").
func (q *query) position(name string) domain.Position {
	v := q.v.Get(name)
	if v == "" {
		return domain.Start
	}
	p, err := domain.ParsePosition(v)
	if err != nil {
		q.fail(name, "%q is not a position (SEQ or TX.SEQ)", v)
	}
	return p
}

// limit reads the page size: defaultLimit when absent, 1 to maxLimit.
func (q *query) limit() int { return q.limitIn(defaultLimit, maxLimit) }

// limitIn reads the page size: def when absent, 1 to most.
func (q *query) limitIn(def, most int) int {
	v := q.v.Get("limit")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		q.fail("limit", "%q is not a number from 1 to %d", v, most)
		return def
	}
	return n
}

// list reads a comma-separated or repeated parameter.
func (q *query) list(name string) []string {
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
