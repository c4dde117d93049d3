package main

import (
	"context"
	"fmt"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/projections"
)

// eventStore is everything the program needs of an opened store.
type eventStore interface {
	commands.EventStore
	projections.Log
	Migrate(ctx context.Context) error
	Close() error
}

var (
	_ eventStore = (*sqlite.Store)(nil)
	_ eventStore = (*postgres.Store)(nil)
)

// openStore opens the store a --store value names. It does not migrate.
func openStore(ctx context.Context, spec string) (eventStore, error) {
	kind, loc, err := parseStore(spec)
	if err != nil {
		return nil, err
	}
	switch kind {
	case storeSQLite:
		s, err := sqlite.Open(ctx, loc)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store %s: %w", loc, err)
		}
		return s, nil
	case storePostgres:
		s, err := postgres.Open(ctx, loc)
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("store kind %q", kind)
}
