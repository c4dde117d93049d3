package simulation

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/schoollife/ledger/domain"
)

// Config configures a simulation.
type Config struct {
	// Scale multiplies every quota (default 1: the report's figures).
	Scale float64
	// Seed makes the history: the same seed gives the same events.
	Seed int64
	// From and To are the first and last days simulated (default the
	// school years 2005-2006 and 2006-2007: 2005-09-01 to 2007-06-30).
	From, To domain.Date
	// Workers is how many establishments are simulated at once (default
	// the number of CPUs, at most the number of establishments).
	Workers int
}

// MinScale is about the smallest scale at which every establishment gets
// the accounts and groups its activity needs (K-d'école's 140 groups must
// round to at least one).
const MinScale = 0.004

// Default period of the simulation.
var (
	DefaultFrom = domain.Date{Year: 2005, Month: time.September, Day: 1}
	DefaultTo   = domain.Date{Year: 2007, Month: time.June, Day: 30}
)

// Validate checks the configuration and fills its defaults.
func (c *Config) Validate() error {
	if c.Scale == 0 {
		c.Scale = 1
	}
	if c.From.IsZero() {
		c.From = DefaultFrom
	}
	if c.To.IsZero() {
		c.To = DefaultTo
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	c.Workers = min(c.Workers, len(Establishments()))
	var errs []error
	if math.IsNaN(c.Scale) || c.Scale < 0 || c.Scale > 100 {
		errs = append(errs, fmt.Errorf("scale %g is not between 0 and 100", c.Scale))
	}
	if c.To.Before(c.From) {
		errs = append(errs, fmt.Errorf("to %s is before from %s", c.To, c.From))
	} else if c.To.After(c.From.AddDays(366 * 10)) {
		errs = append(errs, fmt.Errorf("from %s to %s is more than ten years", c.From, c.To))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("workers %d is not positive", c.Workers))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("simulation: %w", err)
	}
	return nil
}

// Month is a calendar month.
type Month struct {
	Year  int
	Month time.Month
}

func monthOf(x domain.Date) Month { return Month{x.Year, x.Month} }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

func (m Month) add(n int) Month {
	k := m.Year*12 + int(m.Month-1) + n
	return Month{k / 12, time.Month(k%12 + 1)}
}

func (m Month) before(o Month) bool {
	return m.Year < o.Year || (m.Year == o.Year && m.Month < o.Month)
}

func (m Month) index(from Month) int {
	return (m.Year-from.Year)*12 + int(m.Month) - int(from.Month)
}

// ProductPlan is the quotas of one product.
type ProductPlan struct {
	Product Product
	Quotas  Quotas
}

// EstablishmentPlan is what the simulation makes of one establishment.
type EstablishmentPlan struct {
	Establishment
	// From and To are the days its product is used within the run.
	From, To domain.Date
	Quotas   Quotas
	// Monthly are the quotas per month of Plan.Months.
	Monthly []Quotas
	// The directory: accounts per profile (over all school years), and
	// groups.
	Students, Relatives, Teachers, Personnel, Guests int
	Classes, TeachingGroups                          int
}

// Plan is a simulation decided before any command runs: the directory of
// each establishment and its quotas, per product, establishment and month.
// Quotas depend on the configuration only; names, timetables, who does
// what and when depend on the seed too.
type Plan struct {
	Config         Config
	Months         []Month
	Products       []ProductPlan
	Establishments []EstablishmentPlan

	loc  *time.Location
	cal  *calendar
	ests []*estPlan
}

// estPlan is an establishment being simulated: its plan and its random
// generator, which the simulation goes on drawing from.
type estPlan struct {
	Establishment
	index     int
	seed      int64
	rng       *rand.Rand
	loc       *time.Location
	cal       *calendar
	from, to  domain.Date // the product's days within the run
	months    []Month     // the plan's months
	counts    [5]int      // accounts per profile, in the order of profiles
	years     []*yearPlan
	accounts  []account
	byProfile [5][]int
	heads     []int // head and deputies
	office    []int // CPE and secretaries (the heads when there are none)
	groups    []group
	resources []resource
	quotas    Quotas
	monthly   []Quotas
	days      []dayInfo // from `from` to `to`
}

// dayInfo is what the planner knows of one day of an establishment.
type dayInfo struct {
	date    domain.Date
	class   dayClass
	lessons float64 // share of a full day of lessons held (0 without groups)
	ramp    float64 // adoption of the product
	rampAct float64 // adoption of school-life acts
	open    [5]int  // accounts open that day, per profile
}

// NewPlan plans a simulation.
func NewPlan(cfg Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return nil, fmt.Errorf("simulation: load Europe/Paris (import time/tzdata?): %w", err)
	}
	p := &Plan{Config: cfg, loc: loc, cal: newCalendar(cfg.From, cfg.To)}
	for m := monthOf(cfg.From); !monthOf(cfg.To).before(m); m = m.add(1) {
		p.Months = append(p.Months, m)
	}
	for _, prod := range Products {
		q := ReportQuotas(prod).scaled(cfg.Scale)
		var ests []*estPlan
		for i, e := range Establishments() {
			if e.Product != prod {
				continue
			}
			ep := &estPlan{
				Establishment: e, index: i, seed: cfg.Seed, loc: loc, cal: p.cal, months: p.Months,
				rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15*uint64(i+1))),
				from: cfg.From, to: cfg.To,
			}
			if ep.from.Before(prod.opening()) {
				ep.from = prod.opening()
			}
			if cfg.To.Before(ep.from) {
				ep.from = cfg.From
			}
			ep.buildYears()
			ests = append(ests, ep)
		}
		if err := planProduct(&q, ests); err != nil {
			return nil, fmt.Errorf("simulation: %s at scale %g: %w", prod, cfg.Scale, err)
		}
		p.Products = append(p.Products, ProductPlan{Product: prod, Quotas: q})
		p.ests = append(p.ests, ests...)
	}
	for _, ep := range p.ests {
		p.Establishments = append(p.Establishments, ep.export())
	}
	return p, nil
}

// planProduct splits a product's quotas over its establishments, builds
// their directories and splits their quotas over the months.
func planProduct(q *Quotas, ests []*estPlan) error {
	weights := func(f func(e *estPlan) float64) []float64 {
		w := make([]float64, len(ests))
		for i, e := range ests {
			w[i] = f(e)
		}
		return w
	}
	accounts, err := mustApportion("accounts", q.Accounts, weights(func(e *estPlan) float64 { return e.Size }))
	if err != nil {
		return err
	}
	for i, e := range ests {
		e.counts = profileCounts(e.Product, accounts[i])
	}

	// Groups: at least one per establishment that can hold lessons, when
	// there are enough; then in proportion to the students, year by year.
	groups := apportionMin1(q.Groups, weights(func(e *estPlan) float64 {
		if e.counts[0] == 0 || e.counts[1] == 0 {
			return 0
		}
		n := 0
		for j := range e.years {
			if e.lessonsPossible(j) {
				n += e.studentsPresent(j)
			}
		}
		return float64(n)
	}))
	placed := 0
	for i, e := range ests {
		w := make([]float64, len(e.years))
		for j := range e.years {
			if e.lessonsPossible(j) {
				w[j] = float64(e.studentsPresent(j))
			}
		}
		for j, n := range apportionMin1(groups[i], w) {
			e.years[j].groupQuota = n
		}
		if err := e.buildDirectory(); err != nil {
			return err
		}
		e.quotas.Accounts = len(e.accounts)
		e.quotas.Groups = len(e.groups)
		placed += len(e.groups)
		e.computeDays()
	}
	if placed != q.Groups {
		return fmt.Errorf("%d groups to create, only %d fit (scale too small?)", q.Groups, placed)
	}

	// Connections, per profile, in proportion to the accounts.
	conn := q.Connections.array()
	guests := 0
	for _, e := range ests {
		guests += e.counts[4]
	}
	if guests == 0 {
		// At small scales no establishment has a guest: the report's
		// "others" are then all personnel.
		conn[3] += conn[4]
		conn[4] = 0
		q.Connections = connectionsOf(conn)
	}
	per := make([][5]int, len(ests))
	for pi := range profiles {
		split, err := mustApportion(string(profiles[pi])+" connections", conn[pi], weights(func(e *estPlan) float64 { return float64(e.counts[pi]) }))
		if err != nil {
			return err
		}
		for i := range ests {
			per[i][pi] = split[i]
		}
	}
	for i, e := range ests {
		e.quotas.Connections = connectionsOf(per[i])
	}

	// Acts, homework and bookings where there are lessons; messages and
	// contributions everywhere.
	lessons := func(f func(e *estPlan) float64) []float64 {
		return weights(func(e *estPlan) float64 {
			if !e.hasLessons() {
				return 0
			}
			return f(e)
		})
	}
	acts := q.Acts.array()
	perActs := make([][5]int, len(ests))
	for k := range acts {
		split, err := mustApportion("acts", acts[k], lessons(func(e *estPlan) float64 { return float64(e.counts[0]) * e.Acts }))
		if err != nil {
			return err
		}
		for i := range ests {
			perActs[i][k] = split[i]
		}
	}
	messages, err := mustApportion("messages", q.Messages, weights(func(e *estPlan) float64 {
		if len(e.accounts) < 2 {
			return 0
		}
		return float64(len(e.accounts)) * e.Messages
	}))
	if err != nil {
		return err
	}
	news, err := mustApportion("contributions", q.Contributions, weights(func(e *estPlan) float64 {
		return float64(e.counts[1]+e.counts[3]) * e.News
	}))
	if err != nil {
		return err
	}
	homework, err := mustApportion("homework", q.Homework, lessons(func(e *estPlan) float64 { return float64(len(e.groups)) * e.Homework }))
	if err != nil {
		return err
	}
	bookings, err := mustApportion("bookings", q.Bookings, lessons(func(e *estPlan) float64 {
		return float64(e.counts[1]+e.counts[3]) * e.Bookings
	}))
	if err != nil {
		return err
	}
	for i, e := range ests {
		e.quotas.Acts = actsOf(perActs[i])
		e.quotas.Messages, e.quotas.Contributions = messages[i], news[i]
		e.quotas.Homework, e.quotas.Bookings = homework[i], bookings[i]
		if err := e.planMonths(); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	return nil
}

// apportionMin1 splits total like apportion, but first gives one to each
// positive weight (to the largest ones when there are not enough).
func apportionMin1(total int, weights []float64) []int {
	out := make([]int, len(weights))
	var pos []int
	for i, w := range weights {
		if w > 0 {
			pos = append(pos, i)
		}
	}
	if total <= 0 || len(pos) == 0 {
		return out
	}
	if total < len(pos) {
		for range total {
			best := -1
			for _, i := range pos {
				if out[i] == 0 && (best < 0 || weights[i] > weights[best]) {
					best = i
				}
			}
			out[best] = 1
		}
		return out
	}
	rest, _ := apportion(total-len(pos), weights)
	for _, i := range pos {
		out[i] = 1 + rest[i]
	}
	return out
}

// hasLessons reports whether some school year of the establishment holds
// lessons.
func (e *estPlan) hasLessons() bool {
	for _, d := range e.days {
		if d.lessons > 0 {
			return true
		}
	}
	return false
}

// dayIndex is the index of x in e.days (out of range outside the window).
func (e *estPlan) dayIndex(x domain.Date) int {
	return int(math.Round(x.In(time.UTC).Sub(e.from.In(time.UTC)).Hours() / 24))
}

// yearOf returns the index in e.years of the school year of x, or -1.
func (e *estPlan) yearOf(x domain.Date) int {
	j := schoolYearStart(x) - e.years[0].start
	if j < 0 || j >= len(e.years) {
		return -1
	}
	return j
}

// Adoption ramps, by months since the product's first month in the run.
func ramp(p Product, k int, acts bool) float64 {
	r := []float64{0.5, 0.75, 0.9}
	if p == Kdecole {
		// Available in September 2006, opened progressively until January
		// 2007; school-life acts came last.
		r = []float64{0.15, 0.3, 0.5, 0.7}
		if acts {
			r = []float64{0, 0.1, 0.3, 0.5}
		}
	}
	if k < len(r) {
		return r[k]
	}
	return 1
}

// dayActivity weighs a day of each class (lessons, weekend, holiday,
// summer) for each profile's use of the ENT.
var dayActivity = [5][4]float64{
	{1.0, 0.5, 0.3, 0.08},  // students
	{1.0, 0.45, 0.35, 0.1}, // teachers
	{1.0, 0.7, 0.3, 0.05},  // relatives
	{1.0, 0.05, 0.25, 0.1}, // personnel
	{1.0, 0.2, 0.3, 0.1},   // guests
}

// messageActivity and newsActivity weigh a day of each class for messages
// and news.
var (
	messageActivity = [4]float64{1.0, 0.35, 0.25, 0.05}
	newsActivity    = [4]float64{1.0, 0.1, 0.15, 0.03}
)

// computeDays fills e.days.
func (e *estPlan) computeDays() {
	n := 0
	for x := e.from; !x.After(e.to); x = x.AddDays(1) {
		n++
	}
	e.days = make([]dayInfo, n)
	first := monthOf(e.from)
	for k := range e.days {
		x := e.from.AddDays(k)
		di := dayInfo{date: x, class: e.cal.class(x, e.Kind)}
		if j := e.yearOf(x); j >= 0 {
			y := e.years[j]
			if y.hasLessons() && !x.Before(y.lessonsFrom) && !x.After(y.lessonsUntil) {
				di.lessons = e.cal.lessonWeight(x, e.Kind)
			}
		}
		mk := monthOf(x).index(first)
		di.ramp, di.rampAct = ramp(e.Product, mk, false), ramp(e.Product, mk, true)
		e.days[k] = di
	}
	// Accounts open per day: from the day they open, until the day before
	// they close.
	var diff [5][]int
	for pi := range diff {
		diff[pi] = make([]int, n+1)
	}
	dayIndex := func(t time.Time) int {
		return min(max(e.dayIndex(domain.DateOf(t.In(e.loc))), 0), n)
	}
	for _, a := range e.accounts {
		pi := profileIndex(a.profile)
		diff[pi][dayIndex(a.openAt)]++
		if !a.closeAt.IsZero() {
			diff[pi][dayIndex(a.closeAt)]--
		}
	}
	for pi := range diff {
		open := 0
		for k := range e.days {
			open += diff[pi][k]
			e.days[k].open[pi] = open
		}
	}
}

// planMonths splits the establishment's quotas over the months.
func (e *estPlan) planMonths() error {
	first := e.months[0]
	nm := len(e.months)
	e.monthly = make([]Quotas, nm)
	// Accounts and groups fall where the directory put them.
	for _, a := range e.accounts {
		e.monthly[monthOf(domain.DateOf(a.openAt.In(e.loc))).index(first)].Accounts++
	}
	for _, g := range e.groups {
		e.monthly[monthOf(domain.DateOf(e.years[g.year].importAt)).index(first)].Groups++
	}
	w := func(f func(d *dayInfo) float64) []float64 {
		out := make([]float64, nm)
		for k := range e.days {
			d := &e.days[k]
			out[monthOf(d.date).index(first)] += f(d)
		}
		return out
	}
	split := func(what string, total int, weights []float64, set func(q *Quotas, n int)) error {
		s, err := mustApportion(what, total, weights)
		if err != nil {
			return err
		}
		for m, n := range s {
			set(&e.monthly[m], n)
		}
		return nil
	}
	conn := e.quotas.Connections.array()
	for pi := range profiles {
		err := split(string(profiles[pi])+" connections", conn[pi], w(func(d *dayInfo) float64 {
			return dayActivity[pi][d.class] * float64(d.open[pi]) * d.ramp
		}), func(q *Quotas, n int) {
			c := q.Connections.array()
			c[pi] = n
			q.Connections = connectionsOf(c)
		})
		if err != nil {
			return err
		}
	}
	acts := e.quotas.Acts.array()
	actW := w(func(d *dayInfo) float64 { return d.lessons * d.rampAct })
	for k := range acts {
		err := split("acts", acts[k], actW, func(q *Quotas, n int) {
			a := q.Acts.array()
			a[k] = n
			q.Acts = actsOf(a)
		})
		if err != nil {
			return err
		}
	}
	if err := e.checkCapacity(); err != nil {
		return err
	}
	imported := domain.DateOf(e.years[0].importAt)
	after := func(d *dayInfo) bool { return !d.date.Before(imported) }
	lessonW := w(func(d *dayInfo) float64 { return d.lessons * d.ramp })
	steps := []struct {
		what    string
		total   int
		weights []float64
		set     func(q *Quotas, n int)
	}{
		{"messages", e.quotas.Messages, w(func(d *dayInfo) float64 {
			if !after(d) {
				return 0
			}
			return messageActivity[d.class] * d.ramp
		}), func(q *Quotas, n int) { q.Messages = n }},
		{"contributions", e.quotas.Contributions, w(func(d *dayInfo) float64 {
			if !after(d) {
				return 0
			}
			return newsActivity[d.class] * d.ramp
		}), func(q *Quotas, n int) { q.Contributions = n }},
		{"homework", e.quotas.Homework, lessonW, func(q *Quotas, n int) { q.Homework = n }},
		{"bookings", e.quotas.Bookings, lessonW, func(q *Quotas, n int) { q.Bookings = n }},
	}
	for _, s := range steps {
		if err := split(s.what, s.total, s.weights, s.set); err != nil {
			return err
		}
	}
	return nil
}

// checkCapacity checks that each month's absences and lateness fit in its
// lessons (one per student and lesson at most): a window too short for the
// quotas fails here rather than halfway through a run.
func (e *estPlan) checkCapacity() error {
	seats := make([]int, len(e.months))
	first := e.months[0]
	for k := range e.days {
		d := &e.days[k]
		if d.lessons == 0 {
			continue
		}
		n := e.cal.slotsOn(d.date, e.Kind)
		for _, gi := range e.years[e.yearOf(d.date)].groups {
			g := &e.groups[gi]
			for _, en := range g.entries {
				if en.weekday == d.date.Weekday() && en.slot < n {
					seats[monthOf(d.date).index(first)] += len(g.students)
				}
			}
		}
	}
	for m, q := range e.monthly {
		if need := q.Acts.Absences + q.Acts.Lateness; need > seats[m] {
			return fmt.Errorf("%d absences and lateness do not fit in the %d student-lessons of %s: the window is too short for the quotas", need, seats[m], e.months[m])
		}
	}
	return nil
}

// export summarizes the establishment's plan.
func (e *estPlan) export() EstablishmentPlan {
	out := EstablishmentPlan{
		Establishment: e.Establishment, From: e.from, To: e.to, Quotas: e.quotas, Monthly: e.monthly,
		Students: e.counts[0], Teachers: e.counts[1], Relatives: e.counts[2], Personnel: e.counts[3], Guests: e.counts[4],
	}
	for _, g := range e.groups {
		if g.kind == domain.GroupClass {
			out.Classes++
		} else {
			out.TeachingGroups++
		}
	}
	return out
}
