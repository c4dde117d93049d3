// Command ledger runs the school-life ledger: its server, its migrations and
// its maintenance and evaluation tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // lessons are held in Europe/Paris whatever the host's zone files

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections/projector"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdout, os.Stderr, os.Getenv)
	// A hangup resumes stopped projections (systemctl reload); it no
	// longer ends the program.
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	m.hangups = hangups
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		if errors.Is(err, errTampered) {
			fmt.Fprintln(os.Stderr, "ledger:", err)
			os.Exit(4)
		}
		fmt.Fprintln(os.Stderr, "ledger:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode maps a domain error's code to a process exit status.
func exitCode(err error) int {
	switch domain.CodeOf(err) {
	case domain.CodeInvalid:
		return 2
	case domain.CodeForbidden, domain.CodeNotFound, domain.CodeConflict, domain.CodeRule:
		return 3
	}
	return 1
}

// errUsage is returned after usage has been printed.
var errUsage = errors.New("usage")

// Main is the program, with its outputs and environment injected so that
// tests run it in-process.
type Main struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// configured, when set, receives each subcommand's configuration once
	// parsed and validated, before anything is opened; an error stops the
	// subcommand there. Tests read the configuration through it.
	configured func(name string, c *Config) error
	// hangups receives SIGHUP: serve then resumes the projections stopped
	// at an event (nil: never).
	hangups <-chan os.Signal
	// tuneRunner, when set, edits the projection runner's configuration
	// before serve builds it (tests shorten the attempts at an event).
	tuneRunner func(*projector.RunnerConfig)
}

// NewMain returns the program.
func NewMain(stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{stdout: stdout, stderr: stderr, getenv: getenv}
}

type subcommand struct {
	name, summary string
	run           func(m *Main, ctx context.Context, args []string) error
}

func (m *Main) subcommands() []subcommand {
	return []subcommand{
		{"serve", "run the server and the projections (migrates first)", (*Main).serve},
		{"migrate", "apply the schema migrations", (*Main).migrate},
		{"account", "create accounts that can sign in; reset passwords", (*Main).account},
		{"import", "import a directory feed: AAF files or CSV exports", (*Main).importCmd},
		{"simulate", "write a simulated history of the 2005-2007 experiment", (*Main).simulate},
		{"rebuild", "rebuild projections beside the live ones and swap them in", (*Main).rebuild},
		{"indicators", "recompute the usage indicators by replaying the log", (*Main).indicators},
		{"verify", "check the stored history for tampering (--seal to seal it)", (*Main).verify},
		{"sanctions", "record the effacement of the sanctions whose date has come (efface-due)", (*Main).sanctions},
		{"backup", "copy a SQLite store, while it serves, into a backup file", (*Main).backup},
		{"restore", "put a backup in place of a SQLite store, once checked", (*Main).restore},
		{"version", "print the version, revision and schema of this binary (also --version)", (*Main).version},
	}
}

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return m.version(ctx, args[1:])
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage()
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, sc := range m.subcommands() {
		if sc.name == args[0] {
			return sc.run(m, ctx, args[1:])
		}
	}
	m.usage()
	return fmt.Errorf("unknown command %q", args[0])
}

func (m *Main) usage() {
	fmt.Fprintln(m.stderr, "usage: ledger COMMAND [FLAGS]\n\ncommands:")
	for _, sc := range m.subcommands() {
		fmt.Fprintf(m.stderr, "  %-12s %s\n", sc.name, sc.summary)
	}
	fmt.Fprintln(m.stderr, "\nRun 'ledger COMMAND -h' for a command's flags. Every flag can also be set by its LEDGER_* variable.")
}
