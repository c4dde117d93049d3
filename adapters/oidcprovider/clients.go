package oidcprovider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
)

// StaticClients are clients listed in a file (serve --oidc-clients), for
// as long as the registry of connected services does not give them.
type StaticClients struct {
	byID map[string]Client
}

var _ Clients = (*StaticClients)(nil)

// Client implements Clients.
func (s *StaticClients) Client(_ context.Context, id string) (Client, error) {
	c, ok := s.byID[id]
	if !ok {
		return Client{}, ErrUnknownClient
	}
	return c, nil
}

// clientFile is the shape of the file.
type clientFile struct {
	Clients []struct {
		ID                     string   `json:"client_id"`
		Name                   string   `json:"name"`
		Establishment          string   `json:"establishment"`
		RedirectURIs           []string `json:"redirect_uris"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
		SecretHash             string   `json:"secret_hash"`
		// Attributes: the claims released; absent, all of them.
		Attributes *[]string `json:"attributes"`
	} `json:"clients"`
}

// LoadClients reads the clients of a JSON file (see ParseClients).
func LoadClients(path string, allowHTTP bool) (*StaticClients, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("OpenID clients: %w", err)
	}
	defer f.Close()
	c, err := ParseClients(f, allowHTTP)
	if err != nil {
		return nil, fmt.Errorf("OpenID clients %s: %w", path, err)
	}
	return c, nil
}

// ParseClients reads clients in JSON:
//
//	{"clients": [{"client_id": "grr", "name": "GRR", "establishment": "0750001A",
//	  "redirect_uris": ["https://grr.example.fr/oidc/callback"],
//	  "post_logout_redirect_uris": ["https://grr.example.fr/"],
//	  "secret_hash": "sha256:...", "attributes": ["displayName", "ENTPersonProfils"]}]}
//
// A client without secret_hash is public (PKCE S256 required). Redirect
// URIs are absolute https URLs (http too when allowHTTP) without
// fragment, matched exactly.
func ParseClients(r io.Reader, allowHTTP bool) (*StaticClients, error) {
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	var f clientFile
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	out := &StaticClients{byID: map[string]Client{}}
	var errs []error
	for i, fc := range f.Clients {
		c := Client{
			ID: fc.ID, Name: fc.Name, Establishment: fc.Establishment, RedirectURIs: fc.RedirectURIs,
			PostLogoutRedirectURIs: fc.PostLogoutRedirectURIs, SecretHash: fc.SecretHash, Attributes: AllClaims,
		}
		if fc.Attributes != nil {
			c.Attributes = *fc.Attributes
		}
		if err := c.validate(allowHTTP); err != nil {
			errs = append(errs, fmt.Errorf("client %d: %w", i+1, err))
			continue
		}
		if _, dup := out.byID[c.ID]; dup {
			errs = append(errs, fmt.Errorf("client %d: client_id %q twice", i+1, c.ID))
			continue
		}
		out.byID[c.ID] = c
	}
	return out, errors.Join(errs...)
}

// validate checks a client as registered.
func (c Client) validate(allowHTTP bool) error {
	var errs []error
	if c.ID == "" || len(c.ID) > 200 || strings.ContainsFunc(c.ID, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs = append(errs, fmt.Errorf("client_id %q is empty, too long or has spaces or control characters", c.ID))
	}
	if len(c.RedirectURIs) == 0 {
		errs = append(errs, errors.New("no redirect URI"))
	}
	for _, u := range append(slices.Clone(c.RedirectURIs), c.PostLogoutRedirectURIs...) {
		if err := checkRedirect(u, allowHTTP); err != nil {
			errs = append(errs, err)
		}
	}
	if c.SecretHash != "" && !validHash(c.SecretHash) {
		errs = append(errs, errors.New(`secret_hash is not "sha256:" and 43 base64url characters (oidcprovider.HashSecret)`))
	}
	for _, a := range c.Attributes {
		if !slices.Contains(AllClaims, a) {
			errs = append(errs, fmt.Errorf("attribute %q is unknown (%s)", a, strings.Join(AllClaims, ", ")))
		}
	}
	return errors.Join(errs...)
}

func checkRedirect(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("redirect URI %q is not an absolute URL without fragment or credentials", raw)
	case u.Scheme != "https" && !(allowHTTP && u.Scheme == "http"):
		return fmt.Errorf("redirect URI %q is not https", raw)
	}
	return nil
}

func validHash(h string) bool {
	rest, ok := strings.CutPrefix(h, "sha256:")
	return ok && len(rest) == 43 && !strings.ContainsFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}
