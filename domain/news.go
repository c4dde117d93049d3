package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// News errors of the article aggregate.
var (
	ErrUnknownArticle   = newError(CodeNotFound, "unknown-article", "unknown article")
	ErrArticleExists    = newError(CodeConflict, "article-exists", "article already published")
	ErrArticleWithdrawn = newError(CodeRule, "article-withdrawn", "the article was withdrawn")
)

// Limits of an article.
const (
	MaxArticleTitle = 200
	MaxArticleBody  = 50_000
)

// Article is a news article of an establishment.
type Article struct {
	ID            uuid.UUID
	Exists        bool
	Establishment string
	Author        uuid.UUID
	Title         string
	Body          string
	Audience      []Profile
	PublishAt     time.Time
	Withdrawn     bool
}

// Apply folds an event.
func (a *Article) Apply(e Event) {
	switch e := e.(type) {
	case ArticlePublished:
		a.ID, a.Exists, a.Establishment, a.Author = e.Article, true, e.Establishment, e.Author
		a.Title, a.Body, a.Audience, a.PublishAt = e.Title, e.Body, slices.Clone(e.Audience), e.PublishAt
	case ArticleAmended:
		a.Title, a.Body = e.Title, e.Body
	case ArticleWithdrawn:
		a.Withdrawn = true
	}
}

// PublishArticle publishes news to an establishment's community.
type PublishArticle struct {
	Article       uuid.UUID `json:"article"`
	Establishment string    `json:"establishment" text:"code"`
	Title         string    `json:"title" text:"title"`
	Body          string    `json:"body" text:"text"`
	// Audience lists the profiles that see the article; empty means
	// everyone in the establishment.
	Audience  []Profile `json:"audience,omitempty"`
	PublishAt time.Time `json:"publish_at,omitzero" date:"plan"`
}

// InAudience reports whether p is a directory profile an article may
// address: the school community, not the ledger's own roles.
func (p Profile) InAudience() bool {
	switch p {
	case ProfileStudent, ProfileRelative, ProfileTeacher, ProfilePersonnel, ProfileGuest:
		return true
	}
	return false
}

// Publish decides a publication in establishment est. Teachers and
// personnel of the establishment publish: the 2007 report counts articles
// and news among the contributions of the educational community, not only
// of the administration. Students, relatives and guests read, they do not
// publish.
func (a *Article) Publish(actor Actor, est *Establishment, cmd PublishArticle) ([]Event, error) {
	if err := teacherOrPersonnelOf(actor, cmd.Establishment, "publish news"); err != nil {
		return nil, err
	}
	if cmd.Article == uuid.Nil {
		return nil, Errorf(ErrInvalid, "article id is required")
	}
	if err := validateArticleText(cmd.Title, cmd.Body); err != nil {
		return nil, err
	}
	for i, p := range cmd.Audience {
		if !p.InAudience() {
			return nil, Errorf(ErrInvalid, "audience %q is not student, relative, teacher, personnel or guest", p)
		}
		if slices.Contains(cmd.Audience[:i], p) {
			return nil, Errorf(ErrInvalid, "audience %q is listed twice", p)
		}
	}
	if est == nil || !est.Exists {
		return nil, Errorf(ErrUnknownEstablishment, "%s", cmd.Establishment)
	}
	if a.Exists {
		return nil, Errorf(ErrArticleExists, "%s", cmd.Article)
	}
	var audience []Profile
	if len(cmd.Audience) > 0 {
		audience = slices.Clone(cmd.Audience)
	}
	return []Event{ArticlePublished{
		Article: cmd.Article, Establishment: cmd.Establishment, Author: actor.Account,
		Title: cmd.Title, Body: cmd.Body, Audience: audience, PublishAt: cmd.PublishAt.UTC(),
	}}, nil
}

func validateArticleText(title, body string) error {
	if err := requiredTextWithin("title", title, MaxArticleTitle); err != nil {
		return err
	}
	return requiredTextWithin("body", body, MaxArticleBody)
}

// mayEdit checks that actor may amend or withdraw the article: its author,
// while still a member of the establishment, or the head of establishment.
func (a *Article) mayEdit(actor Actor) error {
	if actor.IsHead(a.Establishment) {
		return nil
	}
	if actor.Establishment != a.Establishment {
		if actor.Profile == ProfileTeacher || actor.Profile == ProfilePersonnel {
			return Errorf(ErrWrongEstablishment, "article %s belongs to %s", a.ID, a.Establishment)
		}
		return Errorf(ErrForbidden, "only the article's author or the head of establishment edit it")
	}
	if actor.Account == uuid.Nil || actor.Account != a.Author {
		return Errorf(ErrForbidden, "only the article's author or the head of establishment edit it")
	}
	return nil
}

// AmendArticle changes an article's title and body.
type AmendArticle struct {
	Article uuid.UUID `json:"article"`
	Title   string    `json:"title" text:"title"`
	Body    string    `json:"body" text:"text"`
}

// Amend decides an amendment; it emits nothing when nothing changes.
func (a *Article) Amend(actor Actor, cmd AmendArticle) ([]Event, error) {
	if !a.Exists {
		return nil, Errorf(ErrUnknownArticle, "%s", cmd.Article)
	}
	if err := a.mayEdit(actor); err != nil {
		return nil, err
	}
	if a.Withdrawn {
		return nil, Errorf(ErrArticleWithdrawn, "%s", a.ID)
	}
	if err := validateArticleText(cmd.Title, cmd.Body); err != nil {
		return nil, err
	}
	if cmd.Title == a.Title && cmd.Body == a.Body {
		return nil, nil
	}
	return []Event{ArticleAmended{Article: a.ID, Title: cmd.Title, Body: cmd.Body}}, nil
}

// WithdrawArticle withdraws an article; its history stays.
type WithdrawArticle struct {
	Article uuid.UUID `json:"article"`
}

// Withdraw decides a withdrawal, once.
func (a *Article) Withdraw(actor Actor, cmd WithdrawArticle) ([]Event, error) {
	if !a.Exists {
		return nil, Errorf(ErrUnknownArticle, "%s", cmd.Article)
	}
	if err := a.mayEdit(actor); err != nil {
		return nil, err
	}
	if a.Withdrawn {
		return nil, Errorf(ErrArticleWithdrawn, "%s", a.ID)
	}
	return []Event{ArticleWithdrawn{Article: a.ID}}, nil
}
