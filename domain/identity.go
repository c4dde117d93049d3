package domain

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// External identities: a person as an identity provider outside the
// ledger knows them (ÉduConnect, an académie's provider, an OpenID
// provider, a CAS), linked to their account once, by an event. The
// matching rules are adapters/sso's (docs/sso.md); the domain keeps
// which identity belongs to which account and who linked it.

// Identity errors.
var (
	ErrIdentityLinked    = newError(CodeRule, "identity-already-linked", "identity already linked to this account")
	ErrIdentityNotLinked = newError(CodeRule, "identity-not-linked", "identity is not linked to this account")
)

// MaxIdentitySubject bounds a provider's identifier of a person, in bytes
// (SAML NameIDs and OpenID Connect subjects are at most 256 characters).
const MaxIdentitySubject = 256

// ExternalIdentity is a person at an identity provider: the provider's
// configured name and its identifier of the person.
type ExternalIdentity struct {
	Provider string
	Subject  string
}

// IdentityMatch is how an external identity came to be linked. The values
// are stored in events: add new ones, never change one's meaning.
type IdentityMatch string

// How identities are linked.
const (
	// IdentityMatched: at sign-in, by an attribute the provider asserted
	// that names exactly one account of the directory.
	IdentityMatched IdentityMatch = "matched"
	// IdentityByAdministrator: by an administrator, by hand.
	IdentityByAdministrator IdentityMatch = "administrator"
)

// IdentityMatches lists the ways, in the order pages show them.
func IdentityMatches() []IdentityMatch {
	return []IdentityMatch{IdentityMatched, IdentityByAdministrator}
}

// IdentityLinked links an external identity to an account: from then on
// the person signs in through that provider as that account.
type IdentityLinked struct {
	Account  uuid.UUID     `json:"account"`
	Provider string        `json:"provider"`
	Subject  string        `json:"subject"`
	How      IdentityMatch `json:"how"`
	// Attribute is the asserted attribute that matched (ENTPersonJointure,
	// FrEduVecteur), when How is matched.
	Attribute string `json:"attribute,omitempty"`
}

func (IdentityLinked) EventType() string { return "account.identity_linked.v1" }

// IdentityUnlinked removes an external identity's link to an account.
type IdentityUnlinked struct {
	Account  uuid.UUID `json:"account"`
	Provider string    `json:"provider"`
	Subject  string    `json:"subject"`
}

func (IdentityUnlinked) EventType() string { return "account.identity_unlinked.v1" }

// LinkIdentity links an external identity to an account.
type LinkIdentity struct {
	Account   uuid.UUID     `json:"account"`
	Provider  string        `json:"provider" text:"code"`
	Subject   string        `json:"subject" text:"reason"`
	How       IdentityMatch `json:"how"`
	Attribute string        `json:"attribute,omitempty" text:"code"`
}

// UnlinkIdentity removes an external identity's link to an account.
type UnlinkIdentity struct {
	Account  uuid.UUID `json:"account"`
	Provider string    `json:"provider" text:"code"`
	Subject  string    `json:"subject" text:"reason"`
}

// ValidProviderName reports whether s can name an identity provider: 1 to
// 64 lowercase letters, digits, dashes and underscores.
func ValidProviderName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func validIdentitySubject(s string) bool {
	return s != "" && len(s) <= MaxIdentitySubject && utf8.ValidString(s) && strings.TrimSpace(s) == s
}

// ValidStudentID reports whether s looks like a student's id in a school's
// software: 1 to 32 letters, digits and dashes.
func ValidStudentID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// LinkIdentity decides linking an external identity to the account: by the
// ledger itself when an assertion matched it, or by an administrator of
// the account's establishment. A closed account gets no new identity.
func (a *Account) LinkIdentity(actor Actor, cmd LinkIdentity) ([]Event, error) {
	if err := a.mustBeOpen(cmd.Account); err != nil {
		return nil, err
	}
	if !actor.IsAdmin(a.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator links identities")
	}
	if !ValidProviderName(cmd.Provider) {
		return nil, Errorf(ErrInvalid, "provider %q is not 1 to 64 lowercase letters, digits, dashes and underscores", cmd.Provider)
	}
	if !validIdentitySubject(cmd.Subject) {
		return nil, Errorf(ErrInvalid, "subject must be set, trimmed and at most %d bytes", MaxIdentitySubject)
	}
	switch {
	case !slices.Contains(IdentityMatches(), cmd.How):
		return nil, Errorf(ErrInvalid, "how %q is not one of %v", cmd.How, IdentityMatches())
	case cmd.How == IdentityMatched && (cmd.Attribute == "" || !actor.IsSystem()):
		return nil, Errorf(ErrInvalid, "an identity is matched by the ledger, on a named attribute")
	case cmd.How == IdentityByAdministrator && cmd.Attribute != "":
		return nil, Errorf(ErrInvalid, "an identity linked by hand names no attribute")
	}
	if _, ok := a.Identities[ExternalIdentity{Provider: cmd.Provider, Subject: cmd.Subject}]; ok {
		return nil, Errorf(ErrIdentityLinked, "%s at %s", cmd.Account, cmd.Provider)
	}
	return []Event{IdentityLinked(cmd)}, nil
}

// UnlinkIdentity decides removing an external identity's link, by an
// administrator of the account's establishment.
func (a *Account) UnlinkIdentity(actor Actor, cmd UnlinkIdentity) ([]Event, error) {
	if !a.Exists {
		return nil, Errorf(ErrUnknownAccount, "%s", cmd.Account)
	}
	if !actor.IsAdmin(a.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator unlinks identities")
	}
	if _, ok := a.Identities[ExternalIdentity{Provider: cmd.Provider, Subject: cmd.Subject}]; !ok {
		return nil, Errorf(ErrIdentityNotLinked, "%s at %s", cmd.Account, cmd.Provider)
	}
	return []Event{IdentityUnlinked(cmd)}, nil
}
