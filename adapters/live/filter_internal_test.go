package live

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestEveryTypeHasAClass: a new event type must be classified before it
// can reach anyone live.
func TestEveryTypeHasAClass(t *testing.T) {
	reg := domain.NewRegistry()
	for _, typ := range reg.Types() {
		if _, ok := classes[typ]; !ok {
			t.Errorf("%s has no class in filter.go", typ)
		}
	}
	for typ := range classes {
		if !reg.Known(typ) {
			t.Errorf("filter.go classifies %s, which is not registered", typ)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	id := func(s string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s)) }
	var (
		classA, classB    = id("6A"), id("6B")
		alice, bob, carol = id("alice"), id("bob"), id("carol")
		parentA, teacherA = id("parent of alice"), id("teacher of 6A")
		staffA, someone   = id("cpe"), id("someone")
		uai, other        = "0750001A", "0750002B"
		parentOfAlice     = &filter{scope: scopeFamily, self: parentA, students: []uuid.UUID{alice}, classes: []uuid.UUID{classA}}
		aliceHerself      = &filter{scope: scopeFamily, self: alice, member: []uuid.UUID{classA}, students: []uuid.UUID{alice}, classes: []uuid.UUID{classA}}
		teacherOfA        = &filter{scope: scopeTeacher, self: teacherA, member: []uuid.UUID{classA}, taught: []uuid.UUID{classA}}
		staffOfA          = &filter{scope: scopeStaff, self: staffA, establishment: uai}
		viewers           = map[string]*filter{"parent": parentOfAlice, "alice": aliceHerself, "teacher": teacherOfA, "staff": staffOfA}
		allSee            = map[string]bool{"parent": true, "alice": true, "teacher": true, "staff": true}
		ev                = func(e domain.Event, est string) *Event {
			return &Event{Type: e.EventType(), Establishment: est, Subjects: domain.Subjects(e)}
		}
	)
	tests := []struct {
		name string
		ev   *Event
		sees map[string]bool
	}{
		{"alice's absence", ev(domain.AbsenceRecorded{Student: alice, Group: classA}, uai), allSee},
		{"bob's absence in alice's class", ev(domain.AbsenceRecorded{Student: bob, Group: classA}, uai), map[string]bool{"teacher": true, "staff": true}},
		{"carol's absence in 6B", ev(domain.AbsenceRecorded{Student: carol, Group: classB}, uai), map[string]bool{"staff": true}},
		{"an absence elsewhere", ev(domain.AbsenceRecorded{Student: carol, Group: classB}, other), nil},
		{"alice's sanction", ev(domain.SanctionPronounced{Student: alice}, uai), map[string]bool{"parent": true, "alice": true, "staff": true}},
		{"reason declared for alice", ev(domain.AbsenceReasonDeclared{Student: alice, Relative: parentA}, uai), map[string]bool{"parent": true, "alice": true, "staff": true}},
		{"incident with alice", ev(domain.IncidentReported{Protagonists: []domain.Protagonist{{Account: carol}, {Account: alice}}}, uai), map[string]bool{"parent": true, "alice": true, "staff": true}},
		{"homework in 6A", ev(domain.HomeworkAssigned{Group: classA}, uai), allSee},
		{"lesson content in 6B", ev(domain.LessonContentRecorded{Group: classB}, uai), map[string]bool{"staff": true}},
		{"roll call of 6A", ev(domain.RollCallCompleted{Group: classA, Teacher: teacherA}, uai), map[string]bool{"teacher": true, "staff": true}},
		{"bob joins 6A", ev(domain.MemberJoined{Group: classA, Account: bob}, uai), map[string]bool{"teacher": true, "staff": true}},
		{"message to the parent", ev(domain.MessageSent{From: teacherA, ToAccounts: []uuid.UUID{parentA}}, uai), map[string]bool{"parent": true, "teacher": true}},
		{"message to 6A", ev(domain.MessageSent{From: someone, ToGroups: []uuid.UUID{classA}}, uai), map[string]bool{"alice": true, "teacher": true}},
		{"message between others", ev(domain.MessageSent{From: someone, ToAccounts: []uuid.UUID{bob}}, uai), nil},
		{"the parent reads", ev(domain.MessageRead{Reader: parentA}, uai), map[string]bool{"parent": true}},
		{"bob reads", ev(domain.MessageRead{Reader: bob}, uai), nil},
		{"alice signs in", ev(domain.UserConnected{Account: alice}, uai), nil},
		{"alice's parent linked", ev(domain.RelativeLinked{Student: alice, Relative: parentA}, uai), map[string]bool{"staff": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, f := range viewers {
				if got := f.match(tt.ev, classes[tt.ev.Type]); got != tt.sees[name] {
					t.Errorf("%s sees it: %v, want %v", name, got, tt.sees[name])
				}
			}
		})
	}
}

func TestRedactIncident(t *testing.T) {
	alice, carol := uuid.New(), uuid.New()
	f := &filter{scope: scopeFamily, students: []uuid.UUID{alice}}
	data, _ := json.Marshal(domain.IncidentReported{
		Incident: uuid.New(), Place: "cour", Description: "Carol pushed Alice",
		Protagonists: []domain.Protagonist{{Account: carol, Role: domain.ProtagonistAuthor}, {Account: alice, Role: domain.ProtagonistVictim}},
	})
	if !f.redacts(incidentType) || f.redacts(domain.AbsenceRecorded{}.EventType()) || (&filter{scope: scopeStaff}).redacts(incidentType) {
		t.Fatal("redacts: only incidents, only for families")
	}
	out, err := f.redactIncident(data)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["description"]; ok {
		t.Fatalf("description kept: %s", out)
	}
	if ps := got["protagonists"].([]any); len(ps) != 1 || ps[0].(map[string]any)["account"] != alice.String() || got["place"] != "cour" {
		t.Fatalf("redacted incident %s", out)
	}
}
