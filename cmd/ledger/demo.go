package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/simulation"
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

// demoStudentLogin is the sign-in name of the i-th student of demoStudents.
func demoStudentLogin(i int) string {
	if i == 0 {
		return "lea.durand"
	}
	return fmt.Sprintf("eleve.%02d", i+1)
}

// demoStaff are the accounts of the establishment besides the students;
// demoGuests those of no establishment.
var (
	demoStaff = []demoAccount{
		{"prof.martin", "M. Martin", domain.ProfileTeacher, ""},
		{"prof.garcia", "Mme Garcia", domain.ProfileTeacher, ""},
		{"cpe.roche", "Mme Roche", domain.ProfilePersonnel, domain.FunctionCPE},
		{"principale.aubert", "Mme Aubert", domain.ProfilePersonnel, domain.FunctionHead},
		{"parent.durand", "Claire Durand", domain.ProfileRelative, ""},
	}
	demoGuests = []demoAccount{
		{"inspecteur.blanc", "M. Blanc, IA-IPR", domain.ProfileInspector, ""},
		{"evaluateur.noel", "Mme Noël, DANE", domain.ProfileEvaluator, ""},
	}
)

// demoSchoolDays is how many school days of history the demo has: seven
// weeks of lessons before the day it is seeded, holidays left out.
const demoSchoolDays = 35

// demoKeys are the idempotency keys that tell how a store's demo was
// written. The registration of a demo with a history has its own key, so
// that a demo seeded before histories existed (registered with
// "demo:establishment", everything stamped at once) is told apart and left
// as it is.
const (
	demoRegisterKey = "demo:register"
	// demoLastKey is the demo's last command: once its article exists,
	// the demo is complete.
	demoLastKey = "demo:news:meeting"
)

// demoLastArticle is the article demoLastKey publishes.
var demoLastArticle = demoID("article", "meeting")

// passwordSetter sets the password of an account (auth.Service).
type passwordSetter interface {
	SetPassword(ctx context.Context, account uuid.UUID, login, password string) error
}

// demoDeps are what the demo is written with: command handlers on a clock
// the demo moves along its history, the credentials, the log it reads to
// know what is there, and the date window of plans (a timetable's end).
type demoDeps struct {
	handlersAt simulation.Factory
	creds      passwordSetter
	log        commands.EventStore
	plans      domain.DateWindow
}

// seedDemo writes the demo establishment through the command handlers,
// with a history of demoSchoolDays school days before now, each command at
// its date. A second run changes nothing: it finds the demo complete (its
// last article exists). A run stopped midway is completed by the next,
// which finds the start of the history from the establishment's
// registration and replays the same commands under the same idempotency
// keys. It prints the sign-in names to w.
func seedDemo(ctx context.Context, d demoDeps, now time.Time, w io.Writer) error {
	if err := ensureDemo(ctx, d, now); err != nil {
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
Demo service at /demo-service/ (Service de démonstration): signs in through the ledger's CAS and OpenID provider.
`, DemoUAI, DemoPassword, DemoUAI, DemoUAI)
	return nil
}

// ensureDemo writes what the store lacks of the demo.
func ensureDemo(ctx context.Context, d demoDeps, now time.Time) error {
	est, err := d.log.ReadStream(ctx, domain.EstablishmentStream(DemoUAI), 0)
	if err != nil {
		return err
	}
	switch {
	case len(est) == 0:
		today := domain.DateOf(now.In(domain.Paris()))
		if err := writeDemo(ctx, d, demoHistoryStart(today), now, false); err != nil {
			return err
		}
	case est[0].ID == domain.DeterministicID("event", demoRegisterKey, "0"):
		last, err := d.log.ReadStream(ctx, domain.ArticleStream(demoLastArticle), 0)
		if err != nil {
			return err
		}
		if len(last) == 0 {
			start := domain.DateOf(est[0].Metadata.Time.In(domain.Paris()))
			if err := writeDemo(ctx, d, start, now, true); err != nil {
				return err
			}
		}
	}
	// The administrator came later than the rest: a demo seeded before
	// gets them too (its idempotency key makes it once).
	return openDemoAdmin(ctx, d, now)
}

// openDemoAdmin opens the demo establishment's administrator, who may
// import directory feeds into it.
func openDemoAdmin(ctx context.Context, d demoDeps, now time.Time) error {
	h, err := d.handlersAt(func() time.Time { return now })
	if err != nil {
		return err
	}
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
	return d.creds.SetPassword(ctx, id, "admin.demo", DemoPassword)
}

// demoHistoryStart is the first day of the history of a demo seeded on
// today: demoSchoolDays school days before it.
func demoHistoryStart(today domain.Date) domain.Date {
	day, n := today, 0
	for n < demoSchoolDays {
		day = day.AddDays(-1)
		if simulation.LessonDay(day, domain.KindCollege) {
			n++
		}
	}
	return day
}

// demoHistoryDays lists the demoSchoolDays school days from start on.
func demoHistoryDays(start domain.Date) []domain.Date {
	days := make([]domain.Date, 0, demoSchoolDays)
	for day := start; len(days) < demoSchoolDays; day = day.AddDays(1) {
		if simulation.LessonDay(day, domain.KindCollege) {
			days = append(days, day)
		}
	}
	return days
}

// writeDemo writes the demo whose history starts on start: its directory
// the morning of that day, the school days that follow, then what happens
// now. Every command runs at its own time on the handlers' clock. resume
// completes a demo an earlier run began: the passwords of the accounts it
// opened are set again, the run may have stopped before.
func writeDemo(ctx context.Context, d demoDeps, start domain.Date, now time.Time, resume bool) error {
	days := demoHistoryDays(start)
	plan, err := planDemo(days, d.plans, now)
	if err != nil {
		return err
	}
	var clock time.Time
	h, err := d.handlersAt(func() time.Time { return clock })
	if err != nil {
		return err
	}
	for _, s := range plan.steps {
		clock = s.at
		req := commands.Request{IdempotencyKey: s.key, CorrelationID: demoID("correlation", s.key)}
		if s.actor == "" {
			req.System = true
		} else {
			req.Actor = demoID("account", s.actor)
		}
		res, err := s.run(ctx, h, req)
		if err != nil {
			return fmt.Errorf("%s at %s: %w", s.key, s.at.Format(time.RFC3339), err)
		}
		if s.opens != "" && (!res.Replayed || resume) {
			if err := d.creds.SetPassword(ctx, demoID("account", s.opens), s.opens, DemoPassword); err != nil {
				return err
			}
		}
	}
	return nil
}
