package projections

// news.v1: each establishment's news feed, newest publication first.
//
// An article is published at its PublishAt when set (it may be in the
// future: the query hides it until then), otherwise at the time of its
// publication event. Its audience is a list of profiles; empty means
// everyone in the establishment. An amended article is updated in place; a
// withdrawn one leaves the feed.
//
// Collections (key -> document):
//
//	feed      "UAI|newest-first publication time|article id" -> NewsArticle
//	articles  article id -> {"key": key in feed, "withdrawn": bool}
//
// "Newest-first" is newestFirst(t) (see mailbox.go): byte order is the
// reverse of time order, so the articles published at or before now are
// the keys from "UAI|newestFirst(now)" on, newest first: one range scan.

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionNews is the persisted name of the news read model.
const ProjectionNews = "news.v1"

// Collections of news.v1.
const (
	nwFeed     = "feed"
	nwArticles = "articles"
)

// newsCollections lists the collections of news.v1.
var newsCollections = []string{nwArticles, nwFeed}

// NewsArticle is an article of an establishment's feed.
type NewsArticle struct {
	Article       uuid.UUID `json:"article"`
	Establishment string    `json:"establishment"`
	Author        uuid.UUID `json:"author"`
	Title         string    `json:"title"`
	Body          string    `json:"body"`
	// Audience lists the profiles that see it; empty means everyone.
	Audience    []domain.Profile `json:"audience"`
	PublishedAt time.Time        `json:"published_at"`
	AmendedAt   time.Time        `json:"amended_at,omitzero"`
}

// For reports whether profile p is in the article's audience.
func (a NewsArticle) For(p domain.Profile) bool {
	return len(a.Audience) == 0 || slices.Contains(a.Audience, p)
}

// nwRef locates an article in the feed.
type nwRef struct {
	Key       string `json:"key"`
	Withdrawn bool   `json:"withdrawn,omitempty"`
}

type news struct{}

// NewNews returns the reducer of news.v1.
func NewNews() Reducer { return news{} }

func (news) Name() string { return ProjectionNews }

// Collections lists the collections the reducer writes.
func (news) Collections() []string { return slices.Clone(newsCollections) }

// Prefetch names an article's reference and, once preloaded, the article.
func (news) Prefetch(_ context.Context, b *Batch, _ domain.Record, e domain.Event, want func(coll, key string)) {
	var id string
	switch e := e.(type) {
	case domain.ArticlePublished:
		want(nwArticles, e.Article.String())
		return
	case domain.ArticleAmended:
		id = e.Article.String()
	case domain.ArticleWithdrawn:
		id = e.Article.String()
	default:
		return
	}
	want(nwArticles, id)
	if ref, ok := Peek[nwRef](b, nwArticles, id); ok && !ref.Withdrawn {
		want(nwFeed, ref.Key)
	}
}

func (news) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.ArticlePublished:
		if _, exists, err := Get[nwRef](ctx, b, nwArticles, e.Article.String()); err != nil || exists {
			return err
		}
		at := e.PublishAt
		if at.IsZero() {
			at = rec.Metadata.Time
		}
		at = at.UTC()
		audience := slices.Clone(e.Audience)
		if audience == nil {
			audience = []domain.Profile{}
		}
		key := e.Establishment + "|" + newestFirst(at) + "|" + e.Article.String()
		b.Put(nwFeed, key, &NewsArticle{
			Article: e.Article, Establishment: e.Establishment, Author: e.Author,
			Title: e.Title, Body: e.Body, Audience: audience, PublishedAt: at,
		})
		b.Put(nwArticles, e.Article.String(), &nwRef{Key: key})
	case domain.ArticleAmended:
		ref, ok, err := Get[nwRef](ctx, b, nwArticles, e.Article.String())
		if err != nil || !ok || ref.Withdrawn {
			return err
		}
		a, ok, err := Get[NewsArticle](ctx, b, nwFeed, ref.Key)
		if err != nil || !ok {
			return err
		}
		a.Title, a.Body, a.AmendedAt = e.Title, e.Body, rec.Metadata.Time.UTC()
		b.Put(nwFeed, ref.Key, a)
	case domain.ArticleWithdrawn:
		ref, ok, err := Get[nwRef](ctx, b, nwArticles, e.Article.String())
		if err != nil || !ok || ref.Withdrawn {
			return err
		}
		b.Delete(nwFeed, ref.Key)
		ref.Withdrawn = true
		b.Put(nwArticles, e.Article.String(), ref)
	}
	return nil
}

// Queries of news.v1.

// News returns a page of the articles of an establishment published at or
// before now whose audience includes profile, newest first.
func (q *Queries) News(ctx context.Context, uai string, profile domain.Profile, now time.Time, p Page) (List[NewsArticle], error) {
	r, err := q.reader(ctx, ProjectionNews)
	if err != nil {
		return List[NewsArticle]{}, err
	}
	prefix := uai + "|"
	return scanPage(ctx, r, nwFeed, prefix, prefix+newestFirst(now), PrefixEnd(prefix), p, func(a NewsArticle) bool {
		return a.For(profile)
	})
}
