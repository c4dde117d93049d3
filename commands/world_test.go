package commands_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// world is a small school community built from given events, for
// given-events / when-command / then-events tests. No database: the events
// live in the in-memory store.
type world struct {
	t     *testing.T
	ctx   context.Context
	store *memory.Store
	reg   *domain.Registry
	h     *commands.Handlers
	now   time.Time

	UAI, OtherUAI string
	// Accounts.
	Admin, Head, CPE, OtherHead, Teacher, OtherTeacher       uuid.UUID
	Student, Student2, OtherStudent, Relative, OtherRelative uuid.UUID
	Inspector, Evaluator, Guest                              uuid.UUID
	// Groups: Class (6A, taught by Teacher), OtherClass in OtherUAI.
	Class, OtherClass uuid.UUID
}

// newWorld builds the standard world.
func newWorld(t *testing.T) *world {
	t.Helper()
	reg := domain.NewRegistry()
	store := memory.New()
	w := &world{
		t: t, ctx: context.Background(), store: store, reg: reg,
		now: time.Date(2006, time.March, 14, 8, 5, 0, 0, time.UTC),
		UAI: "0130001A", OtherUAI: "0840002B",
	}
	h, err := commands.New(commands.Config{Store: store, Registry: reg, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	w.h = h
	ids := []*uuid.UUID{&w.Admin, &w.Head, &w.CPE, &w.OtherHead, &w.Teacher, &w.OtherTeacher, &w.Student, &w.Student2,
		&w.OtherStudent, &w.Relative, &w.OtherRelative, &w.Inspector, &w.Evaluator, &w.Guest, &w.Class, &w.OtherClass}
	for _, p := range ids {
		*p = uuid.New()
	}
	w.given(domain.EstablishmentStream(w.UAI), domain.EstablishmentRegistered{UAI: w.UAI, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13", Reasons: domain.DefaultReasons()})
	w.given(domain.EstablishmentStream(w.OtherUAI), domain.EstablishmentRegistered{UAI: w.OtherUAI, Name: "Lycée Vaucluse", Kind: domain.KindLycee, Departement: "84", Reasons: domain.DefaultReasons()})
	open := func(id uuid.UUID, uai string, p domain.Profile, f domain.Function, name string) {
		w.given(domain.AccountStream(id), domain.AccountOpened{Account: id, Establishment: uai, Profile: p, Function: f, DisplayName: name})
	}
	open(w.Admin, "", domain.ProfileAdmin, "", "Admin")
	open(w.Head, w.UAI, domain.ProfilePersonnel, domain.FunctionHead, "Mme Principale")
	open(w.CPE, w.UAI, domain.ProfilePersonnel, domain.FunctionCPE, "M. CPE")
	open(w.OtherHead, w.OtherUAI, domain.ProfilePersonnel, domain.FunctionHead, "M. Proviseur")
	open(w.Teacher, w.UAI, domain.ProfileTeacher, "", "M. Prof")
	open(w.OtherTeacher, w.UAI, domain.ProfileTeacher, "", "Mme Autre")
	open(w.Student, w.UAI, domain.ProfileStudent, "", "Léa")
	open(w.Student2, w.UAI, domain.ProfileStudent, "", "Hugo")
	open(w.OtherStudent, w.OtherUAI, domain.ProfileStudent, "", "Inès")
	open(w.Relative, w.UAI, domain.ProfileRelative, "", "Parent de Léa")
	open(w.OtherRelative, w.UAI, domain.ProfileRelative, "", "Autre parent")
	open(w.Inspector, "", domain.ProfileInspector, "", "Inspecteur")
	open(w.Evaluator, "", domain.ProfileEvaluator, "", "Évaluateur")
	open(w.Guest, w.UAI, domain.ProfileGuest, "", "Invité")
	w.given(domain.AccountStream(w.Inspector), domain.InspectorHabilitated{Account: w.Inspector, Establishments: []string{w.UAI}})
	w.given(domain.AccountStream(w.Student), domain.RelativeLinked{Student: w.Student, Relative: w.Relative, LegalGuardian: true})
	w.given(domain.GroupStream(w.Class),
		domain.GroupCreated{Group: w.Class, Establishment: w.UAI, Kind: domain.GroupClass, Name: "6A"},
		domain.MemberJoined{Group: w.Class, Account: w.Teacher, Role: domain.RoleTeacher, Subject: "Mathématiques"},
		domain.MemberJoined{Group: w.Class, Account: w.Student, Role: domain.RoleStudent},
		domain.MemberJoined{Group: w.Class, Account: w.Student2, Role: domain.RoleStudent},
	)
	w.given(domain.GroupStream(w.OtherClass),
		domain.GroupCreated{Group: w.OtherClass, Establishment: w.OtherUAI, Kind: domain.GroupClass, Name: "2nde1"},
		domain.MemberJoined{Group: w.OtherClass, Account: w.OtherStudent, Role: domain.RoleStudent},
	)
	return w
}

// given appends events to a stream as the system would have.
func (w *world) given(stream string, events ...domain.Event) {
	w.t.Helper()
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		typ, data, err := w.reg.Encode(e)
		if err != nil {
			w.t.Fatal(err)
		}
		envs[i] = domain.Envelope{ID: uuid.New(), Type: typ, Data: data, Metadata: domain.Metadata{Profile: domain.ProfileSystem, Command: "given", Time: w.now}}
	}
	if _, err := w.store.Append(w.ctx, stream, domain.AnyVersion(), envs); err != nil {
		w.t.Fatal(err)
	}
}

// as returns a request by account.
func as(account uuid.UUID) commands.Request { return commands.Request{Actor: account} }

// system returns a request by the ledger itself.
func system() commands.Request { return commands.Request{System: true} }

// head returns the global log's head.
func (w *world) head() domain.Position {
	w.t.Helper()
	recs, err := w.store.ReadAll(w.ctx, domain.Start, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(recs) == 0 {
		return domain.Start
	}
	return recs[len(recs)-1].Position
}

// when runs a command and returns the events it appended (decoded) and its
// records.
func (w *world) when(run func() (commands.Result, error)) ([]domain.Event, []domain.Record, error) {
	w.t.Helper()
	before := w.head()
	_, err := run()
	recs, rerr := w.store.ReadAll(w.ctx, before, 0)
	if rerr != nil {
		w.t.Fatal(rerr)
	}
	events := make([]domain.Event, len(recs))
	for i, r := range recs {
		e, derr := w.reg.DecodeRecord(r)
		if derr != nil {
			w.t.Fatal(derr)
		}
		events[i] = e
	}
	return events, recs, err
}

// thenEvents checks a command succeeded and appended exactly want.
func (w *world) thenEvents(run func() (commands.Result, error), want ...domain.Event) []domain.Record {
	w.t.Helper()
	got, recs, err := w.when(run)
	if err != nil {
		w.t.Fatalf("command failed: %v", err)
	}
	if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		w.t.Fatalf("events:\n got  %#v\n want %#v", got, want)
	}
	return recs
}

// thenError checks a command failed with target and appended nothing.
func (w *world) thenError(run func() (commands.Result, error), target error) {
	w.t.Helper()
	got, _, err := w.when(run)
	if !errors.Is(err, target) {
		w.t.Fatalf("error: got %v, want %v", err, target)
	}
	if len(got) != 0 {
		w.t.Fatalf("a failed command appended %d events: %#v", len(got), got)
	}
}
