package sso

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Linker links identities to accounts (commands.Handlers).
type Linker interface {
	LinkIdentity(ctx context.Context, req commands.Request, cmd domain.LinkIdentity) (commands.Result, error)
}

// Sessions opens the portal session of a matched account (web.Sessions).
type Sessions interface {
	SignInAccount(r *http.Request, id uuid.UUID, method domain.SignInMethod, kind string) (*web.SignedIn, error)
	Cookie(token string, expires time.Time) *http.Cookie
}

// Refusals shows a person, in French, why they cannot sign in (the
// portal): reason is ReasonNone, ReasonSeveral or ReasonClosed.
type Refusals interface {
	SignInRefused(w http.ResponseWriter, r *http.Request, provider, reason string)
}

// CompleterConfig is what a Completer is built from.
type CompleterConfig struct {
	Directory Directory
	Linker    Linker
	Sessions  Sessions
	Refusals  Refusals
	Store     *Store
	// Rules are the matching rules of each provider, by name; a provider
	// without rules matches only identities already linked.
	Rules  map[string]MatchRules
	Logger *slog.Logger
}

// Validate checks the configuration.
func (c *CompleterConfig) Validate() error {
	if c.Directory == nil || c.Linker == nil || c.Sessions == nil || c.Refusals == nil || c.Store == nil {
		return errors.New("sso: Directory, Linker, Sessions, Refusals and Store are required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Complete is the Completer of every protocol: it matches an identity to
// an account, links it the first time (account.identity_linked.v1), opens
// the session (user.connected.v1 with the protocol's method) and goes to
// returnTo; an identity that matches no account, or several, is listed for
// administrators and shown a page in French.
type Complete struct {
	cfg     CompleterConfig
	matcher *Matcher
}

var _ Completer = (*Complete)(nil)

// NewCompleter returns the Completer of cfg.
func NewCompleter(cfg CompleterConfig) (*Complete, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Complete{cfg: cfg, matcher: NewMatcher(cfg.Directory)}, nil
}

// Method returns the sign-in method of a protocol.
func Method(protocol string) domain.SignInMethod {
	switch protocol {
	case ProtocolSAML:
		return domain.SignInSAML
	case ProtocolOIDC:
		return domain.SignInOIDC
	case ProtocolCAS:
		return domain.SignInCAS
	}
	return domain.SignInSSO
}

// Complete implements Completer.
func (c *Complete) Complete(w http.ResponseWriter, r *http.Request, id Identity, returnTo string) {
	ctx := r.Context()
	log := c.cfg.Logger.With("provider", id.Provider)
	m, err := c.matcher.Match(ctx, id, c.cfg.Rules[id.Provider])
	if err != nil {
		log.ErrorContext(ctx, "single sign-on: matching failed", "err", err)
		c.cfg.Refusals.SignInRefused(w, r, id.Provider, "")
		return
	}
	if m.Reason != "" {
		log.InfoContext(ctx, "single sign-on: identity not matched", "reason", m.Reason)
		if m.Reason != ReasonClosed {
			u := Unmatched{Provider: id.Provider, Subject: id.Subject, Reason: m.Reason, Name: truncate(m.Name, 200), Hint: truncate(m.Hint, 500),
				Establishment: m.Establishment}
			if err := c.cfg.Store.NoteUnmatched(ctx, u); err != nil {
				log.WarnContext(ctx, "single sign-on: unmatched identity not listed", "err", err)
			}
		}
		c.cfg.Refusals.SignInRefused(w, r, id.Provider, m.Reason)
		return
	}
	if !m.Linked {
		_, err := c.cfg.Linker.LinkIdentity(ctx, commands.Request{System: true, CorrelationID: web.Correlation(ctx)}, domain.LinkIdentity{
			Account: m.Account.ID, Provider: id.Provider, Subject: id.Subject, How: domain.IdentityMatched, Attribute: m.Attribute,
		})
		switch {
		case err == nil, errors.Is(err, domain.ErrIdentityLinked):
		case errors.Is(err, domain.ErrAccountClosed):
			c.cfg.Refusals.SignInRefused(w, r, id.Provider, ReasonClosed)
			return
		default:
			log.ErrorContext(ctx, "single sign-on: identity not linked", "account", m.Account.ID, "err", err)
			c.cfg.Refusals.SignInRefused(w, r, id.Provider, "")
			return
		}
		log.InfoContext(ctx, "single sign-on: identity linked", "account", m.Account.ID, "attribute", m.Attribute)
	}
	in, err := c.cfg.Sessions.SignInAccount(r, m.Account.ID, Method(id.Protocol), web.KindSession)
	if errors.Is(err, web.ErrBadCredentials) {
		c.cfg.Refusals.SignInRefused(w, r, id.Provider, ReasonClosed)
		return
	}
	if err != nil {
		log.ErrorContext(ctx, "single sign-on: session not opened", "account", m.Account.ID, "err", err)
		c.cfg.Refusals.SignInRefused(w, r, id.Provider, "")
		return
	}
	// Kept so that signing out of the portal signs out of the provider
	// too; a sign-in does not fail for it.
	ps := ProviderSession{Session: web.SessionID(in.Token), Provider: id.Provider, Subject: id.Subject, SessionIndex: id.SessionIndex}
	if err := c.cfg.Store.SaveSession(ctx, ps, in.Expires); err != nil {
		log.WarnContext(ctx, "single sign-on: provider's session not kept: no single logout for it", "err", err)
	}
	http.SetCookie(w, c.cfg.Sessions.Cookie(in.Token, in.Expires))
	http.Redirect(w, r, LocalPath(returnTo), http.StatusSeeOther)
}

// LocalPath returns p if it is a path of this site ("/..." but not "//"
// nor "/\"), else "/": a RelayState or return address never leads
// off-site.
func LocalPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n\t\x00") || strings.Contains(p, "\\") {
		return "/"
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
