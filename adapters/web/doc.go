// Package web is the core the ledger's two web audiences share, the JSON
// API (adapters/api) and the portal (adapters/portal): the signed-in
// principal and sessions (cookie, CSRF), errors mapped to statuses and
// application/problem+json in one place, one decoder for JSON bodies,
// forms, query and path parameters, the middleware both mount (recover,
// headers, fallback), the read policy (policy.go), and the directory
// uploads whose reports both show.
package web
