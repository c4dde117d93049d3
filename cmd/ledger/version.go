package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
	"strconv"

	"github.com/schoollife/ledger/migrations"
)

// buildVersion is what the binary knows of its own build: the module's
// version (a tag when built with `go install ...@vX`, "(devel)" from a
// checkout), the VCS revision, its time and whether the tree had changes,
// and the Go release. `ledger version`, /readyz and ledger_build_info
// show it.
type buildVersion struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// readBuildVersion reads the build information the Go toolchain embeds.
func readBuildVersion() buildVersion {
	v := buildVersion{Version: "(unknown)"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = info.GoVersion
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// schemaVersions returns the last migration of each dialect this binary
// carries: the schema version it migrates a database to.
func schemaVersions() (map[string]int, error) {
	out := map[string]int{}
	for _, d := range []string{migrations.SQLite, migrations.Postgres} {
		ms, err := migrations.For(d)
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 {
			out[d] = ms[len(ms)-1].Version
		}
	}
	return out, nil
}

// version prints the build information: `ledger version`, `ledger
// --version` (Run makes the second the first).
func (m *Main) version(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("ledger version", flag.ContinueOnError)
	fs.SetOutput(m.flagOutput())
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ledger version\n\nPrints the module version, the VCS revision and time, the Go release this binary\nwas built with, and the schema version it migrates databases to. It reads no\nvariable.")
	}
	if err := parseFlags(fs, "version", args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("version", "unexpected arguments %q", fs.Args())
	}
	v := readBuildVersion()
	schemas, err := schemaVersions()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "ledger %s\n", v.Version)
	if v.Revision != "" {
		modified := ""
		if v.Modified {
			modified = " (modified)"
		}
		fmt.Fprintf(m.stdout, "revision %s%s\n", v.Revision, modified)
	}
	if v.Time != "" {
		fmt.Fprintf(m.stdout, "committed %s\n", v.Time)
	}
	fmt.Fprintf(m.stdout, "go %s\n", v.Go)
	fmt.Fprintf(m.stdout, "schema sqlite %s, postgres %s\n", strconv.Itoa(schemas[migrations.SQLite]), strconv.Itoa(schemas[migrations.Postgres]))
	return nil
}
