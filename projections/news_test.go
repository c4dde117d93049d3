package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

const (
	nwsUAI   = "0750001A"
	nwsOther = "0690002B"
)

var (
	nwsAuthor, nwsHead                = rmID(1), rmID(2)
	nwsA1, nwsA2, nwsA3, nwsA4, nwsA5 = rmID(11), rmID(12), rmID(13), rmID(14), rmID(15)
	nwsA6                             = rmID(16)
	nwsBase                           = time.Date(2006, 9, 4, 8, 0, 0, 0, time.UTC)
)

// nwsAt is hour h of the news history.
func nwsAt(h int) time.Time { return nwsBase.Add(time.Duration(h) * time.Hour) }

// newsHistory: articles for everyone, for relatives, for students and
// relatives from a later hour; one withdrawn, one amended; one in another
// establishment.
func newsHistory(t *testing.T) *world {
	w := newWorld(t)
	byAuthor := teacherOf(nwsUAI, nwsAuthor)
	publish := func(h int, a uuid.UUID, title string, audience []domain.Profile, publishAt time.Time) {
		emitAt(w, nwsAt(h), byAuthor, domain.ArticleStream(a), domain.ArticlePublished{
			Article: a, Establishment: nwsUAI, Author: nwsAuthor, Title: title, Body: "Texte de " + title,
			Audience: audience, PublishAt: publishAt,
		})
	}
	publish(1, nwsA1, "Rentrée", nil, time.Time{})
	publish(2, nwsA2, "Réunion des parents", []domain.Profile{domain.ProfileRelative}, time.Time{})
	// Written now, visible from hour 10 (given in Paris time).
	publish(2, nwsA3, "Résultats du brevet", []domain.Profile{domain.ProfileStudent, domain.ProfileRelative}, nwsAt(10).In(paris))
	publish(3, nwsA4, "Erreur", nil, time.Time{})
	emitAt(w, nwsAt(4), byAuthor, domain.ArticleStream(nwsA4), domain.ArticleWithdrawn{Article: nwsA4})
	publish(3, nwsA5, "Cantine", nil, time.Time{})
	emitAt(w, nwsAt(4), actor{id: nwsHead, profile: domain.ProfilePersonnel, uai: nwsUAI}, domain.ArticleStream(nwsA5),
		domain.ArticleAmended{Article: nwsA5, Title: "Cantine : nouveaux horaires", Body: "Service de 11 h 30 à 13 h 30."})
	// Amending a withdrawn article changes nothing.
	emitAt(w, nwsAt(5), byAuthor, domain.ArticleStream(nwsA4), domain.ArticleAmended{Article: nwsA4, Title: "Erreur corrigée", Body: "?"})
	emitAt(w, nwsAt(1), teacherOf(nwsOther, nwsAuthor), domain.ArticleStream(nwsA6), domain.ArticlePublished{
		Article: nwsA6, Establishment: nwsOther, Author: nwsAuthor, Title: "Ailleurs", Body: "Autre collège",
	})
	return w
}

func TestNews(t *testing.T) {
	w := newsHistory(t)
	article := func(a uuid.UUID, title string, h int, audience ...domain.Profile) projections.NewsArticle {
		if audience == nil {
			audience = []domain.Profile{}
		}
		return projections.NewsArticle{
			Article: a, Establishment: nwsUAI, Author: nwsAuthor, Title: title, Body: "Texte de " + title,
			Audience: audience, PublishedAt: nwsAt(h),
		}
	}
	rentree := article(nwsA1, "Rentrée", 1)
	reunion := article(nwsA2, "Réunion des parents", 2, domain.ProfileRelative)
	brevet := article(nwsA3, "Résultats du brevet", 10, domain.ProfileStudent, domain.ProfileRelative)
	cantine := article(nwsA5, "Cantine : nouveaux horaires", 3)
	cantine.Body, cantine.AmendedAt = "Service de 11 h 30 à 13 h 30.", nwsAt(4)
	ailleurs := projections.NewsArticle{
		Article: nwsA6, Establishment: nwsOther, Author: nwsAuthor, Title: "Ailleurs", Body: "Autre collège",
		Audience: []domain.Profile{}, PublishedAt: nwsAt(1),
	}

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 3, projections.NewNews())
		for _, c := range []struct {
			name    string
			uai     string
			profile domain.Profile
			now     time.Time
			limit   int
			want    []projections.NewsArticle
		}{
			{"relative, before the results", nwsUAI, domain.ProfileRelative, nwsAt(5), 0, []projections.NewsArticle{cantine, reunion, rentree}},
			{"teacher, in no audience list", nwsUAI, domain.ProfileTeacher, nwsAt(5), 0, []projections.NewsArticle{cantine, rentree}},
			{"student at publication time", nwsUAI, domain.ProfileStudent, nwsAt(10), 0, []projections.NewsArticle{brevet, cantine, rentree}},
			{"student just before", nwsUAI, domain.ProfileStudent, nwsAt(10).Add(-time.Nanosecond), 0, []projections.NewsArticle{cantine, rentree}},
			{"limited", nwsUAI, domain.ProfileRelative, nwsAt(10), 2, []projections.NewsArticle{brevet, cantine}},
			{"before any", nwsUAI, domain.ProfileRelative, nwsAt(0), 0, []projections.NewsArticle{}},
			{"other establishment", nwsOther, domain.ProfileGuest, nwsAt(10), 0, []projections.NewsArticle{ailleurs}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := mustItems[projections.NewsArticle](t)(q.News(ctx, c.uai, c.profile, c.now, projections.Page{Limit: c.limit}))
				mustEqualJSON(t, "news", got, c.want)
			})
		}
	})
}
