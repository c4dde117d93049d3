// Command ledger-bench measures the ledger against baselines taken in the
// same run, on the same store, so that its results are ratios that survive a
// noisy machine: appends against raw single-row INSERTs and COPY, replays
// against a raw scan of the log, the morning peak over HTTP against a real
// `ledger serve`, the memory of an idle websocket against an idle TCP
// connection, and how appends, queries and replays grow with the log. The
// soak, run only when named, loops a school day's load for half an hour
// against a `ledger serve --metrics` and judges its memory, goroutines and
// open files, read from /metrics, against their own level once warm.
//
//	ledger-bench [--scenario append,replay,peak,wsmem,growth,soak|all] [--stores sqlite,postgres] [--quick] [--out FILE]
//	ledger-bench plot --in FILE [--plots DIR]
//
// It prints a table and writes the results as JSON (docs/performance.md).
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdout, os.Stderr, os.Getenv)
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "ledger-bench:", err)
		os.Exit(1)
	}
}

// errUsage is returned after usage has been printed.
var errUsage = errors.New("usage")

// Main is the program, with its outputs and environment injected so that
// tests run it in-process.
type Main struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// NewMain returns the program.
func NewMain(stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{stdout: stdout, stderr: stderr, getenv: getenv}
}

// Run runs the benchmark, or the subcommand named by args[0]: plot, or one
// of the helper processes the benchmark starts itself (clients, tcp-server).
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "plot":
			return m.plot(ctx, args[1:])
		case childClients:
			return m.runClients(ctx, args[1:])
		case childTCPServer:
			return m.runTCPServer(ctx, args[1:])
		}
	}
	var cfg Config
	if err := m.parse(&cfg, args); err != nil {
		return err
	}
	return m.bench(ctx, &cfg)
}
