package portal

import (
	"net/http"
	"time"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) homePages() []page {
	return []page{{method: "GET", path: "/{$}", handle: p.home}}
}

// home is each profile's home page.
func (p *Portal) home(w http.ResponseWriter, r *http.Request, v *view) error {
	switch v.Me.Profile {
	case domain.ProfileTeacher:
		return p.teacherHome(w, r, v)
	case domain.ProfileRelative:
		return p.parentHome(w, r, v)
	case domain.ProfileStudent:
		return p.studentHome(w, r, v)
	case domain.ProfilePersonnel:
		return p.officeHome(w, r, v)
	case domain.ProfileInspector:
		return p.inspectorHome(w, r, v)
	case domain.ProfileEvaluator:
		return p.evaluatorHome(w, r, v)
	}
	return p.otherHome(w, r, v)
}

// otherHome is the home of guests and administrators: the news and the
// mailbox.
func (p *Portal) otherHome(w http.ResponseWriter, r *http.Request, v *view) error {
	var unread *projections.UnreadSummary
	if web.MayUseMailbox(v.principal) == nil {
		var err error
		if unread, err = p.cfg.Queries.UnreadMessages(r.Context(), v.Me.ID); err != nil {
			return err
		}
	}
	var news []projections.NewsArticle
	if uai := v.Me.Establishment; uai != "" && web.MayReadNews(v.principal, uai) == nil {
		var err error
		latest, err := p.cfg.Queries.News(r.Context(), uai, v.Me.Profile, p.now(), projections.Page{Limit: 5})
		if err != nil {
			return err
		}
		news = latest.Items
	}
	return p.ok(w, r, v, "home_other", "title.home", struct {
		Unread *projections.UnreadSummary
		News   []projections.NewsArticle
		// Imports offers the directory import page.
		Imports bool
	}{unread, news, p.cfg.Imports != nil && web.MayImport(v.principal) == nil})
}

// dayParam reads ?date= (today by default) and returns the day and the
// moment to look at it from: now for today, the end of a past day (every
// lesson has started), the start of a future one (none has).
func (p *Portal) dayParam(r *http.Request) (domain.Date, time.Time, error) {
	now := p.now()
	t := today(now, p.cfg.Location)
	d := t
	if s := r.URL.Query().Get("date"); s != "" {
		var err error
		if d, err = domain.ParseDate(s); err != nil {
			return d, now, web.ErrInvalidQuery.With("date %q is not a date (2006-01-02)", s)
		}
	}
	return d, p.momentOf(d), nil
}

// momentOf returns the moment a day is looked at from (see dayParam).
func (p *Portal) momentOf(d domain.Date) time.Time {
	now := p.now()
	t := today(now, p.cfg.Location)
	switch {
	case d == t:
		return now
	case d.Before(t):
		return d.AddDays(1).In(p.cfg.Location).Add(-time.Second)
	}
	return d.In(p.cfg.Location)
}
