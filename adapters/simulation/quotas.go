package simulation

import (
	"fmt"
	"math"
	"slices"

	"github.com/schoollife/ledger/domain"
)

// Connections counts sign-ins per profile.
type Connections struct {
	Student   int `json:"student"`
	Teacher   int `json:"teacher"`
	Relative  int `json:"relative"`
	Personnel int `json:"personnel"`
	Guest     int `json:"guest"`
}

// profiles are the directory profiles, in the order of Connections.
var profiles = []domain.Profile{
	domain.ProfileStudent, domain.ProfileTeacher, domain.ProfileRelative, domain.ProfilePersonnel, domain.ProfileGuest,
}

// profileIndex is the index of p in profiles (-1 for the ledger roles).
func profileIndex(p domain.Profile) int { return slices.Index(profiles, p) }

// Total is the number of connections.
func (c Connections) Total() int { return c.Student + c.Teacher + c.Relative + c.Personnel + c.Guest }

func (c Connections) array() [5]int {
	return [5]int{c.Student, c.Teacher, c.Relative, c.Personnel, c.Guest}
}

func connectionsOf(a [5]int) Connections {
	return Connections{Student: a[0], Teacher: a[1], Relative: a[2], Personnel: a[3], Guest: a[4]}
}

// Share is p's share of the connections, in percent.
func (c Connections) Share(p domain.Profile) float64 {
	i := profileIndex(p)
	if i < 0 || c.Total() == 0 {
		return 0
	}
	return float64(c.array()[i]) * 100 / float64(c.Total())
}

// Acts counts school-life acts by kind. A roll call is not an act; each
// absence and each lateness it records is one. A cancelled absence and an
// annulled sanction stay counted: the acts measure what was recorded.
type Acts struct {
	Absences    int `json:"absences"`
	Lateness    int `json:"lateness"`
	Punishments int `json:"punishments"`
	Sanctions   int `json:"sanctions"`
	Incidents   int `json:"incidents"`
}

// Total is the number of acts.
func (a Acts) Total() int { return a.Absences + a.Lateness + a.Punishments + a.Sanctions + a.Incidents }

func (a Acts) array() [5]int {
	return [5]int{a.Absences, a.Lateness, a.Punishments, a.Sanctions, a.Incidents}
}

func actsOf(x [5]int) Acts {
	return Acts{Absences: x[0], Lateness: x[1], Punishments: x[2], Sanctions: x[3], Incidents: x[4]}
}

// Quotas are the numbers of quota-driven events: what the report measured
// (accounts, groups, connections, acts, messages, contributions) and, where
// it says nothing, plausible figures of the same kind (homework, bookings).
type Quotas struct {
	// Accounts is account.opened events.
	Accounts int `json:"accounts_opened"`
	// Groups is group.created events (classes and teaching groups).
	Groups      int         `json:"groups"`
	Connections Connections `json:"connections"`
	Acts        Acts        `json:"acts"`
	// Messages is message.sent events (one per message, whatever its
	// recipients).
	Messages int `json:"messages"`
	// Contributions is news.published events.
	Contributions int `json:"contributions"`
	// Homework is homework.assigned events.
	Homework int `json:"homework"`
	// Bookings is booking.requested events.
	Bookings int `json:"bookings"`
}

// Add adds o to q.
func (q *Quotas) Add(o Quotas) {
	q.Accounts += o.Accounts
	q.Groups += o.Groups
	c, oc := q.Connections.array(), o.Connections.array()
	a, oa := q.Acts.array(), o.Acts.array()
	for i := range c {
		c[i] += oc[i]
		a[i] += oa[i]
	}
	q.Connections, q.Acts = connectionsOf(c), actsOf(a)
	q.Messages += o.Messages
	q.Contributions += o.Contributions
	q.Homework += o.Homework
	q.Bookings += o.Bookings
}

// ReportQuotas are the figures at scale 1. Those of the 2007 report are
// exact; the others (K-d'école groups, acts and messages, the split of the
// connections the report leaves out, contributions, homework, bookings) are
// this simulator's choice, documented in docs/simulation.md.
func ReportQuotas(p Product) Quotas {
	if p == Kdecole {
		return Quotas{
			Accounts: 6091,
			Groups:   140,
			// 85,000 connections: students 45 %, teachers 22 %, relatives 8 %
			// (parents' accounts came last), personnel 21 %, guests 4 %.
			Connections: Connections{Student: 38250, Teacher: 18700, Relative: 6800, Personnel: 17850, Guest: 3400},
			// Absence management was a project for 2007-2008 (Mauzan,
			// Alpes et Durance): a pilot only.
			Acts:          Acts{Absences: 6300, Lateness: 1890, Punishments: 630, Sanctions: 45, Incidents: 135},
			Messages:      24000,
			Contributions: 1046,
			Homework:      9000,
			Bookings:      1200,
		}
	}
	return Quotas{
		Accounts: 17321,
		Groups:   612,
		// 112,000 connections: students 39 %, teachers 20 %, relatives 10 %;
		// the remaining 31 %: personnel 27 %, guests 4 %.
		Connections: Connections{Student: 43680, Teacher: 22400, Relative: 11200, Personnel: 30240, Guest: 4480},
		// 280,000 acts: absences 70 %, lateness 21 %, punishments 7 %,
		// incidents 1.5 %, sanctions 0.5 %.
		Acts:          Acts{Absences: 196000, Lateness: 58800, Punishments: 19600, Sanctions: 1400, Incidents: 4200},
		Messages:      175000,
		Contributions: 486,
		Homework:      24000,
		Bookings:      3600,
	}
}

// scaled multiplies every figure of q by f, rounded. The connections and the
// acts are scaled as totals, then split in q's proportions (largest
// remainder), so that their totals are the scaled report figures exactly.
func (q Quotas) scaled(f float64) Quotas {
	r := func(n int) int { return int(math.Round(float64(n) * f)) }
	out := Quotas{
		Accounts: r(q.Accounts), Groups: r(q.Groups), Messages: r(q.Messages),
		Contributions: r(q.Contributions), Homework: r(q.Homework), Bookings: r(q.Bookings),
	}
	c, _ := apportion(r(q.Connections.Total()), floats(q.Connections.array()))
	a, _ := apportion(r(q.Acts.Total()), floats(q.Acts.array()))
	out.Connections = connectionsOf([5]int(c))
	out.Acts = actsOf([5]int(a))
	return out
}

func floats(a [5]int) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}

// apportion splits total into integers proportional to weights by the
// largest remainder method (ties to the lower index). It reports false
// when total is positive and no weight is.
func apportion(total int, weights []float64) ([]int, bool) {
	out := make([]int, len(weights))
	if total <= 0 {
		return out, true
	}
	var sum float64
	for _, w := range weights {
		if w > 0 {
			sum += w
		}
	}
	if sum == 0 {
		return out, false
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, 0, len(weights))
	given := 0
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		exact := float64(total) * w / sum
		n := int(math.Floor(exact))
		out[i] = n
		given += n
		rems = append(rems, rem{i, exact - float64(n)})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return a.i - b.i
	})
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out, true
}

// mustApportion is apportion for splits whose feasibility was checked.
func mustApportion(what string, total int, weights []float64) ([]int, error) {
	out, ok := apportion(total, weights)
	if !ok {
		return nil, fmt.Errorf("%d %s to place but nowhere to place them (below a scale of about %g, some establishments lack the accounts or groups their activity needs)", total, what, MinScale)
	}
	return out, nil
}
