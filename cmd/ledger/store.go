package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/schoollife/ledger/adapters/esdb"
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
	_ eventStore = esdbStore{}
)

// esdbStore is an EventStoreDB store: the server keeps its own schema.
type esdbStore struct{ *esdb.Store }

// Migrate has nothing to do: EventStoreDB needs no schema.
func (esdbStore) Migrate(context.Context) error { return nil }

// openStore opens the store a --store value names. It does not migrate.
func openStore(ctx context.Context, spec string, log *slog.Logger) (eventStore, error) {
	kind, loc, err := parseStore(spec)
	if err != nil {
		return nil, err
	}
	switch kind {
	case storeSQLite:
		s, err := sqlite.Open(ctx, loc)
		if err != nil {
			return nil, fmt.Errorf("open event store %s: %w", spec, err)
		}
		return s, nil
	case storePostgres:
		s, err := postgres.Open(ctx, loc, postgres.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open event store %s: %w", redact(spec), err)
		}
		return s, nil
	case storeESDB:
		s, err := esdb.Open(ctx, loc, esdb.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open event store %s: %w", redact(spec), err)
		}
		return esdbStore{s}, nil
	}
	return nil, fmt.Errorf("store kind %q", kind)
}
