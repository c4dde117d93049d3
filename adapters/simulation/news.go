package simulation

import (
	"context"
	"time"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// planArticle schedules a news article by a teacher or a member of the
// personnel; a few are amended or withdrawn later.
func (s *estSim) planArticle(days cumulative) {
	r := s.rng
	k := days.draw(r)
	if k < 0 {
		return
	}
	x := s.days[k].date
	pi := 3
	if r.Float64() < 0.45 && len(s.byProfile[1]) > 0 {
		pi = 1
	}
	t := s.hourOn(pi, x)
	author := s.pickAccount(pi, t)
	if author < 0 {
		author = s.heads[0]
		t = s.at(x, 11, 0)
		if !s.open(author, t) {
			t = s.accounts[author].openAt.Add(time.Hour)
		}
	}
	cmd := domain.PublishArticle{
		Article: s.newID("article"), Establishment: s.UAI, Title: fillf(r, pick(r, newsTitles)),
		Body: "Chers parents, chers élèves,\n" + pick(r, []string{
			"Vous trouverez ci-dessous toutes les informations utiles.",
			"L'équipe pédagogique vous informe des prochaines échéances.",
			"Retrouvez le programme détaillé au CDI et sur le portail.",
			"Merci à tous les participants !",
		}) + "\n" + s.FullName(),
	}
	switch u := r.Float64(); {
	case u < 0.15:
		cmd.Audience = []domain.Profile{domain.ProfileRelative}
	case u < 0.30:
		cmd.Audience = []domain.Profile{domain.ProfileStudent}
	case u < 0.40:
		cmd.Audience = []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel}
	}
	if r.Float64() < 0.1 {
		cmd.PublishAt = t.Add(time.Duration(1+r.IntN(72)) * time.Hour).Truncate(time.Hour).UTC()
	}
	s.push(t, func(ctx context.Context) error {
		ok, err := s.exec(ctx, t, author, []string{evArticle}, func(req commands.Request) (commands.Result, error) {
			return s.w.h.PublishArticle(ctx, req, cmd)
		})
		if err != nil || !ok {
			return err
		}
		s.stats.produced.Contributions++
		switch u := r.Float64(); {
		case u < 0.08:
			ta := t.Add(time.Duration(60+r.IntN(48*60)) * time.Minute)
			amend := domain.AmendArticle{Article: cmd.Article, Title: cmd.Title + " (mise à jour)", Body: cmd.Body + "\nMise à jour : horaires modifiés."}
			s.push(ta, func(ctx context.Context) error {
				_, err := s.exec(ctx, ta, author, []string{evArtAmended}, func(req commands.Request) (commands.Result, error) {
					return s.w.h.AmendArticle(ctx, req, amend)
				})
				return err
			})
		case u < 0.11:
			tw := s.officeTime(t, 2, 20)
			if head := s.pickOpen(s.heads, tw, -1); head >= 0 {
				s.push(tw, func(ctx context.Context) error {
					_, err := s.exec(ctx, tw, head, []string{evArtWithdrawn}, func(req commands.Request) (commands.Result, error) {
						return s.w.h.WithdrawArticle(ctx, req, domain.WithdrawArticle{Article: cmd.Article})
					})
					return err
				})
			}
		}
		return nil
	})
}
