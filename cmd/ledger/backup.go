package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/schoollife/ledger/adapters/sqlite"
)

// backup copies a SQLite store, while it serves, into a file: `ledger
// backup --to FILE`. Postgres and EventStoreDB are backed up with their
// own tools (docs/operations.md, "Backups").
func (m *Main) backup(ctx context.Context, args []string) error {
	var (
		cfg   Config
		to    string
		force bool
	)
	err := m.parse(&cfg, "backup", args, false, func(fs *flagSet) {
		fs.StringVar(&to, "to", "", "the backup file to write (required)")
		fs.BoolVar(&force, "force", false, "replace the file if it exists")
	})
	if err != nil {
		return err
	}
	if to == "" {
		return usageErrorf("backup", "--to FILE is required")
	}
	kind, path, err := parseStore(cfg.Store)
	if err != nil {
		return err
	}
	if err := onlySQLite("backup", kind); err != nil {
		return err
	}
	if _, err := os.Stat(to); err == nil && !force {
		return fmt.Errorf("backup: %s exists (--force to replace it)", to)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	rep, err := sqlite.Backup(ctx, path, to)
	if errors.Is(err, sqlite.ErrBroken) {
		if !rep.Verify.OK() {
			printCopy(m.stdout, rep)
		}
		return fmt.Errorf("backup: %w: %w", errTampered, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "backed up %s to %s (%d bytes, schema version %d, last position %d)\n", path, to, rep.Bytes, rep.Schema, rep.LastPosition)
	printCopy(m.stdout, rep)
	if cfg.ReadModels != "" {
		fmt.Fprintf(m.stdout, "the read models in %s are not in this backup: after a restore, rebuild them (ledger rebuild) before serving\n", redact(cfg.ReadModels))
	}
	return nil
}

// onlySQLite refuses the stores whose backups their own tools make.
func onlySQLite(cmd string, kind storeKind) error {
	switch kind {
	case storeSQLite:
		return nil
	case storePostgres:
		return fmt.Errorf("%s: a Postgres store is backed up and restored with PostgreSQL's tools: pg_basebackup with WAL archiving, or pg_dump and pg_restore (docs/operations.md, \"Backups\")", cmd)
	case storeESDB:
		return fmt.Errorf("%s: an EventStoreDB store is backed up and restored with EventStoreDB's own procedure (docs/eventstoredb.md, \"Backups\")", cmd)
	}
	return fmt.Errorf("%s: store kind %q", cmd, kind)
}

// printCopy prints the check of a copy as `ledger verify` does.
func printCopy(w io.Writer, rep sqlite.BackupReport) {
	v := rep.Verify
	fmt.Fprintf(w, "events %d, streams %d, seals %d (%d events sealed)\n", v.Events, v.Streams, v.Seals, v.Sealed)
	if !v.OK() {
		fmt.Fprintf(w, "BROKEN: %s\n", v.First())
		return
	}
	fmt.Fprintln(w, "history intact")
}
