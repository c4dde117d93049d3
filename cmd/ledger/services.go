package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

const servicesUsage = `usage: ledger services register|list|remove [FLAGS]

The school's services the ledger signs people in to as their CAS server
or their OpenID provider (docs/sso.md).
Only a registered service gets tickets or codes.

  ledger services register --establishment UAI --name NAME --url PATTERN [--url PATTERN...]
                           [--attribute NAME...] [--single-logout]
      registers a CAS service; a PATTERN is an exact URL
      (https://pronote.example.fr/cas) or a prefix ending in "*"
      (https://moodle.example.fr/*); prints its id
  ledger services register --kind oidc --establishment UAI --name NAME
                           --redirect-uri URI [--redirect-uri URI...]
                           [--post-logout-uri URI...] [--attribute NAME...] [--public]
      registers an OpenID Connect client; its URIs are exact (https; http
      on the loopback only); prints its client id and, unless --public, its
      client secret, shown this once: only its hash is kept
  ledger services list --establishment UAI
      lists the establishment's services, as the servers' read model holds them
  ledger services remove --service ID
      unregisters a service: it gets no ticket any more

Attributes (all when none is named): ` + "ENTPersonLogin, displayName, ENTPersonProfils, ENTPersonStructRattachRNE, ENTEleveClasses, ENTPersonGroupes, ENTPersonJointure."

// services runs `ledger services VERB`.
func (m *Main) services(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, servicesUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	verb := args[0]
	var (
		cfg                Config
		uai, name, service string
		kind               = string(domain.ServiceCAS)
		urls, attrs        []string
		redirects, logouts []string
		slo, public        bool
	)
	flags := func(fs *flagSet) {
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), servicesUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
		switch verb {
		case "register":
			fs.StringVar(&uai, "establishment", "", "UAI of the establishment the service is for")
			fs.StringVar(&name, "name", "", "the service's name, as people know it")
			fs.Func("url", "a URL pattern of the service (repeatable)", func(s string) error { urls = append(urls, s); return nil })
			fs.Func("attribute", "an attribute released to the service (repeatable; all when none)", func(s string) error { attrs = append(attrs, s); return nil })
			fs.BoolVar(&slo, "single-logout", false, "post a logout request to the service when a person's session ends")
			fs.StringVar(&kind, "kind", kind, "cas or oidc")
			fs.Func("redirect-uri", "an OpenID Connect client's redirect URI, exact (repeatable)", func(s string) error { redirects = append(redirects, s); return nil })
			fs.Func("post-logout-uri", "where an OpenID Connect client's logout may return, exact (repeatable)", func(s string) error { logouts = append(logouts, s); return nil })
			fs.BoolVar(&public, "public", false, "an OpenID Connect client without secret (PKCE only)")
		case "list":
			fs.StringVar(&uai, "establishment", "", "UAI of the establishment")
		case "remove":
			fs.StringVar(&service, "service", "", "id of the service")
		}
	}
	switch verb {
	case "register", "list", "remove":
	default:
		fmt.Fprintln(m.stderr, servicesUsage)
		return fmt.Errorf("unknown command %q", verb)
	}
	if err := m.parse(&cfg, "services "+verb, args[1:], false, flags); err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	req := commands.Request{System: true}
	switch verb {
	case "register":
		cmd, secret, err := serviceToRegister(uai, name, domain.ServiceKind(kind), urls, redirects, logouts, attrs, slo, public)
		if err != nil {
			return err
		}
		res, err := a.commands.RegisterService(ctx, req, cmd)
		if err != nil {
			return err
		}
		if cmd.Kind == domain.ServiceCAS {
			fmt.Fprintf(m.stdout, "service %s registered for %s\n", res.ID, uai)
			return nil
		}
		fmt.Fprintf(m.stdout, "OpenID Connect client %s registered for %s\nclient_id: %s\n", res.ID, uai, res.ID)
		if secret != "" {
			fmt.Fprintf(m.stdout, "client_secret: %s\n(shown this once: only its hash is kept)\n", secret)
		}
	case "list":
		if uai == "" {
			return usageErrorf("services list", "--establishment is required")
		}
		list, err := a.queries.Services(ctx, uai)
		if err != nil {
			return err
		}
		for _, s := range list {
			slo := ""
			if s.SingleLogout {
				slo = " single-logout"
			}
			fmt.Fprintf(m.stdout, "%s\t%s\t%s\t%s\t%s%s\n", s.ID, s.Kind, s.Name, strings.Join(s.URLs, " "), strings.Join(s.Attributes, ","), slo)
		}
	case "remove":
		id, err := uuid.Parse(service)
		if err != nil {
			return usageErrorf("services remove", "--service must be a service id")
		}
		if _, err := a.commands.UnregisterService(ctx, req, domain.UnregisterService{Service: id}); err != nil {
			return err
		}
		fmt.Fprintf(m.stdout, "service %s removed\n", id)
	}
	return nil
}

// serviceToRegister checks the flags of `services register` and returns
// the command, with the secret generated for a confidential OpenID
// Connect client ("" otherwise).
func serviceToRegister(uai, name string, kind domain.ServiceKind, urls, redirects, logouts, attrs []string, slo, public bool) (domain.RegisterService, string, error) {
	const verb = "services register"
	if uai == "" || name == "" {
		return domain.RegisterService{}, "", usageErrorf(verb, "--establishment and --name are required")
	}
	if len(attrs) == 0 {
		attrs = domain.ServiceAttributes
	}
	cmd := domain.RegisterService{Establishment: uai, Name: name, Kind: kind, Attributes: attrs, SingleLogout: slo}
	switch kind {
	case domain.ServiceCAS:
		if len(urls) == 0 || len(redirects) > 0 || len(logouts) > 0 || public {
			return cmd, "", usageErrorf(verb, "a CAS service needs at least one --url, and no --redirect-uri, --post-logout-uri or --public")
		}
		cmd.URLs = urls
		return cmd, "", nil
	case domain.ServiceOIDC:
		if len(redirects) == 0 || len(urls) > 0 || slo {
			return cmd, "", usageErrorf(verb, "an OpenID Connect client needs at least one --redirect-uri, and no --url or --single-logout")
		}
		cmd.URLs, cmd.PostLogoutURIs, cmd.Public = redirects, logouts, public
		if public {
			return cmd, "", nil
		}
		secret, hash := domain.NewClientSecret()
		cmd.SecretHash = hash
		return cmd, secret, nil
	}
	return cmd, "", usageErrorf(verb, "--kind is cas or oidc")
}
