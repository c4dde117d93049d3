package timetableimport

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/schoolcalendar"
)

const uai = "0330001A"

// school is the test collège: two classes, two English groups, six
// teachers, written through the command handlers of a SQLite store.
type school struct {
	t     *testing.T
	ctx   context.Context
	store eventStore
	reg   *domain.Registry
	h     *commands.Handlers
	im    *Importer
	now   time.Time
	cal   *schoolcalendar.Calendar

	class6A, class6B, ang1, ang2                      uuid.UUID
	dupont, martin, bernard, petit, moreau, faure, me uuid.UUID
}

func id(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("timetable-test/"+name))
}

// eventStore is what the tests need of a store: the commands' and the
// import's.
type eventStore interface {
	commands.EventStore
	Log
	// CountEvents counts the committed events, those the global log
	// holds back included.
	CountEvents(ctx context.Context) (int64, error)
}

// openSQLite opens a store in a new SQLite file.
func openSQLite(t *testing.T) eventStore {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// openPostgres opens a store in a fresh Postgres database (skipped outside
// CI when no server answers: see adapters/postgres/pgtest).
func openPostgres(t *testing.T) eventStore {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.MustDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// newSchool builds the school on a SQLite store.
func newSchool(t *testing.T) *school { return newSchoolOn(t, openSQLite(t)) }

func newSchoolOn(t *testing.T, st eventStore) *school {
	t.Helper()
	ctx := context.Background()
	s := &school{t: t, ctx: ctx, store: st, reg: domain.NewRegistry(),
		now:     time.Date(2026, time.August, 28, 9, 0, 0, 0, time.UTC),
		class6A: id("6A"), class6B: id("6B"), ang1: id("ang1"), ang2: id("ang2"),
		dupont: id("dupont"), martin: id("martin"), bernard: id("bernard"), petit: id("petit"),
		moreau: id("moreau"), faure: id("faure"), me: id("me")}
	h, err := commands.New(commands.Config{Store: st, Registry: s.reg, Now: func() time.Time { return s.now }})
	if err != nil {
		t.Fatal(err)
	}
	s.h = h
	if s.im, err = New(Config{Handlers: h, Log: st, Registry: s.reg}); err != nil {
		t.Fatal(err)
	}
	if s.cal, err = schoolcalendar.Load(schoolcalendar.Options{}); err != nil {
		t.Fatal(err)
	}
	s.build()
	return s
}

func (s *school) must(_ commands.Result, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *school) build() {
	sys := commands.Request{System: true}
	ctx := s.ctx
	s.must(s.h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: uai, Name: "Collège Les Tilleuls", Kind: domain.KindCollege, Departement: "33"}))
	open := func(acc uuid.UUID, ext, name string) {
		s.must(s.h.OpenAccount(ctx, sys, domain.OpenAccount{Account: acc, Establishment: uai, Profile: domain.ProfileTeacher, ExternalID: ext, DisplayName: name}))
	}
	open(s.dupont, "AC-BORDEAUX$1001", "Marie DUPONT")
	open(s.martin, "AC-BORDEAUX$1002", "Jean Martin")
	open(s.bernard, "AC-BORDEAUX$1003", "BERNARD Sophie")
	open(s.petit, "AC-BORDEAUX$1004", "Paul Petit")
	open(s.moreau, "AC-BORDEAUX$1005", "Luc Moreau")
	open(s.faure, "AC-BORDEAUX$1006", "Hélène Faure")
	group := func(g uuid.UUID, kind domain.GroupKind, name string) {
		s.must(s.h.CreateGroup(ctx, sys, domain.CreateGroup{Group: g, Establishment: uai, Kind: kind, Name: name}))
	}
	group(s.class6A, domain.GroupClass, "6A")
	group(s.class6B, domain.GroupClass, "6B")
	group(s.ang1, domain.GroupTeaching, "6AB-ANG1")
	group(s.ang2, domain.GroupTeaching, "6AB-ANG2")
	teach := func(g, acc uuid.UUID, label, code string) {
		s.must(s.h.JoinGroup(ctx, sys, domain.JoinGroup{Group: g, Account: acc, Role: domain.RoleTeacher, Subject: label, SubjectCodes: []string{code}}))
	}
	teach(s.class6A, s.dupont, "Mathématiques", "061300")
	teach(s.class6B, s.dupont, "Mathématiques", "061300")
	teach(s.class6A, s.martin, "Français", "020700")
	teach(s.class6B, s.martin, "Français", "020700")
	teach(s.ang1, s.bernard, "Anglais LV1", "030201")
	teach(s.ang2, s.petit, "Anglais LV1", "030201")
	teach(s.class6A, s.moreau, "SVT", "062900")
	teach(s.class6B, s.moreau, "SVT", "062900")
	teach(s.class6B, s.faure, "Éducation musicale", "080100")
}

func file(name string) Source {
	p := filepath.Join("testdata", name)
	return Source{Name: name, Open: func() (io.ReadCloser, error) { return os.Open(p) }}
}

// opts returns the options of an import of format from date on.
func (s *school) opts(f Format, from string, sts bool) Options {
	o := Options{Format: f, PlanOptions: PlanOptions{UAI: uai, Calendar: s.cal, Zone: schoolcalendar.ZoneA, From: domain.MustDate(from)}}
	if sts {
		src := file("sts_emp_0330001A_2026.xml")
		o.STS = &src
	}
	return o
}

// count is the number of events committed.
func (s *school) count() int64 {
	s.t.Helper()
	n, err := s.store.CountEvents(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// MustImport imports and returns the report and the number of events
// appended; it fails on an error, a refusal or a change the ledger refused.
func (s *school) MustImport(src Source, o Options) (*Report, int) {
	s.t.Helper()
	before := s.count()
	rep, err := s.im.Run(s.ctx, src, o)
	if err != nil {
		s.t.Fatalf("import %s: %v", src.Name, err)
	}
	if rep.Refused != "" {
		s.t.Fatalf("import %s refused (%s): unmatched %+v, rejected %+v", src.Name, rep.Refused, rep.Plan, rep.Rejected)
	}
	if len(rep.Failed) > 0 {
		s.t.Fatalf("import %s: failed changes %+v", src.Name, rep.Failed)
	}
	n := int(s.count() - before)
	if n != rep.Added+rep.Removed {
		s.t.Fatalf("report says %d added and %d removed, the log got %d events", rep.Added, rep.Removed, n)
	}
	return rep, n
}

// lessons returns the dated lessons the log's timetable holds, as
// "group date start-end subject teacher" lines, sorted.
func (s *school) lessons() []string {
	s.t.Helper()
	dir, err := LoadDirectory(s.ctx, s.store, s.reg)
	if err == nil {
		err = dir.Refresh(s.ctx, s.store, s.reg, uai)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	names := map[uuid.UUID]string{s.class6A: "6A", s.class6B: "6B", s.ang1: "ANG1", s.ang2: "ANG2"}
	people := map[uuid.UUID]string{s.dupont: "dupont", s.martin: "martin", s.bernard: "bernard", s.petit: "petit", s.moreau: "moreau", s.faure: "faure"}
	var out []string
	for _, e := range dir.Entries(uai) {
		for d := e.From; !d.After(e.Until); d = d.AddDays(7) {
			out = append(out, fmt.Sprintf("%s %s %s %s %s", names[e.Group], d, e.Slot, e.Subject, people[e.Teacher]))
		}
	}
	slices.Sort(out)
	return out
}

// on returns the lessons of a date.
func on(lessons []string, date string) []string {
	var out []string
	for _, l := range lessons {
		if strings.Contains(l, " "+date+" ") {
			out = append(out, l)
		}
	}
	return out
}

func wantLessons(t *testing.T, all []string, date string, want ...string) {
	t.Helper()
	got := on(all, date)
	if !slices.Equal(got, want) {
		t.Errorf("lessons of %s:\n got %q\nwant %q", date, got, want)
	}
}
