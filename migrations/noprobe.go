//go:build !ledger_upgrade_probe

package migrations

import "io/fs"

// probeFiles holds no migration in an ordinary build (see probe.go).
func probeFiles() fs.FS { return nil }
