package domain

import (
	"slices"
	"testing"

	"github.com/google/uuid"
)

func TestSubjectsKnowsEveryType(t *testing.T) {
	reg := NewRegistry()
	for _, typ := range reg.Types() {
		e, err := reg.Decode(typ, []byte(`{}`))
		if err != nil {
			t.Fatalf("decode an empty %s: %v", typ, err)
		}
		if _, ok := subjects(e); !ok {
			t.Errorf("Subjects has no case for %s (%T): say what it concerns", typ, e)
		}
	}
}

func TestSubjects(t *testing.T) {
	var (
		student, relative, teacher = uuid.New(), uuid.New(), uuid.New()
		group, group2, resource    = uuid.New(), uuid.New(), uuid.New()
		victim, witness            = uuid.New(), uuid.New()
	)
	tests := []struct {
		name string
		e    Event
		want []uuid.UUID
	}{
		{"absence: the student and the group", AbsenceRecorded{Student: student, Group: group, Lesson: uuid.New()}, []uuid.UUID{student, group}},
		{"reason declared: the student and the relative", AbsenceReasonDeclared{Student: student, Relative: relative}, []uuid.UUID{student, relative}},
		{"incident: every protagonist", IncidentReported{Protagonists: []Protagonist{
			{Account: student, Role: ProtagonistAuthor}, {Account: victim, Role: ProtagonistVictim},
			{Account: witness, Role: ProtagonistWitness}, {Account: student, Role: ProtagonistWitness},
		}}, []uuid.UUID{student, victim, witness}},
		{"member joined: the group and the member", MemberJoined{Group: group, Account: teacher, Role: RoleTeacher}, []uuid.UUID{group, teacher}},
		{"message: sender, accounts, groups", MessageSent{From: teacher, ToAccounts: []uuid.UUID{relative, student}, ToGroups: []uuid.UUID{group, group2}}, []uuid.UUID{teacher, relative, student, group, group2}},
		{"homework: the group", HomeworkAssigned{Homework: uuid.New(), Group: group}, []uuid.UUID{group}},
		{"booking: the resource and who asked", BookingRequested{Booking: uuid.New(), Resource: resource, By: teacher}, []uuid.UUID{resource, teacher}},
		{"booking approved: the resource", BookingApproved{Booking: uuid.New(), Resource: resource}, []uuid.UUID{resource}},
		{"punishment without group", PunishmentGiven{Student: student}, []uuid.UUID{student}},
		{"roll call: group and teacher, not the lesson", RollCallCompleted{Lesson: uuid.New(), Group: group, Teacher: teacher}, []uuid.UUID{group, teacher}},
		{"establishment: none", EstablishmentRegistered{UAI: "0750001A"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Subjects(tt.e); !slices.Equal(got, tt.want) {
				t.Fatalf("Subjects = %v, want %v", got, tt.want)
			}
		})
	}
}
