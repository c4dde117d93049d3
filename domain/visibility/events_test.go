package visibility_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
)

// TestEveryTypeHasAKind: the class table derives from the registry; a new
// event type must be classified before it can reach anyone.
func TestEveryTypeHasAKind(t *testing.T) {
	reg := domain.NewRegistry()
	for _, typ := range reg.Types() {
		if _, ok := visibility.KindOf(typ); !ok {
			t.Errorf("%s has no kind in visibility.KindOf", typ)
		}
	}
	for _, typ := range []string{"", "absence.recorded.v0", "nothing.v1"} {
		if _, ok := visibility.KindOf(typ); ok {
			t.Errorf("KindOf(%q) knows an unregistered type", typ)
		}
	}
}

// TestKindOf: the class and notification of each registered type, by
// area; the exceptions are named.
func TestKindOf(t *testing.T) {
	reg := domain.NewRegistry()
	byArea := map[domain.Area]visibility.Class{
		domain.AreaDirectory:       visibility.ClassOther,
		domain.AreaDirectoryImport: visibility.ClassOther,
		domain.AreaSchoolLife:      visibility.ClassStudentAct,
		domain.AreaTextbook:        visibility.ClassGroupWork,
		domain.AreaMessaging:       visibility.ClassMail,
		domain.AreaBooking:         visibility.ClassOther,
		domain.AreaNews:            visibility.ClassOther,
		domain.AreaPrivacy:         visibility.ClassHidden,
		domain.AreaServices:        visibility.ClassOther,
		domain.AreaNotifications:   visibility.ClassHidden,
	}
	exceptions := map[string]visibility.Class{
		domain.UserConnected{}.EventType(): visibility.ClassHidden,
		// An access to a service counts, like a sign-in.
		domain.ServiceAccessed{}.EventType(): visibility.ClassHidden,
		// The consultation trail is read by the head on its own page.
		domain.ConsultationsRecorded{}.EventType(): visibility.ClassHidden,
		domain.RollCallCompleted{}.EventType():     visibility.ClassOther,
		domain.HomeworkDone{}.EventType():          visibility.ClassStudentAct,
		// Alerts are the office's work list, read on its own pages.
		domain.AlertRaised{}.EventType():      visibility.ClassHidden,
		domain.AlertHandled{}.EventType():     visibility.ClassHidden,
		domain.AlertSettingsSet{}.EventType(): visibility.ClassHidden,
	}
	notified := []string{
		"absence.recorded.v1", "lateness.recorded.v1", "absence.cancelled.v1",
		"absence.justification_accepted.v1", "absence.justification_refused.v1",
		"punishment.given.v1", "sanction.pronounced.v1", "sanction.annulled.v1", "sanction.sursis_revoked.v1",
		"incident.reported.v1", "homework.assigned.v1", "homework.amended.v1", "homework.withdrawn.v1", "message.sent.v1",
		"booking.approved.v1", "booking.refused.v1", "booking.cancelled.v1",
	}
	for _, typ := range reg.Types() {
		area, _ := reg.Area(typ)
		want, ok := exceptions[typ]
		if !ok {
			want = byArea[area]
		}
		k, _ := visibility.KindOf(typ)
		if k.Class != want {
			t.Errorf("%s (%s): class %d, want %d", typ, area, k.Class, want)
		}
		if k.Notified != slices.Contains(notified, typ) {
			t.Errorf("%s: notified %v", typ, k.Notified)
		}
	}
}

// TestFamilyFeed: a family's feed shows the acts about a child, their
// homework, their messages; not their own declarations, homework done,
// lesson contents, reads, nor anything of the school's running.
func TestFamilyFeed(t *testing.T) {
	got := visibility.FamilyFeed(domain.NewRegistry().Types())
	want := []string{
		"absence.cancelled.v1", "absence.justification_accepted.v1", "absence.justification_refused.v1",
		"absence.recorded.v1", "homework.amended.v1", "homework.assigned.v1", "homework.withdrawn.v1",
		"incident.reported.v1", "lateness.recorded.v1", "message.sent.v1", "punishment.given.v1",
		"sanction.annulled.v1", "sanction.pronounced.v1", "sanction.sursis_revoked.v1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("FamilyFeed = %v, want %v", got, want)
	}
}

// fill returns e with every id field set to a fresh id, and one element in
// every slice of ids or of structs holding ids.
func fill(e domain.Event) domain.Event {
	v := reflect.New(reflect.TypeOf(e)).Elem()
	v.Set(reflect.ValueOf(e))
	fillValue(v)
	return v.Interface().(domain.Event)
}

func fillValue(v reflect.Value) {
	idType := reflect.TypeOf(uuid.UUID{})
	switch {
	case v.Type() == idType:
		v.Set(reflect.ValueOf(uuid.New()))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillValue(v.Field(i))
			}
		}
	case v.Kind() == reflect.Slice && (v.Type().Elem() == idType || v.Type().Elem().Kind() == reflect.Struct):
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0))
		v.Set(s)
	}
}

// TestConcernOf: exactly the notified types concern someone.
func TestConcernOf(t *testing.T) {
	reg := domain.NewRegistry()
	for _, typ := range reg.Types() {
		e, err := reg.Decode(typ, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		c := visibility.ConcernOf(fill(e))
		someone := len(c.Students) > 0 || len(c.Groups) > 0 || c.Message || len(c.Bookings) > 0
		if k, _ := visibility.KindOf(typ); k.Notified != someone {
			t.Errorf("%s: notified %v, concerns %+v", typ, k.Notified, c)
		}
	}
	victim, author, booking := uuid.New(), uuid.New(), uuid.New()
	for _, tt := range []struct {
		name string
		e    domain.Event
		want visibility.Concern
	}{
		{"absence: the student", domain.AbsenceRecorded{Student: alice, Group: classA}, visibility.Concern{Students: []uuid.UUID{alice}}},
		{"incident: every protagonist", domain.IncidentReported{Protagonists: []domain.Protagonist{{Account: author}, {Account: victim}}},
			visibility.Concern{Students: []uuid.UUID{author, victim}}},
		{"homework: the group's students", domain.HomeworkAssigned{Group: classA}, visibility.Concern{Groups: []uuid.UUID{classA}}},
		{"message: its recipients", domain.MessageSent{From: teacherA, ToGroups: []uuid.UUID{classA}}, visibility.Concern{Message: true}},
		{"booking refused: its requester", domain.BookingRefused{Booking: booking}, visibility.Concern{Bookings: []uuid.UUID{booking}}},
		{"reason declared: nobody", domain.AbsenceReasonDeclared{Student: alice, Relative: parent}, visibility.Concern{}},
		{"homework done: nobody", domain.HomeworkDone{Student: alice, Group: classA}, visibility.Concern{}},
		{"a member joins: nobody", domain.MemberJoined{Group: classA, Account: bob}, visibility.Concern{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := visibility.ConcernOf(tt.e); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ConcernOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// reachOf returns the reach of a viewer of the tables (a relative's with
// their child added).
func reachOf(t *testing.T, name string) (*visibility.Reach, error) {
	t.Helper()
	vs := viewers()
	v := vs[name]
	r, err := visibility.NewReach(&v)
	if err != nil {
		return nil, err
	}
	for _, c := range visibility.ChildrenToAdd(&v) {
		child := vs["alice"]
		if c != alice {
			t.Fatalf("unknown child %s", c)
		}
		r.AddChild(&child)
	}
	return r, nil
}

// TestNewReach: who receives nothing live.
func TestNewReach(t *testing.T) {
	nothing := []string{"inspector", "inspectorOther", "evaluator", "admin", "globalAdmin", "guest"}
	for name := range viewers() {
		_, err := reachOf(t, name)
		if got, want := errors.Is(err, visibility.ErrNothingLive), slices.Contains(nothing, name); got != want {
			t.Errorf("%s receives nothing live: %v (%v)", name, got, err)
		}
	}
	closed := viewers()["alice"]
	closed.Closed = true
	if _, err := visibility.NewReach(&closed); !errors.Is(err, visibility.ErrNothingLive) {
		t.Errorf("a closed account receives: %v", err)
	}
	homeless := visibility.Viewer{Actor: domain.Actor{Account: uuid.New(), Profile: domain.ProfilePersonnel}}
	if _, err := visibility.NewReach(&homeless); !errors.Is(err, visibility.ErrNothingLive) {
		t.Errorf("personnel of no establishment receives: %v", err)
	}
	parentReach, _ := reachOf(t, "parent")
	if !slices.Equal(parentReach.Students, []uuid.UUID{alice}) || !slices.Equal(parentReach.Classes, []uuid.UUID{classA}) {
		t.Errorf("the parent's reach %+v", parentReach)
	}
	if keys := parentReach.Keys(); !slices.Equal(keys, []uuid.UUID{parent, alice, classA}) {
		t.Errorf("the parent's keys %v", keys)
	}
}

// TestReceives: viewer kinds × events.
func TestReceives(t *testing.T) {
	live := []string{"alice", "carol", "parent", "teacherA", "teacherB", "cpe", "cpeOther"}
	for _, tt := range []struct {
		name string
		e    domain.Event
		uai  string
		sees []string
	}{
		{"alice's absence", domain.AbsenceRecorded{Student: alice, Group: classA}, uai, []string{"alice", "parent", "teacherA", "cpe"}},
		{"bob's absence in alice's class", domain.AbsenceRecorded{Student: bob, Group: classA}, uai, []string{"teacherA", "cpe"}},
		{"carol's absence in 6B", domain.AbsenceRecorded{Student: carol, Group: classB}, uai, []string{"carol", "teacherB", "cpe"}},
		{"an absence elsewhere", domain.AbsenceRecorded{Student: id("dave"), Group: id("5C")}, otherUAI, []string{"cpeOther"}},
		{"alice's sanction", domain.SanctionPronounced{Student: alice}, uai, []string{"alice", "parent", "cpe"}},
		{"reason declared for alice", domain.AbsenceReasonDeclared{Student: alice, Relative: parent}, uai, []string{"alice", "parent", "cpe"}},
		{"incident with alice", domain.IncidentReported{Protagonists: []domain.Protagonist{{Account: carol}, {Account: alice}}}, uai, []string{"alice", "carol", "parent", "cpe"}},
		{"homework in 6A", domain.HomeworkAssigned{Group: classA}, uai, []string{"alice", "parent", "teacherA", "cpe"}},
		{"alice's homework done", domain.HomeworkDone{Student: alice, Group: classA}, uai, []string{"alice", "parent", "teacherA", "cpe"}},
		{"lesson content in 6B", domain.LessonContentRecorded{Group: classB}, uai, []string{"carol", "teacherB", "cpe"}},
		{"roll call of 6A", domain.RollCallCompleted{Group: classA, Teacher: teacherA}, uai, []string{"teacherA", "cpe"}},
		{"bob joins 6A", domain.MemberJoined{Group: classA, Account: bob}, uai, []string{"teacherA", "cpe"}},
		{"a booking by teacherB", domain.BookingRequested{Resource: id("room"), By: teacherB}, uai, []string{"teacherB", "cpe"}},
		{"an article", domain.ArticlePublished{Author: cpe}, uai, []string{"cpe"}},
		{"message to the parent", domain.MessageSent{From: teacherA, ToAccounts: []uuid.UUID{parent}}, uai, []string{"parent", "teacherA"}},
		{"message to 6A", domain.MessageSent{From: cpeOther, ToGroups: []uuid.UUID{classA}}, uai, []string{"alice", "teacherA", "cpeOther"}},
		{"message between others", domain.MessageSent{From: bob, ToAccounts: []uuid.UUID{id("dave")}}, uai, nil},
		{"the parent reads", domain.MessageRead{Reader: parent}, uai, []string{"parent"}},
		{"alice signs in", domain.UserConnected{Account: alice}, uai, nil},
		{"alice's parent linked", domain.RelativeLinked{Student: alice, Relative: parent}, uai, []string{"cpe"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, _ := visibility.KindOf(tt.e.EventType())
			subjects := domain.Subjects(tt.e)
			var got []string
			for _, name := range live {
				r, err := reachOf(t, name)
				if err != nil {
					t.Fatal(err)
				}
				if r.Receives(k.Class, tt.uai, subjects) {
					got = append(got, name)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.sees))
			if !slices.Equal(got, want) {
				t.Fatalf("received by %v, want %v", got, want)
			}
		})
	}
}

// TestRedactIncident: a family sees of an incident neither its
// description nor the other protagonists; nobody else sees it redacted.
func TestRedactIncident(t *testing.T) {
	incident := domain.IncidentReported{
		Incident: uuid.New(), Place: "cour", Description: "Carol pushed Alice",
		Protagonists: []domain.Protagonist{{Account: carol, Role: domain.ProtagonistAuthor}, {Account: alice, Role: domain.ProtagonistVictim}},
	}
	for _, name := range []string{"alice", "carol", "parent", "teacherA", "cpe"} {
		r, err := reachOf(t, name)
		if err != nil {
			t.Fatal(err)
		}
		family := r.Scope == visibility.ScopeFamily
		if r.Redacts(incident.EventType()) != family || r.Redacts(domain.AbsenceRecorded{}.EventType()) {
			t.Errorf("%s: redacts incidents %v, absences %v", name, r.Redacts(incident.EventType()), r.Redacts(domain.AbsenceRecorded{}.EventType()))
		}
	}
	got := visibility.RedactIncident(incident, []uuid.UUID{alice})
	if got.Description != "" || got.Place != "cour" || len(got.Protagonists) != 1 || got.Protagonists[0].Account != alice {
		t.Errorf("redacted %+v", got)
	}
	if len(incident.Protagonists) != 2 || incident.Protagonists[0].Account != carol {
		t.Errorf("the original was changed: %+v", incident.Protagonists)
	}
}
