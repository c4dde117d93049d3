package commands_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

func TestRegisterEstablishment(t *testing.T) {
	w := newWorld(t)
	cmd := domain.RegisterEstablishment{UAI: "0041234X", Name: "Collège Alpes", Kind: domain.KindCollege, Departement: "04"}
	w.thenEvents(func() (commands.Result, error) { return w.h.RegisterEstablishment(w.ctx, system(), cmd) },
		domain.EstablishmentRegistered{UAI: "0041234X", Name: "Collège Alpes", Kind: domain.KindCollege, Departement: "04", Reasons: domain.DefaultReasons()})
	cases := []struct {
		name string
		req  commands.Request
		cmd  domain.RegisterEstablishment
		want error
	}{
		{"twice", system(), cmd, domain.ErrEstablishmentExists},
		{"by a head", as(w.Head), domain.RegisterEstablishment{UAI: "0041235Y", Name: "X", Kind: domain.KindLycee}, domain.ErrForbidden},
		{"bad UAI", system(), domain.RegisterEstablishment{UAI: "13", Name: "X", Kind: domain.KindLycee}, domain.ErrInvalid},
		{"no name", system(), domain.RegisterEstablishment{UAI: "0041235Y", Kind: domain.KindLycee}, domain.ErrInvalid},
		{"bad kind", system(), domain.RegisterEstablishment{UAI: "0041235Y", Name: "X", Kind: "université"}, domain.ErrInvalid},
		{"duplicate reason codes", system(), domain.RegisterEstablishment{UAI: "0041235Y", Name: "X", Kind: domain.KindLycee,
			Reasons: []domain.JustificationReason{{Code: "a"}, {Code: "a"}}}, domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.RegisterEstablishment(w.ctx, tc.req, tc.cmd) }, tc.want)
		})
	}
}

func TestOpenAccount(t *testing.T) {
	w := newWorld(t)
	id := uuid.New()
	cmd := domain.OpenAccount{Account: id, Establishment: w.UAI, Profile: domain.ProfileStudent, ExternalID: "1234", DisplayName: "Zoé"}
	w.thenEvents(func() (commands.Result, error) { return w.h.OpenAccount(w.ctx, as(w.Admin), cmd) },
		domain.AccountOpened{Account: id, Establishment: w.UAI, Profile: domain.ProfileStudent, ExternalID: "1234", DisplayName: "Zoé"})
	cases := []struct {
		name string
		req  commands.Request
		cmd  domain.OpenAccount
		want error
	}{
		{"twice", system(), cmd, domain.ErrAccountExists},
		{"by a teacher", as(w.Teacher), domain.OpenAccount{Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "X"}, domain.ErrForbidden},
		{"by the inspector", as(w.Inspector), domain.OpenAccount{Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "X"}, domain.ErrForbidden},
		{"unknown establishment", system(), domain.OpenAccount{Establishment: "0999999Z", Profile: domain.ProfileStudent, DisplayName: "X"}, domain.ErrUnknownEstablishment},
		{"no establishment for a student", system(), domain.OpenAccount{Profile: domain.ProfileStudent, DisplayName: "X"}, domain.ErrInvalid},
		{"unknown profile", system(), domain.OpenAccount{Establishment: w.UAI, Profile: "parent", DisplayName: "X"}, domain.ErrInvalid},
		{"function for a teacher", system(), domain.OpenAccount{Establishment: w.UAI, Profile: domain.ProfileTeacher, Function: domain.FunctionHead, DisplayName: "X"}, domain.ErrInvalid},
		{"no name", system(), domain.OpenAccount{Establishment: w.UAI, Profile: domain.ProfileStudent}, domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.OpenAccount(w.ctx, tc.req, tc.cmd) }, tc.want)
		})
	}
}

func TestAccountLifecycle(t *testing.T) {
	w := newWorld(t)
	w.thenEvents(func() (commands.Result, error) {
		return w.h.ActivateAccount(w.ctx, as(w.Student), domain.ActivateAccount{Account: w.Student})
	},
		domain.AccountActivated{Account: w.Student})
	w.thenError(func() (commands.Result, error) {
		return w.h.ActivateAccount(w.ctx, as(w.Student), domain.ActivateAccount{Account: w.Student})
	}, domain.ErrAlreadyActivated)
	w.thenError(func() (commands.Result, error) {
		return w.h.ActivateAccount(w.ctx, as(w.Student), domain.ActivateAccount{Account: w.Student2})
	}, domain.ErrForbidden)
	w.thenEvents(func() (commands.Result, error) {
		return w.h.UpdateAccount(w.ctx, system(), domain.UpdateAccount{Account: w.Student2, Establishment: w.UAI, DisplayName: "Hugo B."})
	}, domain.AccountUpdated{Account: w.Student2, Establishment: w.UAI, DisplayName: "Hugo B."})
	w.thenEvents(func() (commands.Result, error) {
		return w.h.UpdateAccount(w.ctx, system(), domain.UpdateAccount{Account: w.Student2, Establishment: w.UAI, DisplayName: "Hugo B."})
	}) // no change, no event
	w.thenEvents(func() (commands.Result, error) {
		return w.h.CloseAccount(w.ctx, system(), domain.CloseAccount{Account: w.Student2, Reason: "départ"})
	},
		domain.AccountClosed{Account: w.Student2, Reason: "départ"})
	w.thenError(func() (commands.Result, error) {
		return w.h.CloseAccount(w.ctx, system(), domain.CloseAccount{Account: w.Student2, Reason: ""})
	}, domain.ErrAccountClosed)
	w.thenError(func() (commands.Result, error) {
		return w.h.CloseAccount(w.ctx, system(), domain.CloseAccount{Account: uuid.New(), Reason: ""})
	}, domain.ErrUnknownAccount)
	// A closed account issues no command.
	w.thenError(func() (commands.Result, error) {
		return w.h.RecordConnection(w.ctx, as(w.Student2), domain.RecordConnection{Method: domain.SignInPassword})
	}, domain.ErrForbidden)
}

func TestRelativeLinks(t *testing.T) {
	w := newWorld(t)
	w.thenEvents(func() (commands.Result, error) {
		return w.h.LinkRelative(w.ctx, system(), domain.LinkRelative{Student: w.Student2, Relative: w.OtherRelative, LegalGuardian: true})
	}, domain.RelativeLinked{Student: w.Student2, Relative: w.OtherRelative, LegalGuardian: true})
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"twice", func() (commands.Result, error) {
			return w.h.LinkRelative(w.ctx, system(), domain.LinkRelative{Student: w.Student2, Relative: w.OtherRelative, LegalGuardian: true})
		}, domain.ErrAlreadyLinked},
		{"to a non-student", func() (commands.Result, error) {
			return w.h.LinkRelative(w.ctx, system(), domain.LinkRelative{Student: w.Teacher, Relative: w.OtherRelative})
		}, domain.ErrNotAStudent},
		{"a non-relative", func() (commands.Result, error) {
			return w.h.LinkRelative(w.ctx, system(), domain.LinkRelative{Student: w.Student2, Relative: w.Teacher})
		}, domain.ErrNotARelative},
		{"an unknown relative", func() (commands.Result, error) {
			return w.h.LinkRelative(w.ctx, system(), domain.LinkRelative{Student: w.Student2, Relative: uuid.New()})
		}, domain.ErrUnknownAccount},
		{"by a relative", func() (commands.Result, error) {
			return w.h.LinkRelative(w.ctx, as(w.Relative), domain.LinkRelative{Student: w.Student2, Relative: w.Relative})
		}, domain.ErrForbidden},
		{"unlink a stranger", func() (commands.Result, error) {
			return w.h.UnlinkRelative(w.ctx, system(), domain.UnlinkRelative{Student: w.Student, Relative: w.OtherRelative})
		}, domain.ErrNotLinked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
	w.t = t
	w.thenEvents(func() (commands.Result, error) {
		return w.h.UnlinkRelative(w.ctx, system(), domain.UnlinkRelative{Student: w.Student2, Relative: w.OtherRelative})
	},
		domain.RelativeUnlinked{Student: w.Student2, Relative: w.OtherRelative})
}

func TestGroups(t *testing.T) {
	w := newWorld(t)
	g := uuid.New()
	w.thenEvents(func() (commands.Result, error) {
		return w.h.CreateGroup(w.ctx, as(w.CPE), domain.CreateGroup{Group: g, Establishment: w.UAI, Kind: domain.GroupTeaching, Name: "Latin 5e"})
	}, domain.GroupCreated{Group: g, Establishment: w.UAI, Kind: domain.GroupTeaching, Name: "Latin 5e"})
	w.thenEvents(func() (commands.Result, error) {
		return w.h.JoinGroup(w.ctx, as(w.CPE), domain.JoinGroup{Group: g, Account: w.OtherTeacher, Role: domain.RoleTeacher, Subject: "Latin"})
	}, domain.MemberJoined{Group: g, Account: w.OtherTeacher, Role: domain.RoleTeacher, Subject: "Latin"})
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"create twice", func() (commands.Result, error) {
			return w.h.CreateGroup(w.ctx, system(), domain.CreateGroup{Group: g, Establishment: w.UAI, Kind: domain.GroupTeaching, Name: "Latin 5e"})
		}, domain.ErrGroupExists},
		{"create by staff of another establishment", func() (commands.Result, error) {
			return w.h.CreateGroup(w.ctx, as(w.OtherHead), domain.CreateGroup{Establishment: w.UAI, Kind: domain.GroupClass, Name: "X"})
		}, domain.ErrForbidden},
		{"create in an unknown establishment", func() (commands.Result, error) {
			return w.h.CreateGroup(w.ctx, system(), domain.CreateGroup{Establishment: "0999999Z", Kind: domain.GroupClass, Name: "X"})
		}, domain.ErrUnknownEstablishment},
		{"join an unknown group", func() (commands.Result, error) {
			return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: uuid.New(), Account: w.Student, Role: domain.RoleStudent})
		}, domain.ErrUnknownGroup},
		{"student of another establishment", func() (commands.Result, error) {
			return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: g, Account: w.OtherStudent, Role: domain.RoleStudent})
		}, domain.ErrWrongEstablishment},
		{"a teacher as a student", func() (commands.Result, error) {
			return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: g, Account: w.Teacher, Role: domain.RoleStudent})
		}, domain.ErrNotAStudent},
		{"a student as a teacher", func() (commands.Result, error) {
			return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: g, Account: w.Student, Role: domain.RoleTeacher})
		}, domain.ErrInvalid},
		{"twice", func() (commands.Result, error) {
			return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: g, Account: w.OtherTeacher, Role: domain.RoleTeacher, Subject: "Latin"})
		}, domain.ErrAlreadyMember},
		{"leave a role not held", func() (commands.Result, error) {
			return w.h.LeaveGroup(w.ctx, system(), domain.LeaveGroup{Group: g, Account: w.Student, Role: domain.RoleStudent})
		}, domain.ErrNotMember},
		{"a teacher manages groups", func() (commands.Result, error) {
			return w.h.JoinGroup(w.ctx, as(w.Teacher), domain.JoinGroup{Group: g, Account: w.Student, Role: domain.RoleStudent})
		}, domain.ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
	w.t = t
	w.thenEvents(func() (commands.Result, error) {
		return w.h.LeaveGroup(w.ctx, system(), domain.LeaveGroup{Group: g, Account: w.OtherTeacher, Role: domain.RoleTeacher})
	},
		domain.MemberLeft{Group: g, Account: w.OtherTeacher, Role: domain.RoleTeacher})
}

func TestRecordConnection(t *testing.T) {
	w := newWorld(t)
	recs := w.thenEvents(func() (commands.Result, error) {
		return w.h.RecordConnection(w.ctx, as(w.Relative), domain.RecordConnection{Method: domain.SignInPassword})
	},
		domain.UserConnected{Account: w.Relative, Profile: domain.ProfileRelative, Establishment: w.UAI, Method: domain.SignInPassword})
	if recs[0].Stream != domain.ConnectionsStream(w.Relative) {
		t.Fatalf("connection stored in %s", recs[0].Stream)
	}
	// Inspectors never write school data, but their sign-ins are counted.
	w.thenEvents(func() (commands.Result, error) {
		return w.h.RecordConnection(w.ctx, as(w.Inspector), domain.RecordConnection{Method: domain.SignInSSO})
	},
		domain.UserConnected{Account: w.Inspector, Profile: domain.ProfileInspector, Method: domain.SignInSSO})
	w.thenError(func() (commands.Result, error) {
		return w.h.RecordConnection(w.ctx, as(w.Relative), domain.RecordConnection{Method: "carrier-pigeon"})
	}, domain.ErrInvalid)
}

func TestHabilitateInspector(t *testing.T) {
	w := newWorld(t)
	w.thenEvents(func() (commands.Result, error) {
		return w.h.HabilitateInspector(w.ctx, as(w.Admin), domain.HabilitateInspector{Account: w.Inspector, Establishments: []string{w.UAI, w.OtherUAI}})
	}, domain.InspectorHabilitated{Account: w.Inspector, Establishments: []string{w.UAI, w.OtherUAI}})
	w.thenError(func() (commands.Result, error) {
		return w.h.HabilitateInspector(w.ctx, as(w.Head), domain.HabilitateInspector{Account: w.Inspector, Establishments: []string{w.UAI}})
	}, domain.ErrForbidden)
	w.thenError(func() (commands.Result, error) {
		return w.h.HabilitateInspector(w.ctx, system(), domain.HabilitateInspector{Account: w.Teacher, Establishments: []string{w.UAI}})
	}, domain.ErrInvalid)
}

func TestTimetable(t *testing.T) {
	w := newWorld(t)
	entry := uuid.New()
	cmd := domain.ScheduleLesson{Group: w.Class, Entry: entry, Weekday: time.Monday, Slot: slot1, Subject: "Mathématiques",
		Teacher: w.Teacher, From: domain.MustDate("2005-09-05"), Until: domain.MustDate("2006-07-01")}
	w.thenEvents(func() (commands.Result, error) { return w.h.ScheduleLesson(w.ctx, as(w.CPE), cmd) }, domain.LessonScheduled(cmd))
	clash := cmd
	clash.Entry, clash.Slot = uuid.New(), domain.Slot{Start: "08:30", End: "09:30"}
	notTeacher := cmd
	notTeacher.Entry, notTeacher.Weekday, notTeacher.Teacher = uuid.New(), time.Tuesday, w.OtherTeacher
	backwards := cmd
	backwards.Entry, backwards.Weekday, backwards.Until = uuid.New(), time.Friday, domain.MustDate("2005-01-01")
	sunday := cmd
	sunday.Entry, sunday.Weekday = uuid.New(), time.Sunday
	cases := []struct {
		name string
		req  commands.Request
		cmd  domain.ScheduleLesson
		want error
	}{
		{"overlapping entry", as(w.CPE), clash, domain.ErrTimetableClash},
		{"teacher not in the group", as(w.CPE), notTeacher, domain.ErrNotTeacherOfGroup},
		{"period backwards", as(w.CPE), backwards, domain.ErrInvalid},
		{"on a Sunday", as(w.CPE), sunday, domain.ErrInvalid},
		{"by a teacher", as(w.Teacher), sunday, domain.ErrForbidden},
		{"by staff of another establishment", as(w.OtherHead), sunday, domain.ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.ScheduleLesson(w.ctx, tc.req, tc.cmd) }, tc.want)
		})
	}
	w.t = t
	w.thenEvents(func() (commands.Result, error) {
		return w.h.UnscheduleLesson(w.ctx, as(w.CPE), domain.UnscheduleLesson{Group: w.Class, Entry: entry})
	},
		domain.LessonUnscheduled{Group: w.Class, Entry: entry})
	w.thenError(func() (commands.Result, error) {
		return w.h.UnscheduleLesson(w.ctx, as(w.CPE), domain.UnscheduleLesson{Group: w.Class, Entry: entry})
	}, domain.ErrUnknownEntry)
}
