package commands_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

var (
	monday = domain.MustDate("2006-03-13")
	slot1  = domain.Slot{Start: "08:00", End: "08:55"}
)

func rollCall(w *world, absent []uuid.UUID, late ...domain.Late) domain.RecordRollCall {
	return domain.RecordRollCall{Group: w.Class, Date: monday, Slot: slot1, Subject: "Mathématiques", Absent: absent, Late: late}
}

func TestRecordRollCall(t *testing.T) {
	w := newWorld(t)
	cmd := rollCall(w, []uuid.UUID{w.Student}, domain.Late{Student: w.Student2, Minutes: 10})
	lesson := cmd.LessonID()
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.RecordRollCall(w.ctx, as(w.Teacher), cmd) },
		domain.RollCallCompleted{Lesson: lesson, Group: w.Class, Date: monday, Slot: slot1, Subject: "Mathématiques", Teacher: w.Teacher, Absent: 1, Late: 1},
		domain.AbsenceRecorded{Absence: domain.AbsenceID(lesson, w.Student), Lesson: lesson, Student: w.Student, Group: w.Class, Date: monday, Slot: slot1, Subject: "Mathématiques"},
		domain.LatenessRecorded{Lesson: lesson, Student: w.Student2, Group: w.Class, Date: monday, Slot: slot1, Subject: "Mathématiques", Minutes: 10},
	)
	md := recs[0].Metadata
	if md.Actor != w.Teacher || md.Profile != domain.ProfileTeacher || md.Establishment != w.UAI ||
		md.Command != commands.CmdRecordRollCall || md.CorrelationID == uuid.Nil || md.CausationID != md.CorrelationID || !md.Time.Equal(w.now) {
		t.Fatalf("metadata: %+v", md)
	}
	for _, r := range recs {
		if r.Stream != domain.LessonStream(lesson) || r.Metadata != md {
			t.Fatalf("record %+v: not in the lesson stream with the same metadata", r)
		}
	}
}

func TestRecordRollCallRules(t *testing.T) {
	w := newWorld(t)
	if _, err := w.h.RecordRollCall(w.ctx, as(w.Teacher), rollCall(w, []uuid.UUID{w.Student})); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.RecordRollCall
		want  error
	}{
		{"teacher of another group", w.OtherTeacher, rollCall(w, nil), domain.ErrNotTeacherOfGroup},
		{"personnel of another establishment", w.OtherHead, rollCall(w, nil), domain.ErrWrongEstablishment},
		{"student", w.Student, rollCall(w, nil), domain.ErrNoSchoolLifeActs},
		{"relative", w.Relative, rollCall(w, nil), domain.ErrNoSchoolLifeActs},
		{"guest", w.Guest, rollCall(w, nil), domain.ErrNoSchoolLifeActs},
		{"inspector", w.Inspector, rollCall(w, nil), domain.ErrForbidden},
		{"evaluator", w.Evaluator, rollCall(w, nil), domain.ErrForbidden},
		{"unknown account", uuid.New(), rollCall(w, nil), domain.ErrForbidden},
		{"absence recorded twice", w.Teacher, rollCall(w, []uuid.UUID{w.Student}), domain.ErrAbsenceAlreadyRecorded},
		{"unknown student", w.Teacher, rollCall(w, []uuid.UUID{uuid.New()}), domain.ErrStudentNotInGroup},
		{"student of another establishment", w.Teacher, rollCall(w, []uuid.UUID{w.OtherStudent}), domain.ErrStudentNotInGroup},
		{"absent and late", w.Teacher, rollCall(w, []uuid.UUID{w.Student2}, domain.Late{Student: w.Student2, Minutes: 5}), domain.ErrAbsentAndLate},
		{"late while recorded absent", w.Teacher, rollCall(w, nil, domain.Late{Student: w.Student, Minutes: 5}), domain.ErrAbsentAndLate},
		{"negative lateness", w.Teacher, rollCall(w, nil, domain.Late{Student: w.Student2, Minutes: -5}), domain.ErrInvalid},
		{"unknown group", w.Teacher, domain.RecordRollCall{Group: uuid.New(), Date: monday, Slot: slot1}, domain.ErrUnknownGroup},
		{"missing date", w.Teacher, domain.RecordRollCall{Group: w.Class, Slot: slot1}, domain.ErrInvalid},
		{"bad slot", w.Teacher, domain.RecordRollCall{Group: w.Class, Date: monday, Slot: domain.Slot{Start: "9h", End: "10h"}}, domain.ErrInvalid},
		{"slot backwards", w.Teacher, domain.RecordRollCall{Group: w.Class, Date: monday, Slot: domain.Slot{Start: "10:00", End: "09:00"}}, domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.RecordRollCall(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

func TestRollCallOfAClassOf35IsOneAppend(t *testing.T) {
	w := newWorld(t)
	var absent []uuid.UUID
	for range 35 {
		s := uuid.New()
		w.given(domain.AccountStream(s), domain.AccountOpened{Account: s, Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "élève"})
		w.given(domain.GroupStream(w.Class), domain.MemberJoined{Group: w.Class, Account: s, Role: domain.RoleStudent})
		absent = append(absent, s)
	}
	res, err := w.h.RecordRollCall(w.ctx, as(w.Teacher), rollCall(w, absent))
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 36 || len(res.Events) != 36 {
		t.Fatalf("one roll call of 35 absent: version %d, %d events", res.Version, len(res.Events))
	}
}

func TestIdempotentRollCall(t *testing.T) {
	w := newWorld(t)
	req := as(w.Teacher)
	req.IdempotencyKey = "rollcall-6A-monday-8h"
	cmd := rollCall(w, []uuid.UUID{w.Student})
	first, err := w.h.RecordRollCall(w.ctx, req, cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		again, err := w.h.RecordRollCall(w.ctx, req, cmd)
		if err == nil && (!again.Replayed || again.Version != first.Version || again.Position != first.Position || len(again.Events) != len(first.Events) || again.CorrelationID != first.CorrelationID) {
			t.Errorf("replay: got %+v, want the original %+v", again, slot1)
		}
		return again, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("replayed roll call: err %v, %d events appended", err, len(got))
	}
	// The same key for another command is refused, and appends nothing.
	w.thenError(func() (commands.Result, error) {
		return w.h.RecordLessonContent(w.ctx, req, domain.RecordLessonContent{Group: w.Class, Date: monday, Slot: slot1, Subject: "Maths", Content: "Fractions"})
	}, domain.ErrIdempotencyKey)
}

// recordAbsence records w.Student absent and returns the lesson.
func recordAbsence(t *testing.T, w *world) uuid.UUID {
	t.Helper()
	cmd := rollCall(w, []uuid.UUID{w.Student})
	if _, err := w.h.RecordRollCall(w.ctx, as(w.Teacher), cmd); err != nil {
		t.Fatal(err)
	}
	return cmd.LessonID()
}

func TestAbsenceLifecycle(t *testing.T) {
	w := newWorld(t)
	lesson := recordAbsence(t, w)
	absence := domain.AbsenceID(lesson, w.Student)
	w.thenEvents(func() (commands.Result, error) {
		return w.h.DeclareAbsenceReason(w.ctx, as(w.Relative), domain.DeclareAbsenceReason{Lesson: lesson, Student: w.Student, Reason: "Fièvre"})
	}, domain.AbsenceReasonDeclared{Absence: absence, Lesson: lesson, Student: w.Student, Relative: w.Relative, Reason: "Fièvre"})
	w.thenEvents(func() (commands.Result, error) {
		return w.h.DecideJustification(w.ctx, as(w.CPE), domain.DecideJustification{Lesson: lesson, Student: w.Student, Accept: true, ReasonCode: "maladie"})
	}, domain.JustificationAccepted{Absence: absence, Lesson: lesson, Student: w.Student, ReasonCode: "maladie"})
	w.thenError(func() (commands.Result, error) {
		return w.h.DecideJustification(w.ctx, as(w.CPE), domain.DecideJustification{Lesson: lesson, Student: w.Student, Accept: false, ReasonCode: "convenance"})
	}, domain.ErrAbsenceDecided)
}

func TestAbsenceRules(t *testing.T) {
	w := newWorld(t)
	lesson := recordAbsence(t, w)
	decide := func(actor uuid.UUID, student uuid.UUID, accept bool, code string) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.DecideJustification(w.ctx, as(actor), domain.DecideJustification{Lesson: lesson, Student: student, Accept: accept, ReasonCode: code})
		}
	}
	declare := func(actor, student uuid.UUID) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.DeclareAbsenceReason(w.ctx, as(actor), domain.DeclareAbsenceReason{Lesson: lesson, Student: student, Reason: "rdv"})
		}
	}
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"relative of another child declares", declare(w.OtherRelative, w.Student), domain.ErrNotRelativeOfStudent},
		{"teacher declares", declare(w.Teacher, w.Student), domain.ErrNotRelativeOfStudent},
		{"declare for a present student", declare(w.Relative, w.Student2), domain.ErrNotRelativeOfStudent},
		{"justification without absence", decide(w.CPE, w.Student2, true, "maladie"), domain.ErrAbsenceNotFound},
		{"justification of an unknown lesson", func() (commands.Result, error) {
			return w.h.DecideJustification(w.ctx, as(w.CPE), domain.DecideJustification{Lesson: uuid.New(), Student: w.Student, Accept: true, ReasonCode: "maladie"})
		}, domain.ErrAbsenceNotFound},
		{"teacher decides", decide(w.Teacher, w.Student, true, "maladie"), domain.ErrForbidden},
		{"staff of another establishment", decide(w.OtherHead, w.Student, true, "maladie"), domain.ErrWrongEstablishment},
		{"unknown reason", decide(w.CPE, w.Student, true, "vacances"), domain.ErrUnknownReason},
		{"accept with a non-justifying reason", decide(w.CPE, w.Student, true, "convenance"), domain.ErrReasonDoesNotJustify},
		{"refuse with a justifying reason", decide(w.CPE, w.Student, false, "maladie"), domain.ErrReasonJustifies},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
}

func TestCancelledAbsenceCannotBeJustified(t *testing.T) {
	w := newWorld(t)
	lesson := recordAbsence(t, w)
	w.thenError(func() (commands.Result, error) {
		return w.h.CancelAbsence(w.ctx, as(w.Teacher), domain.CancelAbsence{Lesson: lesson, Student: w.Student})
	}, domain.ErrInvalid)
	w.thenEvents(func() (commands.Result, error) {
		return w.h.CancelAbsence(w.ctx, as(w.Teacher), domain.CancelAbsence{Lesson: lesson, Student: w.Student, Reason: "présente, erreur de saisie"})
	}, domain.AbsenceCancelled{Absence: domain.AbsenceID(lesson, w.Student), Lesson: lesson, Student: w.Student, Reason: "présente, erreur de saisie"})
	w.thenError(func() (commands.Result, error) {
		return w.h.DecideJustification(w.ctx, as(w.CPE), domain.DecideJustification{Lesson: lesson, Student: w.Student, Accept: true, ReasonCode: "maladie"})
	}, domain.ErrAbsenceCancelled)
	w.thenError(func() (commands.Result, error) {
		return w.h.DeclareAbsenceReason(w.ctx, as(w.Relative), domain.DeclareAbsenceReason{Lesson: lesson, Student: w.Student, Reason: "malade"})
	}, domain.ErrAbsenceCancelled)
	w.thenError(func() (commands.Result, error) {
		return w.h.CancelAbsence(w.ctx, as(w.CPE), domain.CancelAbsence{Lesson: lesson, Student: w.Student, Reason: "again"})
	}, domain.ErrAbsenceCancelled)
}

func TestLessonContent(t *testing.T) {
	w := newWorld(t)
	cmd := domain.RecordLessonContent{Group: w.Class, Date: monday, Slot: slot1, Subject: "Mathématiques", Content: "Fractions, exercices 1 à 4"}
	w.thenEvents(func() (commands.Result, error) { return w.h.RecordLessonContent(w.ctx, as(w.Teacher), cmd) },
		domain.LessonContentRecorded{Lesson: domain.LessonID(w.Class, monday, slot1), Group: w.Class, Date: monday, Slot: slot1, Subject: "Mathématiques", Content: cmd.Content})
	w.thenError(func() (commands.Result, error) { return w.h.RecordLessonContent(w.ctx, as(w.OtherTeacher), cmd) }, domain.ErrNotTeacherOfGroup)
	w.thenError(func() (commands.Result, error) { return w.h.RecordLessonContent(w.ctx, as(w.Student), cmd) }, domain.ErrForbidden)
	cmd.Content = " "
	w.thenError(func() (commands.Result, error) { return w.h.RecordLessonContent(w.ctx, as(w.Teacher), cmd) }, domain.ErrInvalid)
}
