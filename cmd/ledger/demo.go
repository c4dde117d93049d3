package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// The demo establishment: a small collège with one class, its teachers,
// staff, families, an inspector and an evaluator, all able to sign in with
// DemoPassword.
const (
	DemoUAI      = "0131999X"
	DemoPassword = "demo-ledger-2007"
)

// demoAccount is one account of the demo and its sign-in name.
type demoAccount struct {
	login, name string
	profile     domain.Profile
	function    domain.Function
}

// demoID is the stable id of a demo entity.
func demoID(parts ...string) uuid.UUID {
	return domain.DeterministicID(append([]string{"demo"}, parts...)...)
}

// demoStudents are the class 4e B; the first has her parent's account.
var demoStudents = []string{
	"Léa Durand", "Hugo Bernard", "Chloé Petit", "Lucas Moreau", "Emma Laurent", "Nathan Simon",
	"Manon Michel", "Enzo Lefebvre", "Camille Leroy", "Louis Roux", "Sarah David", "Jules Bertrand",
	"Inès Morel", "Théo Fournier", "Jade Girard", "Tom Bonnet", "Lina Dupont", "Noah Lambert",
	"Zoé Fontaine", "Adam Rousseau", "Alice Vincent", "Gabriel Muller", "Lola Faure", "Raphaël Blanc",
}

// seedDemo writes the demo establishment through the command handlers,
// once: a second run finds it and changes nothing. It prints the sign-in
// names to w.
func seedDemo(ctx context.Context, h *commands.Handlers, creds *auth.Service, store commands.EventStore, now time.Time, w io.Writer) error {
	existing, err := store.ReadStream(ctx, domain.EstablishmentStream(DemoUAI), 0)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if len(existing) == 0 {
		if err := writeDemo(ctx, h, creds, now); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	// The administrator came later than the rest: a demo seeded before
	// gets them too (its idempotency key makes it once).
	if err := openDemoAdmin(ctx, h, creds); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, `Demo establishment %s (Collège de démonstration), password for every account: %s
  teacher    prof.martin        (class 4e B, mathématiques)
  parent     parent.durand      (Léa Durand's mother)
  student    lea.durand
  CPE        cpe.roche          (vie scolaire)
  head       principale.aubert  (chef d'établissement)
  inspector  inspecteur.blanc   (habilitated for %s)
  evaluator  evaluateur.noel
  admin      admin.demo         (administrator of %s: directory import at /imports)
`, DemoUAI, DemoPassword, DemoUAI, DemoUAI)
	return nil
}

// openDemoAdmin opens the demo establishment's administrator, who may
// import directory feeds into it.
func openDemoAdmin(ctx context.Context, h *commands.Handlers, creds *auth.Service) error {
	id := demoID("account", "admin.demo")
	req := commands.Request{System: true, CorrelationID: demoID("correlation"), IdempotencyKey: "demo:account:admin.demo"}
	res, err := h.OpenAccount(ctx, req, domain.OpenAccount{
		Account: id, Establishment: DemoUAI, Profile: domain.ProfileAdmin, DisplayName: "M. Admin, administrateur",
	})
	if err != nil {
		return fmt.Errorf("open admin.demo: %w", err)
	}
	if res.Replayed {
		return nil // opened by an earlier run, password set then
	}
	return creds.SetPassword(ctx, id, "admin.demo", DemoPassword)
}

func writeDemo(ctx context.Context, h *commands.Handlers, creds *auth.Service, now time.Time) error {
	sys := commands.Request{System: true, CorrelationID: demoID("correlation")}
	step := func(key string) commands.Request {
		r := sys
		r.IdempotencyKey = "demo:" + key
		return r
	}
	if _, err := h.RegisterEstablishment(ctx, step("establishment"), domain.RegisterEstablishment{
		UAI: DemoUAI, Name: "Collège de démonstration", Kind: domain.KindCollege, Departement: "13",
	}); err != nil {
		return err
	}
	open := func(a demoAccount, uai string) (uuid.UUID, error) {
		id := demoID("account", a.login)
		if _, err := h.OpenAccount(ctx, step("account:"+a.login), domain.OpenAccount{
			Account: id, Establishment: uai, Profile: a.profile, Function: a.function, DisplayName: a.name,
		}); err != nil {
			return id, fmt.Errorf("open %s: %w", a.login, err)
		}
		return id, creds.SetPassword(ctx, id, a.login, DemoPassword)
	}
	ids := map[string]uuid.UUID{}
	for _, a := range []demoAccount{
		{"prof.martin", "M. Martin", domain.ProfileTeacher, ""},
		{"prof.garcia", "Mme Garcia", domain.ProfileTeacher, ""},
		{"cpe.roche", "Mme Roche", domain.ProfilePersonnel, domain.FunctionCPE},
		{"principale.aubert", "Mme Aubert", domain.ProfilePersonnel, domain.FunctionHead},
		{"parent.durand", "Claire Durand", domain.ProfileRelative, ""},
	} {
		id, err := open(a, DemoUAI)
		if err != nil {
			return err
		}
		ids[a.login] = id
	}
	for _, a := range []demoAccount{
		{"inspecteur.blanc", "M. Blanc, IA-IPR", domain.ProfileInspector, ""},
		{"evaluateur.noel", "Mme Noël, DANE", domain.ProfileEvaluator, ""},
	} {
		id, err := open(a, "")
		if err != nil {
			return err
		}
		ids[a.login] = id
	}
	if _, err := h.HabilitateInspector(ctx, step("habilitation"), domain.HabilitateInspector{Account: ids["inspecteur.blanc"], Establishments: []string{DemoUAI}}); err != nil {
		return err
	}

	class := demoID("group", "4B")
	if _, err := h.CreateGroup(ctx, step("group"), domain.CreateGroup{Group: class, Establishment: DemoUAI, Kind: domain.GroupClass, Name: "4e B"}); err != nil {
		return err
	}
	join := func(account uuid.UUID, role domain.Role, subject string) error {
		_, err := h.JoinGroup(ctx, step("join:"+account.String()+":"+string(role)), domain.JoinGroup{Group: class, Account: account, Role: role, Subject: subject})
		return err
	}
	if err := join(ids["prof.martin"], domain.RoleHeadTeacher, "Mathématiques"); err != nil {
		return err
	}
	if err := join(ids["prof.garcia"], domain.RoleTeacher, "Histoire-géographie"); err != nil {
		return err
	}
	students := make([]uuid.UUID, len(demoStudents))
	for i, name := range demoStudents {
		login := fmt.Sprintf("eleve.%02d", i+1)
		if i == 0 {
			login = "lea.durand"
		}
		id, err := open(demoAccount{login, name, domain.ProfileStudent, ""}, DemoUAI)
		if err != nil {
			return err
		}
		students[i] = id
		if err := join(id, domain.RoleStudent, ""); err != nil {
			return err
		}
	}
	if _, err := h.LinkRelative(ctx, step("link"), domain.LinkRelative{Student: students[0], Relative: ids["parent.durand"], LegalGuardian: true}); err != nil {
		return err
	}

	// A timetable from Monday to Saturday morning, so that "today's
	// lessons" always has something to show.
	today := domain.DateOf(now.In(domain.Paris()))
	from, until := today.AddDays(-60), today.AddDays(300)
	slots := []domain.Slot{{Start: "08:00", End: "08:55"}, {Start: "09:00", End: "09:55"}, {Start: "10:10", End: "11:05"}, {Start: "14:00", End: "14:55"}}
	for wd := time.Monday; wd <= time.Saturday; wd++ {
		for i, slot := range slots {
			if wd == time.Saturday && i > 1 || wd == time.Wednesday && i == 3 {
				continue
			}
			teacher, subject := ids["prof.martin"], "Mathématiques"
			if i%2 == 1 {
				teacher, subject = ids["prof.garcia"], "Histoire-géographie"
			}
			key := fmt.Sprintf("timetable:%d:%d", wd, i)
			if _, err := h.ScheduleLesson(ctx, step(key), domain.ScheduleLesson{
				Group: class, Entry: demoID(key), Weekday: wd, Slot: slot, Subject: subject, Teacher: teacher, From: from, Until: until,
			}); err != nil {
				return err
			}
		}
	}

	// Some history: a roll call last school day with Léa absent, her
	// mother's reason, homework, a message and news.
	last := today.AddDays(-1)
	for last.Weekday() == time.Sunday || last.Weekday() == time.Saturday {
		last = last.AddDays(-1)
	}
	teacher := commands.Request{Actor: ids["prof.martin"], IdempotencyKey: "demo:rollcall"}
	rc := domain.RecordRollCall{Group: class, Date: last, Slot: slots[0], Subject: "Mathématiques", Absent: []uuid.UUID{students[0], students[5]},
		Late: []domain.Late{{Student: students[3], Minutes: 10}}}
	if _, err := h.RecordRollCall(ctx, teacher, rc); err != nil {
		return err
	}
	if _, err := h.DeclareAbsenceReason(ctx, commands.Request{Actor: ids["parent.durand"], IdempotencyKey: "demo:reason"},
		domain.DeclareAbsenceReason{Lesson: rc.LessonID(), Student: students[0], Reason: "Rendez-vous chez l'orthodontiste"}); err != nil {
		return err
	}
	if _, err := h.AssignHomework(ctx, commands.Request{Actor: ids["prof.martin"], IdempotencyKey: "demo:homework"}, domain.AssignHomework{
		Group: class, Subject: "Mathématiques", Given: last, Due: today.AddDays(2), Instructions: "Exercices 12 à 15 page 84 (fractions).", WorkloadMinutes: 30,
	}); err != nil {
		return err
	}
	if _, err := h.SendMessage(ctx, commands.Request{Actor: ids["prof.martin"], IdempotencyKey: "demo:message"}, domain.SendMessage{
		ToAccounts: []uuid.UUID{ids["parent.durand"]}, Subject: "Sortie au musée", AckRequested: true,
		Body: "Bonjour, la classe de 4e B visitera le musée d'histoire naturelle jeudi. Merci d'en accuser réception.",
	}); err != nil {
		return err
	}
	if _, err := h.PublishArticle(ctx, commands.Request{Actor: ids["principale.aubert"], IdempotencyKey: "demo:news"}, domain.PublishArticle{
		Establishment: DemoUAI, Title: "Réunion parents-professeurs", Body: "La réunion parents-professeurs des 4e aura lieu mardi à 17 h 30 en salle polyvalente.",
	}); err != nil {
		return err
	}
	if _, err := h.RegisterResource(ctx, step("resource"), domain.RegisterResource{
		Resource: demoID("resource", "salle-info"), Establishment: DemoUAI, Kind: domain.ResourceRoom, Name: "Salle informatique",
	}); err != nil {
		return err
	}
	return nil
}
