// Package casclient signs people in through an académie's CAS server
// (protocol 2.0 or 3.0): the ledger sends the browser to the server's
// login page with its service URL, validates the service ticket it comes
// back with at the server's serviceValidate endpoint over HTTPS, and
// hands the user and attributes to a sso.Completer. Routes:
// /sso/cas/{provider}/login and /sso/cas/{provider}/callback. See
// docs/sso.md.
package casclient

import (
	"errors"
	"fmt"

	"github.com/schoollife/ledger/adapters/sso/upstream"
)

// Config is the CAS part of the single sign-on file: the site's public
// base URL and the providers whose protocol is "cas".
type Config struct {
	// BaseURL is the ledger's public URL ("https://ent.example.fr"): the
	// service URLs derive from it.
	BaseURL string `json:"base_url" yaml:"base_url"`
	// Providers are the CAS servers offered.
	Providers []Provider `json:"providers" yaml:"providers"`
}

// Provider is one entry of the file's "providers" whose protocol is
// "cas"; its other keys (label, profiles, match) are read elsewhere.
type Provider struct {
	// Name names the provider in routes and identities ("cas-academie").
	Name string `json:"name" yaml:"name"`
	// CAS is the entry's "cas" block.
	CAS Settings `json:"cas" yaml:"cas"`
}

// Settings is the "cas" block of a provider.
type Settings struct {
	// URL is the CAS server's prefix ("https://cas.ac-exemple.fr/cas"):
	// its login page is URL + "/login".
	URL string `json:"url" yaml:"url"`
	// Version is the protocol: 3 (default) validates at
	// /p3/serviceValidate, which gives attributes; 2 at /serviceValidate.
	Version int `json:"version,omitempty" yaml:"version,omitempty"`
	// Renew asks the server to have the person type their credentials
	// again even with a session there, and to vouch it did.
	Renew bool `json:"renew,omitempty" yaml:"renew,omitempty"`
}

// Validate checks the configuration without reaching any server.
func (c Config) Validate() error {
	if _, err := upstream.CheckURL("base_url", c.BaseURL); err != nil {
		return err
	}
	if len(c.Providers) == 0 {
		return errors.New("cas: no provider")
	}
	seen := map[string]bool{}
	for i, p := range c.Providers {
		if err := p.validate(); err != nil {
			return fmt.Errorf("cas provider %d (%s): %w", i+1, p.Name, err)
		}
		if seen[p.Name] {
			return fmt.Errorf("cas provider %d: name %q given twice", i+1, p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

func (p Provider) validate() error {
	if err := upstream.CheckProviderName(p.Name); err != nil {
		return err
	}
	if _, err := upstream.CheckURL("url", p.CAS.URL); err != nil {
		return err
	}
	switch p.CAS.Version {
	case 0, 2, 3:
	default:
		return fmt.Errorf("version %d: 2 or 3", p.CAS.Version)
	}
	return nil
}

// validatePath is the ticket validation endpoint of a protocol version.
func (s Settings) validatePath() string {
	if s.Version == 2 {
		return "/serviceValidate"
	}
	return "/p3/serviceValidate"
}
