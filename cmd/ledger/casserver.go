package main

import (
	"github.com/schoollife/ledger/adapters/casserver"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
)

// openCASTickets returns the CAS service tickets, kept in the event
// store's database (every node shares them), or nil when the store has no
// SQL database of its own (EventStoreDB): the CAS server is then off.
func openCASTickets(store eventStore) *casserver.Tickets {
	switch s := store.(type) {
	case *sqlite.Store:
		return casserver.NewSQLiteTickets(s.DB(), s.WithTx)
	case *postgres.Store:
		return casserver.NewPostgresTickets(s.Pool())
	}
	return nil
}
