package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// CategoryService is the category of the streams of the school's other
// services (Pronote, digital textbooks, Moodle...) that the ledger signs
// people in to: one stream per registered service.
const CategoryService = "service"

// ServiceStream is the stream of a registered service.
func ServiceStream(id uuid.UUID) string { return StreamName(CategoryService, id.String()) }

// ServiceKind is the protocol through which a service signs people in
// with the ledger.
type ServiceKind string

// Service kinds.
const (
	// ServiceCAS: the ledger is the service's CAS server (protocol 2.0
	// and 3.0); the service's URL must match one of its patterns.
	ServiceCAS ServiceKind = "cas"
	// ServiceOIDC: the ledger is the service's OpenID provider; its
	// redirect URIs are its patterns, exact URLs only.
	ServiceOIDC ServiceKind = "oidc"
)

// ServiceKinds lists the kinds, for labels and checks.
var ServiceKinds = []ServiceKind{ServiceCAS, ServiceOIDC}

// Service attributes: what the ledger may release about the signed-in
// person to a service, named as the national ENT directory schema (SDET)
// names them and French ENTs release them to their connected services
// (docs/sso-cas-server.md). Groups other than classes have no national
// name: "ENTPersonGroupes" carries them.
const (
	AttrLogin             = "ENTPersonLogin"
	AttrDisplayName       = "displayName"
	AttrProfile           = "ENTPersonProfils"
	AttrEstablishment     = "ENTPersonStructRattachRNE"
	AttrClasses           = "ENTEleveClasses"
	AttrGroups            = "ENTPersonGroupes"
	AttrENTPersonJointure = "ENTPersonJointure"
)

// ServiceAttributes lists the attributes a service may be given.
var ServiceAttributes = []string{
	AttrLogin, AttrDisplayName, AttrProfile, AttrEstablishment, AttrClasses, AttrGroups, AttrENTPersonJointure,
}

// Service errors.
var (
	ErrUnsafeServiceURL = newError(CodeInvalid, "unsafe-service-url", "this service URL pattern is refused")
	ErrUnknownService   = newError(CodeNotFound, "unknown-service", "no such registered service")
)

// MaxServicePatterns bounds the URL patterns of one service.
const MaxServicePatterns = 20

// ServiceRegistered records that an establishment's administrator
// registered a service: the ledger gives tickets (CAS) or codes (OpenID
// Connect) for it to the people of the establishment, and releases the
// attributes listed.
type ServiceRegistered struct {
	Service       uuid.UUID   `json:"service"`
	Establishment string      `json:"establishment"`
	Name          string      `json:"name"`
	Kind          ServiceKind `json:"kind"`
	// URLs are the service's URL patterns (ParseServicePattern): for CAS,
	// the service URLs it may ask tickets for; for OpenID Connect, its
	// redirect URIs.
	URLs []string `json:"urls"`
	// Attributes are the attributes released (ServiceAttributes).
	Attributes []string `json:"attributes"`
	// SingleLogout: on sign-out, the ledger posts a logout request to the
	// service URL each ticket was given for (CAS back-channel logout).
	SingleLogout bool `json:"single_logout,omitempty"`
	// ClientID and SecretHash identify an OpenID Connect client (kind
	// oidc): its client_id and the hash of its secret, never the secret.
	ClientID   string `json:"client_id,omitempty"`
	SecretHash string `json:"secret_hash,omitempty"`
	// PostLogoutURIs are where an OpenID Connect client's logout may
	// return, exact URLs as its redirect URIs.
	PostLogoutURIs []string `json:"post_logout_uris,omitempty"`
}

func (ServiceRegistered) EventType() string { return "service.registered.v1" }

// ServiceUnregistered records that a service no longer signs people in
// through the ledger.
type ServiceUnregistered struct {
	Service       uuid.UUID `json:"service"`
	Establishment string    `json:"establishment"`
}

func (ServiceUnregistered) EventType() string { return "service.unregistered.v1" }

// ServiceAccessed records that a person reached a registered service
// through the ledger (a validated CAS ticket, or an OpenID Connect code
// exchanged for tokens): it feeds the indicators of use per service. It is stored in the person's connections stream.
type ServiceAccessed struct {
	Account       uuid.UUID `json:"account"`
	Profile       Profile   `json:"profile"`
	Service       uuid.UUID `json:"service"`
	Establishment string    `json:"establishment"`
	// Protocol is how: "cas2", "cas3" (the CAS protocol version of the
	// validation) or "oidc".
	Protocol string `json:"protocol"`
}

func (ServiceAccessed) EventType() string { return "service.accessed.v1" }

// Access protocols of ServiceAccessed.
const (
	AccessCAS2 = "cas2"
	AccessCAS3 = "cas3"
	AccessOIDC = "oidc"
)

// RegisterService is the command that registers a service.
//
// For an OpenID Connect client, the client id is the service's id (the
// command handler sets it) and the secret is generated by the ledger
// (NewClientSecret): neither is read from a request body, so a client
// cannot choose another's id or a secret someone knows.
type RegisterService struct {
	Service       uuid.UUID   `json:"service"`
	Establishment string      `json:"establishment" text:"code"`
	Name          string      `json:"name" text:"name"`
	Kind          ServiceKind `json:"kind"`
	URLs          []string    `json:"urls" text:"reason"`
	Attributes    []string    `json:"attributes" text:"code"`
	SingleLogout  bool        `json:"single_logout,omitempty"`
	// PostLogoutURIs: an OpenID Connect client's logout returns.
	PostLogoutURIs []string `json:"post_logout_uris,omitempty" text:"reason"`
	// Public: an OpenID Connect client without secret (PKCE S256 only).
	Public     bool   `json:"public,omitempty"`
	ClientID   string `json:"-" text:"code"`
	SecretHash string `json:"-" text:"reason"`
}

// UnregisterService is the command that removes a service.
type UnregisterService struct {
	Service uuid.UUID `json:"service"`
}

// RecordServiceAccess is the command that records the actor's access to a
// service.
type RecordServiceAccess struct {
	Service  uuid.UUID `json:"service"`
	Protocol string    `json:"protocol" text:"code"`
}

// Service is the state of a registered service's stream.
type Service struct {
	Exists, Removed bool
	ID              uuid.UUID
	Establishment   string
	Kind            ServiceKind
}

// Apply folds an event.
func (s *Service) Apply(e Event) {
	switch e := e.(type) {
	case ServiceRegistered:
		s.Exists, s.ID, s.Establishment, s.Kind = true, e.Service, e.Establishment, e.Kind
	case ServiceUnregistered:
		s.Removed = true
	}
}

// Live reports whether the service is registered and not removed.
func (s *Service) Live() bool { return s.Exists && !s.Removed }

// Register decides registering a service: by an administrator of its
// establishment, with safe URL patterns and known attributes. A removed
// service's id is not used again.
func (s *Service) Register(actor Actor, est *Establishment, cmd RegisterService) ([]Event, error) {
	if !est.Exists {
		return nil, Errorf(ErrNotFound, "establishment %s", cmd.Establishment)
	}
	if !actor.IsAdmin(cmd.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator of %s registers its services", cmd.Establishment)
	}
	if s.Exists {
		return nil, Errorf(ErrInvalid, "service %s is registered already", cmd.Service)
	}
	if strings.TrimSpace(cmd.Name) == "" {
		return nil, Errorf(ErrInvalid, "a service needs a name")
	}
	if !slices.Contains(ServiceKinds, cmd.Kind) {
		return nil, Errorf(ErrInvalid, "service kind %q is unknown (cas or oidc)", cmd.Kind)
	}
	if len(cmd.URLs) == 0 || len(cmd.URLs) > MaxServicePatterns {
		return nil, Errorf(ErrInvalid, "a service needs 1 to %d URL patterns", MaxServicePatterns)
	}
	urls := make([]string, 0, len(cmd.URLs))
	for _, u := range cmd.URLs {
		p, err := ParseServicePattern(u)
		if err != nil {
			return nil, err
		}
		if cmd.Kind == ServiceOIDC && p.Prefix {
			return nil, Errorf(ErrUnsafeServiceURL, "%s: an OpenID Connect redirect URI is exact, never a prefix", u)
		}
		if !slices.Contains(urls, p.String()) {
			urls = append(urls, p.String())
		}
	}
	attrs := []string{}
	for _, a := range cmd.Attributes {
		if !slices.Contains(ServiceAttributes, a) {
			return nil, Errorf(ErrInvalid, "attribute %q is unknown (%s)", a, strings.Join(ServiceAttributes, ", "))
		}
		if !slices.Contains(attrs, a) {
			attrs = append(attrs, a)
		}
	}
	var logouts []string
	switch cmd.Kind {
	case ServiceOIDC:
		if cmd.ClientID != cmd.Service.String() {
			return nil, Errorf(ErrInvalid, "an OpenID Connect client's id is its service id")
		}
		if cmd.SingleLogout {
			return nil, Errorf(ErrInvalid, "single logout is a CAS service's")
		}
		if cmd.Public != (cmd.SecretHash == "") {
			return nil, Errorf(ErrInvalid, "a confidential OpenID Connect client needs the hash of a secret, a public one none")
		}
		if cmd.SecretHash != "" && !ValidSecretHash(cmd.SecretHash) {
			return nil, Errorf(ErrInvalid, "the secret hash is not HashClientSecret's")
		}
		if len(cmd.PostLogoutURIs) > MaxServicePatterns {
			return nil, Errorf(ErrInvalid, "a service has at most %d logout URIs", MaxServicePatterns)
		}
		for _, u := range cmd.PostLogoutURIs {
			p, err := ParseServicePattern(u)
			if err != nil {
				return nil, err
			}
			if p.Prefix {
				return nil, Errorf(ErrUnsafeServiceURL, "%s: an OpenID Connect logout URI is exact, never a prefix", u)
			}
			if !slices.Contains(logouts, p.String()) {
				logouts = append(logouts, p.String())
			}
		}
	case ServiceCAS:
		if cmd.ClientID != "" || cmd.SecretHash != "" || cmd.Public || len(cmd.PostLogoutURIs) > 0 {
			return nil, Errorf(ErrInvalid, "a CAS service has no client id, secret or logout URI")
		}
	}
	return []Event{ServiceRegistered{
		Service: cmd.Service, Establishment: cmd.Establishment, Name: strings.TrimSpace(cmd.Name), Kind: cmd.Kind,
		URLs: urls, Attributes: attrs, SingleLogout: cmd.SingleLogout, ClientID: cmd.ClientID, SecretHash: cmd.SecretHash,
		PostLogoutURIs: logouts,
	}}, nil
}

// HashClientSecret returns how an OpenID Connect client's secret is kept:
// "sha256:" and the base64url SHA-256 of the secret. Secrets are long
// random strings the ledger generates (NewClientSecret), so a plain hash
// suffices (no password hashing).
func HashClientSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidSecretHash reports whether h has the shape of HashClientSecret.
func ValidSecretHash(h string) bool {
	rest, ok := strings.CutPrefix(h, "sha256:")
	return ok && len(rest) == 43 && !strings.ContainsFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// NewClientSecret generates an OpenID Connect client's secret (256
// random bits) and its hash: the secret is shown once, the hash kept.
func NewClientSecret() (secret, hash string) {
	secret = rand.Text() + rand.Text()
	return secret, HashClientSecret(secret)
}

// Unregister decides removing a service, by an administrator of its
// establishment.
func (s *Service) Unregister(actor Actor, id uuid.UUID) ([]Event, error) {
	if !s.Live() {
		return nil, Errorf(ErrUnknownService, "%s", id)
	}
	if !actor.IsAdmin(s.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator of %s removes its services", s.Establishment)
	}
	return []Event{ServiceUnregistered{Service: s.ID, Establishment: s.Establishment}}, nil
}

// RecordAccess decides the access of an open account to a live service.
func (a *Account) RecordAccess(s *Service, cmd RecordServiceAccess) ([]Event, error) {
	if err := a.mustBeOpen(a.ID); err != nil {
		return nil, err
	}
	if !s.Live() {
		return nil, Errorf(ErrUnknownService, "%s", cmd.Service)
	}
	switch cmd.Protocol {
	case AccessCAS2, AccessCAS3, AccessOIDC:
	default:
		return nil, Errorf(ErrInvalid, "access protocol %q is unknown", cmd.Protocol)
	}
	return []Event{ServiceAccessed{
		Account: a.ID, Profile: a.Profile, Service: s.ID, Establishment: s.Establishment, Protocol: cmd.Protocol,
	}}, nil
}

// ServicePattern is a parsed URL pattern of a service: an exact URL, or,
// written with a final "*", every URL that starts with what precedes it.
//
// The syntax is deliberately narrow, so that a pattern never matches
// another site: the scheme is https (http only for a loopback host, for
// tests and local set-ups), the host is written in full (no wildcard, no
// user info), and a prefix must go at least to the "/" that ends the
// host, so that "https://ent.example*" (which would match
// "https://ent.example.evil.com") is refused. The "*" may only end the
// pattern; a fragment is refused.
type ServicePattern struct {
	// Base is the URL, or the prefix without its "*".
	Base   string
	Prefix bool
	scheme string
	host   string
}

// String writes the pattern back.
func (p ServicePattern) String() string {
	if p.Prefix {
		return p.Base + "*"
	}
	return p.Base
}

// ParseServicePattern parses and checks a service URL pattern; the error
// is ErrUnsafeServiceURL saying why.
func ParseServicePattern(s string) (ServicePattern, error) {
	refuse := func(why string) (ServicePattern, error) {
		return ServicePattern{}, Errorf(ErrUnsafeServiceURL, "%q: %s", s, why)
	}
	if s != strings.TrimSpace(s) || s == "" {
		return refuse("empty or surrounded by spaces")
	}
	base, prefix := strings.CutSuffix(s, "*")
	if strings.ContainsAny(base, "*\\ ") {
		return refuse(`"*" may only end a pattern; no backslash or space`)
	}
	u, err := url.Parse(base)
	if err != nil {
		return refuse("not a URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return refuse("the scheme must be https")
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return refuse("http is allowed for a loopback host only: use https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return refuse("the host is missing")
	case u.User != nil:
		return refuse("user info is refused")
	case u.Fragment != "" || strings.Contains(base, "#"):
		return refuse("a fragment is refused")
	case strings.ToLower(u.Host) != u.Host || !strings.HasPrefix(base, u.Scheme+"://"+u.Host):
		return refuse("write the scheme and host in lower case, in full")
	}
	if prefix {
		// The host must end before the prefix does.
		rest := strings.TrimPrefix(base, u.Scheme+"://"+u.Host)
		if !strings.HasPrefix(rest, "/") {
			return refuse(`a prefix goes at least to the "/" after the host`)
		}
		if hasDotSegment(u.Path) {
			return refuse(`no "." or ".." segment`)
		}
	}
	return ServicePattern{Base: base, Prefix: prefix, scheme: u.Scheme, host: strings.ToLower(u.Host)}, nil
}

// Match reports whether service (a URL a client sent) matches the
// pattern: the very URL, or, for a prefix, a URL with the same scheme and
// host that starts with the prefix and has no "." or ".." path segment
// (which could climb out of the prefix once resolved) and no user info.
func (p ServicePattern) Match(service string) bool {
	if !p.Prefix {
		return service == p.Base
	}
	if !strings.HasPrefix(service, p.Base) || strings.ContainsAny(service, "\\ \t\r\n") {
		return false
	}
	u, err := url.Parse(service)
	if err != nil || u.User != nil || u.Scheme != p.scheme || strings.ToLower(u.Host) != p.host {
		return false
	}
	raw := u.EscapedPath()
	if dec, err := url.PathUnescape(raw); err == nil {
		raw = dec
	}
	return !hasDotSegment(raw)
}

// hasDotSegment reports whether a path has a "." or ".." segment.
func hasDotSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// loopback reports whether host is the local machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
