package simulation

import (
	"container/heap"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Event types the simulation counts.
var (
	evEstablishment = domain.EstablishmentRegistered{}.EventType()
	evOpened        = domain.AccountOpened{}.EventType()
	evActivated     = domain.AccountActivated{}.EventType()
	evClosed        = domain.AccountClosed{}.EventType()
	evHabilitated   = domain.InspectorHabilitated{}.EventType()
	evLinked        = domain.RelativeLinked{}.EventType()
	evGroup         = domain.GroupCreated{}.EventType()
	evJoined        = domain.MemberJoined{}.EventType()
	evConnected     = domain.UserConnected{}.EventType()
	evScheduled     = domain.LessonScheduled{}.EventType()
	evRollCall      = domain.RollCallCompleted{}.EventType()
	evAbsence       = domain.AbsenceRecorded{}.EventType()
	evLateness      = domain.LatenessRecorded{}.EventType()
	evCancelled     = domain.AbsenceCancelled{}.EventType()
	evDeclared      = domain.AbsenceReasonDeclared{}.EventType()
	evAccepted      = domain.JustificationAccepted{}.EventType()
	evRefused       = domain.JustificationRefused{}.EventType()
	evIncident      = domain.IncidentReported{}.EventType()
	evPunishment    = domain.PunishmentGiven{}.EventType()
	evSanction      = domain.SanctionPronounced{}.EventType()
	evAnnulled      = domain.SanctionAnnulled{}.EventType()
	evContent       = domain.LessonContentRecorded{}.EventType()
	evHomework      = domain.HomeworkAssigned{}.EventType()
	evHwAmended     = domain.HomeworkAmended{}.EventType()
	evHwWithdrawn   = domain.HomeworkWithdrawn{}.EventType()
	evHwDone        = domain.HomeworkDone{}.EventType()
	evMessage       = domain.MessageSent{}.EventType()
	evRead          = domain.MessageRead{}.EventType()
	evAcked         = domain.MessageAcknowledged{}.EventType()
	evResource      = domain.ResourceRegistered{}.EventType()
	evBooking       = domain.BookingRequested{}.EventType()
	evBkApproved    = domain.BookingApproved{}.EventType()
	evBkRefused     = domain.BookingRefused{}.EventType()
	evBkCancelled   = domain.BookingCancelled{}.EventType()
	evArticle       = domain.ArticlePublished{}.EventType()
	evArtAmended    = domain.ArticleAmended{}.EventType()
	evArtWithdrawn  = domain.ArticleWithdrawn{}.EventType()
)

// action is something that happens at a moment of an establishment's
// history. Actions run in (at, seq) order.
type action struct {
	at  time.Time
	seq uint64
	run func(ctx context.Context) error
}

type queue []*action

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*action)) }
func (q *queue) Pop() any {
	old := *q
	a := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return a
}

// worker runs establishments with one set of handlers and one simulated
// clock, which each command sets before it runs.
type worker struct {
	h   *commands.Handlers
	now time.Time
	rep *reporter
}

// stats are what one establishment's commands did.
type stats struct {
	commands int
	replayed int
	events   map[string]int
	produced Quotas
	failures int
	samples  []string
}

// maxSamples bounds the failures kept for the summary.
const maxSamples = 20

// estSim simulates one establishment.
type estSim struct {
	*estPlan
	w     *worker
	q     queue
	seq   uint64
	n     uint64 // commands issued: the idempotency keys
	stats stats

	activated []bool
	activity  [5]cumulative      // accounts of each profile, by activity
	incidents map[uuid.UUID]bool // reported successfully
	booked    map[bookingSlot]bool
	counter   map[string]int // per kind, for entity ids
}

func newEstSim(p *estPlan) *estSim {
	s := &estSim{
		estPlan: p, stats: stats{events: make(map[string]int)},
		activated: make([]bool, len(p.accounts)), incidents: make(map[uuid.UUID]bool),
		booked: make(map[bookingSlot]bool), counter: make(map[string]int),
	}
	for pi, ids := range p.byProfile {
		w := make([]float64, len(ids))
		for k, i := range ids {
			w[k] = p.accounts[i].activity
		}
		s.activity[pi] = newCumulative(0, w)
	}
	return s
}

// push schedules run at t; actions after the end of the window are dropped.
func (s *estSim) push(t time.Time, run func(ctx context.Context) error) {
	if t.After(s.end()) {
		return
	}
	s.seq++
	heap.Push(&s.q, &action{at: t, seq: s.seq, run: run})
}

// end is the last moment of the window.
func (s *estSim) end() time.Time { return s.at(s.to.AddDays(1), 0, 0).Add(-time.Second) }

// next returns the moment of the next action (ok false when none is left).
func (s *estSim) next() (time.Time, bool) {
	if len(s.q) == 0 {
		return time.Time{}, false
	}
	return s.q[0].at, true
}

// step runs the next action.
func (s *estSim) step(ctx context.Context) error {
	a := heap.Pop(&s.q).(*action)
	return a.run(ctx)
}

// newID returns a fresh id for an entity of kind.
func (s *estSim) newID(kind string) uuid.UUID {
	s.counter[kind]++
	return s.idOf(kind, strconv.Itoa(s.counter[kind]))
}

// system marks a command issued by the ledger itself (imports).
const system = -1

// exec runs one command at t as actor (an account index, or system) and
// counts what it appended; want lists the event types it must append. A
// command refused by a rule is counted as a failure (a bug of the
// simulation: it generates only valid commands); any other error stops the
// run.
func (s *estSim) exec(ctx context.Context, t time.Time, actor int, want []string, do func(req commands.Request) (commands.Result, error)) (bool, error) {
	s.n++
	key := "sim/" + strconv.FormatInt(s.seed, 10) + "/" + s.UAI + "/" + strconv.FormatUint(s.n, 10)
	req := commands.Request{IdempotencyKey: key, CorrelationID: s.idOf("correlation", strconv.FormatUint(s.n, 10))}
	if actor == system {
		req.System = true
	} else {
		req.Actor = s.accounts[actor].id
	}
	s.w.now = t
	res, err := do(req)
	s.stats.commands++
	if err != nil {
		if ctx.Err() != nil || domain.CodeOf(err) == "" {
			return false, fmt.Errorf("%s at %s: %w", s.UAI, t.Format(time.RFC3339), err)
		}
		s.fail(t, err)
		return false, nil
	}
	if res.Replayed {
		s.stats.replayed++
		return true, nil
	}
	if len(res.Events) != len(want) {
		s.fail(t, fmt.Errorf("appended %d events, expected %v", len(res.Events), want))
		return false, nil
	}
	for _, typ := range want {
		s.stats.events[typ]++
	}
	s.w.rep.add(len(want))
	return true, nil
}

func (s *estSim) fail(t time.Time, err error) {
	s.stats.failures++
	if len(s.stats.samples) < maxSamples {
		s.stats.samples = append(s.stats.samples, fmt.Sprintf("%s %s: %v", s.UAI, t.In(s.loc).Format("2006-01-02 15:04"), err))
	}
}

// open tells whether account i is open at t.
func (s *estSim) open(i int, t time.Time) bool { return s.accounts[i].openOn(t) }

// start schedules the establishment's directory (imports, accounts opened
// along the window, closures) and the planning of each month.
func (s *estSim) start() {
	y0 := s.years[0]
	s.push(y0.importAt.Add(-30*time.Minute), func(ctx context.Context) error {
		_, err := s.exec(ctx, y0.importAt.Add(-30*time.Minute), system, []string{evEstablishment}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.RegisterEstablishment(ctx, req, domain.RegisterEstablishment{
				UAI: s.UAI, Name: s.FullName(), Kind: s.Kind, Departement: s.Departement, Reasons: domain.DefaultReasons(),
			})
		})
		return err
	})
	for i := range s.accounts {
		s.scheduleAccount(i)
	}
	for j, y := range s.years {
		s.scheduleYear(j)
		for _, i := range y.leavers {
			i := i
			t := s.accounts[i].closeAt
			s.push(t, func(ctx context.Context) error {
				_, err := s.exec(ctx, t, system, []string{evClosed}, func(req commands.Request) (commands.Result, error) {
					return s.w.h.CloseAccount(ctx, req, domain.CloseAccount{Account: s.accounts[i].id, Reason: "Départ de l'établissement (fin de scolarité)"})
				})
				return err
			})
		}
	}
	for m := range s.months {
		if s.monthly[m] == (Quotas{}) {
			continue
		}
		first := s.at(domain.Date{Year: s.months[m].Year, Month: s.months[m].Month, Day: 1}, 0, 0)
		if w := s.at(s.from, 0, 0); first.Before(w) {
			first = w
		}
		m := m
		s.push(first.Add(-time.Second), func(ctx context.Context) error { return s.planMonth(m) })
	}
}

// scheduleAccount opens account i (and links a relative to their children).
func (s *estSim) scheduleAccount(i int) {
	a := &s.accounts[i]
	s.push(a.openAt, func(ctx context.Context) error {
		ok, err := s.exec(ctx, a.openAt, system, []string{evOpened}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.OpenAccount(ctx, req, domain.OpenAccount{
				Account: a.id, Establishment: s.UAI, Profile: a.profile, Function: a.function,
				ExternalID: a.external, DisplayName: a.name,
			})
		})
		if err != nil || !ok {
			return err
		}
		s.stats.produced.Accounts++
		for k, kid := range a.children {
			t := a.openAt.Add(time.Duration(k+1) * time.Second)
			ok, err := s.exec(ctx, t, system, []string{evLinked}, func(req commands.Request) (commands.Result, error) {
				return s.w.h.LinkRelative(ctx, req, domain.LinkRelative{Student: s.accounts[kid].id, Relative: a.id, LegalGuardian: a.legal[k]})
			})
			if err != nil || !ok {
				return err
			}
		}
		return nil
	})
}

// scheduleYear creates the groups of school year j, their members and
// timetables (the directory and timetable imports), and registers the
// resources the first year.
func (s *estSim) scheduleYear(j int) {
	y := s.years[j]
	t := y.clock.Add(time.Minute)
	tick := func() time.Time { t = t.Add(50 * time.Millisecond); return t }
	corr := s.idOf("import", strconv.Itoa(y.start))
	run := func(at time.Time, want []string, do func(ctx context.Context, req commands.Request) (commands.Result, error), after func()) {
		s.push(at, func(ctx context.Context) error {
			ok, err := s.exec(ctx, at, system, want, func(req commands.Request) (commands.Result, error) {
				req.CorrelationID = corr
				return do(ctx, req)
			})
			if ok && after != nil {
				after()
			}
			return err
		})
	}
	for _, gi := range y.groups {
		g := &s.groups[gi]
		run(tick(), []string{evGroup}, func(ctx context.Context, req commands.Request) (commands.Result, error) {
			return s.w.h.CreateGroup(ctx, req, domain.CreateGroup{Group: g.id, Establishment: s.UAI, Kind: g.kind, Name: g.name})
		}, func() { s.stats.produced.Groups++ })
	}
	if j == 0 {
		for k := range s.resources {
			rc := s.resources[k].cmd
			at := tick()
			s.push(at, func(ctx context.Context) error {
				_, err := s.exec(ctx, at, s.heads[0], []string{evResource}, func(req commands.Request) (commands.Result, error) {
					return s.w.h.RegisterResource(ctx, req, rc)
				})
				return err
			})
		}
	}
	for _, gi := range y.groups {
		g := &s.groups[gi]
		join := func(acc int, role domain.Role, subj string) {
			run(tick(), []string{evJoined}, func(ctx context.Context, req commands.Request) (commands.Result, error) {
				return s.w.h.JoinGroup(ctx, req, domain.JoinGroup{Group: g.id, Account: s.accounts[acc].id, Role: role, Subject: subj})
			}, nil)
		}
		joined := make(map[member]bool)
		for _, m := range g.teachers {
			if !joined[m] {
				joined[m] = true
				join(m.account, domain.RoleTeacher, m.subject)
			}
		}
		if g.head >= 0 {
			join(g.head, domain.RoleHeadTeacher, s.accounts[g.head].subject)
		}
		for _, st := range g.students {
			join(st, domain.RoleStudent, "")
		}
		for _, en := range g.entries {
			en := en
			run(tick(), []string{evScheduled}, func(ctx context.Context, req commands.Request) (commands.Result, error) {
				return s.w.h.ScheduleLesson(ctx, req, domain.ScheduleLesson{
					Group: g.id, Entry: en.id, Weekday: en.weekday, Slot: slotGrid[en.slot], Subject: en.subject,
					Teacher: s.accounts[en.teacher].id, From: y.lessonsFrom, Until: y.lessonsUntil,
				})
			}, nil)
		}
	}
	// Groups exist from the end of the import: messages and lessons come
	// later that day.
	y.readyAt = t.Add(time.Second)
}
