// Package saml is the ledger as a SAML 2.0 service provider: ÉduConnect
// (parents and students) and the académies' identity providers (staff)
// sign people in, and the ledger hands each checked identity to an
// sso.Completer. See docs/sso.md.
package saml

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// IdPConfig is one identity provider: where its metadata comes from.
type IdPConfig struct {
	// MetadataFile is a file holding the provider's metadata (an
	// EntityDescriptor, or an EntitiesDescriptor with EntityID set).
	MetadataFile string `json:"metadata_file,omitempty" yaml:"metadata_file,omitempty"`
	// MetadataURL is where the provider publishes its metadata; it is
	// fetched at start and every Refresh.
	MetadataURL string `json:"metadata_url,omitempty" yaml:"metadata_url,omitempty"`
	// EntityID picks the provider in a federation's aggregate metadata.
	EntityID string `json:"entity_id,omitempty" yaml:"entity_id,omitempty"`
	// Refresh is how often MetadataURL is fetched again ("6h"; 1h when
	// empty).
	Refresh string `json:"refresh,omitempty" yaml:"refresh,omitempty"`
	// Binding is how authentication requests are sent: "redirect"
	// (HTTP-Redirect, the default) or "post" (HTTP-POST).
	Binding string `json:"binding,omitempty" yaml:"binding,omitempty"`
	// Metadata is the provider's metadata itself, for a provider in the
	// same process (the demo's); never read from a file.
	Metadata []byte `json:"-" yaml:"-"`
}

// Validate checks the provider's configuration.
func (c IdPConfig) Validate() error {
	n := 0
	for _, set := range []bool{c.MetadataFile != "", c.MetadataURL != "", len(c.Metadata) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("saml: give metadata_file or metadata_url, one of them")
	}
	if c.MetadataURL != "" {
		u, err := url.Parse(c.MetadataURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("saml: metadata_url %q is not an http(s) URL", c.MetadataURL)
		}
	}
	if _, err := c.refresh(); err != nil {
		return err
	}
	switch c.Binding {
	case "", "redirect", "post":
	default:
		return fmt.Errorf("saml: binding %q is not redirect or post", c.Binding)
	}
	return nil
}

func (c IdPConfig) refresh() (time.Duration, error) {
	if c.Refresh == "" {
		return time.Hour, nil
	}
	d, err := time.ParseDuration(c.Refresh)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("saml: refresh %q is not a duration of at least 1m", c.Refresh)
	}
	return d, nil
}

// Provider is a configured identity provider.
type Provider struct {
	// Name is the provider's name in the configuration and in the links
	// of identities (domain.ValidProviderName).
	Name string
	IdP  IdPConfig
}

// SPConfig is the ledger as a service provider.
type SPConfig struct {
	// BaseURL is the ledger's public address (https://ent.example.fr): the
	// metadata, assertion consumer and logout endpoints are under it.
	BaseURL *url.URL
	// EntityID is the service provider's id (BaseURL/saml/metadata when
	// empty).
	EntityID string
	// Key signs requests; Certificate is its public part, published in the
	// metadata.
	Key         crypto.Signer
	Certificate *x509.Certificate
}

// Validate checks the service provider's configuration.
func (c SPConfig) Validate() error {
	switch {
	case c.BaseURL == nil || c.BaseURL.Host == "" || (c.BaseURL.Scheme != "https" && c.BaseURL.Scheme != "http"):
		return errors.New("saml: base_url must be the ledger's public http(s) address")
	case c.Key == nil || c.Certificate == nil:
		return errors.New("saml: the service provider's key and certificate are required")
	}
	return nil
}
