package api

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) newsRoutes() []route {
	h := s.cfg.Commands
	const editors = "the article's author; the head of establishment"
	return []route{
		commandRoute(s, cmd[domain.PublishArticle]{
			method: "POST", path: "/api/v1/news", tag: "news", status: http.StatusCreated,
			summary:  "Publish a news article, now or at publish_at, to some profiles or to everyone",
			profiles: "teachers and personnel of the establishment", run: h.PublishArticle,
		}),
		commandRoute(s, cmd[domain.AmendArticle]{
			method: "PUT", path: "/api/v1/news/{article}", tag: "news", status: http.StatusOK,
			summary: "Amend an article's title and body", profiles: editors,
			fill: func(r *http.Request, c *domain.AmendArticle) error { return web.SetPathID(r, "article", &c.Article) },
			run:  h.AmendArticle,
		}),
		commandRoute(s, cmd[domain.WithdrawArticle]{
			method: "DELETE", path: "/api/v1/news/{article}", tag: "news", status: http.StatusOK, noBody: true,
			summary: "Withdraw an article", profiles: editors,
			fill: func(r *http.Request, c *domain.WithdrawArticle) error { return web.SetPathID(r, "article", &c.Article) },
			run:  h.WithdrawArticle,
		}),
		{
			method: "GET", path: "/api/v1/establishments/{uai}/news", tag: "news", status: http.StatusOK,
			summary:  "An establishment's news feed for the reader's profile, newest first",
			profiles: "the establishment's students, relatives, teachers, personnel and guests; habilitated inspectors",
			response: typeOf[[]projections.NewsArticle](), paged: true,
			query: pageParams,
			handle: func(w http.ResponseWriter, r *http.Request) error {
				q := s.dec.Query(r)
				page := projections.Page{Limit: q.Limit(), After: q.Cursor("after")}
				if q.Err() != nil {
					return q.Err()
				}
				uai, err := web.PathUAI(r, "uai")
				if err != nil {
					return err
				}
				p := web.PrincipalOf(r)
				if err := web.MayReadNews(p, uai); err != nil {
					return err
				}
				news, err := s.cfg.Queries.News(r.Context(), uai, p.Actor().Profile, s.now(), page)
				if err != nil {
					return err
				}
				return replyPage(w, r, news)
			},
		},
	}
}
