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
	"strings"
	"syscall"
	_ "time/tzdata" // lessons are held in Europe/Paris whatever the host's zone files

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections/projector"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain(os.Stdout, os.Stderr, os.Getenv)
	// A hangup resumes stopped projections (systemctl reload); it no
	// longer ends the program.
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	m.hangups = hangups
	m.ownsProcess = true
	code := m.Exit(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit runs args and returns the exit status of the process, having
// printed what went wrong on one line: 0 on success and for help, 2 for a
// usage error (a bad command, flag or value: the line ends with where
// help is), 4 when the history was tampered with, else exitCode's.
func (m *Main) Exit(ctx context.Context, args []string) int {
	err := m.Run(ctx, args)
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2 // the usage is printed
	case errors.As(err, &usage):
		fmt.Fprintf(m.stderr, "%v (see %s -h)\n", err, usage.command())
		return 2
	}
	fmt.Fprintln(m.stderr, err)
	if errors.Is(err, errTampered) {
		return 4
	}
	return exitCode(err)
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

// errHelp is returned when help was asked for, and printed.
var errHelp = errors.New("help")

// usageError is a command line the program cannot run: a bad flag or
// value, missing or unexpected arguments. Its message starts with the
// command ("ledger serve: ..."); Exit adds where help is.
type usageError struct {
	cmd string // "serve", "account create"; "" for the program itself
	err error
}

func (e *usageError) Error() string {
	if e.cmd == "" {
		return "ledger: " + e.err.Error()
	}
	return "ledger " + e.cmd + ": " + e.err.Error()
}

func (e *usageError) Unwrap() error { return e.err }

// command is the command whose help applies.
func (e *usageError) command() string {
	if e.cmd == "" {
		return "ledger"
	}
	return "ledger " + e.cmd
}

// usageErrorf returns the usage error of command cmd.
func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// commandError is an error of a subcommand, named once: "ledger serve:
// ...", whether the subcommand's message named it already ("serve: ...",
// "ledger serve: ...") or not.
type commandError struct {
	msg string
	err error
}

func (e *commandError) Error() string { return e.msg }
func (e *commandError) Unwrap() error { return e.err }

// nameError names the subcommand cmd in err's message, unless it does
// already.
func nameError(cmd string, err error) error {
	var usage *usageError
	if err == nil || errors.As(err, &usage) || errors.Is(err, errUsage) || errors.Is(err, errHelp) {
		return err
	}
	msg := err.Error()
	first, _, _ := strings.Cut(cmd, " ")
	switch {
	case strings.HasPrefix(msg, "ledger "):
		return err
	case strings.HasPrefix(msg, cmd+":"), strings.HasPrefix(msg, cmd+" "), strings.HasPrefix(msg, first+":"), strings.HasPrefix(msg, first+" "):
		return &commandError{msg: "ledger " + msg, err: err}
	}
	return &commandError{msg: "ledger " + cmd + ": " + msg, err: err}
}

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
	// ownsProcess: the program is the process (main), and serve may make
	// its logger the process's default, where libraries that take no
	// logger write (zitadel's op). Tests running Main in process leave
	// it false.
	ownsProcess bool
	// tuneRunner, when set, edits the projection runner's configuration
	// before serve builds it (tests shorten the attempts at an event).
	tuneRunner func(*projector.RunnerConfig)
	// flagOut is where flag sets print their usage (nil: nowhere). Run
	// sets it to standard output when help is asked for: a flag error is
	// returned, never printed by the flag package.
	flagOut io.Writer
}

// NewMain returns the program.
func NewMain(stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{stdout: stdout, stderr: stderr, getenv: getenv}
}

type subcommand struct {
	name, summary string
	run           func(m *Main, ctx context.Context, args []string) error
	// verbs: the first argument names what the subcommand does
	// (account create, import csv).
	verbs bool
}

func (m *Main) subcommands() []subcommand {
	return []subcommand{
		{"serve", "run the server and the projections (migrates first)", (*Main).serve, false},
		{"migrate", "apply the schema migrations", (*Main).migrate, false},
		{"account", "create accounts that can sign in; reset passwords", (*Main).account, true},
		{"import", "import a directory feed (AAF files, CSV exports) or a timetable (EDT, UDT exports)", (*Main).importCmd, true},
		{"simulate", "write a simulated history of the 2005-2007 experiment", (*Main).simulate, false},
		{"rebuild", "rebuild projections beside the live ones and swap them in", (*Main).rebuild, false},
		{"indicators", "recompute the usage indicators by replaying the log", (*Main).indicators, false},
		{"verify", "check the stored history for tampering (--seal to seal it)", (*Main).verify, false},
		{"sanctions", "record the effacement of the sanctions whose date has come (efface-due)", (*Main).sanctions, true},
		{"privacy", "a person's rights over their data: export everything held about them (export), erase it (erase); re-seal an old store (reseal)", (*Main).privacy, true},
		{"retention", "how long each category of personal data is kept (set), what expires (plan), expire it (apply)", (*Main).retention, true},
		{"services", "the school's services the ledger signs people in to (CAS): register, list, remove", (*Main).services, true},
		{"oidc", "the OpenID provider's signing keys: make the next one (rotate-keys)", (*Main).oidc, true},
		{"notify", "notifications to families: make the Web Push keys (vapid-keys)", (*Main).notify, true},
		{"backup", "copy a SQLite store, while it serves, into a backup file", (*Main).backup, false},
		{"restore", "put a backup in place of a SQLite store, once checked", (*Main).restore, false},
		{"version", "print the version, revision and schema of this binary (also --version)", (*Main).version, false},
	}
}

// Run runs the subcommand named by args[0]. Help (-h, --help, help) is
// printed on standard output and is no error; a usage error is returned
// as a *usageError.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		m.usage(m.stderr)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		m.usage(m.stdout)
		return nil
	case "--version", "-version":
		args = append([]string{"version"}, args[1:]...)
	}
	for _, sc := range m.subcommands() {
		if sc.name != args[0] {
			continue
		}
		name := sc.name
		if sc.verbs && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			name += " " + args[1]
		}
		run := *m
		switch {
		case helpAsked(args[1:]):
			// The subcommand's usage goes to standard output.
			run.stderr, run.flagOut = m.stdout, m.stdout
		case len(args) == 1:
			// A subcommand run bare may print its usage.
			run.flagOut = m.stderr
		}
		err := sc.run(&run, ctx, args[1:])
		if helpAsked(args[1:]) && (errors.Is(err, errUsage) || errors.Is(err, errHelp)) {
			return nil
		}
		if msg, ok := flagMessage(nil, err); ok {
			// A flag error of a flag set parsed outside m.parse.
			return &usageError{cmd: name, err: errors.New(msg)}
		}
		return nameError(name, err)
	}
	return usageErrorf("", "unknown command %q", args[0])
}

// helpAsked tells whether args ask for help: -h, -help or --help before
// any "--", or help first.
func helpAsked(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-h", a == "-help", a == "--help", i == 0 && a == "help":
			return true
		}
	}
	return false
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ledger COMMAND [FLAGS]\n\ncommands:")
	for _, sc := range m.subcommands() {
		fmt.Fprintf(w, "  %-12s %s\n", sc.name, sc.summary)
	}
	fmt.Fprintln(w, "\nRun 'ledger COMMAND -h' for a command's flags and the LEDGER_* variables that set them.")
}
