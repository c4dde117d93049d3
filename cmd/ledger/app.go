package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// app is the ledger wired on its stores: the event store, the read-model
// store beside it, the command handlers, the projections and the queries.
type app struct {
	log   *slog.Logger
	loc   *time.Location
	reg   *domain.Registry
	store eventStore
	docs  *readstore.Store
	// docsPool is the Postgres database of the read models (nil on
	// SQLite): the deployment is named after it (deployment.go).
	docsPool *pgxpool.Pool
	commands *commands.Handlers
	// commandsConfig is the configuration of commands, which handlersAt
	// builds other handlers with.
	commandsConfig commands.Config
	queries        *projections.Queries
	runner         *projector.Runner
	closers        []func() error
	// cipher seals and opens personal fields with the subjects' keys
	// (nil on EventStoreDB, which has no table for them).
	cipher *subjectkeys.Cipher

	// metrics are serve's (nil without --metrics).
	metrics *serverMetrics
}

// verifier is implemented by the stores whose tables `ledger verify` reads.
type verifier interface {
	Verify(ctx context.Context) (tamper.VerifyReport, error)
	Seal(ctx context.Context) (tamper.Seal, bool, error)
}

// openApp opens and migrates the stores named by cfg and wires the ledger.
func openApp(ctx context.Context, cfg *Config, log *slog.Logger) (*app, error) {
	return openWired(ctx, cfg, log, wiring{})
}

// wiring is what serve adds to openApp's wiring.
type wiring struct {
	// metrics measure the appends and the commands (nil: off).
	metrics *serverMetrics
	// tuneRunner, when set, edits the projection runner's configuration
	// (tests).
	tuneRunner func(*projector.RunnerConfig)
}

// openWired is openApp with serve's additions.
func openWired(ctx context.Context, cfg *Config, log *slog.Logger, w wiring) (*app, error) {
	a := &app{log: log, loc: domain.Paris(), reg: domain.NewRegistry(), metrics: w.metrics}
	store, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return nil, err
	}
	w.metrics.watchStore(store)
	a.store = store
	a.closers = append(a.closers, store.Close)
	if err := store.Migrate(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("migrate event store %s: %w", redact(cfg.Store), err)
	}
	docs, pool, closeDB, err := openReadModels(ctx, cfg, store)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.docs, a.docsPool = docs, pool
	if closeDB != nil {
		a.closers = append(a.closers, closeDB)
	}
	a.closers = append(a.closers, docs.Close)
	if err := a.sealPersonalData(store); err != nil {
		a.Close()
		return nil, err
	}
	cc := a.sealed().seal(cfg.commandsConfig(store, a.reg, log))
	cc.Observer = w.metrics.commandObserver()
	a.commandsConfig = cc
	a.commands, err = commands.New(cc)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.queries = projections.NewQueries(docs, docs, store, a.reg, a.loc)
	reducers := projections.Reducers(a.loc)
	if cfg.Notify.on() {
		// The delivery process's plan (notify.go), only where it runs.
		reducers = append(reducers, projections.NewNotifyPlan())
	}
	rc := projector.RunnerConfig{
		Log: store, Docs: docs, Gens: docs, Registry: a.reg, Locker: docs,
		Reducers: reducers, Logger: log,
	}
	if w.tuneRunner != nil {
		w.tuneRunner(&rc)
	}
	a.runner, err = projector.NewRunner(rc)
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// sealPersonalData wires the subjects' keys of the event store's
// database (privacy.go): the handlers seal personal fields with them, and
// every reader of the log opens them through the registry.
func (a *app) sealPersonalData(store eventStore) error {
	s, err := sealingFor(store, a.reg, a.log)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, s.close)
	a.cipher, a.reg = s.cipher, s.reg
	return nil
}

// sealed is the app's sealing.
func (a *app) sealed() sealing { return sealing{reg: a.reg, cipher: a.cipher} }

// handlersAt returns command handlers like a.commands whose server clock
// is now: the demo stamps its history at its own dates.
func (a *app) handlersAt(now func() time.Time) (*commands.Handlers, error) {
	cc := a.commandsConfig
	cc.Now = now
	return commands.New(cc)
}

// openReadModels opens the read-model store: --readmodels when given, else
// the event store's own database. pool is its Postgres database (nil on
// SQLite). closeDB, when not nil, closes a database opened for the read
// models alone (after the read store).
func openReadModels(ctx context.Context, cfg *Config, store eventStore) (docs *readstore.Store, pool *pgxpool.Pool, closeDB func() error, err error) {
	switch {
	case strings.HasPrefix(cfg.ReadModels, "sqlite:"):
		docs, err := readstore.OpenSQLite(ctx, strings.TrimPrefix(cfg.ReadModels, "sqlite:"))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open read-model store %s: %w", cfg.ReadModels, err)
		}
		return docs, nil, nil, nil
	case strings.HasPrefix(cfg.ReadModels, "postgres://"), strings.HasPrefix(cfg.ReadModels, "postgresql://"):
		pg, err := postgres.Open(ctx, cfg.ReadModels)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open read-model store %s: %w", redact(cfg.ReadModels), err)
		}
		if err := pg.Migrate(ctx); err != nil {
			pg.Close()
			return nil, nil, nil, fmt.Errorf("migrate read-model store %s: %w", redact(cfg.ReadModels), err)
		}
		return readstore.NewPostgres(pg.Pool()), pg.Pool(), pg.Close, nil
	case cfg.ReadModels != "":
		return nil, nil, nil, fmt.Errorf("read models %q are not sqlite:PATH or postgres://...", cfg.ReadModels)
	}
	switch s := store.(type) {
	case *sqlite.Store:
		docs, err := readstore.NewSQLite(s.DB(), s.WithTx)
		return docs, nil, nil, err
	case *postgres.Store:
		return readstore.NewPostgres(s.Pool()), s.Pool(), nil, nil
	case esdbStore:
		return nil, nil, nil, errors.New("an EventStoreDB store needs --readmodels sqlite:PATH or postgres://...")
	}
	return nil, nil, nil, fmt.Errorf("no read-model store for %T", store)
}

// Close closes the stores, newest first.
func (a *app) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}
