package fuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/api"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// route is an operation of the API's OpenAPI document, which the route
// table generates.
type route struct {
	method, path string
	// body: the operation takes a JSON body.
	body bool
	// query lists its query parameters.
	query []string
}

func (r route) String() string { return r.method + " " + r.path }

// MustRoutes reads the API's routes from its OpenAPI document, sorted by
// path and method: the commands (the operations that take an
// Idempotency-Key) or the reads (GET).
func (w *world) MustRoutes(tb testing.TB, commands bool) []route {
	tb.Helper()
	r := w.do(tb, "GET", api.OpenAPIPath, "", "", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody *struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || r.status != 200 {
		tb.Fatalf("OpenAPI document: %d %v", r.status, err)
	}
	var out []route
	for path, item := range doc.Paths {
		for method, op := range item {
			rt := route{method: strings.ToUpper(method), path: path}
			command := false
			for _, p := range op.Parameters {
				command = command || p.In == "header" && p.Name == "Idempotency-Key"
				if p.In == "query" {
					rt.query = append(rt.query, p.Name)
				}
			}
			if op.RequestBody != nil {
				_, rt.body = op.RequestBody.Content["application/json"]
			}
			if command == commands && (commands || rt.method == "GET") {
				out = append(out, rt)
			}
		}
	}
	slices.SortFunc(out, func(a, b route) int { return strings.Compare(a.String(), b.String()) })
	if len(out) < 20 {
		tb.Fatalf("the OpenAPI document lists %d such routes", len(out))
	}
	return out
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// pathParams lists the parameters of a route's path, in order.
func pathParams(path string) []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

// unknown is an id nothing in the school has.
var unknown = webtest.ID("nothing")

// candidates returns the values a path parameter takes: the school's
// entities of that kind, and one that does not exist.
func (w *world) candidates(param string) []string {
	s, a := w.school, w.school.Accounts
	ids := func(ids ...uuid.UUID) []string {
		out := make([]string, 0, len(ids)+1)
		for _, id := range append(ids, unknown) {
			out = append(out, id.String())
		}
		return out
	}
	switch param {
	case "account", "subject":
		return ids(a[webtest.AsTeacher], a[webtest.AsStudent], a[webtest.AsRelative], a[webtest.AsInspector], s.Closed, s.Teacher2)
	case "student":
		return ids(a[webtest.AsStudent], s.Student2, s.OtherStudent)
	case "relative":
		return ids(a[webtest.AsRelative], a[webtest.AsTeacher])
	case "teacher":
		return ids(a[webtest.AsTeacher], s.Teacher2)
	case "group":
		return ids(s.Class, s.OtherClass)
	case "entry":
		return ids(s.Entry)
	case "lesson":
		return ids(s.Lesson)
	case "homework":
		return ids(s.Homework)
	case "message":
		return ids(s.Message)
	case "resource":
		return ids(s.Resource)
	case "booking":
		return ids(s.Booking)
	case "article":
		return ids(s.Article)
	case "sanction":
		return ids(s.Sanction)
	case "correlation":
		return ids(webtest.KeptImportID)
	case "role":
		return []string{string(domain.RoleStudent), string(domain.RoleTeacher), "nobody"}
	case "uai":
		return []string{s.UAI, s.OtherUAI, "9999999Z"}
	}
	return nil
}

// fill puts values in the path parameters of rt, picked by pick as the
// digits of a number whose radixes are the numbers of candidates (0 is
// the first candidate of each), and returns the path and the values by
// name.
func (w *world) fill(tb testing.TB, rt route, pick uint8) (string, map[string]string) {
	tb.Helper()
	path, args, n := rt.path, map[string]string{}, int(pick)
	for _, name := range pathParams(rt.path) {
		vs := w.candidates(name)
		if len(vs) == 0 {
			tb.Fatalf("%s: no value for the path parameter %q: add it to candidates", rt, name)
		}
		v := vs[n%len(vs)]
		n /= len(vs)
		args[name] = v
		path = strings.Replace(path, "{"+name+"}", v, 1)
	}
	return path, args
}

// commandSeed is a request a client sends to a command route.
type commandSeed struct {
	route, profile string
	// pick chooses the path parameters (see fill): 0 is the school's
	// first entity of each kind.
	pick uint8
	body string
}

// commandSeeds are real-looking requests to each command route, made with
// the school's ids.
func commandSeeds(s *webtest.School) []commandSeed {
	a := s.Accounts
	id := func(u uuid.UUID) string { return u.String() }
	teacher, student, relative := id(a[webtest.AsTeacher]), id(a[webtest.AsStudent]), id(a[webtest.AsRelative])
	return []commandSeed{
		{"POST /api/v1/messages", webtest.AsTeacher, 0, `{"to_groups":["` + id(s.Class) + `"],"to_accounts":["` + relative + `"],"subject":"Sortie au musée","body":"Autorisation à signer.\r\nMerci.","ack_requested":true}`},
		{"POST /api/v1/messages", webtest.AsRelative, 0, `{"to_accounts":["` + teacher + `"],"subject":"\u00c9l\u00e8ve absent \ud83e\udd12","body":"Bonjour,\n\tLéa est malade."}`},
		{"POST /api/v1/messages/{message}/read", webtest.AsRelative, 0, ``},
		{"POST /api/v1/messages/{message}/acknowledgement", webtest.AsRelative, 0, ``},
		{"POST /api/v1/homework", webtest.AsTeacher, 0, `{"group":"` + id(s.Class) + `","subject":"Mathématiques","given":"2006-03-14","due":"2006-03-21","instructions":"Exercices 5 à 8 page 53\nRelire le cours.","workload_minutes":45}`},
		{"PUT /api/v1/homework/{homework}", webtest.AsTeacher, 0, `{"due":"2006-03-17","instructions":"Exercices 1 à 6 page 52","workload_minutes":40}`},
		{"POST /api/v1/homework/{homework}/done", webtest.AsStudent, 0, ``},
		{"DELETE /api/v1/homework/{homework}", webtest.AsTeacher, 1, ``},
		{"POST /api/v1/rollcalls", webtest.AsTeacher, 0, `{"group":"` + id(s.Class) + `","date":"2006-03-07","slot":{"start":"08:00","end":"08:55"},"subject":"Mathématiques","absent":["` + id(s.Student2) + `"],"late":[{"student":"` + student + `","minutes":10}]}`},
		{"POST /api/v1/lessons/{lesson}/absences/{student}/reason", webtest.AsRelative, 0, `{"reason":"Rendez-vous médical"}`},
		{"POST /api/v1/lessons/{lesson}/absences/{student}/justification", webtest.AsCPE, 0, `{"accept":true,"reason_code":"MED","comment":"Certificat reçu"}`},
		{"POST /api/v1/lessons/{lesson}/absences/{student}/cancellation", webtest.AsCPE, 0, `{"reason":"Saisie en double"}`},
		{"POST /api/v1/groups/{group}/textbook/lessons", webtest.AsTeacher, 0, `{"date":"2006-03-14","slot":{"start":"08:00","end":"08:55"},"subject":"Mathématiques","content":"Fractions : addition.\r\nExercices en classe."}`},
		{"POST /api/v1/students/{student}/sanctions", webtest.AsHead, 0, `{"kind":"exclusion_temporaire","date":"2006-03-13","days":2,"reason":"Insolence répétée"}`},
		{"POST /api/v1/students/{student}/sanctions/{sanction}/annulment", webtest.AsHead, 0, `{"reason":"Erreur de saisie"}`},
		{"POST /api/v1/students/{student}/punishments", webtest.AsTeacher, 0, `{"kind":"devoir_supplementaire","date":"2006-03-14","group":"` + id(s.Class) + `","reason":"Travail non fait"}`},
		{"POST /api/v1/incidents", webtest.AsCPE, 0, `{"establishment":"` + s.UAI + `","occurred_at":"2006-03-13T10:15:00+01:00","place":"Cour","seriousness":"minor","description":"Bousculade.","protagonists":[{"account":"` + student + `","role":"author"}]}`},
		{"POST /api/v1/news", webtest.AsTeacher, 0, `{"establishment":"` + s.UAI + `","title":"Sortie","body":"Jeudi 16 mars, départ 8 h.","audience":["relative","student"]}`},
		{"PUT /api/v1/news/{article}", webtest.AsTeacher, 0, `{"title":"Portes ouvertes (modifié)","body":"Samedi 18 mars, 9 h – 12 h."}`},
		{"DELETE /api/v1/news/{article}", webtest.AsTeacher, 1, ``},
		{"POST /api/v1/resources", webtest.AsCPE, 0, `{"establishment":"` + s.UAI + `","kind":"room","name":"Salle polyvalente","approval_required":false}`},
		{"POST /api/v1/resources/{resource}/bookings", webtest.AsTeacher, 0, `{"start":"2006-03-21T14:00:00+01:00","end":"2006-03-21T15:00:00+01:00","purpose":"Réunion parents-professeurs"}`},
		{"POST /api/v1/resources/{resource}/bookings/{booking}/approval", webtest.AsCPE, 0, ``},
		{"POST /api/v1/resources/{resource}/bookings/{booking}/refusal", webtest.AsCPE, 0, `{"reason":"Salle occupée"}`},
		{"POST /api/v1/resources/{resource}/bookings/{booking}/cancellation", webtest.AsTeacher, 0, `{"reason":"Réunion reportée"}`},
		{"POST /api/v1/establishments", webtest.AsAdmin, 0, `{"uai":"0130002B","name":"École Cézanne","kind":"ecole","departement":"13"}`},
		{"POST /api/v1/accounts", webtest.AsAdmin, 0, `{"establishment":"` + s.UAI + `","profile":"student","display_name":"Zoé Martin","external_id":"S-42"}`},
		{"PUT /api/v1/accounts/{account}", webtest.AsAdmin, 0, `{"establishment":"` + s.UAI + `","display_name":"M. Professeur"}`},
		{"POST /api/v1/accounts/{account}/activation", webtest.AsAdmin, 0, ``},
		{"POST /api/v1/accounts/{account}/closure", webtest.AsAdmin, 6, `{"reason":"Mutation"}`},
		{"PUT /api/v1/accounts/{account}/habilitations", webtest.AsAdmin, 3, `{"establishments":["` + s.UAI + `","` + s.OtherUAI + `"]}`},
		{"POST /api/v1/students/{student}/relatives", webtest.AsAdmin, 1, `{"relative":"` + relative + `","legal_guardian":false}`},
		{"DELETE /api/v1/students/{student}/relatives/{relative}", webtest.AsAdmin, 1, ``},
		{"POST /api/v1/groups", webtest.AsCPE, 0, `{"establishment":"` + s.UAI + `","kind":"teaching_group","name":"Chorale"}`},
		{"POST /api/v1/groups/{group}/members", webtest.AsAdmin, 0, `{"account":"` + id(s.Teacher2) + `","role":"teacher","subject":"Français"}`},
		{"DELETE /api/v1/groups/{group}/members/{account}/{role}", webtest.AsAdmin, 1, ``},
		{"POST /api/v1/groups/{group}/timetable", webtest.AsAdmin, 0, `{"weekday":4,"slot":{"start":"10:00","end":"10:55"},"subject":"Français","teacher":"` + id(s.Teacher2) + `","from":"2006-03-01","until":"2006-06-30"}`},
		{"DELETE /api/v1/groups/{group}/timetable/{entry}", webtest.AsAdmin, 1, ``},
	}
}

// hostileBodies are sent to a few routes: what a careless or malicious
// client sends.
var hostileBodies = []string{
	`null`, `[]`, `"x"`, `{}`, `{"subject":"\ud800","body":"x"}`, `{"subject":"a\u0000b","body":"x"}`, "{\"subject\":\"\xff\",\"body\":\"x\"}",
	`{"subject":"\uffff","body":"\ufffe"}`, `{"subject":"a","subject":"b","body":"x"}`, `{"Subject":"a","body":"x"}`,
	`{"subject":"a\u2028b","body":"c\u2029d"}`, `{"subject":"a\rb","body":"c\rd"}`,
	`{"to_accounts":["` + webtest.ID(webtest.AsRelative).String() + `"],"subject":"a\\u0000b","body":"\\\\u0000 \\ud800 \u00a0\u2028\r\n\t\uffff\ufffd\ud83d\ude00"}`,
	`{"group":"00000000-0000-0000-0000-000000000000","given":"0001-01-01","due":"9999-12-31","instructions":"x"}`,
	`{"given":"2026-02-30","due":"2006-03-16","instructions":"x"}`, `{"workload_minutes":9223372036854775808}`,
	`{"kind":"exclusion_temporaire","date":"2006-03-13","days":-1,"reason":"x"}`, `{"kind":"exclusion_temporaire","date":"2006-03-13","days":100000000000,"reason":"x"}`,
}

// readbacks check, for a command the API accepted, that the read models
// hold the texts it was accepted with. Keys are routes.
var readbacks = map[string]func(t *testing.T, w *world, body []byte, args map[string]string, res api.CommandResponse){
	"POST /api/v1/messages": readback(func(t *testing.T, w *world, c domain.SendMessage, _ map[string]string, res api.CommandResponse) {
		m, err := w.q.Message(context.Background(), res.ID)
		if err != nil {
			t.Fatalf("%s: message %s: %v", w.name, res.ID, err)
		}
		w.same(t, "the subject", m.Subject, c.Subject)
		w.same(t, "the body", m.Body, c.Body)
	}),
	"POST /api/v1/homework": readback(func(t *testing.T, w *world, c domain.AssignHomework, _ map[string]string, res api.CommandResponse) {
		h := w.mustHomework(t, c.Group, res.ID)
		w.same(t, "the instructions", h.Instructions, c.Instructions)
		// The subject is trimmed; a blank one is the teacher's.
		if subject := strings.TrimSpace(c.Subject); subject != "" {
			w.same(t, "the subject", h.Subject, subject)
		}
	}),
	"PUT /api/v1/homework/{homework}": readback(func(t *testing.T, w *world, c domain.AmendHomework, args map[string]string, _ api.CommandResponse) {
		h := w.mustHomework(t, w.school.Class, uuid.MustParse(args["homework"]))
		w.same(t, "the instructions", h.Instructions, c.Instructions)
	}),
	"POST /api/v1/rollcalls": readback(func(t *testing.T, w *world, c domain.RecordRollCall, _ map[string]string, res api.CommandResponse) {
		for _, st := range c.Absent {
			a := w.mustAbsence(t, st, c.LessonID())
			w.same(t, "the absence's subject", a.Subject, c.Subject)
		}
	}),
	"POST /api/v1/lessons/{lesson}/absences/{student}/reason": readback(func(t *testing.T, w *world, c domain.DeclareAbsenceReason, args map[string]string, _ api.CommandResponse) {
		a := w.mustAbsence(t, uuid.MustParse(args["student"]), uuid.MustParse(args["lesson"]))
		w.same(t, "the declared reason", a.DeclaredReason, c.Reason)
	}),
	"POST /api/v1/lessons/{lesson}/absences/{student}/justification": readback(func(t *testing.T, w *world, c domain.DecideJustification, args map[string]string, _ api.CommandResponse) {
		a := w.mustAbsence(t, uuid.MustParse(args["student"]), uuid.MustParse(args["lesson"]))
		w.same(t, "the reason code", a.DecisionReasonCode, c.ReasonCode)
		w.same(t, "the comment", a.DecisionComment, c.Comment)
	}),
	"POST /api/v1/lessons/{lesson}/absences/{student}/cancellation": readback(func(t *testing.T, w *world, c domain.CancelAbsence, args map[string]string, _ api.CommandResponse) {
		a := w.mustAbsence(t, uuid.MustParse(args["student"]), uuid.MustParse(args["lesson"]))
		w.same(t, "the cancellation's reason", a.CancelReason, c.Reason)
	}),
	"POST /api/v1/groups/{group}/textbook/lessons": readback(func(t *testing.T, w *world, c domain.RecordLessonContent, args map[string]string, _ api.CommandResponse) {
		tb, err := w.q.Textbook(context.Background(), uuid.MustParse(args["group"]), c.Date, c.Date)
		if err != nil {
			t.Fatalf("%s: textbook: %v", w.name, err)
		}
		i := slices.IndexFunc(tb.Lessons, func(l projections.LessonEntry) bool { return l.Slot == c.Slot })
		if i < 0 {
			t.Fatalf("%s: the textbook of %s has no lesson at %s", w.name, c.Date, c.Slot)
		}
		w.same(t, "the content", tb.Lessons[i].Content, c.Content)
	}),
	"POST /api/v1/students/{student}/sanctions": readback(func(t *testing.T, w *world, c domain.PronounceSanction, args map[string]string, res api.CommandResponse) {
		f := w.mustFile(t, uuid.MustParse(args["student"]))
		i := slices.IndexFunc(f.Sanctions, func(s projections.FileSanction) bool { return s.Sanction == res.ID })
		if i < 0 {
			t.Fatalf("%s: sanction %s is not on file", w.name, res.ID)
		}
		w.same(t, "the sanction's reason", f.Sanctions[i].Reason, c.Reason)
	}),
	"POST /api/v1/students/{student}/sanctions/{sanction}/annulment": readback(func(t *testing.T, w *world, c domain.AnnulSanction, args map[string]string, _ api.CommandResponse) {
		f := w.mustFile(t, uuid.MustParse(args["student"]))
		i := slices.IndexFunc(f.Sanctions, func(s projections.FileSanction) bool { return s.Sanction.String() == args["sanction"] })
		if i < 0 {
			t.Fatalf("%s: sanction %s is not on file", w.name, args["sanction"])
		}
		w.same(t, "the annulment's reason", f.Sanctions[i].AnnulReason, c.Reason)
	}),
	"POST /api/v1/students/{student}/punishments": readback(func(t *testing.T, w *world, c domain.GivePunishment, args map[string]string, res api.CommandResponse) {
		f := w.mustFile(t, uuid.MustParse(args["student"]))
		i := slices.IndexFunc(f.Punishments, func(p projections.FilePunishment) bool { return p.Punishment == res.ID })
		if i < 0 {
			t.Fatalf("%s: punishment %s is not on file", w.name, res.ID)
		}
		w.same(t, "the punishment's reason", f.Punishments[i].Reason, c.Reason)
	}),
	"POST /api/v1/incidents": readback(func(t *testing.T, w *world, c domain.ReportIncident, _ map[string]string, res api.CommandResponse) {
		for _, p := range c.Protagonists {
			f := w.mustFile(t, p.Account)
			i := slices.IndexFunc(f.Incidents, func(in projections.FileIncident) bool { return in.Incident == res.ID })
			if i < 0 {
				t.Fatalf("%s: incident %s is not on the file of %s", w.name, res.ID, p.Account)
			}
			w.same(t, "the incident's place", f.Incidents[i].Place, c.Place)
		}
	}),
	"POST /api/v1/news": readback(func(t *testing.T, w *world, c domain.PublishArticle, _ map[string]string, res api.CommandResponse) {
		profile := domain.ProfileTeacher
		if len(c.Audience) > 0 {
			profile = c.Audience[0]
		}
		now := w.school.Now
		if c.PublishAt.After(now) {
			now = c.PublishAt
		}
		w.mustArticle(t, c.Establishment, profile, now, res.ID, c.Title, c.Body)
	}),
	"PUT /api/v1/news/{article}": readback(func(t *testing.T, w *world, c domain.AmendArticle, args map[string]string, _ api.CommandResponse) {
		w.mustArticle(t, w.school.UAI, domain.ProfileTeacher, w.school.Now, uuid.MustParse(args["article"]), c.Title, c.Body)
	}),
	"POST /api/v1/resources": readback(func(t *testing.T, w *world, c domain.RegisterResource, _ map[string]string, res api.CommandResponse) {
		rs, err := w.q.Resources(context.Background(), c.Establishment)
		if err != nil {
			t.Fatalf("%s: resources: %v", w.name, err)
		}
		i := slices.IndexFunc(rs, func(r projections.ResourceEntry) bool { return r.Resource == res.ID })
		if i < 0 {
			t.Fatalf("%s: resource %s is not listed", w.name, res.ID)
		}
		w.same(t, "the resource's name", rs[i].Name, c.Name)
	}),
	"POST /api/v1/resources/{resource}/bookings": readback(func(t *testing.T, w *world, c domain.RequestBooking, _ map[string]string, res api.CommandResponse) {
		b, err := w.q.Booking(context.Background(), res.ID)
		if err != nil {
			t.Fatalf("%s: booking %s: %v", w.name, res.ID, err)
		}
		w.same(t, "the purpose", b.Purpose, c.Purpose)
	}),
	"POST /api/v1/establishments": readback(func(t *testing.T, w *world, c domain.RegisterEstablishment, _ map[string]string, _ api.CommandResponse) {
		e, err := w.q.Establishment(context.Background(), c.UAI)
		if err != nil {
			t.Fatalf("%s: establishment %s: %v", w.name, c.UAI, err)
		}
		w.same(t, "the establishment's name", e.Name, c.Name)
	}),
	"POST /api/v1/accounts": readback(func(t *testing.T, w *world, c domain.OpenAccount, _ map[string]string, res api.CommandResponse) {
		a := w.mustAccount(t, res.ID)
		w.same(t, "the display name", a.DisplayName, c.DisplayName)
		w.same(t, "the external id", a.ExternalID, c.ExternalID)
	}),
	"PUT /api/v1/accounts/{account}": readback(func(t *testing.T, w *world, c domain.UpdateAccount, args map[string]string, _ api.CommandResponse) {
		a := w.mustAccount(t, uuid.MustParse(args["account"]))
		w.same(t, "the display name", a.DisplayName, c.DisplayName)
	}),
	"POST /api/v1/groups": readback(func(t *testing.T, w *world, c domain.CreateGroup, _ map[string]string, res api.CommandResponse) {
		g, err := w.q.Group(context.Background(), res.ID)
		if err != nil {
			t.Fatalf("%s: group %s: %v", w.name, res.ID, err)
		}
		w.same(t, "the group's name", g.Name, c.Name)
	}),
}

// readback decodes the accepted body as the API did, into the command
// type C, for check.
func readback[C any](check func(t *testing.T, w *world, c C, args map[string]string, res api.CommandResponse)) func(*testing.T, *world, []byte, map[string]string, api.CommandResponse) {
	return func(t *testing.T, w *world, body []byte, args map[string]string, res api.CommandResponse) {
		t.Helper()
		var c C
		if err := jsonv2.Unmarshal(body, &c, jsonv2.RejectUnknownMembers(true)); err != nil {
			t.Fatalf("%s: the API accepted %q, which does not decode into %T: %v", w.name, body, c, err)
		}
		check(t, w, c, args, res)
	}
}

func (w *world) mustHomework(t *testing.T, group, homework uuid.UUID) projections.HomeworkEntry {
	t.Helper()
	page, err := w.q.Homework(context.Background(), []uuid.UUID{group}, domain.Date{}, domain.Date{}, projections.Page{})
	hs := page.Items
	if err != nil {
		t.Fatalf("%s: homework of %s: %v", w.name, group, err)
	}
	i := slices.IndexFunc(hs, func(h projections.HomeworkEntry) bool { return h.Homework == homework })
	if i < 0 {
		t.Fatalf("%s: homework %s is not in the textbook of %s", w.name, homework, group)
	}
	return hs[i]
}

func (w *world) mustFile(t *testing.T, student uuid.UUID) *projections.StudentFile {
	t.Helper()
	f, err := w.q.StudentFile(context.Background(), student, domain.Date{}, domain.Date{})
	if err != nil {
		t.Fatalf("%s: file of %s: %v", w.name, student, err)
	}
	return f
}

func (w *world) mustAbsence(t *testing.T, student, lesson uuid.UUID) projections.FileAbsence {
	t.Helper()
	f := w.mustFile(t, student)
	i := slices.IndexFunc(f.Absences, func(a projections.FileAbsence) bool { return a.Lesson == lesson })
	if i < 0 {
		t.Fatalf("%s: the absence of %s from lesson %s is not on file", w.name, student, lesson)
	}
	return f.Absences[i]
}

func (w *world) mustAccount(t *testing.T, id uuid.UUID) *projections.AccountEntry {
	t.Helper()
	a, err := w.q.Account(context.Background(), id)
	if err != nil {
		t.Fatalf("%s: account %s: %v", w.name, id, err)
	}
	return a
}

func (w *world) mustArticle(t *testing.T, uai string, profile domain.Profile, now time.Time, article uuid.UUID, title, body string) {
	t.Helper()
	page, err := w.q.News(context.Background(), uai, profile, now, projections.Page{})
	news := page.Items
	if err != nil {
		t.Fatalf("%s: news of %s: %v", w.name, uai, err)
	}
	i := slices.IndexFunc(news, func(a projections.NewsArticle) bool { return a.Article == article })
	if i < 0 {
		t.Fatalf("%s: article %s is not in the news of %s for %s at %s", w.name, article, uai, profile, now)
	}
	w.same(t, "the title", news[i].Title, title)
	w.same(t, "the body", news[i].Body, body)
}

// FuzzAPICommand sends a body to a command route of the API picked by
// index from its route table (through the OpenAPI document it generates),
// as a profile picked by index, with path parameters picked among the
// school's entities, on SQLite and on Postgres. A refusal is a 4xx
// problem; an accepted command is applied by every projection and, for the
// commands that carry texts, read back from the read models as it was
// accepted; both stores answer alike.
func FuzzAPICommand(f *testing.F) {
	worlds := MustWorlds(f)
	routes := worlds[0].MustRoutes(f, true)
	index := map[string]uint8{}
	for i, rt := range routes {
		index[rt.String()] = uint8(i)
	}
	profiles := webtest.Profiles
	profileIndex := func(p string) uint8 { return uint8(slices.Index(profiles, p)) }
	for _, s := range commandSeeds(worlds[0].school) {
		i, ok := index[s.route]
		if !ok {
			f.Fatalf("seed for %s: no such command route", s.route)
		}
		f.Add(i, profileIndex(s.profile), s.pick, []byte(s.body))
	}
	for _, b := range hostileBodies {
		for _, rt := range []string{"POST /api/v1/messages", "POST /api/v1/homework", "POST /api/v1/students/{student}/sanctions"} {
			f.Add(index[rt], profileIndex(webtest.AsHead), uint8(0), []byte(b))
		}
	}
	for key := range readbacks {
		if _, ok := index[key]; !ok {
			f.Fatalf("read-back check for %s: no such command route", key)
		}
	}
	f.Fuzz(func(t *testing.T, ri, pi, pick uint8, body []byte) {
		mustCommand(t, worlds, routes[int(ri)%len(routes)], profiles[int(pi)%len(profiles)], pick, body)
	})
}

// mustCommand sends body to a command route as profile, on each world,
// with the path parameters pick chooses: a refusal is a 4xx problem; an
// accepted command is applied by every projection and, where the route
// has a read-back check, read back as accepted; the worlds answer alike.
func mustCommand(t *testing.T, worlds []*world, rt route, profile string, pick uint8, body []byte) {
	t.Helper()
	account := profile
	if profile == webtest.AsAnonymous {
		account = ""
	}
	outcomes := make([]outcome, len(worlds))
	for i, w := range worlds {
		path, args := w.fill(t, rt, pick)
		what := fmt.Sprintf("%s as %s with %q", path, profile, body)
		r := w.do(t, rt.method, path, account, "application/json", body)
		outcomes[i] = w.mustProblem(t, rt.method+" "+what, r)
		if r.status >= 300 {
			continue
		}
		var res api.CommandResponse
		if err := json.Unmarshal(r.body, &res); err != nil {
			t.Fatalf("%s: %s %s: %d %s: %v", w.name, rt.method, what, r.status, r.body, err)
		}
		w.MustCaughtUp(t)
		if check := readbacks[rt.String()]; check != nil && rt.body {
			check(t, w, body, args, res)
		}
	}
	mustAgree(t, rt.String(), worlds, outcomes)
}

// textFields are the fields of command bodies that hold free text.
var textFields = map[string]bool{
	"subject": true, "body": true, "instructions": true, "reason": true, "content": true, "comment": true, "title": true,
	"name": true, "display_name": true, "purpose": true, "place": true, "description": true,
}

// FuzzAPIText puts one fuzzed text in every text field of a real-looking
// body of a command whose texts are read back (see readbacks), encoded as
// JSON, and sends it as FuzzAPICommand does: mutations of the text, not of
// the JSON around it, so that every input reaches the commands' input
// validation and, when accepted, the stores and the read models.
func FuzzAPIText(f *testing.F) {
	worlds := MustWorlds(f)
	routes := map[string]route{}
	for _, rt := range worlds[0].MustRoutes(f, true) {
		routes[rt.String()] = rt
	}
	var seeds []commandSeed
	for _, s := range commandSeeds(worlds[0].school) {
		if readbacks[s.route] != nil && s.body != "" {
			seeds = append(seeds, s)
		}
	}
	texts := []string{
		"Sortie au musée", "", " ", "\\u0000", "\x00", "\xff", "\uffff", "\ufeffBOM", "\u0085", "\u00a0", "a\u2028b", "a\r\nb", "a\rb",
		"\t", "😀", "e\u0301", "<script>alert(1)</script>", "' OR 1=1 --", strings.Repeat("é", 200), strings.Repeat("x", 1001),
	}
	// Each route gets a few of the texts: every text is sent, and the seeds
	// stay quick to run with the tests.
	for i := range seeds {
		for j := range 3 {
			f.Add(uint8(i), texts[(3*i+j)%len(texts)])
		}
	}
	f.Fuzz(func(t *testing.T, si uint8, text string) {
		sd := seeds[int(si)%len(seeds)]
		var body map[string]any
		if err := json.Unmarshal([]byte(sd.body), &body); err != nil {
			t.Fatalf("seed body of %s: %v", sd.route, err)
		}
		for k, v := range body {
			if _, ok := v.(string); ok && textFields[k] {
				body[k] = text
			}
		}
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		mustCommand(t, worlds, routes[sd.route], sd.profile, sd.pick, raw)
	})
}
