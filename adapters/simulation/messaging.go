package simulation

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Message senders' shares per profile (students, teachers, relatives,
// personnel), where pupils and parents may write.
func (s *estSim) senderWeights() [5]float64 {
	w := [5]float64{0.30, 0.32, 0.16, 0.22, 0}
	if s.Product == Kdecole {
		w = [5]float64{0.20, 0.40, 0.05, 0.35, 0}
	}
	if !s.PupilMessaging {
		w[0], w[2] = 0, 0
	}
	return w
}

// currentGroups are the groups of the school year of t, once imported.
func (s *estSim) currentGroups(t time.Time) []int {
	j := s.yearOf(domain.DateOf(t.In(s.loc)))
	if j < 0 || t.Before(s.years[j].readyAt) {
		return nil
	}
	return s.years[j].groups
}

// planMessage schedules a message: a sender drawn by profile, recipients
// that fit them, readers after it.
func (s *estSim) planMessage(mp *monthPlan, days cumulative) {
	r := s.rng
	k := days.draw(r)
	if k < 0 {
		k = mp.k0
	}
	x := s.days[k].date
	sw := s.senderWeights()
	var pi, sender int
	var t time.Time
	sender = -1
	for try := 0; try < 10 && sender < 0; try++ {
		pi = newCumulative(0, sw[:]).draw(r)
		t = s.hourOn(pi, x)
		sender = s.pickAccount(pi, t)
	}
	if sender < 0 {
		pi, sender = 3, s.heads[0]
		t = s.at(x, 10, 0).Add(time.Duration(r.IntN(6*3600)) * time.Second)
		if !s.open(sender, t) {
			t = s.accounts[sender].openAt.Add(time.Hour)
		}
	}
	var to []int
	var toGroups []int
	ack := false
	groups := s.currentGroups(t)
	teaching := func(acc int) []int {
		var out []int
		for _, gi := range groups {
			if s.groups[gi].teaches(acc) {
				out = append(out, gi)
			}
		}
		return out
	}
	classOf := func(st int) int {
		if j := s.yearOf(domain.DateOf(t.In(s.loc))); j >= 0 && !t.Before(s.years[j].readyAt) {
			if c, ok := s.years[j].classOf[st]; ok {
				return c
			}
		}
		return -1
	}
	colleagues := func(n int) {
		pool := append(slices.Clone(s.byProfile[1]), s.byProfile[3]...)
		for range n {
			if c := s.pickOpen(pool, t, sender); c >= 0 && !slices.Contains(to, c) {
				to = append(to, c)
			}
		}
	}
	u := r.Float64()
	switch profiles[pi] {
	case domain.ProfileTeacher:
		mine := teaching(sender)
		switch {
		case u < 0.25 && len(mine) > 0:
			toGroups, ack = []int{pick(r, mine)}, r.Float64() < 0.15
		case u < 0.60 || len(mine) == 0:
			colleagues(1 + r.IntN(3))
		case u < 0.80:
			if st := s.pickOpen(s.groups[pick(r, mine)].students, t, -1); st >= 0 {
				to = []int{st}
			}
		default:
			if st := s.weightedStudents(s.groups[pick(r, mine)].students, 1); len(st) > 0 {
				for _, rel := range s.accounts[st[0]].relatives {
					if s.open(rel, t) {
						to = append(to, rel)
					}
				}
				ack = r.Float64() < 0.3
			}
		}
	case domain.ProfilePersonnel:
		switch {
		case u < 0.35 && len(groups) > 0:
			for range 1 + r.IntN(2) {
				if gi := pick(r, groups); !slices.Contains(toGroups, gi) {
					toGroups = append(toGroups, gi)
				}
			}
			ack = r.Float64() < 0.3
		case u < 0.65 || len(groups) == 0:
			colleagues(1 + r.IntN(5))
		default:
			g := &s.groups[pick(r, groups)]
			if st := s.weightedStudents(g.students, 1); len(st) > 0 {
				for _, rel := range s.accounts[st[0]].relatives {
					if s.open(rel, t) {
						to = append(to, rel)
					}
				}
				ack = r.Float64() < 0.4
			}
		}
	case domain.ProfileStudent:
		if c := classOf(sender); c >= 0 {
			if u < 0.7 {
				for range 1 + r.IntN(3) {
					if st := s.pickOpen(s.groups[c].students, t, sender); st >= 0 && !slices.Contains(to, st) {
						to = append(to, st)
					}
				}
			} else {
				to = []int{pick(r, s.groups[c].teachers).account}
			}
		}
	case domain.ProfileRelative:
		for _, kid := range s.accounts[sender].children {
			if c := classOf(kid); c >= 0 && u < 0.6 {
				to = []int{pick(r, s.groups[c].teachers).account}
				break
			}
		}
		if len(to) == 0 {
			if o := s.pickOpen(s.office, t, sender); o >= 0 {
				to = []int{o}
			}
		}
	}
	if len(to) == 0 && len(toGroups) == 0 {
		// Nobody fits: the head, or anyone of the staff.
		if o := s.pickOpen(append(slices.Clone(s.heads), s.office...), t, sender); o >= 0 {
			to = []int{o}
		} else if o := s.pickOpen(s.byProfile[1], t, sender); o >= 0 {
			to = []int{o}
		} else {
			to = []int{sender} // a note to self
		}
	}
	cmd := domain.SendMessage{Message: s.newID("message"), AckRequested: ack}
	for _, i := range to {
		cmd.ToAccounts = append(cmd.ToAccounts, s.accounts[i].id)
	}
	for _, gi := range toGroups {
		cmd.ToGroups = append(cmd.ToGroups, s.groups[gi].id)
	}
	cmd.Subject = pick(r, messageSubjects[string(profiles[pi])])
	cmd.Body = messageBody(r, s.FullName())
	s.push(t, func(ctx context.Context) error {
		ok, err := s.exec(ctx, t, sender, []string{evMessage}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.SendMessage(ctx, req, cmd)
		})
		if err != nil || !ok {
			return err
		}
		s.stats.produced.Messages++
		s.messageReaders(cmd, to, toGroups, t)
		return nil
	})
}

// messageBody writes a short body.
func messageBody(r *rand.Rand, establishment string) string {
	parts := []string{
		"Bonjour,", pick(r, []string{
			"Je vous remercie de bien vouloir prendre connaissance des informations ci-dessous.",
			"Petit rappel pour la semaine prochaine.", "Merci de me répondre rapidement.",
			"Vous trouverez le document en pièce jointe dans votre porte-documents.",
			"Pouvez-vous me confirmer votre présence ?", "Je reste à votre disposition.",
		}),
		"Cordialement.", "— " + establishment,
	}
	return strings.Join(parts, "\n")
}

// messageReaders schedules readings (and acknowledgements) of a message.
func (s *estSim) messageReaders(cmd domain.SendMessage, to, toGroups []int, t time.Time) {
	r := s.rng
	read := func(reader int, ackIt bool) {
		pi := profileIndex(s.accounts[reader].profile)
		tr := s.later(pi, t, 3)
		if !s.open(reader, tr) {
			return
		}
		want := []string{evRead}
		do := func(ctx context.Context, req commands.Request) (commands.Result, error) {
			return s.w.h.ReadMessage(ctx, req, domain.ReadMessage{Message: cmd.Message})
		}
		if ackIt {
			want = []string{evRead, evAcked}
			do = func(ctx context.Context, req commands.Request) (commands.Result, error) {
				return s.w.h.AcknowledgeMessage(ctx, req, domain.AcknowledgeMessage{Message: cmd.Message})
			}
		}
		s.push(tr, func(ctx context.Context) error {
			_, err := s.exec(ctx, tr, reader, want, func(req commands.Request) (commands.Result, error) { return do(ctx, req) })
			return err
		})
	}
	seen := make(map[int]bool)
	for _, i := range to {
		seen[i] = true
		u := r.Float64()
		switch {
		case cmd.AckRequested && u < 0.55:
			read(i, true)
		case u < 0.7:
			read(i, false)
		}
	}
	for _, gi := range toGroups {
		n := 0
		for _, st := range s.groups[gi].students {
			if seen[st] || n >= 4 || r.Float64() >= 0.06 {
				continue
			}
			seen[st] = true
			n++
			read(st, cmd.AckRequested && r.Float64() < 0.5)
		}
	}
}
