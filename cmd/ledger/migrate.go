package main

import (
	"context"
	"fmt"
)

func (m *Main) migrate(ctx context.Context, args []string) error {
	var cfg Config
	if err := m.parse(&cfg, "migrate", args, false, nil); err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	store, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	log.InfoContext(ctx, "schema up to date", "store", redact(cfg.Store))
	return nil
}
