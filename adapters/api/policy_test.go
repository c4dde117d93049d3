package api

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// TestReadsShowOnlyWhatTheReaderMaySee: readers of a shared document
// (a cahier de textes, a message) see their own part of it.
func TestReadsShowOnlyWhatTheReaderMaySee(t *testing.T) {
	w := newWorld(t)
	student := w.Accounts[asStudent]
	w.Must(w.H.MarkHomeworkDone(w.Ctx, webtest.As(student), domain.MarkHomeworkDone{Homework: w.Homework}))
	w.Must(w.H.MarkHomeworkDone(w.Ctx, webtest.As(w.Student2), domain.MarkHomeworkDone{Homework: w.Homework}))
	w.CatchUp()
	get := func(profile, path string) response {
		t.Helper()
		r := do(t, w.srv, request{method: "GET", path: path, token: tokenOf(profile)})
		if r.status != http.StatusOK {
			t.Fatalf("%s as %s: %d %s", path, profile, r.status, r.body)
		}
		return r
	}

	for profile, want := range map[string][]uuid.UUID{
		asTeacher:  {student, w.Student2},
		asCPE:      {student, w.Student2},
		asStudent:  {student},
		asRelative: {student},
	} {
		tb := mustDecode[projections.Textbook](t, get(profile, "/api/v1/groups/"+w.Class.String()+"/textbook"))
		if len(tb.Homework) != 1 {
			t.Fatalf("homework %+v", tb.Homework)
		}
		got := tb.Homework[0].DoneBy
		slices.SortFunc(got, uuidCompare)
		slices.SortFunc(want, uuidCompare)
		if !slices.Equal(got, want) {
			t.Errorf("%s sees done by %v, want %v", profile, got, want)
		}
	}

	agenda := mustDecode[[]projections.AgendaHomework](t, get(asRelative, "/api/v1/students/"+student.String()+"/homework?from=2006-03-01"))
	if len(agenda) != 1 || !agenda[0].Done || agenda[0].GroupName != "6A" {
		t.Errorf("agenda %+v", agenda)
	}

	sender := mustDecode[projections.MessageDetail](t, get(asTeacher, "/api/v1/messages/"+w.Message.String()))
	if len(sender.Recipients) != 3 {
		t.Errorf("the sender sees %d recipients", len(sender.Recipients))
	}
	for _, p := range []string{asRelative, asStudent} {
		m := mustDecode[projections.MessageDetail](t, get(p, "/api/v1/messages/"+w.Message.String()))
		if len(m.Recipients) != 1 || m.Recipients[0].Account != w.Accounts[p] {
			t.Errorf("%s sees recipients %+v", p, m.Recipients)
		}
	}

	// A teacher reads the files of their students only.
	other := do(t, w.srv, request{method: "GET", path: "/api/v1/students/" + w.OtherStudent.String() + "/file", token: tokenOf(asTeacher)})
	mustProblem(t, other, http.StatusForbidden, "forbidden")
	// The office defaults to the reader's establishment.
	office := mustDecode[projections.Office](t, get(asHead, "/api/v1/office"))
	if office.Establishment != w.UAI {
		t.Errorf("office of %q", office.Establishment)
	}
	mustProblem(t, do(t, w.srv, request{method: "GET", path: "/api/v1/office", token: tokenOf(asInspector)}), http.StatusBadRequest, "invalid-input")
}

func uuidCompare(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) }
