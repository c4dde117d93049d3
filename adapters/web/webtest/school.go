package webtest

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// School is the test school: two establishments, an account of each
// profile, a class with its timetable, and one entity of each kind for the
// profiles to act on (a lesson with an absence, homework, a message, a
// resource and its booking, an article, a sanction). Build writes it
// through the command handlers of any event store.
type School struct {
	// Now is the school's clock (a Tuesday morning), which a test may
	// move.
	Now time.Time

	UAI, OtherUAI string
	// Accounts by profile name, and the others.
	Accounts                                     map[string]uuid.UUID
	Teacher2, Student2, OtherStudent, Closed     uuid.UUID
	Class, OtherClass, Entry                     uuid.UUID
	Lesson, Homework, Message, Resource, Booking uuid.UUID
	Article, Sanction                            uuid.UUID
	LessonDate                                   domain.Date
	LessonSlot                                   domain.Slot
}

// NewSchool returns the school's names and ids; Build writes it.
func NewSchool() *School {
	s := &School{
		Now: time.Date(2006, 3, 14, 10, 0, 0, 0, Paris), // a Tuesday
		UAI: "0130001A", OtherUAI: "0840002B",
		Accounts: map[string]uuid.UUID{},
		Teacher2: ID("teacher2"), Student2: ID("student2"), OtherStudent: ID("other-student"), Closed: ID("closed"),
		Class: ID("class"), OtherClass: ID("other-class"), Entry: ID("entry"),
		Homework: ID("homework"), Message: ID("message"), Resource: ID("resource"), Booking: ID("booking"),
		Article: ID("article"), Sanction: ID("sanction"),
		LessonDate: domain.MustDate("2006-03-14"), LessonSlot: domain.Slot{Start: "08:00", End: "08:55"},
	}
	for _, p := range Profiles[:len(Profiles)-1] {
		s.Accounts[p] = ID(p)
	}
	s.Lesson = domain.LessonID(s.Class, s.LessonDate, s.LessonSlot)
	return s
}

// Clock is the school's clock: Now, which a test may move.
func (s *School) Clock() time.Time { return s.Now }

// SignInAll gives every account of s its login (the profile's name, and
// "closed") and the token "tok-" followed by its profile's name.
func (a *FakeAuth) SignInAll(s *School) {
	for p, acc := range s.Accounts {
		a.mu.Lock()
		a.Logins[p] = acc
		a.mu.Unlock()
		a.Issue("tok-"+p, acc)
	}
	a.mu.Lock()
	a.Logins["closed"] = s.Closed
	a.mu.Unlock()
}

// Build writes the school through h, as the system and as its accounts.
func (s *School) Build(ctx context.Context, h *commands.Handlers) error {
	sys := System()
	var errs []error
	must := func(_ commands.Result, err error) { errs = append(errs, err) }
	must(h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: s.UAI, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13"}))
	must(h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: s.OtherUAI, Name: "Lycée Vaucluse", Kind: domain.KindLycee, Departement: "84"}))
	open := func(acc uuid.UUID, uai string, p domain.Profile, f domain.Function, name string) {
		must(h.OpenAccount(ctx, sys, domain.OpenAccount{Account: acc, Establishment: uai, Profile: p, Function: f, DisplayName: name}))
	}
	a := s.Accounts
	open(a[AsAdmin], "", domain.ProfileAdmin, "", "Admin")
	open(a[AsHead], s.UAI, domain.ProfilePersonnel, domain.FunctionHead, "Mme Principale")
	open(a[AsCPE], s.UAI, domain.ProfilePersonnel, domain.FunctionCPE, "M. CPE")
	open(a[AsTeacher], s.UAI, domain.ProfileTeacher, "", "M. Prof")
	open(s.Teacher2, s.UAI, domain.ProfileTeacher, "", "Mme Lettres")
	open(a[AsStudent], s.UAI, domain.ProfileStudent, "", "Léa")
	open(s.Student2, s.UAI, domain.ProfileStudent, "", "Hugo")
	open(s.OtherStudent, s.OtherUAI, domain.ProfileStudent, "", "Inès")
	open(a[AsRelative], s.UAI, domain.ProfileRelative, "", "Parent de Léa")
	open(a[AsGuest], s.UAI, domain.ProfileGuest, "", "Invité")
	open(a[AsInspector], "", domain.ProfileInspector, "", "Inspecteur")
	open(a[AsOtherInspector], "", domain.ProfileInspector, "", "Inspectrice")
	open(a[AsEvaluator], "", domain.ProfileEvaluator, "", "Évaluateur")
	open(s.Closed, s.UAI, domain.ProfileTeacher, "", "Parti")
	must(h.CloseAccount(ctx, sys, domain.CloseAccount{Account: s.Closed, Reason: "left"}))
	must(h.HabilitateInspector(ctx, sys, domain.HabilitateInspector{Account: a[AsInspector], Establishments: []string{s.UAI}}))
	must(h.HabilitateInspector(ctx, sys, domain.HabilitateInspector{Account: a[AsOtherInspector], Establishments: []string{s.OtherUAI}}))
	must(h.LinkRelative(ctx, sys, domain.LinkRelative{Student: a[AsStudent], Relative: a[AsRelative], LegalGuardian: true}))

	must(h.CreateGroup(ctx, sys, domain.CreateGroup{Group: s.Class, Establishment: s.UAI, Kind: domain.GroupClass, Name: "6A"}))
	must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: s.Class, Account: a[AsTeacher], Role: domain.RoleTeacher, Subject: "Mathématiques"}))
	must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: s.Class, Account: a[AsStudent], Role: domain.RoleStudent}))
	must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: s.Class, Account: s.Student2, Role: domain.RoleStudent}))
	must(h.CreateGroup(ctx, sys, domain.CreateGroup{Group: s.OtherClass, Establishment: s.OtherUAI, Kind: domain.GroupClass, Name: "2nde1"}))
	must(h.JoinGroup(ctx, sys, domain.JoinGroup{Group: s.OtherClass, Account: s.OtherStudent, Role: domain.RoleStudent}))
	must(h.ScheduleLesson(ctx, sys, domain.ScheduleLesson{
		Group: s.Class, Entry: s.Entry, Weekday: time.Tuesday, Slot: s.LessonSlot, Subject: "Mathématiques",
		Teacher: a[AsTeacher], From: domain.MustDate("2005-09-01"), Until: domain.MustDate("2006-07-01"),
	}))

	teacher := As(a[AsTeacher])
	roll := domain.RecordRollCall{Group: s.Class, Date: s.LessonDate, Slot: s.LessonSlot, Subject: "Mathématiques", Absent: []uuid.UUID{a[AsStudent]}}
	must(h.RecordRollCall(ctx, teacher, roll))
	must(h.AssignHomework(ctx, teacher, domain.AssignHomework{
		Homework: s.Homework, Group: s.Class, Given: s.LessonDate, Due: domain.MustDate("2006-03-16"),
		Instructions: "Exercices 1 à 4 page 52", WorkloadMinutes: 30,
	}))
	must(h.SendMessage(ctx, teacher, domain.SendMessage{
		Message: s.Message, ToGroups: []uuid.UUID{s.Class}, ToAccounts: []uuid.UUID{a[AsRelative]},
		Subject: "Sortie au musée", Body: "Autorisation à signer.", AckRequested: true,
	}))
	must(h.RegisterResource(ctx, As(a[AsCPE]), domain.RegisterResource{
		Resource: s.Resource, Establishment: s.UAI, Kind: domain.ResourceRoom, Name: "Salle 101", ApprovalRequired: true,
	}))
	must(h.RequestBooking(ctx, teacher, domain.RequestBooking{
		Resource: s.Resource, Booking: s.Booking, Purpose: "Conseil pédagogique",
		Start: time.Date(2006, 3, 20, 10, 0, 0, 0, Paris), End: time.Date(2006, 3, 20, 11, 0, 0, 0, Paris),
	}))
	must(h.PublishArticle(ctx, teacher, domain.PublishArticle{Article: s.Article, Establishment: s.UAI, Title: "Portes ouvertes", Body: "Samedi 18 mars."}))
	must(h.PronounceSanction(ctx, As(a[AsHead]), domain.PronounceSanction{
		Sanction: s.Sanction, Student: a[AsStudent], Kind: domain.SanctionWarning, Date: domain.MustDate("2006-03-13"), Reason: "Insolence",
	}))
	must(h.RecordConnection(ctx, teacher, domain.RecordConnection{Method: domain.SignInPassword}))
	return errors.Join(errs...)
}
