// Package migrations holds the versioned SQL schema of each dialect,
// embedded in the binary. Files are named NNNN_name.sql and applied in order,
// each once; the adapters record applied versions in schema_migrations.
//
// A migration, once released, is never edited: a change is a new one.
// testdata holds a ledger at each schema version of each dialect, from
// which cmd/ledger's TestUpgradeFromEverySchema migrates to the current
// schema; adding a migration means adding its fixture (go test
// ./cmd/ledger -run TestUpgradeFromEverySchema -write-fixtures), and the
// test fails until it is there.
package migrations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// probeDir holds, by dialect, the migrations of the binaries built to
// test rolling upgrades (probe.go).
const probeDir = "testdata/upgrade"

// Dialects with a schema.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// For returns the migrations of dialect in order.
func For(dialect string) ([]Migration, error) {
	out, err := read(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations for %q: %w", dialect, err)
	}
	if probe := probeFiles(); probe != nil {
		more, err := read(probe, path.Join(probeDir, dialect))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("probe migrations for %q: %w", dialect, err)
		}
		out = append(out, more...)
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s: version %d twice", dialect, out[i].Version)
		}
	}
	return out, nil
}

// read reads the migrations in dir of fsys.
func read(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		if !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s/%s: name is not NNNN_name.sql", dir, name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dir, name, err)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dir, name, err)
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	return out, nil
}
