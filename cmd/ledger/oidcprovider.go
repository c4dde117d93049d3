package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/oidcprovider"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// openOIDCStore returns the OpenID provider's store in the event store's
// database (migration 0430_oidc_provider).
func openOIDCStore(store eventStore) (*oidcprovider.Store, error) {
	switch s := store.(type) {
	case *sqlite.Store:
		return oidcprovider.NewSQLite(s.DB(), s.WithTx), nil
	case *postgres.Store:
		return oidcprovider.NewPostgres(s.Pool()), nil
	}
	return nil, fmt.Errorf("the OpenID provider keeps its keys and codes beside the log: it needs a sqlite: or postgres:// store, not %T", store)
}

// oidcProvider builds the ledger's OpenID provider (serve --oidc-provider).
// Its clients come from --oidc-clients until the registry of connected
// services gives them; accesses are logged until they are events.
func (a *app) oidcProvider(ctx context.Context, cfg *Config, sessions *web.Sessions, logins loginsOf) (*oidcprovider.Provider, error) {
	store, err := openOIDCStore(a.store)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, store.Close)
	issuer, insecure := cfg.oidcIssuer()
	clients := &oidcprovider.StaticClients{}
	if cfg.OIDCClients != "" {
		if clients, err = oidcprovider.LoadClients(cfg.OIDCClients, insecure); err != nil {
			return nil, err
		}
	}
	return oidcprovider.New(ctx, oidcprovider.Config{
		Issuer: issuer, Store: store, Clients: clients, Accesses: loggedAccesses{log: a.log},
		People: directoryPeople{accounts: a.queries, logins: logins}, Sessions: portalSessions{s: sessions},
		Logger: a.log, AllowInsecure: insecure,
	})
}

// oidcIssuer returns the provider's issuer: --oidc-issuer, or with --demo
// http://localhost on the listen port.
func (c *Config) oidcIssuer() (issuer string, insecure bool) {
	if c.OIDCIssuer != "" {
		return c.OIDCIssuer, c.Demo
	}
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		port = "8080"
	}
	return "http://localhost:" + port, true
}

// loginsOf gives the login of an account (adapters/auth, once it tells).
type loginsOf interface {
	LoginOf(ctx context.Context, account uuid.UUID) (string, bool, error)
}

// directoryPeople reads the people the provider tells services of from
// the directory's read model.
type directoryPeople struct {
	accounts interface {
		Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
	}
	logins loginsOf // nil: no login released
}

// nationalProfiles name the profiles as the national ENT directory schema
// does (ENTPersonProfils), as the CAS server releases them.
var nationalProfiles = map[domain.Profile]string{
	domain.ProfileStudent:   "National_ELV",
	domain.ProfileRelative:  "National_TUT",
	domain.ProfileTeacher:   "National_ENS",
	domain.ProfilePersonnel: "National_EVS",
	domain.ProfileAdmin:     "National_EVS",
	domain.ProfileInspector: "National_ENS",
	domain.ProfileEvaluator: "National_EVS",
	domain.ProfileGuest:     "National_COL",
}

func (d directoryPeople) Person(ctx context.Context, id uuid.UUID) (oidcprovider.Person, error) {
	acc, err := d.accounts.Account(ctx, id)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return oidcprovider.Person{}, fmt.Errorf("%s: %w", id, oidcprovider.ErrUnknownPerson)
	}
	if err != nil {
		return oidcprovider.Person{}, err
	}
	p := oidcprovider.Person{
		DisplayName: acc.DisplayName, Profile: nationalProfiles[acc.Profile],
		Establishment: acc.Establishment, Establishments: acc.Establishments,
		Jointure: acc.ExternalID, Closed: acc.Closed,
	}
	for _, m := range acc.Groups {
		if m.Kind == domain.GroupClass {
			p.Classes = append(p.Classes, m.Shown())
		} else {
			p.Groups = append(p.Groups, m.Shown())
		}
	}
	if d.logins != nil {
		login, ok, err := d.logins.LoginOf(ctx, id)
		if err != nil {
			return oidcprovider.Person{}, err
		}
		if ok {
			p.Login = login
		}
	}
	return p, nil
}

// portalSessions are the portal's sessions as the provider sees them.
type portalSessions struct{ s *web.Sessions }

func (p portalSessions) SignedIn(r *http.Request) (uuid.UUID, bool, error) {
	pr, err := p.s.Authenticate(r)
	switch {
	case errors.Is(err, web.ErrUnauthenticated):
		return uuid.Nil, false, nil
	case err != nil:
		return uuid.Nil, false, err
	}
	return pr.Actor().Account, true, nil
}

func (p portalSessions) SignOut(w http.ResponseWriter, r *http.Request) error {
	token, _ := web.RequestToken(r)
	if err := p.s.SignOut(r, token); err != nil {
		return err
	}
	http.SetCookie(w, p.s.ClearCookie())
	return nil
}

// loggedAccesses logs each access to a service: the service.accessed.v1
// event of the registry of connected services takes its place once there.
type loggedAccesses struct{ log *slog.Logger }

func (l loggedAccesses) RecordAccess(ctx context.Context, account uuid.UUID, clientID string) error {
	l.log.InfoContext(ctx, "service accessed", "protocol", "oidc", "client", clientID, "account", account)
	return nil
}
