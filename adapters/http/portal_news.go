package http

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *portal) newsPages() []page {
	return []page{
		{method: "GET", path: "/news", handle: p.newsPage},
		{method: "POST", path: "/news", profiles: []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel}, handle: p.publishArticle},
	}
}

// newsData is an establishment's news and, for its teachers and
// personnel, the form to publish.
type newsData struct {
	News      []projections.NewsArticle
	Names     map[uuid.UUID]string
	MayWrite  bool
	Audiences []domain.Profile
}

// newsPage shows the news of the reader's establishment for their profile.
func (p *portal) newsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	uai := v.Me.Establishment
	if err := mayReadNews(v.principal, uai); err != nil {
		return err
	}
	news, err := p.s.cfg.Queries.News(r.Context(), uai, v.Me.Profile, p.s.now(), 30)
	if err != nil {
		return err
	}
	data := newsData{
		News: news, Names: map[uuid.UUID]string{},
		MayWrite:  v.Me.Profile == domain.ProfileTeacher || v.Me.Profile == domain.ProfilePersonnel,
		Audiences: []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel, domain.ProfileGuest},
	}
	n := p.names()
	for _, a := range news {
		data.Names[a.Author] = n.of(r, a.Author)
	}
	return p.ok(w, r, v, "news", "title.news", data)
}

// publishArticle publishes an article now, to the profiles ticked (none:
// everyone).
func (p *portal) publishArticle(w http.ResponseWriter, r *http.Request, v *view) error {
	f := formOf(r)
	cmd := domain.PublishArticle{Establishment: v.Me.Establishment, Title: f.str("title"), Body: f.str("body")}
	for _, a := range r.PostForm["audience"] {
		cmd.Audience = append(cmd.Audience, domain.Profile(a))
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.s.cfg.Commands.PublishArticle(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/news", "published", res)
}
