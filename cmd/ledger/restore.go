package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/schoollife/ledger/adapters/sqlite"
)

// restore puts a backup made by `ledger backup` in place of a SQLite store:
// `ledger restore --from FILE --store sqlite:PATH`. The server must be
// stopped; the backup is checked before it replaces anything.
func (m *Main) restore(ctx context.Context, args []string) error {
	var (
		cfg   Config
		from  string
		force bool
	)
	err := m.parse(&cfg, "restore", args, false, func(fs *flagSet) {
		fs.StringVar(&from, "from", "", "the backup file to restore (required)")
		fs.BoolVar(&force, "force", false, "replace the store's file even if it holds a ledger")
	})
	if err != nil {
		return err
	}
	if from == "" {
		return usageErrorf("restore", "--from FILE is required")
	}
	kind, path, err := parseStore(cfg.Store)
	if err != nil {
		return err
	}
	if err := onlySQLite("restore", kind); err != nil {
		return err
	}
	rep, err := sqlite.Restore(ctx, from, path, force)
	if errors.Is(err, sqlite.ErrBroken) {
		if !rep.Verify.OK() {
			printCopy(m.stdout, rep)
		}
		return fmt.Errorf("restore: %w: %w", errTampered, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "restored %s to %s (schema version %d, last position %d)\n", from, path, rep.Schema, rep.LastPosition)
	printCopy(m.stdout, rep)
	if cfg.ReadModels != "" {
		fmt.Fprintf(m.stdout, "the read models in %s are ahead of the restored log: rebuild them (ledger rebuild) before serving\n", redact(cfg.ReadModels))
	}
	return nil
}
