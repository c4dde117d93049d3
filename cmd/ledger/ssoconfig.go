package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/sso/casclient"
	"github.com/schoollife/ledger/adapters/sso/oidcclient"
	ssosaml "github.com/schoollife/ledger/adapters/sso/saml"
	"github.com/schoollife/ledger/domain"
)

// ssoFile is the single sign-on configuration `serve --sso FILE`
// (LEDGER_SSO) reads, YAML or JSON (docs/sso.md):
//
//	base_url: https://ent.example.fr
//	saml_sp: {key_file: sp.key, cert_file: sp.crt}
//	providers:
//	  - name: educonnect
//	    protocol: saml
//	    label: "Élève ou parent : ÉduConnect"
//	    profiles: [student, relative]
//	    match: {vector: FrEduVecteur}
//	    saml: {metadata_url: https://..., refresh: 6h}
//	  - name: agents
//	    protocol: oidc
//	    label: "Personnel de l'Éducation nationale"
//	    match: {external_id: ENTPersonJointure}
//	    oidc: {issuer: https://..., client_id: ent, client_secret_env: AGENTS_SECRET}
type ssoFile struct {
	// BaseURL is the ledger's public address; when empty, serve uses its
	// listener's (http://127.0.0.1:PORT: demos and tests).
	BaseURL string `yaml:"base_url" json:"base_url"`
	// SAMLSP is the ledger as a SAML service provider: its key and
	// certificate, PEM files.
	SAMLSP struct {
		KeyFile  string `yaml:"key_file" json:"key_file"`
		CertFile string `yaml:"cert_file" json:"cert_file"`
		EntityID string `yaml:"entity_id" json:"entity_id"`
	} `yaml:"saml_sp" json:"saml_sp"`
	Providers []ssoProvider `yaml:"providers" json:"providers"`
}

// ssoProvider is one identity provider of the file.
type ssoProvider struct {
	Name     string `yaml:"name" json:"name"`
	Protocol string `yaml:"protocol" json:"protocol"`
	// Label is what the sign-in page shows, in French.
	Label    string             `yaml:"label" json:"label"`
	Profiles []domain.Profile   `yaml:"profiles" json:"profiles"`
	Match    sso.MatchRules     `yaml:"match" json:"match"`
	SAML     *ssosaml.IdPConfig `yaml:"saml" json:"saml"`
	// OIDC is the block of an OpenID provider, CAS of an académie's CAS
	// server (docs/sso.md).
	OIDC *oidcclient.Settings `yaml:"oidc" json:"oidc"`
	CAS  *casclient.Settings  `yaml:"cas" json:"cas"`
}

// ssoConfig is the file once read and checked.
type ssoConfig struct {
	baseURL *url.URL
	key     crypto.Signer
	cert    *x509.Certificate
	// entityID of the service provider ("" for BaseURL/saml/metadata).
	entityID string
	// saml, oidc and cas are the providers of each protocol; all of them
	// in the file's order.
	saml, oidc, cas []ssoProvider
	all             []ssoProvider
}

// readSSOFile reads and checks a configuration file.
func readSSOFile(path string) (*ssoConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sso configuration: %w", err)
	}
	var f ssoFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("sso configuration %s: %w", path, err)
	}
	c, err := f.validate()
	if err != nil {
		return nil, fmt.Errorf("sso configuration %s: %w", path, err)
	}
	return c, nil
}

// validate checks the file and loads the service provider's key.
func (f *ssoFile) validate() (*ssoConfig, error) {
	var errs []error
	c := &ssoConfig{entityID: f.SAMLSP.EntityID}
	if f.BaseURL != "" {
		u, err := url.Parse(f.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("base_url %q is not an http(s) address without a path", f.BaseURL))
		} else {
			c.baseURL = u
		}
	}
	seen := map[string]bool{}
	for i, p := range f.Providers {
		where := fmt.Sprintf("providers[%d] (%s)", i, p.Name)
		switch {
		case !domain.ValidProviderName(p.Name):
			errs = append(errs, fmt.Errorf("%s: name must be 1 to 64 lowercase letters, digits, dashes and underscores", where))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("%s: name used twice", where))
		}
		seen[p.Name] = true
		if strings.TrimSpace(p.Label) == "" {
			errs = append(errs, fmt.Errorf("%s: label (shown on the sign-in page, in French) is required", where))
		} else if err := domain.TextName.Check("label", p.Label); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		for _, pr := range p.Profiles {
			if !pr.Valid() {
				errs = append(errs, fmt.Errorf("%s: profile %q is unknown", where, pr))
			}
		}
		switch p.Protocol {
		case sso.ProtocolSAML:
			if p.SAML == nil {
				errs = append(errs, fmt.Errorf("%s: a saml section is required", where))
				continue
			}
			if err := p.SAML.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			if err := p.Match.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			c.saml = append(c.saml, p)
		case sso.ProtocolOIDC:
			if p.OIDC == nil {
				errs = append(errs, fmt.Errorf("%s: an oidc section is required", where))
				continue
			}
			cfg := oidcclient.Config{BaseURL: checkBase(c.baseURL), Providers: []oidcclient.Provider{{Name: p.Name, OIDC: *p.OIDC}}}
			if err := cfg.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			if err := p.Match.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			c.oidc = append(c.oidc, p)
		case sso.ProtocolCAS:
			if p.CAS == nil {
				errs = append(errs, fmt.Errorf("%s: a cas section is required", where))
				continue
			}
			cfg := casclient.Config{BaseURL: checkBase(c.baseURL), Providers: []casclient.Provider{{Name: p.Name, CAS: *p.CAS}}}
			if err := cfg.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			if err := p.Match.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			c.cas = append(c.cas, p)
		default:
			errs = append(errs, fmt.Errorf("%s: protocol %q is not saml, oidc or cas", where, p.Protocol))
		}
	}
	for _, p := range f.Providers {
		if (p.Protocol == sso.ProtocolSAML && p.SAML != nil) || (p.Protocol == sso.ProtocolOIDC && p.OIDC != nil) ||
			(p.Protocol == sso.ProtocolCAS && p.CAS != nil) {
			c.all = append(c.all, p)
		}
	}
	if len(c.saml) > 0 {
		if f.SAMLSP.KeyFile == "" || f.SAMLSP.CertFile == "" {
			errs = append(errs, errors.New("saml_sp: key_file and cert_file are required with SAML providers"))
		} else {
			key, cert, err := readKeyPair(f.SAMLSP.KeyFile, f.SAMLSP.CertFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("saml_sp: %w", err))
			}
			c.key, c.cert = key, cert
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// checkBase is the base URL the OpenID Connect and CAS settings are
// checked against: the file's, else a loopback address standing for the
// listener's (serve's own address when the file has no base_url).
func checkBase(u *url.URL) string {
	if u == nil {
		return "http://127.0.0.1"
	}
	return u.String()
}

// readKeyPair reads a PEM private key (PKCS#8 or PKCS#1 RSA) and its
// certificate.
func readKeyPair(keyFile, certFile string) (crypto.Signer, *x509.Certificate, error) {
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	kp, _ := pem.Decode(kb)
	if kp == nil {
		return nil, nil, fmt.Errorf("%s: no PEM block", keyFile)
	}
	var key crypto.Signer
	if k, err := x509.ParsePKCS8PrivateKey(kp.Bytes); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("%s: not a signing key", keyFile)
		}
		key = s
	} else if k, err := x509.ParsePKCS1PrivateKey(kp.Bytes); err == nil {
		key = k
	} else {
		return nil, nil, fmt.Errorf("%s: not a PKCS#8 or PKCS#1 private key", keyFile)
	}
	cp, _ := pem.Decode(cb)
	if cp == nil {
		return nil, nil, fmt.Errorf("%s: no PEM block", certFile)
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certFile, err)
	}
	return key, cert, nil
}
