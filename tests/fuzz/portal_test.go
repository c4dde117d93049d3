package fuzz

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// form is a form of the portal: where it is posted, by whom, and how what
// it recorded is read back.
type form struct {
	name, profile string
	// path is where the form is posted (escaped); arg is a fuzzed path
	// segment, for the forms that have one.
	path func(s *webtest.School, arg string) string
	// check reads back what the form recorded (events, the read models)
	// against the form's fields as the portal reads them (trimmed).
	check func(t *testing.T, w *world, fields url.Values, events []domain.Event)
}

// field is a form field as web.Form.Str reads it.
func field(fields url.Values, name string) string { return strings.TrimSpace(fields.Get(name)) }

// forms are representative forms of the portal: a roll call, a sanction,
// a message, homework, a relative's reason for an absence.
var forms = []form{
	{
		name: "rollcall", profile: webtest.AsTeacher,
		path: func(s *webtest.School, arg string) string {
			return "/groups/" + s.Class.String() + "/rollcall/" + s.Entry.String() + "/" + url.PathEscape(arg)
		},
		check: func(t *testing.T, w *world, _ url.Values, events []domain.Event) {
			for _, e := range events {
				if a, ok := e.(domain.AbsenceRecorded); ok {
					got := w.mustAbsence(t, a.Student, a.Lesson)
					w.same(t, "the absence's subject", got.Subject, a.Subject)
				}
			}
		},
	},
	{
		name: "sanction", profile: webtest.AsHead,
		path: func(*webtest.School, string) string { return "/discipline/sanctions" },
		check: func(t *testing.T, w *world, fields url.Values, events []domain.Event) {
			for _, e := range events {
				if s, ok := e.(domain.SanctionPronounced); ok {
					w.same(t, "the recorded reason", s.Reason, field(fields, "reason"))
					f := w.mustFile(t, s.Student)
					for _, fs := range f.Sanctions {
						if fs.Sanction == s.Sanction {
							w.same(t, "the sanction's reason", fs.Reason, s.Reason)
							return
						}
					}
					t.Fatalf("%s: sanction %s is not on file", w.name, s.Sanction)
				}
			}
			t.Fatalf("%s: the sanction form recorded no sanction: %v", w.name, events)
		},
	},
	{
		name: "message", profile: webtest.AsTeacher,
		path: func(*webtest.School, string) string { return "/messages" },
		check: func(t *testing.T, w *world, fields url.Values, events []domain.Event) {
			for _, e := range events {
				if m, ok := e.(domain.MessageSent); ok {
					w.same(t, "the recorded subject", m.Subject, field(fields, "subject"))
					w.same(t, "the recorded body", m.Body, field(fields, "body"))
					got, err := w.q.Message(t.Context(), m.Message)
					if err != nil {
						t.Fatalf("%s: message %s: %v", w.name, m.Message, err)
					}
					w.same(t, "the subject", got.Subject, m.Subject)
					w.same(t, "the body", got.Body, m.Body)
					return
				}
			}
			t.Fatalf("%s: the message form recorded no message: %v", w.name, events)
		},
	},
	{
		name: "homework", profile: webtest.AsTeacher,
		path: func(s *webtest.School, _ string) string { return "/groups/" + s.Class.String() + "/homework" },
		check: func(t *testing.T, w *world, fields url.Values, events []domain.Event) {
			for _, e := range events {
				if h, ok := e.(domain.HomeworkAssigned); ok {
					w.same(t, "the recorded instructions", h.Instructions, field(fields, "instructions"))
					got := w.mustHomework(t, h.Group, h.Homework)
					w.same(t, "the instructions", got.Instructions, h.Instructions)
					w.same(t, "the subject", got.Subject, h.Subject)
					return
				}
			}
			t.Fatalf("%s: the homework form recorded no homework: %v", w.name, events)
		},
	},
	{
		name: "reason", profile: webtest.AsRelative,
		path: func(s *webtest.School, _ string) string {
			return "/students/" + s.Accounts[webtest.AsStudent].String() + "/absences/" + s.Lesson.String() + "/reason"
		},
		check: func(t *testing.T, w *world, fields url.Values, events []domain.Event) {
			for _, e := range events {
				if d, ok := e.(domain.AbsenceReasonDeclared); ok {
					w.same(t, "the recorded reason", d.Reason, field(fields, "reason"))
					got := w.mustAbsence(t, d.Student, d.Lesson)
					w.same(t, "the declared reason", got.DeclaredReason, d.Reason)
					return
				}
			}
			t.Fatalf("%s: the reason form recorded no reason: %v", w.name, events)
		},
	},
}

// FuzzPortalForm posts a body to a form of the portal picked by index, as
// the profile that fills it, with its CSRF token, on SQLite and on
// Postgres. A refusal is a 4xx page, never a 500; an accepted form
// (answered by a redirect) is applied by every projection and read back as
// the portal read it; both stores answer alike.
func FuzzPortalForm(f *testing.F) {
	worlds := MustWorlds(f)
	s := worlds[0].school
	a := s.Accounts
	student, student2 := a[webtest.AsStudent].String(), s.Student2.String()
	seeds := []struct {
		form      int
		arg, body string
	}{
		{0, "2006-03-07", "s-" + student + "=absent&s-" + student2 + "=late&m-" + student2 + "=12"},
		{0, "2006-02-28", "s-" + student + "=late&m-" + student + "=5"},
		{0, "2026-02-30", "s-" + student + "=absent"},
		{0, "0001-01-01", "s-" + student + "=absent"},
		{0, "9999-12-31", "s-" + student + "=absent"},
		{0, "2006-03-07", "s-" + student2 + "=late&m-" + student2 + "=9223372036854775808"},
		{0, "2006-02-21", "s-" + student2 + "=late&m-" + student2 + "=-5"},
		{1, "", "student=" + s.Class.String() + "|" + student + "&kind=exclusion_temporaire&date=2006-03-13&days=3&reason=Insolence+r%C3%A9p%C3%A9t%C3%A9e"},
		{1, "", "student=" + s.Class.String() + "|" + student + "&kind=avertissement&date=2006-03-13&reason=%00"},
		{1, "", "student=" + s.Class.String() + "|" + student + "&kind=avertissement&date=2006-03-13&reason=%ED%A0%80"},
		{1, "", "student=" + s.Class.String() + "|" + student + "&kind=blame&date=9999-12-31&reason=x"},
		{2, "", "to=" + s.Class.String() + "&to=" + a[webtest.AsRelative].String() + "&subject=Sortie+au+mus%C3%A9e&body=Autorisation+%C3%A0+signer.%0D%0AMerci.&ack=on"},
		{2, "", "to=" + a[webtest.AsRelative].String() + "&subject=++%EF%BF%BF++&body=%E2%80%A8"},
		{2, "", "to=" + a[webtest.AsRelative].String() + "&subject=%FF&body=x"},
		{2, "", "to=" + a[webtest.AsRelative].String() + "&subject=a&subject=b&body=%0D"},
		{3, "", "subject=Math%C3%A9matiques&given=2006-03-14&due=2006-03-21&instructions=Exercices+5+%C3%A0+8%0D%0Apage+53&workload=30"},
		{3, "", "given=2006-03-14&due=2026-02-30&instructions=x"},
		{3, "", "given=0001-01-01&due=9999-12-31&instructions=x&workload=99999999999999999999"},
		{4, "", "reason=Rendez-vous+m%C3%A9dical&back=/"},
		{4, "", "reason=%09&back=//evil.example"},
		{4, "", "reason=" + strings.Repeat("x", 1001)},
	}
	for _, sd := range seeds {
		f.Add(uint8(sd.form), sd.arg, []byte(sd.body))
	}
	f.Fuzz(func(t *testing.T, fi uint8, arg string, body []byte) {
		fm := forms[int(fi)%len(forms)]
		// The form's own CSRF token first: a second one in the body is
		// not the one read.
		full := append([]byte("csrf="+web.CSRFToken("tok-"+fm.profile)+"&"), body...)
		outcomes := make([]outcome, len(worlds))
		for i, w := range worlds {
			path := fm.path(w.school, arg)
			what := fmt.Sprintf("%s form to %s with %q", fm.name, path, body)
			r := w.do(t, "POST", path, fm.profile, "application/x-www-form-urlencoded", full)
			outcomes[i] = w.mustPage(t, what, r)
			if r.status != 303 {
				continue
			}
			fields, err := url.ParseQuery(string(full))
			if err != nil {
				t.Fatalf("%s: %s: accepted, yet the body is not a form: %v", w.name, what, err)
			}
			fm.check(t, w, fields, w.mustEvents(t))
		}
		mustAgree(t, fm.name+" form", worlds, outcomes)
	})
}
