// Package oidcprovider makes the ledger the OpenID provider of the
// school's other services (zitadel/oidc's op): a person signed in on the
// portal reaches a registered service without signing in again. It
// serves discovery at /.well-known/openid-configuration and, under
// /oidc/, the authorization code flow with PKCE, the token, userinfo and
// keys endpoints and RP-initiated logout, which ends the portal session.
//
// Only registered clients get codes (Clients), to their exact redirect
// URIs; a public client must use PKCE S256. Codes are single-use across
// the nodes, access tokens short-lived and kept as hashes, ID tokens
// signed with keys kept in the database and rotated (Keys). Each token
// given records the person's access to the service (Accesses). See
// docs/sso.md.
package oidcprovider
