package saml

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	csaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/schoollife/ledger/adapters/sso"
)

// Requests keeps what the service provider shares across nodes
// (sso.Store): the requests it sent and the assertions it accepted.
type Requests interface {
	SaveRequest(ctx context.Context, req sso.PendingRequest, expires time.Time) error
	PeekRequest(ctx context.Context, id string) (sso.PendingRequest, error)
	ConsumeRequest(ctx context.Context, id string) error
	ConsumeAssertion(ctx context.Context, id string, expires time.Time) error
	TakeSession(ctx context.Context, session string) (sso.ProviderSession, bool, error)
}

// Refusals shows a person, in French, that a sign-in failed (the portal).
type Refusals interface {
	SignInRefused(w http.ResponseWriter, r *http.Request, provider, reason string)
}

// ReasonInvalid is the refusal of a response that failed a check: the
// person is told the sign-in did not succeed and to try again.
const ReasonInvalid = "invalid"

// Config is what a Service is built from.
type Config struct {
	SP        SPConfig
	Providers []Provider
	Requests  Requests
	Completer sso.Completer
	Refusals  Refusals
	// EndSessions ends the portal sessions of the person an identity
	// provider logs out (single logout it starts).
	EndSessions func(ctx context.Context, provider, subject string) error
	Logger      *slog.Logger
	// HTTPClient fetches metadata (a client with a 30 s timeout when nil).
	HTTPClient *http.Client
	// Clock, when set, is the time of every check (tests).
	Clock *dsig.Clock
	// RequestTTL is how long a request waits for its response (10 min).
	RequestTTL time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if err := c.SP.Validate(); err != nil {
		return err
	}
	if c.Requests == nil || c.Completer == nil || c.Refusals == nil || c.EndSessions == nil {
		return errors.New("saml: Requests, Completer, Refusals and EndSessions are required")
	}
	seen := map[string]bool{}
	for _, p := range c.Providers {
		if seen[p.Name] {
			return fmt.Errorf("saml: provider %q twice", p.Name)
		}
		seen[p.Name] = true
		if err := p.IdP.Validate(); err != nil {
			return fmt.Errorf("provider %s: %w", p.Name, err)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.RequestTTL <= 0 {
		c.RequestTTL = 10 * time.Minute
	}
	return nil
}

// Service is the ledger as a SAML service provider of several identity
// providers at once.
type Service struct {
	cfg       Config
	log       *slog.Logger
	base      *csaml.ServiceProvider
	providers map[string]*provider
	names     []string
}

// provider is one identity provider and the service provider configured
// for it, swapped whole when its metadata is refreshed.
type provider struct {
	name string
	idp  IdPConfig
	sp   atomic.Pointer[csaml.ServiceProvider]

	mu        sync.Mutex
	fetched   time.Time
	lastErr   string
	lastErrAt time.Time
	entityID  string
}

// ProviderStatus is what administrators see of a provider.
type ProviderStatus struct {
	Name string
	// EntityID is the provider's id in its metadata ("" until loaded).
	EntityID string
	// Source is the metadata's file or URL.
	Source string
	// Loaded is when the metadata in use was read (zero: never).
	Loaded time.Time
	// LastError is the last failure to read the metadata, when it came
	// after Loaded; LastErrorAt when.
	LastError   string
	LastErrorAt time.Time
}

// New returns the service of cfg, having read every provider's metadata:
// a file that cannot be read is an error; a URL that does not answer is
// logged and tried again by Run.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Logger, providers: map[string]*provider{}}
	s.base = s.newSP(nil)
	for _, p := range cfg.Providers {
		pr := &provider{name: p.Name, idp: p.IdP}
		s.providers[p.Name] = pr
		s.names = append(s.names, p.Name)
		if err := s.load(ctx, pr); err != nil {
			if p.IdP.MetadataURL == "" {
				return nil, fmt.Errorf("provider %s: %w", p.Name, err)
			}
			s.log.WarnContext(ctx, "saml: identity provider's metadata not loaded", "provider", p.Name, "err", err)
		}
	}
	return s, nil
}

func (s *Service) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock.Now()
	}
	return time.Now()
}

// newSP returns the service provider for an identity provider's metadata.
func (s *Service) newSP(idp *csaml.EntityDescriptor) *csaml.ServiceProvider {
	base := *s.cfg.SP.BaseURL
	base.Path, base.RawQuery, base.Fragment = "", "", ""
	metadata, acs, slo := base, base, base
	metadata.Path, acs.Path, slo.Path = "/saml/metadata", "/saml/acs", "/saml/slo"
	return &csaml.ServiceProvider{
		EntityID: s.cfg.SP.EntityID, Key: s.cfg.SP.Key, Certificate: s.cfg.SP.Certificate,
		MetadataURL: metadata, AcsURL: acs, SloURL: slo,
		IDPMetadata:                      idp,
		AuthnNameIDFormat:                csaml.UnspecifiedNameIDFormat,
		SignatureMethod:                  dsig.RSASHA256SignatureMethod,
		LogoutBindings:                   []string{csaml.HTTPRedirectBinding, csaml.HTTPPostBinding},
		AssertionConsumerServiceBindings: []string{csaml.HTTPPostBinding},
		RejectSHA1Signatures:             false,
		Clock:                            s.cfg.Clock,
	}
}

// load reads a provider's metadata and puts it in use.
func (s *Service) load(ctx context.Context, p *provider) error {
	var data []byte
	var err error
	switch {
	case len(p.idp.Metadata) > 0:
		data = p.idp.Metadata
	case p.idp.MetadataFile != "":
		data, err = os.ReadFile(p.idp.MetadataFile)
	default:
		data, err = s.fetch(ctx, p.idp.MetadataURL)
	}
	var md *csaml.EntityDescriptor
	if err == nil {
		if p.idp.EntityID != "" {
			md, err = samlsp.ParseMetadataByEntityID(data, p.idp.EntityID)
		} else {
			md, err = samlsp.ParseMetadata(data)
		}
	}
	if err == nil && len(md.IDPSSODescriptors) == 0 {
		err = errors.New("the metadata describes no identity provider")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.lastErr, p.lastErrAt = err.Error(), s.now()
		return err
	}
	p.sp.Store(s.newSP(md))
	p.fetched, p.lastErr, p.lastErrAt, p.entityID = s.now(), "", time.Time{}, md.EntityID
	return nil
}

// maxMetadata bounds a metadata document (a federation's aggregate is a
// few megabytes).
const maxMetadata = 64 << 20

func (s *Service) fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch metadata: %s", resp.Status)
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(http.MaxBytesReader(nil, resp.Body, maxMetadata))
	if err != nil {
		return nil, fmt.Errorf("fetch metadata: %w", err)
	}
	if n == 0 {
		return nil, errors.New("fetch metadata: empty")
	}
	return buf.Bytes(), nil
}

// Run refreshes the metadata of the providers that publish it at a URL,
// each at its own pace, until ctx ends. A failed refresh keeps the last
// metadata read and is logged; until a first success it is tried every
// minute.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range s.names {
		p := s.providers[name]
		if p.idp.MetadataURL == "" {
			continue
		}
		every, _ := p.idp.refresh()
		wg.Go(func() {
			for {
				wait := every
				if p.sp.Load() == nil {
					wait = min(every, time.Minute)
				}
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				if err := s.load(ctx, p); err != nil && ctx.Err() == nil {
					s.log.WarnContext(ctx, "saml: metadata not refreshed, the last read stays in use", "provider", p.name, "err", err)
				}
			}
		})
	}
	wg.Wait()
}

// Status returns the providers' status, in configuration order.
func (s *Service) Status() []ProviderStatus {
	out := make([]ProviderStatus, 0, len(s.names))
	for _, name := range s.names {
		p := s.providers[name]
		p.mu.Lock()
		st := ProviderStatus{Name: name, EntityID: p.entityID, Source: cmp.Or(p.idp.MetadataFile, p.idp.MetadataURL, "in-process"),
			Loaded: p.fetched, LastError: p.lastErr, LastErrorAt: p.lastErrAt}
		p.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Handler serves /saml/metadata, /saml/acs, /saml/slo and
// /sso/saml/{provider}/login.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /saml/metadata", s.metadata)
	mux.HandleFunc("POST /saml/acs", s.acs)
	mux.HandleFunc("GET /saml/slo", s.slo)
	mux.HandleFunc("POST /saml/slo", s.slo)
	mux.HandleFunc("GET /sso/saml/{provider}/login", s.login)
	return mux
}

func (s *Service) metadata(w http.ResponseWriter, _ *http.Request) {
	buf, err := xml.MarshalIndent(s.base.Metadata(), "", "  ")
	if err != nil {
		http.Error(w, "metadata", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(buf)
}

// login sends the person to the provider with a signed authentication
// request, recorded so that only its response is accepted.
func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("provider")
	p, ok := s.providers[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	sp := p.sp.Load()
	if sp == nil {
		s.log.WarnContext(ctx, "saml: sign-in through a provider whose metadata is not loaded", "provider", name)
		s.cfg.Refusals.SignInRefused(w, r, name, "unavailable")
		return
	}
	next := sso.LocalPath(r.URL.Query().Get("next"))
	binding := csaml.HTTPRedirectBinding
	if p.idp.Binding == "post" {
		binding = csaml.HTTPPostBinding
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(binding), binding, csaml.HTTPPostBinding)
	if err == nil && req.Destination == "" {
		err = fmt.Errorf("the provider has no %s single sign-on service", binding)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "saml: authentication request", "provider", name, "err", err)
		s.cfg.Refusals.SignInRefused(w, r, name, "unavailable")
		return
	}
	if err := s.cfg.Requests.SaveRequest(ctx, sso.PendingRequest{ID: req.ID, Provider: name, ReturnTo: next}, s.now().Add(s.cfg.RequestTTL)); err != nil {
		s.log.ErrorContext(ctx, "saml: authentication request not saved", "provider", name, "err", err)
		s.cfg.Refusals.SignInRefused(w, r, name, "unavailable")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if binding == csaml.HTTPPostBinding {
		nonce := randomNonce()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action "+formAction(req.Destination))
		_, _ = w.Write(req.PostWithNonce(next, nonce))
		return
	}
	u, err := req.Redirect(next, sp)
	if err != nil {
		s.log.ErrorContext(ctx, "saml: authentication request", "provider", name, "err", err)
		s.cfg.Refusals.SignInRefused(w, r, name, "unavailable")
		return
	}
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func formAction(dest string) string {
	u, err := url.Parse(dest)
	if err != nil {
		return "'none'"
	}
	return u.Scheme + "://" + u.Host
}

func randomNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// maxResponse bounds a posted response.
const maxResponse = 1 << 20

// acs checks a response (HTTP-POST binding): it must answer a request this
// ledger sent and has not seen answered, be signed by that request's
// provider, be meant for this service provider (audience, recipient,
// destination), be in its validity window, and carry an assertion never
// accepted before on any node. RelayState must be the local path the
// request carried. Every failure is refused, recording nothing.
func (s *Service) acs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxResponse)
	if err := r.ParseForm(); err != nil {
		s.refuse(w, r, "", "unreadable form", err)
		return
	}
	relay := r.PostForm.Get("RelayState")
	if relay != "" && sso.LocalPath(relay) != relay {
		s.refuse(w, r, "", "RelayState is not a local path", nil)
		return
	}
	inResponseTo, err := peekInResponseTo(r.PostForm.Get("SAMLResponse"))
	if err != nil {
		s.refuse(w, r, "", "unreadable response", err)
		return
	}
	if inResponseTo == "" {
		s.refuse(w, r, "", "unsolicited response (no InResponseTo)", nil)
		return
	}
	pending, err := s.cfg.Requests.PeekRequest(ctx, inResponseTo)
	if err != nil {
		s.refuse(w, r, "", "response to no pending request", err)
		return
	}
	if relay != "" && relay != pending.ReturnTo {
		s.refuse(w, r, pending.Provider, "RelayState differs from the request's", nil)
		return
	}
	p, ok := s.providers[pending.Provider]
	var sp *csaml.ServiceProvider
	if ok {
		sp = p.sp.Load()
	}
	if sp == nil {
		s.refuse(w, r, pending.Provider, "provider no longer configured or loaded", nil)
		return
	}
	assertion, err := sp.ParseResponse(r, []string{inResponseTo})
	if err != nil {
		var ire *csaml.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		s.refuse(w, r, pending.Provider, "response refused", err)
		return
	}
	if assertion.Subject == nil || assertion.Subject.NameID == nil || assertion.Subject.NameID.Value == "" {
		s.refuse(w, r, pending.Provider, "assertion names no subject", nil)
		return
	}
	if assertion.Subject.NameID.Format == string(csaml.TransientNameIDFormat) {
		s.refuse(w, r, pending.Provider, "transient NameID: configure the provider to send a persistent one", nil)
		return
	}
	if err := s.cfg.Requests.ConsumeAssertion(ctx, assertion.ID, assertionExpiry(assertion, s.now())); err != nil {
		s.refuse(w, r, pending.Provider, "assertion replayed", err)
		return
	}
	if err := s.cfg.Requests.ConsumeRequest(ctx, inResponseTo); err != nil {
		s.refuse(w, r, pending.Provider, "request already answered", err)
		return
	}
	id := sso.Identity{
		Provider: pending.Provider, Protocol: sso.ProtocolSAML, Subject: assertion.Subject.NameID.Value,
		Attributes: attributes(assertion),
	}
	if len(assertion.AuthnStatements) > 0 {
		id.SessionIndex = assertion.AuthnStatements[0].SessionIndex
	}
	s.cfg.Completer.Complete(w, r, id, pending.ReturnTo)
}

func (s *Service) refuse(w http.ResponseWriter, r *http.Request, provider, why string, err error) {
	s.log.WarnContext(r.Context(), "saml: response refused", "provider", provider, "why", why, "err", err)
	s.cfg.Refusals.SignInRefused(w, r, provider, ReasonInvalid)
}

// assertionExpiry is until when an assertion could still be accepted, so
// until when its id is kept: its conditions' end, else its issue plus the
// longest delay accepted, plus the clock skew allowed.
func assertionExpiry(a *csaml.Assertion, now time.Time) time.Time {
	end := a.IssueInstant.Add(csaml.MaxIssueDelay)
	if a.Conditions != nil && !a.Conditions.NotOnOrAfter.IsZero() {
		end = a.Conditions.NotOnOrAfter
	}
	end = end.Add(csaml.MaxClockSkew)
	if end.Before(now) {
		end = now.Add(csaml.MaxClockSkew)
	}
	return end
}

// attributes returns the asserted attributes by name, and by friendly name
// too when there is one (ÉduConnect names FrEduVecteur by both).
func attributes(a *csaml.Assertion) map[string][]string {
	out := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			var vals []string
			for _, v := range at.Values {
				vals = append(vals, v.Value)
			}
			for _, name := range []string{at.Name, at.FriendlyName} {
				if name != "" {
					out[name] = append(out[name], vals...)
				}
			}
		}
	}
	for k, v := range out {
		slices.Sort(v)
		out[k] = slices.Compact(v)
	}
	return out
}

// peekInResponseTo reads, before any check, the request a response says it
// answers, to find which provider's keys must have signed it.
func peekInResponseTo(encoded string) (string, error) {
	if encoded == "" {
		return "", errors.New("no SAMLResponse")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("SAMLResponse: %w", err)
	}
	var head struct {
		XMLName      xml.Name
		InResponseTo string `xml:"InResponseTo,attr"`
	}
	if err := xml.Unmarshal(raw, &head); err != nil {
		return "", fmt.Errorf("SAMLResponse: %w", err)
	}
	if head.XMLName.Local != "Response" {
		return "", fmt.Errorf("SAMLResponse: a %s, not a Response", head.XMLName.Local)
	}
	return head.InResponseTo, nil
}

// slo answers single logout. A LogoutRequest from a provider (it started
// the logout) ends the portal sessions of the person it names and answers
// the provider; a LogoutResponse (the ledger started it) ends at the
// sign-in page.
func (s *Service) slo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxResponse)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if r.Form.Get("SAMLResponse") != "" {
		for _, name := range s.names {
			if sp := s.providers[name].sp.Load(); sp != nil && sp.ValidateLogoutResponseRequest(r) == nil {
				http.Redirect(w, r, "/login?ok=signedout", http.StatusSeeOther)
				return
			}
		}
		s.log.WarnContext(ctx, "saml: logout response refused")
		http.Redirect(w, r, "/login?ok=signedout", http.StatusSeeOther)
		return
	}
	if r.Form.Get("SAMLRequest") == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	for _, name := range s.names {
		sp := s.providers[name].sp.Load()
		if sp == nil {
			continue
		}
		req, err := sp.ValidateLogoutRequest(r)
		if err != nil || req.NameID == nil {
			continue
		}
		if err := s.cfg.EndSessions(ctx, name, req.NameID.Value); err != nil {
			s.log.ErrorContext(ctx, "saml: sessions not ended on the provider's logout", "provider", name, "err", err)
		}
		var u *url.URL
		if sp.GetSLOBindingLocation(csaml.HTTPRedirectBinding) != "" {
			u, err = sp.MakeRedirectLogoutResponse(req.ID, r.Form.Get("RelayState"))
		} else {
			err = errors.New("the provider has no HTTP-Redirect logout service")
		}
		if err != nil {
			s.log.WarnContext(ctx, "saml: logout response", "provider", name, "err", err)
			http.Redirect(w, r, "/login?ok=signedout", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	s.log.WarnContext(ctx, "saml: logout request refused: no provider signed it")
	http.Error(w, "bad request", http.StatusBadRequest)
}

// Metadata returns the service provider's metadata, as /saml/metadata
// serves it.
func (s *Service) Metadata() *csaml.EntityDescriptor { return s.base.Metadata() }

// LogoutURL returns where to send a person signing out of the portal
// session whose id is session (web.SessionID), when a provider opened it:
// the provider's single logout service with a signed LogoutRequest
// (HTTP-Redirect binding); false when there is nothing to tell a provider.
func (s *Service) LogoutURL(ctx context.Context, session string) (string, bool) {
	ps, ok, err := s.cfg.Requests.TakeSession(ctx, session)
	if err != nil {
		s.log.WarnContext(ctx, "saml: provider's session not read: no single logout", "err", err)
		return "", false
	}
	if !ok {
		return "", false
	}
	p, ok := s.providers[ps.Provider]
	if !ok {
		return "", false
	}
	sp := p.sp.Load()
	if sp == nil || sp.GetSLOBindingLocation(csaml.HTTPRedirectBinding) == "" {
		return "", false
	}
	var opts []csaml.LogoutRequestOption
	if ps.SessionIndex != "" {
		opts = append(opts, csaml.WithSessionIndex(ps.SessionIndex))
	}
	u, err := sp.MakeRedirectLogoutRequest(ps.Subject, "", opts...)
	if err != nil {
		s.log.WarnContext(ctx, "saml: logout request", "provider", ps.Provider, "err", err)
		return "", false
	}
	return u.String(), true
}
