package main

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// exit runs "ledger ARGS..." as main does, with env, and returns its exit
// status, standard output and standard error, and the LEDGER_* variables
// it read.
func exit(t *testing.T, env map[string]string, configured func(string, *Config) error, args ...string) (code int, stdout, stderr string, read []string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := NewMain(&out, &errOut, func(k string) string {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return env[k]
	})
	m.configured = configured
	code = m.Exit(context.Background(), args)
	return code, out.String(), errOut.String(), read
}

// commandLines are the subcommands as far as they run without opening
// anything: their name, and the arguments they need.
var commandLines = []struct {
	name string
	args []string
}{
	{"serve", []string{"serve"}},
	{"migrate", []string{"migrate"}},
	{"account create", []string{"account", "create"}},
	{"account password", []string{"account", "password"}},
	{"import aaf", []string{"import", "aaf", "feed-dir"}},
	{"import csv", []string{"import", "csv", "--profile", "student", "students.csv"}},
	{"import onde", []string{"import", "onde", "--uai", "0840001A", "onde.csv"}},
	{"simulate", []string{"simulate"}},
	{"rebuild", []string{"rebuild"}},
	{"indicators", []string{"indicators"}},
	{"verify", []string{"verify"}},
	{"services register", []string{"services", "register"}},
	{"services list", []string{"services", "list"}},
	{"services remove", []string{"services", "remove"}},
	{"backup", []string{"backup", "--to", "backup.db"}},
	{"restore", []string{"restore", "--from", "backup.db"}},
	{"version", []string{"version"}},
}

// TestCommandLine: every subcommand prints its help on standard output
// and exits 0, the help listing every variable the subcommand reads; a
// bad flag exits 2 with one line naming the subcommand once and where its
// help is.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	stop := func(string, *Config) error { return errConfigured }
	for _, c := range commandLines {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, help, stderr, _ := exit(t, nil, stop, append(slices.Clone(c.args), "-h")...)
			if code != 0 || stderr != "" || !strings.HasPrefix(help, "usage: ") {
				t.Fatalf("-h: exit %d, stdout %q, stderr %q", code, help, stderr)
			}
			// What the subcommand reads, once its flags are parsed.
			_, _, _, read := exit(t, nil, stop, c.args...)
			if len(read) == 0 && c.name != "version" {
				t.Fatal("no variable read")
			}
			for _, v := range read {
				if !strings.Contains(help, v) {
					t.Errorf("%s is read but not in the help:\n%s", v, help)
				}
			}

			code, stdout, stderr, _ := exit(t, nil, stop, append(slices.Clone(c.args), "--no-such-flag")...)
			want := "ledger " + c.name + ": unknown flag --no-such-flag (see ledger " + c.name + " -h)\n"
			if code != 2 || stdout != "" || stderr != want {
				t.Errorf("a bad flag: exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, want)
			}
		})
	}
}

// TestFlagValues: a value that does not parse says what was expected, on
// one line, exit 2, from a flag or from its variable.
func TestFlagValues(t *testing.T) {
	t.Parallel()
	stop := func(string, *Config) error { return errConfigured }
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"serve", "--seal-every", "5x"}, `ledger serve: --seal-every: "5x" is not a duration such as 5m or 1h (see ledger serve -h)`},
		{nil, []string{"serve", "--seal-every=5x"}, `ledger serve: --seal-every: "5x" is not a duration such as 5m or 1h (see ledger serve -h)`},
		{map[string]string{"LEDGER_SEAL_EVERY": "5x"}, []string{"serve"}, `ledger serve: LEDGER_SEAL_EVERY: "5x" is not a duration such as 5m or 1h (see ledger serve -h)`},
		{nil, []string{"serve", "--demo=maybe"}, `ledger serve: --demo: "maybe" is not a boolean: use 1/0, true/false, yes/no or on/off (see ledger serve -h)`},
		{nil, []string{"serve", "--command-cache", "many"}, `ledger serve: --command-cache: "many" is not a count such as 0 or 1000 (see ledger serve -h)`},
		{nil, []string{"serve", "--store"}, `ledger serve: --store needs a value (see ledger serve -h)`},
		{nil, []string{"simulate", "--scale", "big"}, `ledger simulate: --scale: "big" is not a number such as 0.5 (see ledger simulate -h)`},
		{nil, []string{"simulate", "--workers", "2.5"}, `ledger simulate: --workers: "2.5" is not a whole number such as 4 (see ledger simulate -h)`},
		{nil, []string{"simulate", "--from", "2005-13-01"}, `ledger simulate: --from: "2005-13-01" is not a date such as 2026-09-01 (see ledger simulate -h)`},
		{nil, []string{"verify", "--seal=perhaps"}, `ledger verify: --seal: "perhaps" is not a boolean: use true or false (see ledger verify -h)`},
		{nil, []string{"import", "csv", "--dry-run=perhaps", "s.csv"}, `ledger import csv: --dry-run: "perhaps" is not a boolean: use true or false (see ledger import csv -h)`},
		{nil, []string{"indicators", "--from", "2026-11-01"}, `ledger indicators: --to is required: a date such as 2026-09-01 (see ledger indicators -h)`},
		{nil, []string{"serve", "extra"}, `ledger serve: unexpected arguments ["extra"] (see ledger serve -h)`},
		{nil, []string{"bogus"}, `ledger: unknown command "bogus" (see ledger -h)`},
	} {
		configured := stop
		if c.args[0] == "simulate" || c.args[0] == "indicators" {
			configured = nil // their own values are read after the configuration
		}
		code, stdout, stderr, _ := exit(t, c.env, configured, c.args...)
		if code != 2 || stdout != "" || stderr != c.want+"\n" {
			t.Errorf("ledger %v: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
}

// TestHelp: help is asked for, not an error: on standard output, exit 0.
// A bare ledger is a usage error.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"account", "-h"}, {"account", "help"}, {"import", "--help"}, {"serve", "--store", "sqlite:x.db", "-h"}} {
		code, stdout, stderr, _ := exit(t, nil, nil, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "usage:") {
			t.Errorf("ledger %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{}, {"account"}, {"import"}} {
		code, stdout, stderr, _ := exit(t, nil, nil, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "usage:") {
			t.Errorf("ledger %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// TestVersionSame: `ledger version` and `ledger --version` print the
// same build information.
func TestVersionSame(t *testing.T) {
	t.Parallel()
	code, version, stderr, _ := exit(t, nil, nil, "version")
	if code != 0 || stderr != "" {
		t.Fatalf("version: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"ledger ", "go " + runtime.Version(), "schema sqlite "} {
		if !strings.Contains(version, want) {
			t.Errorf("version %q does not say %q", version, want)
		}
	}
	code, flag, stderr, _ := exit(t, nil, nil, "--version")
	if code != 0 || stderr != "" || flag != version {
		t.Errorf("--version: exit %d, stderr %q:\n%s\nwant what version prints:\n%s", code, stderr, flag, version)
	}
	if code, _, stderr, _ := exit(t, nil, nil, "version", "now"); code != 2 || !strings.HasPrefix(stderr, "ledger version: unexpected arguments") {
		t.Errorf("version now: exit %d, stderr %q", code, stderr)
	}
}

// TestErrorsNamedOnce: an error of a subcommand is printed once, naming
// the subcommand once.
func TestErrorsNamedOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New("open event store sqlite:x.db: no such file"), "ledger serve: open event store sqlite:x.db: no such file"},
		{errors.New("serve: listen: address in use"), "ledger serve: listen: address in use"},
		{errors.New("ledger serve: it failed"), "ledger serve: it failed"},
		{errors.New("verify: the store keeps no hash chain"), "ledger verify: the store keeps no hash chain"},
	} {
		cmd := strings.Fields(strings.TrimPrefix(c.want, "ledger "))[0]
		cmd = strings.TrimSuffix(cmd, ":")
		got := nameError(cmd, c.err)
		if got.Error() != c.want || !errors.Is(got, c.err) {
			t.Errorf("%q named %q, want %q", c.err, got, c.want)
		}
	}
}
