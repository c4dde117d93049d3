package timetableimport

import (
	"fmt"

	"github.com/schoollife/ledger/domain"
)

func newTimetable(f Format) *Timetable {
	return &Timetable{
		Format: f, Teachers: map[string]Teacher{}, Subjects: map[string]Subject{},
		Classes: map[string]string{}, Groups: map[string]string{}, Rooms: map[string]string{},
	}
}

// checkText refuses what the ledger would refuse (domain/text.go): names
// and codes are checked here, at the boundary, so that a bad value is
// reported with its line rather than refused when applied.
func checkText(kind domain.TextKind, field, s string) error {
	if err := kind.Check(field, s); err != nil {
		return fmt.Errorf("%s %q: %w", field, s, err)
	}
	return nil
}

// warn records something worth saying about line.
func (t *Timetable) warn(line int, format string, args ...any) {
	t.Warnings = append(t.Warnings, Warning{Line: line, Message: fmt.Sprintf(format, args...)})
}

// addSubject records a subject; a bad or duplicate one is left out with a
// warning (courses naming it are then rejected as naming no subject).
func (t *Timetable) addSubject(line int, key string, s Subject) {
	if key == "" {
		t.warn(line, "subject without an id left out")
		return
	}
	if err := firstErr(checkText(domain.TextCode, "subject code", s.Code), checkText(domain.TextTitle, "subject label", s.Label)); err != nil {
		t.warn(line, "subject %s left out: %v", key, err)
		return
	}
	if old, dup := t.Subjects[key]; dup && old != s {
		t.warn(line, "subject %s given twice: the first is kept", key)
		return
	}
	t.Subjects[key] = s
}

func (t *Timetable) addTeacher(line int, p Teacher) {
	if p.Key == "" {
		t.warn(line, "teacher without an id left out")
		return
	}
	if err := firstErr(checkText(domain.TextCode, "teacher id", p.ID), checkText(domain.TextName, "last name", p.LastName),
		checkText(domain.TextName, "first name", p.FirstName)); err != nil {
		t.warn(line, "teacher %s left out: %v", p.Key, err)
		return
	}
	if old, dup := t.Teachers[p.Key]; dup && old != p {
		t.warn(line, "teacher %s given twice: the first is kept", p.Key)
		return
	}
	t.Teachers[p.Key] = p
}

func (t *Timetable) addName(line int, m map[string]string, what, key, name string) {
	if key == "" || name == "" {
		t.warn(line, "%s without an id or a name left out", what)
		return
	}
	if err := checkText(domain.TextName, what+" name", name); err != nil {
		t.warn(line, "%s %s left out: %v", what, key, err)
		return
	}
	if old, dup := m[key]; dup && old != name {
		t.warn(line, "%s %s given twice: the first is kept", what, key)
		return
	}
	m[key] = name
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
