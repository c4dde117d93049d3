// Package casserver makes the ledger the CAS server (protocol 2.0 and
// 3.0) of the school's other services: a signed-in person reaches a
// registered service without signing in again (/cas/login gives the
// service a ticket, /cas/serviceValidate and /cas/p3/serviceValidate
// tell the service who it is), and leaving the ledger (/cas/logout, the
// portal's sign-out) ends their sessions on those services too
// (back-channel single logout). Only services an administrator
// registered get tickets; each validated ticket records the access
// (service.accessed.v1). See docs/sso.md.
package casserver
