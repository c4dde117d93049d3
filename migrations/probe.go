//go:build ledger_upgrade_probe

package migrations

import (
	"embed"
	"io/fs"
)

// The probe migrations are in binaries built with -tags
// ledger_upgrade_probe only: tests/upgrade_test.go builds the ledger so to
// play a new version, with one migration more than the version it
// upgrades, and runs the two side by side.
//
//go:embed testdata/upgrade
var probe embed.FS

func probeFiles() fs.FS { return probe }
