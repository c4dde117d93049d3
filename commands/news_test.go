package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// newsItem is a valid publication in w.UAI with a new article id.
func newsItem(w *world) domain.PublishArticle {
	return domain.PublishArticle{Article: uuid.New(), Establishment: w.UAI, Title: "Sortie au musée", Body: "Les 6e iront au musée le 4 avril."}
}

// givenArticle publishes an article by author in w.UAI and returns its id.
func givenArticle(w *world, author uuid.UUID) uuid.UUID {
	cmd := newsItem(w)
	w.given(domain.ArticleStream(cmd.Article), domain.ArticlePublished{Article: cmd.Article, Establishment: w.UAI, Author: author, Title: cmd.Title, Body: cmd.Body})
	return cmd.Article
}

func TestPublishArticle(t *testing.T) {
	w := newWorld(t)
	cmd := newsItem(w)
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.PublishArticle(w.ctx, as(w.Teacher), cmd) },
		domain.ArticlePublished{Article: cmd.Article, Establishment: w.UAI, Author: w.Teacher, Title: cmd.Title, Body: cmd.Body})
	md := recs[0].Metadata
	if recs[0].Stream != domain.ArticleStream(cmd.Article) || md.Actor != w.Teacher || md.Establishment != w.UAI || md.Command != commands.CmdPublishArticle {
		t.Fatalf("record %+v", recs[0])
	}

	// Personnel address an audience, from a date; the date is stored in UTC.
	cmd = newsItem(w)
	cmd.Title = strings.Repeat("é", domain.MaxArticleTitle)
	cmd.Audience = []domain.Profile{domain.ProfileRelative, domain.ProfileStudent}
	cmd.PublishAt = time.Date(2006, time.March, 20, 8, 0, 0, 0, domain.Paris())
	w.thenEvents(func() (commands.Result, error) { return w.h.PublishArticle(w.ctx, as(w.CPE), cmd) },
		domain.ArticlePublished{Article: cmd.Article, Establishment: w.UAI, Author: w.CPE, Title: cmd.Title, Body: cmd.Body,
			Audience: cmd.Audience, PublishAt: cmd.PublishAt.UTC()})

	// An unset id gets a new one.
	cmd = newsItem(w)
	cmd.Article = uuid.Nil
	res, err := w.h.PublishArticle(w.ctx, as(w.Head), cmd)
	if err != nil || res.ID == uuid.Nil || res.Stream != domain.ArticleStream(res.ID) {
		t.Fatalf("publish with a new id: %+v, %v", res, err)
	}
}

func TestPublishArticleRules(t *testing.T) {
	w := newWorld(t)
	existing := givenArticle(w, w.Teacher)
	with := func(mutate func(*domain.PublishArticle)) domain.PublishArticle {
		cmd := newsItem(w)
		mutate(&cmd)
		return cmd
	}
	ok := with(func(*domain.PublishArticle) {})
	cases := []struct {
		name string
		req  commands.Request
		cmd  domain.PublishArticle
		want error
	}{
		{"student", as(w.Student), ok, domain.ErrForbidden},
		{"relative", as(w.Relative), ok, domain.ErrForbidden},
		{"guest", as(w.Guest), ok, domain.ErrForbidden},
		{"administrator", as(w.Admin), ok, domain.ErrForbidden},
		{"inspector", as(w.Inspector), ok, domain.ErrForbidden},
		{"evaluator", as(w.Evaluator), ok, domain.ErrForbidden},
		{"personnel of another establishment", as(w.OtherHead), ok, domain.ErrWrongEstablishment},
		{"teacher in another establishment", as(w.Teacher), with(func(c *domain.PublishArticle) { c.Establishment = w.OtherUAI }), domain.ErrWrongEstablishment},
		{"unknown establishment", system(), with(func(c *domain.PublishArticle) { c.Establishment = "0990099Z" }), domain.ErrUnknownEstablishment},
		{"no title", as(w.Teacher), with(func(c *domain.PublishArticle) { c.Title = " " }), domain.ErrInvalid},
		{"title too long", as(w.Teacher), with(func(c *domain.PublishArticle) { c.Title = strings.Repeat("é", domain.MaxArticleTitle+1) }), domain.ErrInvalid},
		{"no body", as(w.Teacher), with(func(c *domain.PublishArticle) { c.Body = "" }), domain.ErrInvalid},
		{"audience of inspectors", as(w.Teacher), with(func(c *domain.PublishArticle) { c.Audience = []domain.Profile{domain.ProfileInspector} }), domain.ErrInvalid},
		{"unknown audience", as(w.Teacher), with(func(c *domain.PublishArticle) { c.Audience = []domain.Profile{domain.ProfileStudent, "parents"} }), domain.ErrInvalid},
		{"audience twice", as(w.Teacher), with(func(c *domain.PublishArticle) {
			c.Audience = []domain.Profile{domain.ProfileStudent, domain.ProfileStudent}
		}), domain.ErrInvalid},
		{"published twice", as(w.Teacher), with(func(c *domain.PublishArticle) { c.Article = existing }), domain.ErrArticleExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.PublishArticle(w.ctx, tc.req, tc.cmd) }, tc.want)
		})
	}
}

func TestIdempotentPublishArticle(t *testing.T) {
	w := newWorld(t)
	req := as(w.Teacher)
	req.IdempotencyKey = "article-sortie-musee"
	cmd := newsItem(w)
	cmd.Article = uuid.Nil
	first, err := w.h.PublishArticle(w.ctx, req, cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		again, err := w.h.PublishArticle(w.ctx, req, cmd)
		if err == nil && (!again.Replayed || again.ID != first.ID || again.Version != first.Version) {
			t.Errorf("replay: got %+v, want the original %+v", again, first)
		}
		return again, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("replayed publication: err %v, %d events appended", err, len(got))
	}
}

func TestAmendAndWithdrawArticle(t *testing.T) {
	w := newWorld(t)
	article := givenArticle(w, w.Teacher)
	amend := func(actor uuid.UUID, title, body string) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.AmendArticle(w.ctx, as(actor), domain.AmendArticle{Article: article, Title: title, Body: body})
		}
	}
	withdraw := func(actor uuid.UUID) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.WithdrawArticle(w.ctx, as(actor), domain.WithdrawArticle{Article: article})
		}
	}

	recs := w.thenEvents(amend(w.Teacher, "Sortie au musée (reportée)", "Le 11 avril."),
		domain.ArticleAmended{Article: article, Title: "Sortie au musée (reportée)", Body: "Le 11 avril."})
	if md := recs[0].Metadata; md.Actor != w.Teacher || md.Establishment != w.UAI || md.Command != commands.CmdAmendArticle {
		t.Fatalf("metadata %+v", md)
	}
	// The head of establishment amends anyone's article.
	w.thenEvents(amend(w.Head, "Sortie au musée (reportée)", "Le 11 avril, départ 8 h."),
		domain.ArticleAmended{Article: article, Title: "Sortie au musée (reportée)", Body: "Le 11 avril, départ 8 h."})
	// The same text again changes nothing and records nothing.
	w.thenEvents(amend(w.Teacher, "Sortie au musée (reportée)", "Le 11 avril, départ 8 h."))

	recs = w.thenEvents(withdraw(w.Head), domain.ArticleWithdrawn{Article: article})
	if md := recs[0].Metadata; md.Actor != w.Head || md.Establishment != w.UAI || md.Command != commands.CmdWithdrawArticle {
		t.Fatalf("metadata %+v", md)
	}
	w.thenError(withdraw(w.Teacher), domain.ErrArticleWithdrawn)
	w.thenError(amend(w.Teacher, "Annulée", "La sortie est annulée."), domain.ErrArticleWithdrawn)
}

func TestAuthorWithdrawsTheirArticle(t *testing.T) {
	w := newWorld(t)
	article := givenArticle(w, w.CPE)
	w.thenEvents(func() (commands.Result, error) {
		return w.h.WithdrawArticle(w.ctx, as(w.CPE), domain.WithdrawArticle{Article: article})
	}, domain.ArticleWithdrawn{Article: article})
}

func TestArticleEditRules(t *testing.T) {
	w := newWorld(t)
	article := givenArticle(w, w.Teacher)
	amend := func(actor, id uuid.UUID, title, body string) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.AmendArticle(w.ctx, as(actor), domain.AmendArticle{Article: id, Title: title, Body: body})
		}
	}
	withdraw := func(actor, id uuid.UUID) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.WithdrawArticle(w.ctx, as(actor), domain.WithdrawArticle{Article: id})
		}
	}
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"another teacher amends", amend(w.OtherTeacher, article, "T", "B"), domain.ErrForbidden},
		{"personnel who is not the head amends", amend(w.CPE, article, "T", "B"), domain.ErrForbidden},
		{"a student amends", amend(w.Student, article, "T", "B"), domain.ErrForbidden},
		{"an administrator amends", amend(w.Admin, article, "T", "B"), domain.ErrForbidden},
		{"the head of another establishment amends", amend(w.OtherHead, article, "T", "B"), domain.ErrWrongEstablishment},
		{"amend an unknown article", amend(w.Teacher, uuid.New(), "T", "B"), domain.ErrUnknownArticle},
		{"amend without a title", amend(w.Teacher, article, "", "B"), domain.ErrInvalid},
		{"amend without a body", amend(w.Teacher, article, "T", " "), domain.ErrInvalid},
		{"amend with a title too long", amend(w.Teacher, article, strings.Repeat("x", domain.MaxArticleTitle+1), "B"), domain.ErrInvalid},
		{"another teacher withdraws", withdraw(w.OtherTeacher, article), domain.ErrForbidden},
		{"a relative withdraws", withdraw(w.Relative, article), domain.ErrForbidden},
		{"the head of another establishment withdraws", withdraw(w.OtherHead, article), domain.ErrWrongEstablishment},
		{"withdraw an unknown article", withdraw(w.Head, uuid.New()), domain.ErrUnknownArticle},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
}
