package projections

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

func TestSubjectsKnowsEveryType(t *testing.T) {
	reg := domain.NewRegistry()
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
		e    domain.Event
		want []uuid.UUID
	}{
		{"absence: the student and the group", domain.AbsenceRecorded{Student: student, Group: group, Lesson: uuid.New()}, []uuid.UUID{student, group}},
		{"reason declared: the student and the relative", domain.AbsenceReasonDeclared{Student: student, Relative: relative}, []uuid.UUID{student, relative}},
		{"incident: every protagonist", domain.IncidentReported{Protagonists: []domain.Protagonist{
			{Account: student, Role: domain.ProtagonistAuthor}, {Account: victim, Role: domain.ProtagonistVictim},
			{Account: witness, Role: domain.ProtagonistWitness}, {Account: student, Role: domain.ProtagonistWitness},
		}}, []uuid.UUID{student, victim, witness}},
		{"member joined: the group and the member", domain.MemberJoined{Group: group, Account: teacher, Role: domain.RoleTeacher}, []uuid.UUID{group, teacher}},
		{"message: sender, accounts, groups", domain.MessageSent{From: teacher, ToAccounts: []uuid.UUID{relative, student}, ToGroups: []uuid.UUID{group, group2}}, []uuid.UUID{teacher, relative, student, group, group2}},
		{"homework: the group", domain.HomeworkAssigned{Homework: uuid.New(), Group: group}, []uuid.UUID{group}},
		{"booking: the resource and who asked", domain.BookingRequested{Booking: uuid.New(), Resource: resource, By: teacher}, []uuid.UUID{resource, teacher}},
		{"booking approved: the resource", domain.BookingApproved{Booking: uuid.New(), Resource: resource}, []uuid.UUID{resource}},
		{"punishment without group", domain.PunishmentGiven{Student: student}, []uuid.UUID{student}},
		{"roll call: group and teacher, not the lesson", domain.RollCallCompleted{Lesson: uuid.New(), Group: group, Teacher: teacher}, []uuid.UUID{group, teacher}},
		{"establishment: none", domain.EstablishmentRegistered{UAI: "0750001A"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Subjects(tt.e); !slices.Equal(got, tt.want) {
				t.Fatalf("Subjects = %v, want %v", got, tt.want)
			}
		})
	}
}
