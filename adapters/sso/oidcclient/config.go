// Package oidcclient signs people in through OpenID Connect providers:
// the ledger is a relying party (authorization code flow with PKCE S256,
// state and nonce bound to the browser, ID token verified against the
// provider's published keys), and hands the checked identity to a
// sso.Completer. Routes: /sso/oidc/{provider}/login and
// /sso/oidc/{provider}/callback. See docs/sso.md.
package oidcclient

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/schoollife/ledger/adapters/sso/upstream"
)

// Config is the OpenID Connect part of the single sign-on file: the
// site's public base URL and the providers whose protocol is "oidc".
type Config struct {
	// BaseURL is the ledger's public URL ("https://ent.example.fr"): the
	// redirect URIs registered at providers derive from it.
	BaseURL string `json:"base_url" yaml:"base_url"`
	// Providers are the OpenID providers offered.
	Providers []Provider `json:"providers" yaml:"providers"`
}

// Provider is one entry of the file's "providers" whose protocol is
// "oidc"; its other keys (label, profiles, match) are read elsewhere.
type Provider struct {
	// Name names the provider in routes and identities ("academie-oidc").
	Name string `json:"name" yaml:"name"`
	// OIDC is the entry's "oidc" block.
	OIDC Settings `json:"oidc" yaml:"oidc"`
}

// Settings is the "oidc" block of a provider.
type Settings struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string `json:"issuer" yaml:"issuer"`
	// ClientID is the ledger's client id registered at the provider.
	ClientID string `json:"client_id" yaml:"client_id"`
	// ClientSecretEnv names the environment variable holding the client
	// secret; ClientSecretFile names a file holding it. Exactly one is set:
	// the secret itself is never in the configuration, nor in logs.
	ClientSecretEnv  string `json:"client_secret_env,omitempty" yaml:"client_secret_env,omitempty"`
	ClientSecretFile string `json:"client_secret_file,omitempty" yaml:"client_secret_file,omitempty"`
	// Scopes are requested besides "openid" (which is always requested):
	// "profile", "email"...
	Scopes []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	// Claims name the claims handed over as the identity's attributes
	// (those the matching of accounts reads: "email", "preferred_username",
	// a national identifier...). Claims not named are dropped.
	Claims []string `json:"claims,omitempty" yaml:"claims,omitempty"`
	// UserInfo, when true, also asks the provider's userinfo endpoint for
	// the named claims the ID token lacks.
	UserInfo bool `json:"userinfo,omitempty" yaml:"userinfo,omitempty"`
}

// Validate checks the configuration without reading secrets or reaching
// any provider.
func (c Config) Validate() error {
	if _, err := upstream.CheckURL("base_url", c.BaseURL); err != nil {
		return err
	}
	if len(c.Providers) == 0 {
		return errors.New("oidc: no provider")
	}
	seen := map[string]bool{}
	for i, p := range c.Providers {
		if err := p.validate(); err != nil {
			return fmt.Errorf("oidc provider %d (%s): %w", i+1, p.Name, err)
		}
		if seen[p.Name] {
			return fmt.Errorf("oidc provider %d: name %q given twice", i+1, p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

func (p Provider) validate() error {
	if err := upstream.CheckProviderName(p.Name); err != nil {
		return err
	}
	s := p.OIDC
	if _, err := upstream.CheckURL("issuer", s.Issuer); err != nil {
		return err
	}
	if s.ClientID == "" || len(s.ClientID) > 255 || strings.ContainsFunc(s.ClientID, isSpaceOrControl) {
		return errors.New("client_id: required, one word of at most 255 bytes")
	}
	if (s.ClientSecretEnv == "") == (s.ClientSecretFile == "") {
		return errors.New("give the client secret by exactly one of client_secret_env and client_secret_file")
	}
	for _, sc := range s.Scopes {
		if sc == "" || strings.ContainsFunc(sc, isSpaceOrControl) || strings.ContainsAny(sc, `"\`) {
			return fmt.Errorf("scope %q: one word each", sc)
		}
	}
	for _, cl := range s.Claims {
		if cl == "" || len(cl) > 200 || strings.ContainsFunc(cl, isSpaceOrControl) {
			return fmt.Errorf("claim %q: one name each", cl)
		}
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// secret reads the client secret from where the settings say.
func (s Settings) secret(getenv func(string) string) (string, error) {
	var v string
	if s.ClientSecretEnv != "" {
		v = getenv(s.ClientSecretEnv)
		if v == "" {
			return "", fmt.Errorf("client secret: environment variable %s is empty or unset", s.ClientSecretEnv)
		}
		return v, nil
	}
	b, err := os.ReadFile(s.ClientSecretFile)
	if err != nil {
		return "", fmt.Errorf("client secret: %w", err)
	}
	v = strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("client secret: file %s is empty", s.ClientSecretFile)
	}
	return v, nil
}
