package domain

import (
	"time"

	"github.com/google/uuid"
)

// ArticlePublished publishes a news article to an audience (profiles; empty
// means everyone in the establishment), visible from PublishAt when set.
// Author is kept in the payload because the article's own rules (who may
// amend or withdraw it) need it and aggregates see only payloads.
type ArticlePublished struct {
	Article       uuid.UUID `json:"article"`
	Establishment string    `json:"establishment"`
	Author        uuid.UUID `json:"author"`
	Title         string    `json:"title"`
	Body          string    `json:"body"`
	Audience      []Profile `json:"audience,omitempty"`
	PublishAt     time.Time `json:"publish_at,omitzero"`
}

func (ArticlePublished) EventType() string { return "news.published.v1" }

// ArticleAmended changes an article's title and body.
type ArticleAmended struct {
	Article uuid.UUID `json:"article"`
	Title   string    `json:"title"`
	Body    string    `json:"body"`
}

func (ArticleAmended) EventType() string { return "news.amended.v1" }

// ArticleWithdrawn withdraws an article.
type ArticleWithdrawn struct {
	Article uuid.UUID `json:"article"`
}

func (ArticleWithdrawn) EventType() string { return "news.withdrawn.v1" }
