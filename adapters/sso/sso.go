// Package sso signs people in through identity providers outside the
// ledger (ÉduConnect and académies' providers over SAML 2.0, OpenID
// Connect providers, an académie's CAS): each protocol's handler checks
// what the provider asserts and hands an Identity to a Completer, which
// matches it to an account and opens the portal session. See docs/sso.md.
package sso

import "net/http"

// Protocols of an Identity.
const (
	ProtocolSAML = "saml"
	ProtocolOIDC = "oidc"
	ProtocolCAS  = "cas"
)

// Identity is a person as an identity provider asserted them, once the
// protocol's checks (signatures, audience, lifetimes, replay, state,
// nonce, PKCE, ticket validation) have passed.
type Identity struct {
	// Provider is the configured name of the identity provider
	// ("educonnect", "agents-aix-marseille").
	Provider string
	// Protocol is ProtocolSAML, ProtocolOIDC or ProtocolCAS.
	Protocol string
	// Subject is the provider's identifier of the person: the SAML
	// NameID, the OpenID Connect "sub", the CAS user.
	Subject string
	// Attributes are the asserted attributes by name (SAML attribute
	// names, OpenID Connect claims, CAS attributes), each with its values.
	Attributes map[string][]string
	// SessionIndex is the provider's session (SAML SessionIndex, OpenID
	// Connect "sid"), kept for single logout; empty when there is none.
	SessionIndex string
}

// Completer finishes a sign-in once a protocol handler has checked an
// identity: it matches the identity to an account, records the
// connection, opens the session and redirects to returnTo (a local path),
// or shows the person a page in French saying why they cannot sign in.
type Completer interface {
	Complete(w http.ResponseWriter, r *http.Request, id Identity, returnTo string)
}
