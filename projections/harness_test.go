package projections_test

// The harness runs reducers over hand-built events: records are appended to
// an in-memory event store (adapters/memory), the runner catches each
// projection up into a read-model store, and the tests ask through
// projections.Queries. The tests live outside package projections so that
// read-model stores that import it (adapters/readstore) can join the list.

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// DocStoreAll is what a read-model store under test must provide.
type DocStoreAll interface {
	projections.DocStore
	projections.GenerationStore
	projector.Locker
}

// docStore opens an empty read-model store for one test.
type docStore struct {
	name string
	open func(t *testing.T) DocStoreAll
}

// docStores lists the read-model stores every projection test runs on.
// Stores that need a server skip themselves when it is not configured.
var docStores = []docStore{
	{name: "memory", open: func(*testing.T) DocStoreAll { return projections.NewMemoryDocs() }},
	{name: "sqlite", open: openSQLiteDocs},
	{name: "postgres", open: openPostgresDocs},
}

// openSQLiteDocs opens read models in a fresh SQLite file, beside its
// (unused) event tables, as `ledger serve` does on the embedded store.
func openSQLiteDocs(t *testing.T) DocStoreAll {
	t.Helper()
	ctx := context.Background()
	es, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readstore.NewSQLite(es.DB(), es.WithTx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		docs.Close()
		es.Close()
	})
	return docs
}

// openPostgresDocs opens read models in a fresh Postgres database (skipped
// outside CI when no server answers: see adapters/postgres/pgtest).
func openPostgresDocs(t *testing.T) DocStoreAll {
	t.Helper()
	ctx := context.Background()
	es, err := postgres.Open(ctx, pgtest.MustDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := es.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	docs := readstore.NewPostgres(es.Pool())
	t.Cleanup(func() {
		docs.Close()
		es.Close()
	})
	return docs
}

// forEachStore runs fn on a fresh store of each kind, as a subtest.
func forEachStore(t *testing.T, fn func(t *testing.T, docs DocStoreAll)) {
	t.Helper()
	for _, s := range docStores {
		t.Run(s.name, func(t *testing.T) { fn(t, s.open(t)) })
	}
}

// allReducers returns the reducers of this package's portal read models.
func allReducers() []projections.Reducer {
	return []projections.Reducer{
		projections.NewDirectory(), projections.NewStudentFile(), projections.NewOffice(), projections.NewTextbook(),
	}
}

// paris is the establishments' time zone in every test.
var paris = mustLoadLocation("Europe/Paris")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at returns a Paris wall-clock time, "2006-03-13 10:30".
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
	if err != nil {
		panic(err)
	}
	return t
}

// id returns a stable id named after s, so that expectations can name ids.
func id(s string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s)) }

// actor is who an event is recorded for: metadata actor, profile and
// establishment.
type actor struct {
	id      uuid.UUID
	profile domain.Profile
	uai     string
}

// system is the ledger itself acting for an establishment (imports).
func system(uai string) actor { return actor{profile: domain.ProfileSystem, uai: uai} }

// world is an event log being written by a test.
type world struct {
	t   *testing.T
	log *memory.Store
	reg *domain.Registry
	// now is the server time stamped on the next append; each append moves
	// it on by a minute.
	now time.Time
	n   int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return &world{t: t, log: memory.New(), reg: domain.NewRegistry(), now: time.Date(2006, 3, 1, 7, 0, 0, 0, time.UTC)}
}

// emit appends events to stream as a, in one append.
func (w *world) emit(a actor, stream string, events ...domain.Event) {
	w.t.Helper()
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		typ, data, err := w.reg.Encode(e)
		if err != nil {
			w.t.Fatalf("encode %T: %v", e, err)
		}
		w.n++
		md := a.metadata(typ, w.now)
		envs[i] = domain.Envelope{ID: domain.DeterministicID("test-event", fmt.Sprint(w.n)), Type: typ, Data: data, Metadata: md}
	}
	if _, err := w.log.Append(context.Background(), stream, domain.AnyVersion(), envs); err != nil {
		w.t.Fatalf("append to %s: %v", stream, err)
	}
	w.now = w.now.Add(time.Minute)
}

func (a actor) metadata(typ string, now time.Time) domain.Metadata {
	c := domain.DeterministicID("test-correlation", typ, now.String())
	return domain.Metadata{
		Actor: a.id, Profile: a.profile, Establishment: a.uai,
		CorrelationID: c, CausationID: c, Command: "test", Time: now,
	}
}

// checkedLog fails a read that returns an event at or before the position
// asked from, so that a broken store fails the test instead of looping.
type checkedLog struct{ projections.Log }

func (l checkedLog) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	recs, err := l.Log.ReadAll(ctx, after, limit)
	for _, r := range recs {
		if !after.Less(r.Position) {
			return nil, fmt.Errorf("event store returned %s reading after %s", r.Position, after)
		}
	}
	return recs, err
}

// runnerFor returns a runner of reducers over w's log into docs.
func (w *world) runnerFor(t *testing.T, docs DocStoreAll, batch int, reducers ...projections.Reducer) *projector.Runner {
	t.Helper()
	r, err := projector.NewRunner(projector.RunnerConfig{
		Log: checkedLog{w.log}, Docs: docs, Gens: docs, Registry: w.reg, Reducers: reducers, Locker: docs, BatchSize: batch,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// MustProject catches every reducer up with w's log, in batches of batch
// events, into the live generation of its projection, and returns the
// queries over docs.
func (w *world) MustProject(t *testing.T, docs DocStoreAll, batch int, reducers ...projections.Reducer) *projections.Queries {
	t.Helper()
	ctx := context.Background()
	r := w.runnerFor(t, docs, batch, reducers...)
	for _, red := range reducers {
		g, err := docs.Generations(ctx, red.Name())
		if err != nil {
			t.Fatal(err)
		}
		if g.Live == 0 {
			g.Live = 1
			if err := docs.SetGenerations(ctx, red.Name(), g); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.CatchUp(ctx, red, projections.Namespace(red.Name(), g.Live), nil); err != nil {
			t.Fatalf("catch up %s: %v", red.Name(), err)
		}
	}
	return projections.NewQueries(docs, docs, w.log, w.reg, paris)
}

// collections is implemented by the reducers of this package: the
// collections they write.
type collections interface{ Collections() []string }

// MustDump returns every document of a namespace, "coll/key" -> JSON.
func MustDump(t *testing.T, docs projections.DocStore, red projections.Reducer, ns string) map[string]string {
	t.Helper()
	c, ok := red.(collections)
	if !ok {
		t.Fatalf("%s does not list its collections", red.Name())
	}
	out := map[string]string{}
	r := docs.Reader(ns)
	for _, coll := range c.Collections() {
		err := r.Scan(context.Background(), coll, "", "", func(key string, doc []byte) error {
			out[coll+"/"+key] = string(doc)
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s %s: %v", ns, coll, err)
		}
	}
	return out
}

// mustEqualJSON compares values by their JSON encodings (what the HTTP
// layer serves), showing both on failure.
func mustEqualJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n%s", what, lineDiff(string(g), string(w)))
	}
}

// lineDiff shows got and want side by side from the first differing line.
func lineDiff(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	from := max(i-3, 0)
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d\n--- got\n", i+1)
	for _, l := range gl[from:min(len(gl), i+12)] {
		b.WriteString(l + "\n")
	}
	b.WriteString("--- want\n")
	for _, l := range wl[from:min(len(wl), i+12)] {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// mustOK fails the test on err.
// mustItems returns the items of a page, failing the test on an error.
func mustItems[T any](t *testing.T) func(projections.List[T], error) []T {
	return func(l projections.List[T], err error) []T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
}

func mustOK[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// The school every test of this package's read models starts from: two
// establishments, a class and a Latin group with their timetable, a
// fortnight of school life and homework, seen on Monday 13 March 2006 at
// 10:30 in Paris.
const (
	uaiLycee   = "0750001A"
	uaiCollege = "0130001B"
)

var (
	// now is the moment the tests look at the school.
	now   = at("2006-03-13 10:30")
	today = domain.MustDate("2006-03-13")

	alice, bruno, chloe      = id("alice"), id("bruno"), id("chloe")
	mother                   = id("mother")
	durand, leroy, moreau    = id("durand"), id("leroy"), id("moreau")
	head, inspector          = id("head"), id("inspector")
	class2A, latin, class6B  = id("2A"), id("latin"), id("6B")
	eMath, eFrench, eLatin   = id("entry-math"), id("entry-french"), id("entry-latin")
	eTuesday, eOld, eDropped = id("entry-tuesday"), id("entry-old"), id("entry-dropped")
	e6B                      = id("entry-6B")

	slot8, slot9, slot10, slot14 = domain.Slot{Start: "08:00", End: "08:55"}, domain.Slot{Start: "09:00", End: "09:55"},
		domain.Slot{Start: "10:00", End: "10:55"}, domain.Slot{Start: "14:00", End: "14:55"}

	schoolYear = [2]domain.Date{domain.MustDate("2005-09-01"), domain.MustDate("2006-06-30")}
)

// lesson returns the id of group's lesson on date at slot.
func lesson(group uuid.UUID, date string, slot domain.Slot) uuid.UUID {
	return domain.LessonID(group, domain.MustDate(date), slot)
}

// absence returns the id of student's absence from a lesson.
func absence(group uuid.UUID, date string, slot domain.Slot, student uuid.UUID) uuid.UUID {
	return domain.AbsenceID(lesson(group, date, slot), student)
}

// Absences of the school, named after their story.
var (
	absLastYear  = absence(class2A, "2005-06-10", slot8, alice)  // refused
	absJustified = absence(class2A, "2006-03-06", slot8, alice)  // declared, justified
	absDeclared  = absence(class2A, "2006-03-06", slot10, alice) // declared, refused, declared again
	absBruno     = absence(class2A, "2006-03-07", slot9, bruno)  // unjustified
	absCancelled = absence(class2A, "2006-03-07", slot9, alice)  // cancelled
	absToday     = absence(class2A, "2006-03-13", slot8, alice)  // unjustified, today
	absCollege   = absence(class6B, "2006-03-13", slot8, chloe)  // other establishment
)

// Homework of the school.
var (
	hwExercises = id("hw-exercises") // amended, done by bruno
	hwReading   = id("hw-reading")   // moved from the 15th to the 20th
	hwWithdrawn = id("hw-withdrawn")
	hwRosa      = id("hw-rosa") // due today, done by alice
	hwPast      = id("hw-past") // due last week
)

func teacherOf(uai string, who uuid.UUID) actor {
	return actor{id: who, profile: domain.ProfileTeacher, uai: uai}
}

// school writes the school's history.
func school(t *testing.T) *world {
	w := newWorld(t)
	sys, sys2 := system(uaiLycee), system(uaiCollege)
	byDurand, byLeroy := teacherOf(uaiLycee, durand), teacherOf(uaiLycee, leroy)
	byHead := actor{id: head, profile: domain.ProfilePersonnel, uai: uaiLycee}
	byMother := actor{id: mother, profile: domain.ProfileRelative, uai: uaiLycee}
	byAlice := actor{id: alice, profile: domain.ProfileStudent, uai: uaiLycee}
	byBruno := actor{id: bruno, profile: domain.ProfileStudent, uai: uaiLycee}

	// Directory.
	w.emit(sys, domain.EstablishmentStream(uaiLycee), domain.EstablishmentRegistered{
		UAI: uaiLycee, Name: "Lycée Charlemagne", Kind: domain.KindLycee, Departement: "75", Reasons: domain.DefaultReasons()})
	w.emit(sys2, domain.EstablishmentStream(uaiCollege), domain.EstablishmentRegistered{
		UAI: uaiCollege, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13", Reasons: domain.DefaultReasons()[:2]})
	open := func(a actor, acc uuid.UUID, p domain.Profile, f domain.Function, ext, name string) {
		w.emit(a, domain.AccountStream(acc), domain.AccountOpened{
			Account: acc, Establishment: a.uai, Profile: p, Function: f, ExternalID: ext, DisplayName: name})
	}
	open(sys, alice, domain.ProfileStudent, "", "S-ALICE", "Alice Martin")
	open(sys, bruno, domain.ProfileStudent, "", "S-BRUNO", "Bruno Petit")
	open(sys2, chloe, domain.ProfileStudent, "", "", "Chloé Roux")
	open(sys, mother, domain.ProfileRelative, "", "R-MARTIN", "Claire Martin")
	open(sys, durand, domain.ProfileTeacher, "", "T-DURAND", "Paul Durand")
	open(sys, leroy, domain.ProfileTeacher, "", "", "Anne Leroy")
	open(sys2, moreau, domain.ProfileTeacher, "", "", "Luc Moreau")
	open(sys, head, domain.ProfilePersonnel, domain.FunctionHead, "", "Hélène Proviseur")
	w.emit(system(""), domain.AccountStream(inspector), domain.AccountOpened{
		Account: inspector, Profile: domain.ProfileInspector, DisplayName: "Inspecteur Vie Scolaire"})
	w.emit(system(""), domain.AccountStream(inspector), domain.InspectorHabilitated{Account: inspector, Establishments: []string{uaiLycee, uaiCollege}})
	w.emit(byDurand, domain.AccountStream(durand), domain.AccountActivated{Account: durand})
	w.emit(sys, domain.AccountStream(alice), domain.RelativeLinked{Student: alice, Relative: mother, LegalGuardian: true})
	w.emit(sys, domain.AccountStream(bruno), domain.RelativeLinked{Student: bruno, Relative: mother})
	w.emit(sys, domain.AccountStream(bruno), domain.RelativeUnlinked{Student: bruno, Relative: mother})

	w.emit(sys, domain.GroupStream(class2A), domain.GroupCreated{Group: class2A, Establishment: uaiLycee, Kind: domain.GroupClass, Name: "2nde A"})
	w.emit(sys, domain.GroupStream(latin), domain.GroupCreated{Group: latin, Establishment: uaiLycee, Kind: domain.GroupTeaching, Name: "Latin 2nde"})
	w.emit(sys2, domain.GroupStream(class6B), domain.GroupCreated{Group: class6B, Establishment: uaiCollege, Kind: domain.GroupClass, Name: "6e B"})
	join := func(a actor, g, acc uuid.UUID, r domain.Role, subject string) {
		w.emit(a, domain.GroupStream(g), domain.MemberJoined{Group: g, Account: acc, Role: r, Subject: subject})
	}
	join(sys, class2A, alice, domain.RoleStudent, "")
	join(sys, class2A, bruno, domain.RoleStudent, "")
	join(sys, class2A, durand, domain.RoleTeacher, "maths")
	join(sys, class2A, leroy, domain.RoleTeacher, "francais")
	join(sys, class2A, leroy, domain.RoleHeadTeacher, "")
	join(sys, latin, alice, domain.RoleStudent, "")
	join(sys, latin, bruno, domain.RoleStudent, "")
	join(sys, latin, durand, domain.RoleTeacher, "latin")
	join(sys2, class6B, chloe, domain.RoleStudent, "")
	join(sys2, class6B, moreau, domain.RoleTeacher, "maths")
	w.emit(sys, domain.GroupStream(latin), domain.MemberLeft{Group: latin, Account: bruno, Role: domain.RoleStudent})

	schedule := func(a actor, g, entry uuid.UUID, d time.Weekday, s domain.Slot, subject string, teacher uuid.UUID, from, until domain.Date) {
		w.emit(a, domain.GroupStream(g), domain.LessonScheduled{
			Group: g, Entry: entry, Weekday: d, Slot: s, Subject: subject, Teacher: teacher, From: from, Until: until})
	}
	schedule(sys, class2A, eMath, time.Monday, slot8, "maths", durand, schoolYear[0], schoolYear[1])
	schedule(sys, class2A, eFrench, time.Monday, slot10, "francais", leroy, schoolYear[0], schoolYear[1])
	schedule(sys, latin, eLatin, time.Monday, slot14, "latin", durand, schoolYear[0], schoolYear[1])
	schedule(sys, class2A, eTuesday, time.Tuesday, slot9, "maths", durand, schoolYear[0], schoolYear[1])
	schedule(sys, class2A, eOld, time.Monday, slot9, "histoire", leroy, schoolYear[0], domain.MustDate("2006-01-31"))
	schedule(sys, class2A, eDropped, time.Monday, slot9, "svt", durand, domain.MustDate("2006-02-01"), schoolYear[1])
	schedule(sys2, class6B, e6B, time.Monday, slot8, "maths", moreau, schoolYear[0], schoolYear[1])
	w.emit(sys, domain.GroupStream(class2A), domain.LessonUnscheduled{Group: class2A, Entry: eDropped})

	// School life.
	rollCall := func(a actor, g uuid.UUID, date string, s domain.Slot, subject string, absent []uuid.UUID, late map[uuid.UUID]int) {
		d := domain.MustDate(date)
		l := domain.LessonID(g, d, s)
		events := []domain.Event{domain.RollCallCompleted{
			Lesson: l, Group: g, Date: d, Slot: s, Subject: subject, Teacher: a.id, Absent: len(absent), Late: len(late)}}
		for _, st := range absent {
			events = append(events, domain.AbsenceRecorded{
				Absence: domain.AbsenceID(l, st), Lesson: l, Student: st, Group: g, Date: d, Slot: s, Subject: subject})
		}
		for st, m := range late {
			events = append(events, domain.LatenessRecorded{Lesson: l, Student: st, Group: g, Date: d, Slot: s, Subject: subject, Minutes: m})
		}
		w.emit(a, domain.LessonStream(l), events...)
	}
	onAbsence := func(a actor, g uuid.UUID, date string, s domain.Slot, e domain.Event) {
		w.emit(a, domain.LessonStream(lesson(g, date, s)), e)
	}
	rollCall(byDurand, class2A, "2005-06-10", slot8, "maths", []uuid.UUID{alice}, nil)
	w.emit(byHead, domain.LessonStream(lesson(class2A, "2005-06-10", slot8)), domain.JustificationRefused{
		Absence: absLastYear, Lesson: lesson(class2A, "2005-06-10", slot8), Student: alice, ReasonCode: "convenance"})

	rollCall(byDurand, class2A, "2006-03-06", slot8, "maths", []uuid.UUID{alice}, nil)
	l := lesson(class2A, "2006-03-06", slot8)
	onAbsence(byMother, class2A, "2006-03-06", slot8, domain.AbsenceReasonDeclared{
		Absence: absJustified, Lesson: l, Student: alice, Relative: mother, Reason: "Malade, certificat joint"})
	onAbsence(byHead, class2A, "2006-03-06", slot8, domain.JustificationAccepted{
		Absence: absJustified, Lesson: l, Student: alice, ReasonCode: "maladie", Comment: "certificat vu"})

	rollCall(byLeroy, class2A, "2006-03-06", slot10, "francais", []uuid.UUID{alice}, nil)
	l = lesson(class2A, "2006-03-06", slot10)
	onAbsence(byMother, class2A, "2006-03-06", slot10, domain.AbsenceReasonDeclared{
		Absence: absDeclared, Lesson: l, Student: alice, Relative: mother, Reason: "Panne de réveil"})
	onAbsence(byHead, class2A, "2006-03-06", slot10, domain.JustificationRefused{
		Absence: absDeclared, Lesson: l, Student: alice, ReasonCode: "convenance", Comment: "non"})
	onAbsence(byMother, class2A, "2006-03-06", slot10, domain.AbsenceReasonDeclared{
		Absence: absDeclared, Lesson: l, Student: alice, Relative: mother, Reason: "Grève des transports"})

	rollCall(byDurand, class2A, "2006-03-07", slot9, "maths", []uuid.UUID{bruno, alice}, nil)
	onAbsence(byDurand, class2A, "2006-03-07", slot9, domain.AbsenceCancelled{
		Absence: absCancelled, Lesson: lesson(class2A, "2006-03-07", slot9), Student: alice, Reason: "erreur de saisie"})

	rollCall(byDurand, class2A, "2006-03-10", slot8, "anglais", nil, map[uuid.UUID]int{alice: 5})

	// Today: maths called twice (the second adds nobody), French not
	// called yet, Latin not started.
	rollCall(byDurand, class2A, "2006-03-13", slot8, "maths", []uuid.UUID{alice}, map[uuid.UUID]int{bruno: 10})
	rollCall(byDurand, class2A, "2006-03-13", slot8, "maths", nil, nil)
	rollCall(teacherOf(uaiCollege, moreau), class6B, "2006-03-13", slot8, "maths", []uuid.UUID{chloe}, nil)

	// Discipline.
	w.emit(byDurand, domain.DisciplineStream(alice), domain.PunishmentGiven{
		Punishment: id("retenue"), Student: alice, Group: class2A, Kind: domain.PunishmentDetention,
		Date: domain.MustDate("2006-03-08"), Reason: "bavardages répétés"})
	w.emit(byHead, domain.IncidentStream(id("fight")), domain.IncidentReported{
		Incident: id("fight"), Establishment: uaiLycee, OccurredAt: at("2006-03-09 15:30"), Place: "cour",
		Seriousness: domain.SeriousnessSerious, Description: "bousculade",
		Protagonists: []domain.Protagonist{
			{Account: alice, Role: domain.ProtagonistAuthor}, {Account: bruno, Role: domain.ProtagonistVictim},
			{Account: durand, Role: domain.ProtagonistWitness}}})
	w.emit(byHead, domain.DisciplineStream(alice), domain.SanctionPronounced{
		Sanction: id("warning"), Student: alice, Kind: domain.SanctionWarning, Date: domain.MustDate("2006-03-09"),
		Incident: id("fight"), Reason: "bousculade dans la cour"})
	w.emit(byHead, domain.DisciplineStream(alice), domain.SanctionPronounced{
		Sanction: id("blame"), Student: alice, Kind: domain.SanctionReprimand, Date: domain.MustDate("2006-03-10"), Reason: "insolence"})
	w.emit(byHead, domain.DisciplineStream(alice), domain.SanctionAnnulled{Sanction: id("blame"), Student: alice, Reason: "élève confondue"})
	// Half past midnight in Paris on the 13th is the 12th in UTC.
	w.emit(byHead, domain.IncidentStream(id("night")), domain.IncidentReported{
		Incident: id("night"), Establishment: uaiLycee, OccurredAt: at("2006-03-13 00:30"), Place: "internat",
		Seriousness: domain.SeriousnessMinor, Description: "tapage",
		Protagonists: []domain.Protagonist{{Account: alice, Role: domain.ProtagonistWitness}}})

	// Cahier de textes.
	content := func(a actor, g uuid.UUID, date string, s domain.Slot, subject, text string) {
		d := domain.MustDate(date)
		w.emit(a, domain.LessonStream(domain.LessonID(g, d, s)), domain.LessonContentRecorded{
			Lesson: domain.LessonID(g, d, s), Group: g, Date: d, Slot: s, Subject: subject, Content: text})
	}
	content(byDurand, class2A, "2006-03-06", slot8, "maths", "Fonctions affines")
	content(byDurand, class2A, "2006-03-06", slot8, "maths", "Fonctions affines (suite)")
	content(byDurand, latin, "2006-03-06", slot14, "latin", "Rosa, rosae")
	content(byDurand, class2A, "2006-03-13", slot8, "maths", "Vecteurs")
	assign := func(a actor, hw, g uuid.UUID, subject, given, due, text string, minutes int) {
		w.emit(a, domain.HomeworkStream(hw), domain.HomeworkAssigned{
			Homework: hw, Group: g, Subject: subject, Given: domain.MustDate(given), Due: domain.MustDate(due),
			Instructions: text, WorkloadMinutes: minutes})
	}
	assign(byDurand, hwPast, class2A, "maths", "2006-03-01", "2006-03-08", "Exercices 5 à 8", 30)
	assign(byDurand, hwExercises, class2A, "maths", "2006-03-06", "2006-03-14", "Exercice 1 p. 12", 30)
	assign(byLeroy, hwReading, class2A, "francais", "2006-03-06", "2006-03-15", "Lire le chapitre 1", 60)
	assign(byDurand, hwWithdrawn, class2A, "maths", "2006-03-06", "2006-03-16", "Devoir maison", 120)
	assign(byDurand, hwRosa, latin, "latin", "2006-03-06", "2006-03-13", "Décliner rosa", 20)
	w.emit(byDurand, domain.HomeworkStream(hwExercises), domain.HomeworkAmended{
		Homework: hwExercises, Group: class2A, Due: domain.MustDate("2006-03-14"), Instructions: "Exercices 1 et 2 p. 12", WorkloadMinutes: 45})
	w.emit(byLeroy, domain.HomeworkStream(hwReading), domain.HomeworkAmended{
		Homework: hwReading, Group: class2A, Due: domain.MustDate("2006-03-20"), Instructions: "Lire les chapitres 1 et 2", WorkloadMinutes: 90})
	w.emit(byDurand, domain.HomeworkStream(hwWithdrawn), domain.HomeworkWithdrawn{Homework: hwWithdrawn, Group: class2A})
	w.emit(byBruno, domain.HomeworkStream(hwExercises), domain.HomeworkDone{Homework: hwExercises, Group: class2A, Student: bruno})
	w.emit(byAlice, domain.HomeworkStream(hwRosa), domain.HomeworkDone{Homework: hwRosa, Group: latin, Student: alice})
	w.emit(byAlice, domain.HomeworkStream(hwPast), domain.HomeworkDone{Homework: hwPast, Group: class2A, Student: alice})
	w.emit(byBruno, domain.HomeworkStream(hwPast), domain.HomeworkDone{Homework: hwPast, Group: class2A, Student: bruno})

	// Alice's name is corrected last: every copy and every join shows the
	// new one.
	w.emit(sys, domain.AccountStream(alice), domain.AccountUpdated{Account: alice, Establishment: uaiLycee, DisplayName: "Alice Martin-Dupont"})
	return w
}

// Applying the school's history in batches of 1, 3 or 512 events writes the
// same documents: reducers read back what earlier batches wrote exactly as
// they read their own writes within a batch.
func TestPortalBatchSizes(t *testing.T) {
	w := school(t)
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		for _, red := range allReducers() {
			var want map[string]string
			for i, size := range []int{512, 3, 1} {
				ns := projections.Namespace(red.Name(), 100+i)
				if _, err := w.runnerFor(t, docs, size, red).CatchUp(ctx, red, ns, nil); err != nil {
					t.Fatalf("%s in batches of %d: %v", red.Name(), size, err)
				}
				got := MustDump(t, docs, red, ns)
				if i == 0 {
					if len(got) == 0 {
						t.Fatalf("%s wrote nothing", red.Name())
					}
					want = got
					continue
				}
				mustEqualJSON(t, fmt.Sprintf("%s in batches of %d", red.Name(), size), got, want)
			}
		}
	})
}

// portalAnswers asks the portal's questions about the school.
func portalAnswers(t *testing.T, q *projections.Queries) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	ask := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
	v1, err := q.Establishments(ctx)
	ask("establishments", v1, err)
	for _, a := range []uuid.UUID{alice, mother, durand, leroy} {
		v, err := q.Account(ctx, a)
		ask("account "+a.String(), v, err)
	}
	for _, g := range []uuid.UUID{class2A, latin} {
		v, err := q.Group(ctx, g)
		ask("group "+g.String(), v, err)
		tb, err := q.Textbook(ctx, g, domain.Date{}, domain.Date{})
		ask("textbook "+g.String(), tb, err)
	}
	v2, err := q.GroupsOfEstablishment(ctx, uaiLycee)
	ask("groups of establishment", v2, err)
	for _, s := range []uuid.UUID{alice, bruno} {
		v, err := q.StudentFile(ctx, s, domain.Date{}, domain.Date{})
		ask("file "+s.String(), v, err)
	}
	for _, when := range []time.Time{now, at("2006-03-13 16:00")} {
		v, err := q.Office(ctx, uaiLycee, when, projections.Page{})
		ask("office "+when.String(), v, err)
	}
	v3, err := q.Homework(ctx, []uuid.UUID{class2A, latin}, domain.Date{}, domain.Date{}, projections.Page{})
	ask("homework", v3, err)
	v4, err := q.TeacherView(ctx, durand, now)
	ask("teacher view", v4, err)
	v5, err := q.StudentView(ctx, alice, now)
	ask("student view", v5, err)
	return out
}

// Rebuilding each projection beside the live one and swapping it in gives
// the same answers, and drops the old generation.
func TestPortalRebuildEqualsLive(t *testing.T) {
	w := school(t)
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		reducers := allReducers()
		q := w.MustProject(t, docs, 7, reducers...)
		live := portalAnswers(t, q)
		dumps := map[string]map[string]string{}
		for _, red := range reducers {
			dumps[red.Name()] = MustDump(t, docs, red, projections.Namespace(red.Name(), 1))
		}
		r := w.runnerFor(t, docs, 512, reducers...)
		for _, red := range reducers {
			if err := r.Rebuild(ctx, red.Name(), nil); err != nil {
				t.Fatalf("rebuild %s: %v", red.Name(), err)
			}
			g, err := docs.Generations(ctx, red.Name())
			if err != nil {
				t.Fatal(err)
			}
			if g != (projections.Generations{Live: 2}) {
				t.Errorf("%s generations after rebuild: %+v", red.Name(), g)
			}
			mustEqualJSON(t, red.Name()+" rebuilt documents", MustDump(t, docs, red, projections.Namespace(red.Name(), 2)), dumps[red.Name()])
			if old := MustDump(t, docs, red, projections.Namespace(red.Name(), 1)); len(old) != 0 {
				t.Errorf("%s: %d documents left in the old generation", red.Name(), len(old))
			}
		}
		mustEqualJSON(t, "answers after rebuild", portalAnswers(t, q), live)
	})
}
