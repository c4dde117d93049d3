package portal

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) newsPages() []page {
	return []page{
		{method: "GET", path: "/news", handle: p.newsPage},
		{method: "POST", path: "/news", profiles: []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel},
			handle: p.onForm(newsForm, p.showNews, p.publishArticle)},
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

// newsForm is the news page's form.
var newsForm = formSpec{name: "news", fields: []string{"title", "body", "audience"}}

// newsPage shows the news of the reader's establishment for their profile.
func (p *Portal) newsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showNews(w, r, v, http.StatusOK)
}

// showNews renders the news with status (a refused article's).
func (p *Portal) showNews(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	uai := v.Me.Establishment
	if err := web.MayReadNews(v.principal, uai); err != nil {
		return err
	}
	latest, err := p.cfg.Queries.News(r.Context(), uai, v.Me.Profile, p.now(), projections.Page{Limit: 30})
	if err != nil {
		return err
	}
	news := latest.Items
	data := newsData{
		News: news, Names: map[uuid.UUID]string{},
		MayWrite:  v.Me.Profile == domain.ProfileTeacher || v.Me.Profile == domain.ProfilePersonnel,
		Audiences: []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel, domain.ProfileGuest},
	}
	n := p.names()
	for _, a := range news {
		data.Names[a.Author] = n.of(r, a.Author)
	}
	p.render(w, r, status, v, "news", "title.news", data)
	return nil
}

// publishArticle publishes an article now, to the profiles ticked (none:
// everyone).
func (p *Portal) publishArticle(w http.ResponseWriter, r *http.Request, v *view) error {
	f := web.FormOf(r)
	cmd := domain.PublishArticle{Establishment: v.Me.Establishment, Title: f.Need("title"), Body: f.Need("body")}
	if f.Err() != nil {
		return f.Err()
	}
	for _, a := range r.PostForm["audience"] {
		cmd.Audience = append(cmd.Audience, domain.Profile(a))
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.PublishArticle(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/news", "published", res)
}
