// Package domain is the ledger's vocabulary: event types with stable wire
// names, value types, the pure decide/apply rules of each aggregate and the
// authorization policy. It does no I/O: no context, no database, no clock.
package domain
