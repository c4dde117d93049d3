package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// form reads the fields of a posted form; the first malformed one is kept
// in err (an invalid-input error naming the field), so that a handler
// reads them all and checks once.
type form struct {
	r   *http.Request
	err error
}

func formOf(r *http.Request) *form { return &form{r: r} }

func (f *form) fail(name, format string, args ...any) {
	if f.err == nil {
		f.err = domain.Errorf(domain.ErrInvalid, "%s: "+format, append([]any{name}, args...)...)
	}
}

// str returns a field, trimmed.
func (f *form) str(name string) string { return strings.TrimSpace(f.r.PostForm.Get(name)) }

// bool reports whether a checkbox is ticked.
func (f *form) bool(name string) bool { return f.r.PostForm.Get(name) != "" }

// date reads a required "2006-01-02".
func (f *form) date(name string) domain.Date {
	v := f.str(name)
	d, err := domain.ParseDate(v)
	if err != nil {
		f.fail(name, "%q is not a date", v)
	}
	return d
}

// optDate reads an optional "2006-01-02".
func (f *form) optDate(name string) domain.Date {
	if f.str(name) == "" {
		return domain.Date{}
	}
	return f.date(name)
}

// clock reads a required "15:04" on day d, in loc.
func (f *form) clock(name string, d domain.Date, loc *time.Location) time.Time {
	v := f.str(name)
	t, err := time.Parse("15:04", v)
	if err != nil {
		f.fail(name, "%q is not a time (HH:MM)", v)
		return time.Time{}
	}
	return time.Date(d.Year, d.Month, d.Day, t.Hour(), t.Minute(), 0, 0, loc)
}

// localTime reads a datetime-local field ("2006-01-02T15:04") in loc.
func (f *form) localTime(name string, loc *time.Location) time.Time {
	v := f.str(name)
	t, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
	if err != nil {
		f.fail(name, "%q is not a date and time", v)
	}
	return t
}

// id reads a required uuid.
func (f *form) id(name string) uuid.UUID {
	v := f.str(name)
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		f.fail(name, "%q is not an id", v)
	}
	return id
}

// ids reads a repeated uuid field (a multiple select, checkboxes).
func (f *form) ids(name string) []uuid.UUID {
	var out []uuid.UUID
	for _, v := range f.r.PostForm[name] {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		id, err := uuid.Parse(v)
		if err != nil || len(v) != 36 {
			f.fail(name, "%q is not an id", v)
			continue
		}
		out = append(out, id)
	}
	return out
}

// optInt reads an optional whole number (0 when empty).
func (f *form) optInt(name string) int {
	v := f.str(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.fail(name, "%q is not a whole number", v)
	}
	return n
}
