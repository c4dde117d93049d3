package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// TestWalkthrough follows docs/api.md: a teacher records a roll call, the
// parent reads the file and declares a reason, the CPE accepts it, the
// file shows it justified, an inspector reads the history and exports, an
// evaluator reads indicators without personal data.
func TestWalkthrough(t *testing.T) {
	w := newWorld(t)
	at := func(hhmm string) {
		d, _ := time.ParseInLocation("2006-01-02 15:04", "2006-03-14 "+hhmm, webtest.Paris)
		w.Now = d
	}
	signIn := func(login string) string {
		t.Helper()
		r := do(t, w.srv, request{method: "POST", path: "/api/v1/tokens", body: SignInRequest{Login: login, Password: webtest.Password}})
		if r.status != http.StatusCreated {
			t.Fatalf("sign in %s: %d %s", login, r.status, r.body)
		}
		return mustDecode[TokenResponse](t, r).Token
	}
	call := func(token, method, path string, body any, want int) response {
		t.Helper()
		r := do(t, w.srv, request{method: method, path: path, body: body, token: token})
		if r.status != want {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
		}
		return r
	}
	student := w.Accounts[asStudent]

	// 10:05, the teacher records the roll call of the 10:00 lesson.
	at("10:05")
	teacher := signIn(asTeacher)
	roll := domain.RecordRollCall{Group: w.Class, Date: w.LessonDate, Slot: domain.Slot{Start: "10:00", End: "10:55"},
		Subject: "Mathématiques", Absent: []uuid.UUID{student}}
	res := mustDecode[CommandResponse](t, call(teacher, "POST", "/api/v1/rollcalls", roll, http.StatusCreated))
	if res.ID != roll.LessonID() || len(res.Events) != 2 {
		t.Fatalf("roll call %+v", res)
	}
	w.CatchUp()

	// 12:00, the parent reads the file and declares a reason.
	at("12:00")
	parent := signIn(asRelative)
	file := mustDecode[projections.StudentFile](t, call(parent, "GET", "/api/v1/students/"+student.String()+"/file?from=2006-03-14&to=2006-03-14", nil, http.StatusOK))
	if len(file.Absences) != 2 || file.Counts.AbsencesUnjustified != 2 {
		t.Fatalf("file %+v", file)
	}
	reason := "/api/v1/lessons/" + res.ID.String() + "/absences/" + student.String() + "/reason"
	call(parent, "POST", reason, domain.DeclareAbsenceReason{Reason: "Rendez-vous chez le médecin"}, http.StatusOK)
	w.CatchUp()

	// 14:00, the CPE sees it awaiting and accepts it.
	at("14:00")
	cpe := signIn(asCPE)
	office := mustDecode[projections.Office](t, call(cpe, "GET", "/api/v1/office", nil, http.StatusOK))
	if !slices.ContainsFunc(office.Awaiting, func(a projections.OfficeAbsence) bool {
		return a.Lesson == res.ID && a.State == domain.AbsenceDeclared && a.StudentName == "Léa"
	}) {
		t.Fatalf("awaiting %+v", office.Awaiting)
	}
	justification := "/api/v1/lessons/" + res.ID.String() + "/absences/" + student.String() + "/justification"
	call(cpe, "POST", justification, domain.DecideJustification{Accept: true, ReasonCode: "rdv-medical"}, http.StatusOK)
	w.CatchUp()
	at("18:00")
	file = mustDecode[projections.StudentFile](t, call(parent, "GET", "/api/v1/students/"+student.String()+"/file?from=2006-03-14", nil, http.StatusOK))
	i := slices.IndexFunc(file.Absences, func(a projections.FileAbsence) bool { return a.Lesson == res.ID })
	if i < 0 || file.Absences[i].State != domain.AbsenceJustified || file.Absences[i].DecisionReasonCode != "rdv-medical" {
		t.Fatalf("file %+v", file.Absences)
	}

	// The inspector reads the student's history, the file as it stood at
	// 13:00, and exports the establishment.
	inspector := signIn(asInspector)
	history := mustDecode[[]projections.AuditEntry](t, call(inspector, "GET", "/api/v1/history/"+student.String()+"?types=absence.justification_accepted.v1", nil, http.StatusOK))
	if len(history) != 1 || history[0].Actor != w.Accounts[asCPE] || history[0].Command != "DecideJustification" {
		t.Fatalf("history %+v", history)
	}
	page := mustDecode[[]projections.AuditEntry](t, call(inspector, "GET", "/api/v1/history/"+student.String()+"?limit=2", nil, http.StatusOK))
	next := mustDecode[[]projections.AuditEntry](t, call(inspector, "GET", "/api/v1/history/"+student.String()+"?limit=2&after="+page[1].Position.String(), nil, http.StatusOK))
	if len(page) != 2 || len(next) == 0 || !page[1].Position.Less(next[0].Position) {
		t.Fatalf("pages %v then %v", page, next)
	}
	then := mustDecode[projections.StudentFile](t, call(inspector, "GET", "/api/v1/students/"+student.String()+"/file/as-of?at=2006-03-14T13:00:00%2B01:00", nil, http.StatusOK))
	i = slices.IndexFunc(then.Absences, func(a projections.FileAbsence) bool { return a.Lesson == res.ID })
	if i < 0 || then.Absences[i].State != domain.AbsenceDeclared {
		t.Fatalf("file at 13:00 %+v", then.Absences)
	}
	export := call(inspector, "GET", "/api/v1/establishments/"+w.UAI+"/export?from=2006-03-14", nil, http.StatusOK)
	if ct := export.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("export Content-Type %q", ct)
	}
	lines, types := 0, map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(export.body))
	for sc.Scan() {
		var ev projections.ExportedEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		if ev.Metadata.Establishment != w.UAI {
			t.Errorf("exported an event of %q", ev.Metadata.Establishment)
		}
		lines++
		types[ev.Type] = true
	}
	if lines == 0 || !types["absence.recorded.v1"] || !types["absence.justification_accepted.v1"] {
		t.Errorf("export: %d lines, types %v", lines, types)
	}
	call(inspector, "GET", "/api/v1/establishments/"+w.OtherUAI+"/export", nil, http.StatusForbidden)
	call(inspector, "POST", justification, domain.DecideJustification{Accept: true, ReasonCode: "maladie"}, http.StatusForbidden)

	// The evaluator reads the indicators: counts, no names, no ids.
	evaluator := signIn(asEvaluator)
	raw := call(evaluator, "GET", "/api/v1/indicators?from=2006-03-01&to=2006-03-31&establishment="+w.UAI, nil, http.StatusOK)
	rows := mustDecode[[]projections.IndicatorRow](t, raw)
	// Two absences and one sanction in the month are small counts:
	// hidden, and acts with them (null in JSON, named in suppressed).
	if len(rows) != 1 || rows[0].Connections == 0 || rows[0].Name != "Collège Mistral" ||
		!slices.Equal(rows[0].Suppressed, []string{"absences", "sanctions", "acts"}) || rows[0].SmallCount != 5 {
		t.Fatalf("indicators %+v", rows)
	}
	for _, hidden := range []string{`"absences":null`, `"sanctions":null`, `"acts":null`} {
		if !bytes.Contains(raw.body, []byte(hidden)) {
			t.Errorf("indicators do not hide %s: %s", hidden, raw.body)
		}
	}
	for _, personal := range []string{"Léa", student.String(), w.Accounts[asTeacher].String()} {
		if bytes.Contains(raw.body, []byte(personal)) {
			t.Errorf("indicators show %s", personal)
		}
	}
	call(evaluator, "GET", "/api/v1/students/"+student.String()+"/file", nil, http.StatusForbidden)
}
