package api

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestHostileInputRefused: the inputs the hostile-input probe got
// accepted are refused with 400 and a problem that says what is wrong, and
// nothing is appended. The world's clock is 2006-03-14.
func TestHostileInputRefused(t *testing.T) {
	w := newWorld(t)
	teacher, head := tokenOf(asTeacher), tokenOf(asHead)
	student := w.Accounts[asStudent]
	rollcall := func(date string) string {
		return `{"group":"` + w.Class.String() + `","date":"` + date + `","slot":{"start":"09:00","end":"09:55"},"absent":[]}`
	}
	message := func(subject, body string) string {
		return `{"to_accounts":["` + w.Accounts[asCPE].String() + `"],"subject":"` + subject + `","body":"` + body + `"}`
	}
	sanctions := "/api/v1/students/" + student.String() + "/sanctions"
	tests := []struct {
		name   string
		req    request
		slug   string
		detail string // part of the problem's detail
	}{
		// Strict JSON.
		{"null body", request{method: "POST", path: "/api/v1/rollcalls", body: `null`, token: teacher}, "malformed-json", "object"},
		{"array body", request{method: "POST", path: "/api/v1/rollcalls", body: `[]`, token: teacher}, "malformed-json", "object"},
		{"Absent beside absent", request{method: "POST", path: "/api/v1/rollcalls", token: teacher,
			body: `{"group":"` + w.Class.String() + `","date":"2006-03-14","slot":{"start":"09:00","end":"09:55"},"absent":[],"Absent":["` + student.String() + `"]}`},
			"unknown-field", `"Absent"`},
		{"duplicate field", request{method: "POST", path: "/api/v1/messages", token: teacher,
			body: `{"subject":"a","subject":"b"}`}, "malformed-json", "twice"},
		{"invalid UTF-8 in a string", request{method: "POST", path: "/api/v1/messages", token: teacher,
			body: message("caf\xe9", "x")}, "malformed-json", "UTF-8"},
		{"lone surrogate escape", request{method: "POST", path: "/api/v1/messages", token: teacher,
			body: message(`\udc00`, "x")}, "malformed-json", ""},
		// Texts.
		{"NUL in a message subject", request{method: "POST", path: "/api/v1/messages", token: teacher,
			body: message(`a\u0000b`, "x")}, "invalid-input", "subject:"},
		{"NUL in a message body", request{method: "POST", path: "/api/v1/messages", token: teacher,
			body: message("Bonjour", `a\u0000b`)}, "invalid-input", "body:"},
		{"escape in a roll call subject", request{method: "POST", path: "/api/v1/rollcalls", token: teacher,
			body: domain.RecordRollCall{Group: w.Class, Date: w.LessonDate, Slot: w.LessonSlot, Subject: "\x1b[2J"}}, "invalid-input", "subject:"},
		{"line break in a subject", request{method: "POST", path: "/api/v1/messages", token: teacher,
			body: message(`a\nb`, "x")}, "invalid-input", "subject:"},
		{"100 kB subject", request{method: "POST", path: "/api/v1/messages", token: teacher,
			body: message(strings.Repeat("x", 100_000), "x")}, "invalid-input", "subject:"},
		// Dates.
		{"roll call in 0001", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall("0001-01-01"), token: teacher}, "invalid-input", "date:"},
		{"roll call in 1900", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall("1900-01-01"), token: teacher}, "invalid-input", "date:"},
		{"roll call in 9999", request{method: "POST", path: "/api/v1/rollcalls", body: rollcall("9999-12-31"), token: teacher}, "invalid-input", "date:"},
		{"sanction in 9999", request{method: "POST", path: sanctions, token: head,
			body: domain.PronounceSanction{Kind: domain.SanctionWarning, Date: domain.MustDate("9999-12-31"), Reason: "Insolence"}}, "invalid-input", "date:"},
		{"homework due in 9999", request{method: "POST", path: "/api/v1/homework", token: teacher,
			body: domain.AssignHomework{Group: w.Class, Given: w.LessonDate, Due: domain.MustDate("9999-01-04"), Instructions: "Exercice 3", WorkloadMinutes: 30}}, "invalid-input", "due:"},
		// Ranges.
		{"indicators from 0001 to 9999 by day", request{method: "GET", path: "/api/v1/indicators?from=0001-01-01&to=9999-12-31&granularity=day", token: tokenOf(asEvaluator)}, "invalid-input", "at most to"},
		{"indicators over three years by day", request{method: "GET", path: "/api/v1/indicators?from=2003-09-01&to=2006-08-31&granularity=day", token: tokenOf(asEvaluator)}, "invalid-input", "at most to 2005-08-31"},
		{"indicators from 0001 to 9999 in total", request{method: "GET", path: "/api/v1/indicators?from=0001-01-01&to=9999-12-31", token: tokenOf(asEvaluator)}, "invalid-input", "at most to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, store := w.fork(t)
			before := len(w.Records(store))
			p := mustProblem(t, do(t, srv, tt.req), 400, tt.slug)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q, want it to say %q", p.Detail, tt.detail)
			}
			if after := len(w.Records(store)); after != before {
				t.Errorf("appended %d events", after-before)
			}
		})
	}
}

// TestStrictInputAccepted: what a client means is still taken: accents,
// emoji, multi-line bodies, dates within the school years around today.
func TestStrictInputAccepted(t *testing.T) {
	w := newWorld(t)
	srv, _ := w.fork(t)
	r := do(t, srv, request{method: "POST", path: "/api/v1/messages", token: tokenOf(asTeacher),
		body: domain.SendMessage{Message: uuid.New(), ToAccounts: []uuid.UUID{w.Accounts[asCPE]}, Subject: "Sortie au musée 🎨",
			Body: "Bonjour,\r\n\tmerci de signer l'autorisation.\nCordialement"}})
	if r.status != 201 {
		t.Fatalf("message: %d %s", r.status, r.body)
	}
	r = do(t, srv, request{method: "GET", path: "/api/v1/indicators?from=2004-09-01&to=2006-08-31&granularity=day", token: tokenOf(asEvaluator)})
	if r.status != 200 {
		t.Fatalf("indicators over two school years by day: %d %s", r.status, r.body)
	}
}
