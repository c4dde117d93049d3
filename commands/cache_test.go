package commands_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// TestCacheSeesOtherWriters: handlers keep decoded streams, yet a command
// decides on what another process appended since: a second set of
// handlers on the same store (another node) adds a student to the class
// after the first one cached the class, and the first one's roll call
// must know her; then the other node closes the teacher's account, and
// the first one must refuse his next command.
func TestCacheSeesOtherWriters(t *testing.T) {
	w := newWorld(t)
	other, err := commands.New(commands.Config{Store: w.store, Registry: w.reg})
	if err != nil {
		t.Fatal(err)
	}
	teacher := commands.Request{Actor: w.Teacher}
	day := domain.MustDate("2006-03-14")
	rollCall := func(slot string, absent ...uuid.UUID) error {
		_, err := w.h.RecordRollCall(w.ctx, teacher, domain.RecordRollCall{
			Group: w.Class, Date: day, Slot: domain.Slot{Start: slot, End: slot[:2] + ":55"}, Subject: "Mathématiques",
			Absent: absent, Late: []domain.Late{},
		})
		return err
	}
	if err := rollCall("08:00", w.Student); err != nil {
		t.Fatal(err)
	}
	newcomer := uuid.New()
	sys := commands.Request{System: true}
	if _, err := other.OpenAccount(w.ctx, sys, domain.OpenAccount{Account: newcomer, Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "Zoé"}); err != nil {
		t.Fatal(err)
	}
	if err := rollCall("09:00", newcomer); !errors.Is(err, domain.ErrStudentNotInGroup) {
		t.Fatalf("absent before joining the class: %v, want %v", err, domain.ErrStudentNotInGroup)
	}
	if _, err := other.JoinGroup(w.ctx, sys, domain.JoinGroup{Group: w.Class, Account: newcomer, Role: domain.RoleStudent}); err != nil {
		t.Fatal(err)
	}
	if err := rollCall("10:00", newcomer); err != nil {
		t.Fatalf("the newcomer, joined through the other handlers: %v", err)
	}
	if _, err := other.CloseAccount(w.ctx, sys, domain.CloseAccount{Account: w.Teacher, Reason: "mutation"}); err != nil {
		t.Fatal(err)
	}
	if err := rollCall("11:00"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("roll call by a teacher closed through the other handlers: %v, want forbidden", err)
	}
}
