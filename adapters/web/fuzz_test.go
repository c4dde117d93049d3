package web_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// hostileValues are seeds of every fuzz target of the decoders: what a
// careless or malicious client sends.
var hostileValues = []string{
	"", " ", "\x00", "a\x00b", "\uffff", "\xff\xfe", "\xed\xa0\x80", "%00", "%ff", "%", "%zz", "\u2028",
	"0001-01-01", "9999-12-31", "2026-02-30", "2006-03-14", "2006-3-14", "+2006-03-14", "-0001-01-01",
	"2006-03-14T10:00:00Z", "2006-03-14T10:00:00+25:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999-23:59",
	"18446744073709551615", "18446744073709551616", "-1", "0", "1e3", "0x10", "1_000", "500", "501",
	"1.2", "18446744073709551615.18446744073709551615", ".", "1.", ".1", "1.2.3",
	"0130001A", "0130001a", "00000000-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000}",
	"urn:uuid:00000000-0000-0000-0000-000000000000", "6ba7b8109dad11d180b400c04fd430c8",
	"day", "week", "DAY", "total,total", ",,,", " a , b ",
}

// clientError fails unless err is one of want, answered with a 4xx
// problem (never a 500).
func clientError(t *testing.T, what string, err error, want ...*web.Error) {
	t.Helper()
	p, _ := web.ProblemOf(err)
	if p.Status < 400 || p.Status > 499 {
		t.Fatalf("%s: %v is a %d problem, want a client error", what, err, p.Status)
	}
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	t.Fatalf("%s: %v, want one of %v", what, err, want)
}

// realDate fails unless d is a calendar date that prints and parses back
// as itself ("2026-02-30" is none).
func realDate(t *testing.T, what string, d domain.Date) {
	t.Helper()
	if d.IsZero() {
		return
	}
	if back, err := domain.ParseDate(d.String()); err != nil || back != d || domain.DateOf(d.In(time.UTC)) != d {
		t.Fatalf("%s: accepted %+v, which reads back as %+v (%v)", what, d, back, err)
	}
}

// FuzzQuery reads a raw query string with every reader of query
// parameters, each on its own: a malformed value is the one 400
// invalid-query-parameter problem, and whatever is accepted is what it
// claims to be (a real date, a uuid, a position that prints and parses
// back, a page size in bounds, a list without empty items).
func FuzzQuery(f *testing.F) {
	for _, v := range hostileValues {
		f.Add("from=" + url.QueryEscape(v) + "&after=" + url.QueryEscape(v) + "&limit=" + url.QueryEscape(v))
		f.Add("id=" + v + "&uai=" + v + "&types=" + v)
	}
	f.Add("from=2006-03-01&to=2006-03-31&granularity=week&establishment=0130001A")
	f.Add("after=12.7&limit=100&types=absence.recorded.v1,message.sent.v1&types=homework.assigned.v1")
	f.Add("limit=1&limit=2&from=&to=2006-03-14T10:00:00%2B01:00")
	f.Add("%gh&%ij=1;a=b&&=&a=%")
	dec := web.Decoder{MaxBodyBytes: 1 << 16, Location: domain.Paris()}
	f.Fuzz(func(t *testing.T, raw string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/", RawQuery: raw}}
		read := func(what string, fn func(q *web.Query)) {
			t.Helper()
			q := dec.Query(r)
			fn(q)
			if err := q.Err(); err != nil {
				clientError(t, what, err, web.ErrInvalidQuery)
			}
		}
		values := r.URL.Query()
		read("date", func(q *web.Query) {
			d := q.Date("from")
			if q.Err() == nil {
				realDate(t, "date", d)
				if values.Get("from") != "" && d.String() != values.Get("from") {
					t.Fatalf("date %q read as %s", values.Get("from"), d)
				}
			}
		})
		read("instant", func(q *web.Query) {
			from, to := q.Instant("from", false), q.Instant("to", true)
			if q.Err() == nil && !from.IsZero() && !to.IsZero() && values.Get("from") == values.Get("to") && to.Before(from) {
				t.Fatalf("%q read as %s from, %s to", values.Get("to"), from, to)
			}
		})
		read("id", func(q *web.Query) {
			id := q.ID("id")
			if q.Err() == nil && values.Get("id") != "" && id.String() != strings.ToLower(values.Get("id")) {
				t.Fatalf("id %q read as %s", values.Get("id"), id)
			}
		})
		read("uai", func(q *web.Query) {
			if u := q.UAI("uai"); q.Err() == nil && u != "" && !domain.ValidUAI(u) {
				t.Fatalf("uai %q accepted", u)
			}
		})
		read("position", func(q *web.Query) {
			p := q.Position("after")
			if q.Err() != nil {
				return
			}
			if back, err := domain.ParsePosition(p.String()); err != nil || back != p {
				t.Fatalf("position %q read as %s, which reads back as %s (%v)", values.Get("after"), p, back, err)
			}
		})
		read("limit", func(q *web.Query) {
			if n := q.Limit(); q.Err() == nil && (n < 1 || n > 500) {
				t.Fatalf("limit %q read as %d", values.Get("limit"), n)
			}
		})
		read("list", func(q *web.Query) {
			for _, item := range q.List("types") {
				if item == "" || item != strings.TrimSpace(item) || strings.Contains(item, ",") {
					t.Fatalf("list %q has item %q", values["types"], item)
				}
			}
		})
	})
}

// FuzzForm posts a raw form body and reads it with every reader of form
// fields, each on its own: an unreadable body or a malformed field is a
// 400 (or 413) problem, and what is accepted is what it claims to be.
func FuzzForm(f *testing.F) {
	for _, v := range hostileValues {
		e := url.QueryEscape(v)
		f.Add([]byte("subject=" + e + "&date=" + e + "&minutes=" + e))
		f.Add([]byte("to=" + e + "&to=" + v + "&at=" + e + "&clock=" + e))
	}
	f.Add([]byte("csrf=x&idempotency_key=k&subject=Sortie&body=Bonjour%0D%0Aà+tous&to=" + uuid.NewString() + "&ack=on"))
	f.Add([]byte("date=2006-03-14&clock=08:00&at=2006-03-20T10:00&minutes=15"))
	f.Add([]byte("subject=%E9t%E9&body=%00&date=2006-02-29"))
	f.Add(bytes.Repeat([]byte("a=b&"), 300))
	dec := web.Decoder{MaxBodyBytes: 1 << 10, Location: domain.Paris()}
	f.Fuzz(func(t *testing.T, body []byte) {
		read := func(what string, fn func(r *http.Request, f *web.Form)) {
			t.Helper()
			r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := dec.Form(httptest.NewRecorder(), r); err != nil {
				clientError(t, "form", err, web.ErrInvalidForm, web.ErrBodyTooLarge)
				return
			}
			f := web.FormOf(r)
			fn(r, f)
			if err := f.Err(); err != nil {
				clientError(t, what, err, web.ErrInvalidForm)
			}
		}
		read("str", func(_ *http.Request, f *web.Form) {
			if s := f.Str("subject"); s != strings.TrimSpace(s) {
				t.Fatalf("field read as %q, untrimmed", s)
			}
		})
		read("date", func(_ *http.Request, f *web.Form) {
			if d := f.OptDate("date"); f.Err() == nil {
				realDate(t, "date", d)
			}
		})
		read("clock", func(_ *http.Request, f *web.Form) {
			at := f.Clock("clock", domain.MustDate("2006-03-14"), domain.Paris())
			if f.Err() == nil && domain.DateOf(at) != domain.MustDate("2006-03-14") {
				t.Fatalf("clock read as %s, another day", at)
			}
		})
		read("datetime", func(_ *http.Request, f *web.Form) {
			if at := f.LocalTime("at", domain.Paris()); f.Err() == nil && at.IsZero() {
				t.Fatal("datetime read as the zero time")
			}
		})
		read("ids", func(r *http.Request, f *web.Form) {
			ids := f.IDs("to")
			if f.Err() != nil {
				return
			}
			var want []string
			for _, v := range r.PostForm["to"] {
				if v = strings.TrimSpace(v); v != "" {
					want = append(want, strings.ToLower(v))
				}
			}
			if len(ids) != len(want) {
				t.Fatalf("ids %q read as %v", want, ids)
			}
			for i, id := range ids {
				if id.String() != want[i] {
					t.Fatalf("id %q read as %s", want[i], id)
				}
			}
		})
		read("int", func(_ *http.Request, f *web.Form) { f.OptInt("minutes") })
	})
}
