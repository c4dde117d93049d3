// Package upstream holds what the ledger's clients of outside identity
// providers (OpenID Connect relying party, CAS client) share: the French
// page a person sees when a sign-in fails, the sealed short-lived cookie
// that binds a sign-in in progress to the browser that started it, the
// return path that never leaves the site, and the checks every asserted
// identity passes before it is handed to a sso.Completer.
package upstream
