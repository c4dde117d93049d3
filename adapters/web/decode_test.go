package web_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// TestDecoderJSONStrict: the one JSON decoder takes exactly one object
// whose names are the command's, each once, with valid UTF-8; anything else
// is a 400 problem that names what is wrong, never a lenient reading.
func TestDecoderJSONStrict(t *testing.T) {
	group := uuid.New().String()
	tests := []struct {
		name string
		body string
		want *web.Error // nil: accepted
	}{
		{"a command", `{"group":"` + group + `","date":"2006-03-14","subject":"Maths","absent":[]}`, nil},
		{"white space around", " \n\t{\"subject\":\"Maths\"}\r\n ", nil},
		{"escaped accents and a surrogate pair", `{"subject":"\u00e9l\u00e8ve \ud83c\udfa8"}`, nil},
		{"empty", ``, web.ErrMalformedJSON},
		{"only white space", " \n ", web.ErrMalformedJSON},
		{"null", `null`, web.ErrMalformedJSON},
		{"null after white space", "  null", web.ErrMalformedJSON},
		{"an array", `[{"subject":"Maths"}]`, web.ErrMalformedJSON},
		{"a string", `"Maths"`, web.ErrMalformedJSON},
		{"a number", `42`, web.ErrMalformedJSON},
		{"true", `true`, web.ErrMalformedJSON},
		{"two objects", `{"subject":"a"}{"subject":"b"}`, web.ErrMalformedJSON},
		{"an object and null", `{"subject":"a"} null`, web.ErrMalformedJSON},
		{"truncated", `{"subject":"a"`, web.ErrMalformedJSON},
		{"duplicate name", `{"subject":"a","subject":"b"}`, web.ErrMalformedJSON},
		{"duplicate name in a nested object", `{"slot":{"start":"08:00","start":"09:00"}}`, web.ErrMalformedJSON},
		{"case-mismatched name beside the right one", `{"absent":[],"Absent":["` + group + `"]}`, web.ErrUnknownField},
		{"case-mismatched name alone", `{"Subject":"Maths"}`, web.ErrUnknownField},
		{"upper-case name", `{"SUBJECT":"Maths"}`, web.ErrUnknownField},
		{"case-mismatched nested name", `{"slot":{"Start":"08:00"}}`, web.ErrUnknownField},
		{"unknown name", `{"teacher":"me"}`, web.ErrUnknownField},
		{"invalid UTF-8 in a string", "{\"subject\":\"caf\xe9\"}", web.ErrMalformedJSON},
		{"invalid UTF-8 in a name", "{\"subj\xffect\":\"a\"}", web.ErrMalformedJSON},
		{"lone high surrogate escape", `{"subject":"\ud800"}`, web.ErrMalformedJSON},
		{"lone low surrogate escape", `{"subject":"a\udc00b"}`, web.ErrMalformedJSON},
		{"encoded surrogate bytes", "{\"subject\":\"\xed\xa0\x80\"}", web.ErrMalformedJSON},
		{"wrong type", `{"absent":"everyone"}`, web.ErrInvalidField},
		{"bad date", `{"date":"14/03/2006"}`, web.ErrInvalidField},
		{"bad uuid", `{"group":"6A"}`, web.ErrInvalidField},
	}
	dec := web.Decoder{MaxBodyBytes: 1 << 20}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/rollcalls", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			var cmd domain.RecordRollCall
			err := dec.JSON(httptest.NewRecorder(), r, &cmd)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
			if p, _ := web.ProblemOf(err); p.Status != 400 {
				t.Errorf("status %d, want 400", p.Status)
			}
		})
	}
}

// TestDecoderJSONValues: what is accepted is decoded as sent, escapes and
// all; nothing is replaced.
func TestDecoderJSONValues(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"subject":"\u00e9\ud83c\udfa8\u2028","absent":[]}`))
	r.Header.Set("Content-Type", "application/json")
	var cmd domain.RecordRollCall
	if err := (web.Decoder{MaxBodyBytes: 1 << 10}).JSON(httptest.NewRecorder(), r, &cmd); err != nil {
		t.Fatal(err)
	}
	if cmd.Subject != "é🎨\u2028" {
		t.Errorf("subject %q", cmd.Subject)
	}
}

// TestDecoderJSONTooLarge: a body over the limit is 413, however it ends.
func TestDecoderJSONTooLarge(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"subject":"`+strings.Repeat("x", 2048)+`"}`))
	r.Header.Set("Content-Type", "application/json")
	var cmd domain.RecordRollCall
	if err := (web.Decoder{MaxBodyBytes: 1024}).JSON(httptest.NewRecorder(), r, &cmd); !errors.Is(err, web.ErrBodyTooLarge) {
		t.Fatalf("%v, want %v", err, web.ErrBodyTooLarge)
	}
}
