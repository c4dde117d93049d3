package simulation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the simulation runs in Europe/Paris whatever the host's zone files

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/simulation"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// testScale keeps a run to about 7,000 events, a second or so.
const testScale = 0.005

// run is one simulation on a fresh in-memory store.
type run struct {
	store    *memory.Store
	reg      *domain.Registry
	summary  simulation.Summary
	progress []simulation.Progress
}

// runs caches the runs the tests share (tests of this package do not run
// in parallel).
var runs = struct {
	sync.Mutex
	m map[simulation.Config]run
}{m: make(map[simulation.Config]run)}

// MustRun runs the simulation on a fresh in-memory store, or returns the
// run already made with the same configuration.
func MustRun(t testing.TB, cfg simulation.Config) run {
	t.Helper()
	runs.Lock()
	defer runs.Unlock()
	if r, ok := runs.m[cfg]; ok {
		return r
	}
	r := run{store: memory.New(), reg: domain.NewRegistry()}
	factory := func(now func() time.Time) (*commands.Handlers, error) {
		return commands.New(commands.Config{Store: r.store, Registry: r.reg, Now: now})
	}
	var mu sync.Mutex
	sum, err := simulation.Run(context.Background(), factory, cfg, func(p simulation.Progress) {
		mu.Lock()
		defer mu.Unlock()
		r.progress = append(r.progress, p)
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	r.summary = sum
	runs.m[cfg] = r
	return r
}

// MustReadAll returns the whole log.
func MustReadAll(t testing.TB, s *memory.Store) []domain.Record {
	t.Helper()
	recs, err := s.ReadAll(context.Background(), domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// MustNoFailure fails the test if a command of the run was refused.
func MustNoFailure(t testing.TB, r run) {
	t.Helper()
	if r.summary.Failures != 0 {
		t.Fatalf("%d commands failed, first ones:\n%s", r.summary.Failures, strings.Join(r.summary.FailureSamples, "\n"))
	}
}

// products maps UAI codes to products.
func products() map[string]simulation.Product {
	m := make(map[string]simulation.Product)
	for _, e := range simulation.Establishments() {
		m[e.UAI] = e.Product
	}
	return m
}

// countQuotas counts the quota-driven events of a log per product, by
// their type and the establishment of their metadata.
func countQuotas(t testing.TB, reg *domain.Registry, recs []domain.Record) map[simulation.Product]simulation.Quotas {
	t.Helper()
	byUAI := products()
	out := make(map[simulation.Product]*simulation.Quotas)
	for _, p := range simulation.Products {
		out[p] = &simulation.Quotas{}
	}
	for _, r := range recs {
		p, ok := byUAI[r.Metadata.Establishment]
		if !ok {
			continue
		}
		q := out[p]
		e, err := reg.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		switch e := e.(type) {
		case domain.AccountOpened:
			q.Accounts++
		case domain.GroupCreated:
			q.Groups++
		case domain.UserConnected:
			switch e.Profile {
			case domain.ProfileStudent:
				q.Connections.Student++
			case domain.ProfileTeacher:
				q.Connections.Teacher++
			case domain.ProfileRelative:
				q.Connections.Relative++
			case domain.ProfilePersonnel:
				q.Connections.Personnel++
			case domain.ProfileGuest:
				q.Connections.Guest++
			default:
				t.Errorf("connection of a %s", e.Profile)
			}
		case domain.AbsenceRecorded:
			q.Acts.Absences++
		case domain.LatenessRecorded:
			q.Acts.Lateness++
		case domain.PunishmentGiven:
			q.Acts.Punishments++
		case domain.SanctionPronounced:
			q.Acts.Sanctions++
		case domain.IncidentReported:
			q.Acts.Incidents++
		case domain.MessageSent:
			q.Messages++
		case domain.ArticlePublished:
			q.Contributions++
		case domain.HomeworkAssigned:
			q.Homework++
		case domain.BookingRequested:
			q.Bookings++
		}
	}
	plain := make(map[simulation.Product]simulation.Quotas)
	for p, q := range out {
		plain[p] = *q
	}
	return plain
}

// planned returns the plan's quotas of product p.
func planned(t testing.TB, plan *simulation.Plan, p simulation.Product) simulation.Quotas {
	t.Helper()
	for _, pp := range plan.Products {
		if pp.Product == p {
			return pp.Quotas
		}
	}
	t.Fatalf("no plan for %s", p)
	return simulation.Quotas{}
}

func scaled(n int, f float64) int { return int(math.Round(float64(n) * f)) }

// TestQuotas: no command fails, and the log holds, per product, exactly the
// scaled quotas of each kind of event.
func TestQuotas(t *testing.T) {
	r := MustRun(t, simulation.Config{Scale: testScale, Seed: 7, Workers: 3})
	MustNoFailure(t, r)
	recs := MustReadAll(t, r.store)
	if len(recs) != r.summary.EventsTotal {
		t.Errorf("the log holds %d events, the summary counts %d", len(recs), r.summary.EventsTotal)
	}
	got := countQuotas(t, r.reg, recs)
	for _, p := range simulation.Products {
		want := planned(t, r.summary.Plan, p)
		if got[p] != want {
			t.Errorf("%s: the log has\n%+v\nthe plan\n%+v", p, got[p], want)
		}
		report := simulation.ReportQuotas(p)
		for name, pair := range map[string][2]int{
			"accounts":      {want.Accounts, report.Accounts},
			"groups":        {want.Groups, report.Groups},
			"connections":   {want.Connections.Total(), report.Connections.Total()},
			"acts":          {want.Acts.Total(), report.Acts.Total()},
			"messages":      {want.Messages, report.Messages},
			"contributions": {want.Contributions, report.Contributions},
			"homework":      {want.Homework, report.Homework},
			"bookings":      {want.Bookings, report.Bookings},
		} {
			if pair[0] != scaled(pair[1], testScale) {
				t.Errorf("%s: %d %s planned, want %d × %g rounded", p, pair[0], name, pair[1], testScale)
			}
		}
	}
	for _, pp := range r.summary.Produced {
		if want := planned(t, r.summary.Plan, pp.Product); pp.Quotas != want {
			t.Errorf("%s: the summary counts %+v, the plan %+v", pp.Product, pp.Quotas, want)
		}
	}
}

// TestConnectionShares: Scolastance's connections are 39 % students, 20 %
// teachers, 10 % relatives, in the plan at scale 1 exactly and in the log
// at a small scale up to rounding.
func TestConnectionShares(t *testing.T) {
	plan, err := simulation.NewPlan(simulation.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[domain.Profile]float64{domain.ProfileStudent: 39, domain.ProfileTeacher: 20, domain.ProfileRelative: 10}
	c := planned(t, plan, simulation.Scolastance).Connections
	for p, share := range want {
		if got := c.Share(p); got != share {
			t.Errorf("scale 1: %s share %.3f %%, want %g %%", p, got, share)
		}
	}
	if got := c.Share(domain.ProfilePersonnel) + c.Share(domain.ProfileGuest); got != 31 {
		t.Errorf("scale 1: personnel and guests share %.3f %%, want 31 %%", got)
	}

	r := MustRun(t, simulation.Config{Scale: testScale, Seed: 7, Workers: 3})
	MustNoFailure(t, r)
	got := countQuotas(t, r.reg, MustReadAll(t, r.store))[simulation.Scolastance].Connections
	if got.Total() != scaled(112000, testScale) {
		t.Errorf("%d connections, want %d", got.Total(), scaled(112000, testScale))
	}
	for p, share := range want {
		// Splitting a few hundred connections moves a share by less than
		// one connection.
		if s := got.Share(p); math.Abs(s-share) > 100/float64(got.Total()) {
			t.Errorf("%s share %.2f %%, want %g %%", p, s, share)
		}
	}
}

// TestPlanAtScaleOne: the plan reproduces the report's figures exactly and
// its splits add up: products = sum of establishments = sum of months.
func TestPlanAtScaleOne(t *testing.T) {
	plan, err := simulation.NewPlan(simulation.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := planned(t, plan, simulation.Scolastance)
	k := planned(t, plan, simulation.Kdecole)
	checks := []struct {
		name      string
		got, want int
	}{
		{"Scolastance accounts", s.Accounts, 17321},
		{"Scolastance groups", s.Groups, 612},
		{"Scolastance connections", s.Connections.Total(), 112000},
		{"Scolastance acts", s.Acts.Total(), 280000},
		{"Scolastance messages", s.Messages, 175000},
		{"K-d'école accounts", k.Accounts, 6091},
		{"K-d'école connections", k.Connections.Total(), 85000},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if k.Contributions < 1000 {
		t.Errorf("K-d'école contributions: %d, want more than 1,000", k.Contributions)
	}
	sums := make(map[simulation.Product]*simulation.Quotas)
	for _, e := range plan.Establishments {
		if sums[e.Product] == nil {
			sums[e.Product] = &simulation.Quotas{}
		}
		sums[e.Product].Add(e.Quotas)
		var months simulation.Quotas
		for i, m := range e.Monthly {
			months.Add(m)
			if !monthWithin(plan.Months[i], e.From, e.To) && m != (simulation.Quotas{}) {
				t.Errorf("%s: quotas in %s, outside its product's period", e.Name, plan.Months[i])
			}
		}
		if months != e.Quotas {
			t.Errorf("%s: months add up to %+v, not %+v", e.Name, months, e.Quotas)
		}
		if e.Students+e.Relatives+e.Teachers+e.Personnel+e.Guests != e.Quotas.Accounts || e.Classes+e.TeachingGroups != e.Quotas.Groups {
			t.Errorf("%s: directory %+v does not match its quotas", e.Name, e)
		}
	}
	for _, pp := range plan.Products {
		if *sums[pp.Product] != pp.Quotas {
			t.Errorf("%s: establishments add up to %+v, not %+v", pp.Product, *sums[pp.Product], pp.Quotas)
		}
	}
}

func monthWithin(m simulation.Month, from, to domain.Date) bool {
	k := m.Year*12 + int(m.Month)
	return k >= from.Year*12+int(from.Month) && k <= to.Year*12+int(to.Month)
}

// TestEstablishments: ten establishments, five lycées and five collèges,
// in four départements, with UAI codes of their département and a valid
// check letter.
func TestEstablishments(t *testing.T) {
	ests := simulation.Establishments()
	kinds := map[domain.EstablishmentKind]int{}
	deps := map[string]bool{}
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	for _, e := range ests {
		kinds[e.Kind]++
		deps[e.Departement] = true
		if !domain.ValidUAI(e.UAI) || e.UAI[:3] != "0"+e.Departement {
			t.Errorf("%s: UAI %s is not one of département %s", e.Name, e.UAI, e.Departement)
		}
		n, _ := strconv.Atoi(e.UAI[:7])
		if e.UAI[7] != letters[n%23] {
			t.Errorf("%s: UAI %s has check letter %c, want %c", e.Name, e.UAI, e.UAI[7], letters[n%23])
		}
	}
	if len(ests) != 10 || kinds[domain.KindLycee] != 5 || kinds[domain.KindCollege] != 5 || len(deps) != 4 {
		t.Errorf("%d establishments, %v, départements %v", len(ests), kinds, deps)
	}
}

// eventKey is an event without its position: what two runs with the same
// seed must agree on.
func eventKey(t testing.TB, r domain.Record) string {
	t.Helper()
	md, err := json.Marshal(r.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s %s %d %s %s %s", r.ID, r.Stream, r.Version, r.Type, r.Data, md)
}

func eventKeys(t testing.TB, recs []domain.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = eventKey(t, r)
	}
	return out
}

// TestDeterministic: the same seed gives the same events (ids, payloads,
// metadata), whatever the number of workers; with one worker, in the same
// global order too.
func TestDeterministic(t *testing.T) {
	cfg := simulation.Config{Scale: testScale, Seed: 7, Workers: 1}
	a := eventKeys(t, MustReadAll(t, MustRun(t, cfg).store))
	// A second run, not the cached one.
	b := eventKeys(t, MustReadAll(t, freshRun(t, cfg).store))
	if !slices.Equal(a, b) {
		t.Errorf("two runs with one worker differ (%d and %d events)", len(a), len(b))
	}
	c := eventKeys(t, MustReadAll(t, MustRun(t, simulation.Config{Scale: testScale, Seed: 7, Workers: 3}).store))
	slices.Sort(a)
	slices.Sort(c)
	if !slices.Equal(a, c) {
		t.Errorf("runs with one and three workers hold different events (%d and %d)", len(a), len(c))
	}
}

// freshRun runs without the cache.
func freshRun(t testing.TB, cfg simulation.Config) run {
	t.Helper()
	store, reg := memory.New(), domain.NewRegistry()
	sum, err := simulation.Run(context.Background(), func(now func() time.Time) (*commands.Handlers, error) {
		return commands.New(commands.Config{Store: store, Registry: reg, Now: now})
	}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run{store: store, reg: reg, summary: sum}
}

// TestSeedChangesHistory: another seed gives another history (other ids,
// other names, other moments) with the same quotas.
func TestSeedChangesHistory(t *testing.T) {
	a := MustRun(t, simulation.Config{Scale: testScale, Seed: 7, Workers: 3})
	b := MustRun(t, simulation.Config{Scale: testScale, Seed: 8, Workers: 3})
	MustNoFailure(t, b)
	ra, rb := MustReadAll(t, a.store), MustReadAll(t, b.store)
	ids := make(map[string]bool)
	for _, r := range ra {
		ids[r.ID.String()] = true
	}
	shared := 0
	for _, r := range rb {
		if ids[r.ID.String()] {
			shared++
		}
	}
	if shared != 0 {
		t.Errorf("%d event ids shared by two seeds", shared)
	}
	payloads := func(recs []domain.Record, typ string) []string {
		var out []string
		for _, r := range recs {
			if r.Type == typ {
				out = append(out, string(r.Data))
			}
		}
		slices.Sort(out)
		return out
	}
	if slices.Equal(payloads(ra, "account.opened.v1"), payloads(rb, "account.opened.v1")) {
		t.Error("two seeds open the same accounts")
	}
	if countQuotas(t, a.reg, ra)[simulation.Scolastance] != countQuotas(t, b.reg, rb)[simulation.Scolastance] {
		t.Error("two seeds give different quotas")
	}
}

// TestCalendar: lessons are held when the calendar says: roll calls at
// lesson starts, never on Sundays, in holidays or on Wednesday afternoons
// in collèges; sign-ins of relatives mostly in the evening.
func TestCalendar(t *testing.T) {
	r := MustRun(t, simulation.Config{Scale: testScale, Seed: 7, Workers: 3})
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	kinds := make(map[string]domain.EstablishmentKind)
	for _, e := range simulation.Establishments() {
		kinds[e.UAI] = e.Kind
	}
	holidays := []struct{ from, to string }{
		{"2005-10-22", "2005-11-02"}, {"2005-12-17", "2006-01-02"}, {"2006-02-18", "2006-03-05"},
		{"2006-04-15", "2006-05-01"}, {"2006-07-04", "2006-09-03"}, {"2006-10-25", "2006-11-05"},
		{"2006-12-23", "2007-01-07"}, {"2007-02-10", "2007-02-25"}, {"2007-04-07", "2007-04-22"},
	}
	starts := map[string]bool{"08:00": true, "09:00": true, "10:00": true, "11:00": true, "13:30": true, "14:30": true, "15:30": true, "16:30": true}
	var calls, evening, relatives int
	for _, rec := range MustReadAll(t, r.store) {
		e, err := r.reg.DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		at := rec.Metadata.Time.In(loc)
		switch e := e.(type) {
		case domain.RollCallCompleted:
			calls++
			day := e.Date.String()
			if !starts[e.Slot.Start] || at.Sub(e.Slot.StartOn(e.Date, loc)) > 15*time.Minute || at.Before(e.Slot.StartOn(e.Date, loc)) {
				t.Errorf("roll call at %s of a lesson at %s %s", at, day, e.Slot.Start)
			}
			wd := e.Date.Weekday()
			if wd == time.Sunday || (kinds[rec.Metadata.Establishment] == domain.KindCollege && (wd == time.Saturday || wd == time.Wednesday && e.Slot.Start > "12:00")) {
				t.Errorf("lesson of a %s on %s %s at %s", kinds[rec.Metadata.Establishment], wd, day, e.Slot.Start)
			}
			for _, h := range holidays {
				if day >= h.from && day <= h.to {
					t.Errorf("lesson on %s, in holidays", day)
				}
			}
		case domain.UserConnected:
			if e.Profile == domain.ProfileRelative {
				relatives++
				if at.Hour() >= 18 {
					evening++
				}
			}
		}
	}
	if calls == 0 {
		t.Fatal("no roll call")
	}
	if relatives == 0 || evening*2 < relatives {
		t.Errorf("%d of %d sign-ins of relatives in the evening, want most", evening, relatives)
	}
}

// TestLessonDay: the calendar the simulation plays, as the demo reads it.
func TestLessonDay(t *testing.T) {
	for _, c := range []struct {
		day  string
		kind domain.EstablishmentKind
		want bool
	}{
		{"2006-01-09", domain.KindCollege, true},  // a Monday
		{"2006-01-14", domain.KindCollege, false}, // Saturday, collège
		{"2006-01-14", domain.KindLycee, true},    // Saturday morning, lycée
		{"2006-01-15", domain.KindLycee, false},   // Sunday
		{"2005-12-20", domain.KindCollege, false}, // Christmas holidays, written out
		{"2006-05-08", domain.KindCollege, false}, // public holiday
		{"2006-08-16", domain.KindCollege, false}, // summer
		{"2026-12-07", domain.KindCollege, true},  // a generic year
		{"2026-12-22", domain.KindCollege, false}, // its Christmas holidays
		{"2026-10-27", domain.KindCollege, false}, // its Toussaint
		{"2027-04-12", domain.KindCollege, false}, // its spring holidays
		{"2027-05-06", domain.KindCollege, false}, // Ascension 2027
		{"2027-06-17", domain.KindLycee, false},   // lycées stop mid-June
		{"2027-06-17", domain.KindCollege, true},  // collèges go on
	} {
		if got := simulation.LessonDay(domain.MustDate(c.day), c.kind); got != c.want {
			t.Errorf("LessonDay(%s, %s) = %v, want %v", c.day, c.kind, got, c.want)
		}
	}
}

// TestProgress: progress is reported and ends with everything done.
func TestProgress(t *testing.T) {
	r := MustRun(t, simulation.Config{Scale: testScale, Seed: 7, Workers: 3})
	if len(r.progress) < 3 {
		t.Fatalf("%d progress reports", len(r.progress))
	}
	last := r.progress[len(r.progress)-1]
	if last.Phase != simulation.PhaseDone || last.Done != r.summary.EventsTotal || last.Total != last.Done {
		t.Errorf("last progress %+v, want done with %d events", last, r.summary.EventsTotal)
	}
	for i := 1; i < len(r.progress); i++ {
		if r.progress[i].Done < r.progress[i-1].Done {
			t.Errorf("progress went back: %+v then %+v", r.progress[i-1], r.progress[i])
		}
	}
}

// TestReplayIndicators: the indicators replayed from the log by the
// evaluators' projection are the plan's quotas.
func TestReplayIndicators(t *testing.T) {
	r := MustRun(t, simulation.Config{Scale: testScale, Seed: 7, Workers: 3})
	MustNoFailure(t, r)
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.summary.Plan.Config
	rows, err := projections.ReplayIndicators(context.Background(), r.store, r.reg, loc, projections.IndicatorQuery{
		From: cfg.From, To: cfg.To, By: projections.LevelEstablishment,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byUAI := products()
	got := make(map[simulation.Product]*projections.IndicatorCounts)
	for _, row := range rows {
		p := byUAI[row.Scope]
		if got[p] == nil {
			got[p] = &projections.IndicatorCounts{}
		}
		c := got[p]
		c.AccountsOpened += row.AccountsOpened
		c.Groups += row.Groups
		c.Connections += row.Connections
		c.ConnectionsStudent += row.ConnectionsStudent
		c.ConnectionsTeacher += row.ConnectionsTeacher
		c.ConnectionsRelative += row.ConnectionsRelative
		c.ConnectionsPersonnel += row.ConnectionsPersonnel
		c.ConnectionsOther += row.ConnectionsOther
		c.Acts += row.Acts
		c.Absences += row.Absences
		c.Lateness += row.Lateness
		c.Punishments += row.Punishments
		c.Sanctions += row.Sanctions
		c.Incidents += row.Incidents
		c.Messages += row.Messages
		c.Contributions += row.Contributions
		c.Homework += row.Homework
	}
	for _, p := range simulation.Products {
		q := planned(t, r.summary.Plan, p)
		want := projections.IndicatorCounts{
			AccountsOpened: int64(q.Accounts), Groups: int64(q.Groups),
			Connections: int64(q.Connections.Total()), ConnectionsStudent: int64(q.Connections.Student),
			ConnectionsTeacher: int64(q.Connections.Teacher), ConnectionsRelative: int64(q.Connections.Relative),
			ConnectionsPersonnel: int64(q.Connections.Personnel), ConnectionsOther: int64(q.Connections.Guest),
			Acts: int64(q.Acts.Total()), Absences: int64(q.Acts.Absences), Lateness: int64(q.Acts.Lateness),
			Punishments: int64(q.Acts.Punishments), Sanctions: int64(q.Acts.Sanctions), Incidents: int64(q.Acts.Incidents),
			Messages: int64(q.Messages), Contributions: int64(q.Contributions), Homework: int64(q.Homework),
		}
		c := got[p]
		if c == nil {
			c = &projections.IndicatorCounts{}
		}
		// Accounts activated are not a quota.
		c.AccountsActivated = 0
		if *c != want {
			t.Errorf("%s: replayed indicators\n%+v\nwant\n%+v", p, *c, want)
		}
	}
}

// TestTooSmall: a scale too small for the establishments' activity is
// refused before anything is written.
func TestTooSmall(t *testing.T) {
	store := memory.New()
	_, err := simulation.Run(context.Background(), func(now func() time.Time) (*commands.Handlers, error) {
		return commands.New(commands.Config{Store: store, Registry: domain.NewRegistry(), Now: now})
	}, simulation.Config{Scale: 0.001}, nil)
	if err == nil {
		t.Fatal("scale 0.001 accepted")
	}
	if recs := MustReadAll(t, store); len(recs) != 0 {
		t.Errorf("%d events written", len(recs))
	}
}

// TestLargeRun runs at LEDGER_SIMULATION_SCALE (skipped when unset), with
// LEDGER_SIMULATION_SEED, on the in-memory store and reports the time and
// the events: for measurements.
func TestLargeRun(t *testing.T) {
	v := os.Getenv("LEDGER_SIMULATION_SCALE")
	if v == "" {
		t.Skip("LEDGER_SIMULATION_SCALE not set")
	}
	scale, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := strconv.ParseInt(os.Getenv("LEDGER_SIMULATION_SEED"), 10, 64)
	r := freshRun(t, simulation.Config{Scale: scale, Seed: seed})
	sum := r.summary
	if sum.Failures != 0 {
		t.Errorf("%d commands failed, first ones:\n%s", sum.Failures, strings.Join(sum.FailureSamples, "\n"))
	}
	got := countQuotas(t, r.reg, MustReadAll(t, r.store))
	for _, pp := range sum.Plan.Products {
		if got[pp.Product] != pp.Quotas {
			t.Errorf("%s: the log has\n%+v\nthe plan\n%+v", pp.Product, got[pp.Product], pp.Quotas)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "scale %g: %d events, %d commands in %s (%.0f events/s)\n", scale, sum.EventsTotal, sum.Commands, sum.Elapsed.Round(time.Millisecond), float64(sum.EventsTotal)/sum.Elapsed.Seconds())
	for _, typ := range sum.EventTypes() {
		fmt.Fprintf(&b, "  %-36s %9d\n", typ, sum.Events[typ])
	}
	t.Log(b.String())
}
