package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Form reads the fields of a posted form (read by Decoder.Form); the
// first malformed one is kept (an ErrInvalidForm naming the field), so
// that a handler reads them all and checks once.
type Form struct {
	r   *http.Request
	err error
}

// FormOf returns the reader of r's posted form.
func FormOf(r *http.Request) *Form { return &Form{r: r} }

// Err is the first malformed field read.
func (f *Form) Err() error { return f.err }

// Fail keeps the first malformed field, which should hold a value of
// kind want (WantDate...).
func (f *Form) Fail(name, want, format string, args ...any) {
	if f.err == nil {
		e := ErrInvalidForm.With("%s: "+format, append([]any{name}, args...)...)
		e.field, e.want = name, want
		f.err = e
	}
}

// Str returns a field, trimmed.
func (f *Form) Str(name string) string { return strings.TrimSpace(f.r.PostForm.Get(name)) }

// Need returns a field that must not be blank, trimmed.
func (f *Form) Need(name string) string {
	v := f.Str(name)
	if v == "" {
		f.Fail(name, WantValue, "required")
	}
	return v
}

// Bool reports whether a checkbox is ticked.
func (f *Form) Bool(name string) bool { return f.r.PostForm.Get(name) != "" }

// Date reads a required date: "2006-01-02", as a date input sends it, or
// "02/01/2006", as people write it where a browser has no date picker.
func (f *Form) Date(name string) domain.Date {
	v := f.Str(name)
	d, err := domain.ParseDate(v)
	if err != nil {
		var t time.Time
		if t, err = time.Parse("02/01/2006", v); err == nil {
			d = domain.DateOf(t)
		}
	}
	if err != nil {
		f.Fail(name, WantDate, "%q is not a date", v)
	}
	return d
}

// OptDate reads an optional date (as Date).
func (f *Form) OptDate(name string) domain.Date {
	if f.Str(name) == "" {
		return domain.Date{}
	}
	return f.Date(name)
}

// Clock reads a required "15:04" on day d, in loc.
func (f *Form) Clock(name string, d domain.Date, loc *time.Location) time.Time {
	v := f.Str(name)
	t, err := time.Parse("15:04", v)
	if err != nil {
		f.Fail(name, WantTime, "%q is not a time (HH:MM)", v)
		return time.Time{}
	}
	return time.Date(d.Year, d.Month, d.Day, t.Hour(), t.Minute(), 0, 0, loc)
}

// LocalTime reads a datetime-local field ("2006-01-02T15:04") in loc.
func (f *Form) LocalTime(name string, loc *time.Location) time.Time {
	v := f.Str(name)
	t, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
	if err != nil {
		f.Fail(name, WantDateTime, "%q is not a date and time", v)
	}
	return t
}

// ID reads a required uuid.
func (f *Form) ID(name string) uuid.UUID {
	v := f.Str(name)
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		f.Fail(name, WantChoice, "%q is not an id", v)
	}
	return id
}

// IDs reads a repeated uuid field (a multiple select, checkboxes).
func (f *Form) IDs(name string) []uuid.UUID {
	var out []uuid.UUID
	for _, v := range f.r.PostForm[name] {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		id, err := uuid.Parse(v)
		if err != nil || len(v) != 36 {
			f.Fail(name, WantChoice, "%q is not an id", v)
			continue
		}
		out = append(out, id)
	}
	return out
}

// OptInt reads an optional whole number (0 when empty).
func (f *Form) OptInt(name string) int {
	v := f.Str(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.Fail(name, WantNumber, "%q is not a whole number", v)
	}
	return n
}
