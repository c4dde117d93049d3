package api

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// bodyRoutes returns the routes of the route table that take a JSON body,
// in the table's order: a server without dependencies builds the table
// (its handlers are never called here).
func bodyRoutes(tb testing.TB) ([]route, *Server) {
	tb.Helper()
	s := &Server{dec: web.Decoder{MaxBodyBytes: DefaultMaxBodyBytes, Location: domain.Paris()}}
	var out []route
	for _, rt := range s.routeTable() {
		if rt.request != nil {
			out = append(out, rt)
		}
	}
	if len(out) < 20 {
		tb.Fatalf("%d routes take a JSON body: the table was not built", len(out))
	}
	return out, s
}

// hostileBodies are bodies every route gets as seeds: what a careless or
// malicious client sends.
var hostileBodies = []string{
	``, `null`, `[]`, `[{}]`, `"x"`, `1e999`, `{}`, `{} {}`, `{"a":1}`, `{`, "\xef\xbb\xbf{}",
	`{"subject":"\ud800"}`, `{"subject":"\udfff\ud800"}`, `{"subject":"\u0000"}`, "{\"subject\":\"\x00\"}",
	"{\"subject\":\"\xff\"}", `{"subject":"\uffff\ufffe"}`, `{"subject":"a","subject":"b"}`, `{"Subject":"a"}`,
	`{"subject":"a","SUBJECT":"b"}`, `{"subject":null}`, `{"subject":["a"]}`, `{"subject":{}}`, `{"subject":1}`,
	`{"date":"0001-01-01"}`, `{"date":"9999-12-31"}`, `{"date":"2026-02-30"}`, `{"date":"2006-3-14"}`, `{"date":""}`,
	`{"date":null}`, `{"date":20060314}`, `{"given":"0000-01-01","due":"9999-12-31"}`,
	`{"start":"0001-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z"}`, `{"occurred_at":"2006-03-14T10:00:00+99:00"}`,
	`{"days":18446744073709551616}`, `{"days":-9223372036854775809}`, `{"days":1e3}`, `{"days":1.5}`, `{"days":"1"}`,
	`{"workload_minutes":9223372036854775807}`, `{"minutes":-1}`,
	`{"group":"00000000-0000-0000-0000-000000000000"}`, `{"group":"not-a-uuid"}`, `{"group":"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}"}`,
	`{"group":"6ba7b8109dad11d180b400c04fd430c8"}`, `{"absent":null}`, `{"absent":[null]}`, `{"absent":{}}`,
	`{"late":[{"student":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","minutes":5,"minutes":6}]}`,
}

// realBodies are what clients send to a few routes, by path.
var realBodies = map[string][]string{
	"/api/v1/messages": {
		`{"to_groups":["6ba7b810-9dad-11d1-80b4-00c04fd430c8"],"subject":"Sortie au musée","body":"Autorisation à signer.\r\nMerci.","ack_requested":true}`,
		`{"to_accounts":["6ba7b810-9dad-11d1-80b4-00c04fd430c8"],"subject":"\u00e9l\u00e8ve \ud83c\udfa8","body":"tab\tnewline\n"}`,
	},
	"/api/v1/homework": {
		`{"group":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","subject":"Mathématiques","given":"2006-03-14","due":"2006-03-16","instructions":"Exercices 1 à 4 page 52","workload_minutes":30}`,
	},
	"/api/v1/rollcalls": {
		`{"group":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","date":"2006-03-14","slot":{"start":"08:00","end":"08:55"},"subject":"Mathématiques","absent":["6ba7b811-9dad-11d1-80b4-00c04fd430c8"],"late":[{"student":"6ba7b812-9dad-11d1-80b4-00c04fd430c8","minutes":10}]}`,
	},
	"/api/v1/students/{student}/sanctions": {
		`{"kind":"exclusion","date":"2006-03-13","days":2,"reason":"Insolence répétée"}`,
	},
}

// FuzzCommandBody decodes a body for a command route picked from the route
// table by index, with the API's one decoder, into the route's command
// type: a refused body is a 4xx problem of the decoder, never a panic or a
// 500; an accepted one decodes to a value that encodes and decodes back to
// itself, and that the commands' input validation judges without
// panicking, accepting it or refusing it as invalid.
func FuzzCommandBody(f *testing.F) {
	routes, s := bodyRoutes(f)
	for i, rt := range routes {
		skeleton, err := json.Marshal(reflect.New(rt.request).Interface())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), skeleton)
		for _, b := range realBodies[rt.path] {
			f.Add(uint8(i), []byte(b))
		}
	}
	for i, b := range hostileBodies {
		f.Add(uint8(i), []byte(b))
	}
	cal := domain.CalendarOn(domain.MustDate("2006-03-14"))
	f.Fuzz(func(t *testing.T, index uint8, body []byte) {
		rt := routes[int(index)%len(routes)]
		v := reflect.New(rt.request)
		r := httptest.NewRequest(rt.method, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		err := s.dec.JSON(httptest.NewRecorder(), r, v.Interface())
		if err != nil {
			p, _ := web.ProblemOf(err)
			if p.Status != 400 && p.Status != 413 || !isOneOf(err, web.ErrMalformedJSON, web.ErrUnknownField, web.ErrInvalidField, web.ErrBodyTooLarge) {
				t.Fatalf("%s %s: %v is a %d problem, want a 4xx of the decoder", rt.method, rt.path, err, p.Status)
			}
			return
		}
		again, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatalf("%s %s: accepted %q, which does not encode: %v", rt.method, rt.path, body, err)
		}
		back := reflect.New(rt.request)
		if err := json.Unmarshal(again, back.Interface()); err != nil {
			t.Fatalf("%s %s: accepted %q as %s, which does not decode: %v", rt.method, rt.path, body, again, err)
		}
		// Compared encoded: a nil slice and an empty one are the same
		// command.
		if twice, err := json.Marshal(back.Interface()); err != nil || !bytes.Equal(again, twice) {
			t.Fatalf("%s %s: accepted %q as %s, which reads back as %s (%v)", rt.method, rt.path, body, again, twice, err)
		}
		if err := domain.ValidateInput(v.Elem().Interface(), cal); err != nil && !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("%s %s: validation of %q: %v, want nil or %v", rt.method, rt.path, body, err, domain.ErrInvalid)
		}
	})
}

func isOneOf(err error, targets ...*web.Error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// TestFuzzSeedsNameRoutes: the real bodies of FuzzCommandBody's seeds are
// for routes of the table, so that a renamed route does not leave them
// seeding nothing.
func TestFuzzSeedsNameRoutes(t *testing.T) {
	routes, _ := bodyRoutes(t)
	for path := range realBodies {
		if !strings.HasPrefix(path, "/api/v1/") || !containsPath(routes, path) {
			t.Errorf("seed bodies for %s: no such route takes a body", path)
		}
	}
}

func containsPath(routes []route, path string) bool {
	for _, rt := range routes {
		if rt.path == path {
			return true
		}
	}
	return false
}
