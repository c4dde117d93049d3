package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/oidcprovider"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
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
// Its clients are the OpenID Connect services of the registry of
// connected services (ledger services register --kind oidc); each access
// appends service.accessed.v1, as the CAS server's do.
func (a *app) oidcProvider(ctx context.Context, cfg *Config, sessions *web.Sessions, logins loginsOf) (*oidcprovider.Provider, error) {
	store, err := openOIDCStore(a.store)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, store.Close)
	issuer, insecure := cfg.oidcIssuer()
	if issuer == "" && !insecure {
		return nil, errors.New("the OpenID provider needs --oidc-issuer (LEDGER_OIDC_ISSUER), the ledger's public https URL")
	}
	return oidcprovider.New(ctx, oidcprovider.Config{
		Issuer: issuer, Store: store, Clients: registryClients{services: a.queries},
		Accesses: registryAccesses{commands: a.commands},
		People:   directoryPeople{accounts: a.queries, logins: logins}, Sessions: portalSessions{s: sessions},
		Logger: a.log, AllowInsecure: insecure,
	})
}

// oidcIssuer returns the provider's issuer: --oidc-issuer, or with --demo
// none (the host each request came to). http is allowed with --demo, and
// for an issuer on the loopback (a trial on one's own machine).
func (c *Config) oidcIssuer() (issuer string, insecure bool) {
	u, err := url.Parse(c.OIDCIssuer)
	loopback := false
	if err == nil && u.Scheme == "http" {
		ip := net.ParseIP(u.Hostname())
		loopback = u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
	}
	return c.OIDCIssuer, c.Demo || loopback
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

// registryClients are the OpenID Connect services of the registry of
// connected services: a client id is its service's id; a service
// unregistered, or registered for CAS, is no client.
type registryClients struct {
	services interface {
		Service(ctx context.Context, id uuid.UUID) (*projections.ServiceEntry, error)
	}
}

func (r registryClients) Client(ctx context.Context, clientID string) (oidcprovider.Client, error) {
	id, err := uuid.Parse(clientID)
	if err != nil || id.String() != clientID {
		return oidcprovider.Client{}, oidcprovider.ErrUnknownClient
	}
	s, err := r.services.Service(ctx, id)
	switch {
	case errors.Is(err, domain.ErrUnknownService):
		return oidcprovider.Client{}, oidcprovider.ErrUnknownClient
	case err != nil:
		return oidcprovider.Client{}, err
	case s.Kind != domain.ServiceOIDC || s.ClientID != clientID:
		return oidcprovider.Client{}, oidcprovider.ErrUnknownClient
	}
	return oidcprovider.Client{
		ID: s.ClientID, Name: s.Name, Establishment: s.Establishment, RedirectURIs: s.URLs,
		PostLogoutRedirectURIs: s.PostLogoutURIs, SecretHash: s.SecretHash, Attributes: s.Attributes,
	}, nil
}

// registryAccesses record each access to an OpenID Connect service as
// service.accessed.v1 (protocol oidc), in the person's connections
// stream, as the CAS server does.
type registryAccesses struct {
	commands interface {
		RecordServiceAccess(ctx context.Context, req commands.Request, cmd domain.RecordServiceAccess) (commands.Result, error)
	}
}

func (r registryAccesses) RecordAccess(ctx context.Context, account uuid.UUID, clientID string) error {
	id, err := uuid.Parse(clientID)
	if err != nil {
		return fmt.Errorf("client %q: %w", clientID, oidcprovider.ErrUnknownClient)
	}
	_, err = r.commands.RecordServiceAccess(ctx, commands.Request{Actor: account, CorrelationID: web.Correlation(ctx)},
		domain.RecordServiceAccess{Service: id, Protocol: domain.AccessOIDC})
	if err != nil {
		return fmt.Errorf("access of %s to %s: %w", account, clientID, err)
	}
	return nil
}

const oidcUsage = `usage: ledger oidc rotate-keys [--signs-in DURATION] [FLAGS]

Makes the next key that signs the ID tokens of the OpenID provider
(serve --oidc-provider). It is published at once and signs after
--signs-in (default 1h, so that services see it first; 0 for a key thought
exposed). The old key stays published until the tokens it signed expire.
The running nodes also make a new key every 30 days on their own.`

// oidc runs `ledger oidc rotate-keys`.
func (m *Main) oidc(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, oidcUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "rotate-keys" {
		fmt.Fprintln(m.stderr, oidcUsage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	var cfg Config
	var signsIn time.Duration
	err := m.parse(&cfg, "oidc rotate-keys", args[1:], false, func(fs *flagSet) {
		fs.DurationVar(&signsIn, "signs-in", oidcprovider.DefaultPublishAhead, "how long the new key is published before it signs (0: at once)")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), oidcUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	})
	if err != nil {
		return err
	}
	if signsIn < 0 {
		return fmt.Errorf("--signs-in %s is negative", signsIn)
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	store, err := openOIDCStore(a.store)
	if err != nil {
		return err
	}
	defer store.Close()
	id, err := oidcprovider.RotateKeys(ctx, store, signsIn)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "signing key %s published; it signs from %s\n", id, time.Now().Add(signsIn).UTC().Format(time.RFC3339))
	return nil
}
