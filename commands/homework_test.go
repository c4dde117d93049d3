package commands_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

var (
	homeworkGiven = domain.MustDate("2006-03-14")
	homeworkDue   = domain.MustDate("2006-03-16")
)

// homeworkFor is a valid assignment of homework id to w.Class.
func homeworkFor(w *world, id uuid.UUID) domain.AssignHomework {
	return domain.AssignHomework{
		Homework: id, Group: w.Class, Subject: "Mathématiques", Given: homeworkGiven, Due: homeworkDue,
		Instructions: "Exercices 1 à 4 page 52", WorkloadMinutes: 30,
	}
}

// assignHomework assigns homework to w.Class as w.Teacher and returns its id.
func assignHomework(t *testing.T, w *world) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if _, err := w.h.AssignHomework(w.ctx, as(w.Teacher), homeworkFor(w, id)); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAssignHomework(t *testing.T) {
	w := newWorld(t)
	id := uuid.New()
	cmd := homeworkFor(w, id)
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.AssignHomework(w.ctx, as(w.Teacher), cmd) },
		domain.HomeworkAssigned{Homework: id, Group: w.Class, Subject: "Mathématiques", Given: homeworkGiven, Due: homeworkDue,
			Instructions: cmd.Instructions, WorkloadMinutes: 30})
	md := recs[0].Metadata
	if recs[0].Stream != domain.HomeworkStream(id) || md.Actor != w.Teacher || md.Profile != domain.ProfileTeacher ||
		md.Establishment != w.UAI || md.Command != commands.CmdAssignHomework {
		t.Fatalf("record %+v", recs[0])
	}
}

func TestAssignHomeworkDefaults(t *testing.T) {
	w := newWorld(t)
	// No id: the handler makes one; no subject: the teacher's in the group.
	// Due on the lesson's day and the workload bounds are allowed.
	for _, minutes := range []int{0, domain.MaxWorkloadMinutes} {
		cmd := domain.AssignHomework{Group: w.Class, Given: homeworkGiven, Due: homeworkGiven, Instructions: "Relire le cours", WorkloadMinutes: minutes}
		var res commands.Result
		got, _, err := w.when(func() (commands.Result, error) {
			var err error
			res, err = w.h.AssignHomework(w.ctx, as(w.Teacher), cmd)
			return res, err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []domain.Event{domain.HomeworkAssigned{Homework: res.ID, Group: w.Class, Subject: "Mathématiques", Given: homeworkGiven, Due: homeworkGiven,
			Instructions: "Relire le cours", WorkloadMinutes: minutes}}
		if res.ID == uuid.Nil || res.Stream != domain.HomeworkStream(res.ID) || len(got) != 1 || got[0] != want[0] {
			t.Fatalf("result %+v, events %#v, want %#v", res, got, want)
		}
	}
}

func TestAssignHomeworkByPersonnelWhoTeaches(t *testing.T) {
	w := newWorld(t)
	w.given(domain.GroupStream(w.Class), domain.MemberJoined{Group: w.Class, Account: w.Head, Role: domain.RoleHeadTeacher, Subject: "Histoire"})
	id := uuid.New()
	cmd := homeworkFor(w, id)
	cmd.Subject = ""
	w.thenEvents(func() (commands.Result, error) { return w.h.AssignHomework(w.ctx, as(w.Head), cmd) },
		domain.HomeworkAssigned{Homework: id, Group: w.Class, Subject: "Histoire", Given: homeworkGiven, Due: homeworkDue, Instructions: cmd.Instructions, WorkloadMinutes: 30})
}

func TestAssignHomeworkRules(t *testing.T) {
	w := newWorld(t)
	existing := assignHomework(t, w)
	with := func(change func(*domain.AssignHomework)) domain.AssignHomework {
		cmd := homeworkFor(w, uuid.New())
		change(&cmd)
		return cmd
	}
	valid := homeworkFor(w, uuid.New())
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.AssignHomework
		want  error
	}{
		{"teacher of another group", w.OtherTeacher, valid, domain.ErrNotTeacherOfGroup},
		{"personnel who does not teach the group", w.CPE, valid, domain.ErrNotTeacherOfGroup},
		{"personnel of another establishment", w.OtherHead, valid, domain.ErrWrongEstablishment},
		{"student", w.Student, valid, domain.ErrNoSchoolLifeActs},
		{"relative", w.Relative, valid, domain.ErrNoSchoolLifeActs},
		{"guest", w.Guest, valid, domain.ErrNoSchoolLifeActs},
		{"admin", w.Admin, valid, domain.ErrForbidden},
		{"inspector", w.Inspector, valid, domain.ErrForbidden},
		{"evaluator", w.Evaluator, valid, domain.ErrForbidden},
		{"unknown account", uuid.New(), valid, domain.ErrForbidden},
		{"unknown group", w.Teacher, with(func(c *domain.AssignHomework) { c.Group = uuid.New() }), domain.ErrUnknownGroup},
		{"group of another establishment", w.Teacher, with(func(c *domain.AssignHomework) { c.Group = w.OtherClass }), domain.ErrNotTeacherOfGroup},
		{"no lesson date", w.Teacher, with(func(c *domain.AssignHomework) { c.Given = domain.Date{} }), domain.ErrInvalid},
		{"no due date", w.Teacher, with(func(c *domain.AssignHomework) { c.Due = domain.Date{} }), domain.ErrInvalid},
		{"due before the lesson", w.Teacher, with(func(c *domain.AssignHomework) { c.Due = homeworkGiven.AddDays(-1) }), domain.ErrDueBeforeLesson},
		{"blank instructions", w.Teacher, with(func(c *domain.AssignHomework) { c.Instructions = " \n" }), domain.ErrInvalid},
		{"instructions too long", w.Teacher, with(func(c *domain.AssignHomework) {
			c.Instructions = strings.Repeat("é", domain.MaxInstructionsRunes+1)
		}), domain.ErrInvalid},
		{"negative workload", w.Teacher, with(func(c *domain.AssignHomework) { c.WorkloadMinutes = -1 }), domain.ErrInvalid},
		{"workload over ten hours", w.Teacher, with(func(c *domain.AssignHomework) { c.WorkloadMinutes = domain.MaxWorkloadMinutes + 1 }), domain.ErrInvalid},
		{"id of an existing homework", w.Teacher, homeworkFor(w, existing), domain.ErrHomeworkExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.AssignHomework(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

func TestHomeworkLifecycle(t *testing.T) {
	w := newWorld(t)
	id := assignHomework(t, w)
	later := homeworkDue.AddDays(2)
	amend := domain.AmendHomework{Homework: id, Due: later, Instructions: "Exercices 1 à 6 page 52", WorkloadMinutes: 45}
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.AmendHomework(w.ctx, as(w.Teacher), amend) },
		domain.HomeworkAmended{Homework: id, Group: w.Class, Due: later, Instructions: amend.Instructions, WorkloadMinutes: 45})
	if md := recs[0].Metadata; md.Command != commands.CmdAmendHomework || md.Establishment != w.UAI {
		t.Fatalf("metadata %+v", md)
	}
	// The same amendment again changes nothing and appends nothing.
	thenAppendsNothing(w, func() (commands.Result, error) { return w.h.AmendHomework(w.ctx, as(w.Teacher), amend) })
	recs = w.thenEvents(func() (commands.Result, error) {
		return w.h.MarkHomeworkDone(w.ctx, as(w.Student), domain.MarkHomeworkDone{Homework: id})
	}, domain.HomeworkDone{Homework: id, Group: w.Class, Student: w.Student})
	if md := recs[0].Metadata; md.Actor != w.Student || md.Profile != domain.ProfileStudent || md.Command != commands.CmdMarkHomeworkDone || md.Establishment != w.UAI {
		t.Fatalf("metadata %+v", md)
	}
	w.thenEvents(func() (commands.Result, error) {
		return w.h.MarkHomeworkDone(w.ctx, as(w.Student2), domain.MarkHomeworkDone{Homework: id})
	}, domain.HomeworkDone{Homework: id, Group: w.Class, Student: w.Student2})
	recs = w.thenEvents(func() (commands.Result, error) {
		return w.h.WithdrawHomework(w.ctx, as(w.Teacher), domain.WithdrawHomework{Homework: id})
	}, domain.HomeworkWithdrawn{Homework: id, Group: w.Class})
	if md := recs[0].Metadata; md.Command != commands.CmdWithdrawHomework || md.Establishment != w.UAI {
		t.Fatalf("metadata %+v", md)
	}
}

func TestWithdrawnHomework(t *testing.T) {
	w := newWorld(t)
	id := assignHomework(t, w)
	if _, err := w.h.WithdrawHomework(w.ctx, as(w.Teacher), domain.WithdrawHomework{Homework: id}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		run  func() (commands.Result, error)
	}{
		{"amended", func() (commands.Result, error) {
			return w.h.AmendHomework(w.ctx, as(w.Teacher), domain.AmendHomework{Homework: id, Due: homeworkDue, Instructions: "x", WorkloadMinutes: 10})
		}},
		{"withdrawn twice", func() (commands.Result, error) {
			return w.h.WithdrawHomework(w.ctx, as(w.Teacher), domain.WithdrawHomework{Homework: id})
		}},
		{"marked done", func() (commands.Result, error) {
			return w.h.MarkHomeworkDone(w.ctx, as(w.Student), domain.MarkHomeworkDone{Homework: id})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, domain.ErrHomeworkWithdrawn)
		})
	}
}

func TestAmendHomeworkRules(t *testing.T) {
	w := newWorld(t)
	id := assignHomework(t, w)
	amend := func(actor uuid.UUID, cmd domain.AmendHomework) func() (commands.Result, error) {
		return func() (commands.Result, error) { return w.h.AmendHomework(w.ctx, as(actor), cmd) }
	}
	valid := domain.AmendHomework{Homework: id, Due: homeworkDue, Instructions: "Exercice 5", WorkloadMinutes: 20}
	with := func(change func(*domain.AmendHomework)) domain.AmendHomework {
		cmd := valid
		change(&cmd)
		return cmd
	}
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"unknown homework", amend(w.Teacher, with(func(c *domain.AmendHomework) { c.Homework = uuid.New() })), domain.ErrHomeworkNotFound},
		{"teacher of another group", amend(w.OtherTeacher, valid), domain.ErrNotTeacherOfGroup},
		{"personnel of another establishment", amend(w.OtherHead, valid), domain.ErrWrongEstablishment},
		{"student", amend(w.Student, valid), domain.ErrNoSchoolLifeActs},
		{"relative", amend(w.Relative, valid), domain.ErrNoSchoolLifeActs},
		{"inspector", amend(w.Inspector, valid), domain.ErrForbidden},
		{"no due date", amend(w.Teacher, with(func(c *domain.AmendHomework) { c.Due = domain.Date{} })), domain.ErrInvalid},
		{"due before the lesson", amend(w.Teacher, with(func(c *domain.AmendHomework) { c.Due = homeworkGiven.AddDays(-1) })), domain.ErrDueBeforeLesson},
		{"blank instructions", amend(w.Teacher, with(func(c *domain.AmendHomework) { c.Instructions = "" })), domain.ErrInvalid},
		{"workload over ten hours", amend(w.Teacher, with(func(c *domain.AmendHomework) { c.WorkloadMinutes = 601 })), domain.ErrInvalid},
		{"withdraw an unknown homework", func() (commands.Result, error) {
			return w.h.WithdrawHomework(w.ctx, as(w.Teacher), domain.WithdrawHomework{Homework: uuid.New()})
		}, domain.ErrHomeworkNotFound},
		{"withdrawn by a teacher of another group", func() (commands.Result, error) {
			return w.h.WithdrawHomework(w.ctx, as(w.OtherTeacher), domain.WithdrawHomework{Homework: id})
		}, domain.ErrNotTeacherOfGroup},
		{"withdrawn by a student", func() (commands.Result, error) {
			return w.h.WithdrawHomework(w.ctx, as(w.Student), domain.WithdrawHomework{Homework: id})
		}, domain.ErrNoSchoolLifeActs},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
}

func TestMarkHomeworkDoneRules(t *testing.T) {
	w := newWorld(t)
	id := assignHomework(t, w)
	if _, err := w.h.MarkHomeworkDone(w.ctx, as(w.Student), domain.MarkHomeworkDone{Homework: id}); err != nil {
		t.Fatal(err)
	}
	// A student who left the class no longer marks its homework.
	left := uuid.New()
	w.given(domain.AccountStream(left), domain.AccountOpened{Account: left, Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "Parti"})
	w.given(domain.GroupStream(w.Class),
		domain.MemberJoined{Group: w.Class, Account: left, Role: domain.RoleStudent},
		domain.MemberLeft{Group: w.Class, Account: left, Role: domain.RoleStudent})
	cases := []struct {
		name     string
		actor    uuid.UUID
		homework uuid.UUID
		want     error
	}{
		{"twice by the same student", w.Student, id, domain.ErrHomeworkAlreadyDone},
		{"unknown homework", w.Student2, uuid.New(), domain.ErrHomeworkNotFound},
		{"student of another group", w.OtherStudent, id, domain.ErrNotStudentOfGroup},
		{"student who left the group", left, id, domain.ErrNotStudentOfGroup},
		{"the student's relative", w.Relative, id, domain.ErrNotStudentOfGroup},
		{"the teacher", w.Teacher, id, domain.ErrNotStudentOfGroup},
		{"evaluator", w.Evaluator, id, domain.ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) {
				return w.h.MarkHomeworkDone(w.ctx, as(tc.actor), domain.MarkHomeworkDone{Homework: tc.homework})
			}, tc.want)
		})
	}
}

func TestIdempotentAssignHomework(t *testing.T) {
	w := newWorld(t)
	req := as(w.Teacher)
	req.IdempotencyKey = "homework-6A-tuesday"
	cmd := homeworkFor(w, uuid.Nil)
	first, err := w.h.AssignHomework(w.ctx, req, cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		again, err := w.h.AssignHomework(w.ctx, req, cmd)
		if err == nil && (!again.Replayed || again.ID != first.ID || again.Version != first.Version || again.Position != first.Position) {
			t.Errorf("replay: got %+v, want the original %+v", again, first)
		}
		return again, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("replayed assignment: err %v, %d events appended", err, len(got))
	}
}
