// Package tests holds end-to-end tests that run the real ledger binary.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ledgerBin is the binary built once for the whole package.
var ledgerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ledger-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ledgerBin = filepath.Join(dir, "ledger")
	build := exec.Command("go", "build", "-race", "-o", ledgerBin, "../cmd/ledger")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ledger:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `ledger serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string
	mu     sync.Mutex
	stderr strings.Builder
	done   chan error
	addr   chan string // the address, once it listens
}

var listenRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

// startLimit bounds how long `ledger serve` may take to listen. Generous:
// with --demo it seeds the demo first, and with -race on a busy machine
// that has taken over a minute. A server that exits fails the test at once.
const startLimit = 5 * time.Minute

// MustServe starts `ledger serve` with args on a free port and waits until
// it listens.
func MustServe(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	s := StartServe(t, ledgerBin, env, args...)
	s.MustListen()
	return s
}

// StartServe starts `ledger serve` of the binary bin with args on a free
// port, without waiting: MustListen waits.
func StartServe(t *testing.T, bin string, env []string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	s := &server{t: t, cmd: cmd, done: make(chan error, 1), addr: make(chan string, 1)}
	// A writer, not a pipe: Wait returns once everything the server wrote
	// is in the log, so a server that fails to start shows why.
	cmd.Stderr = &lineWriter{line: func(line string) {
		s.mu.Lock()
		s.stderr.WriteString(line + "\n")
		s.mu.Unlock()
		if m := listenRE.FindStringSubmatch(line); m != nil {
			select {
			case s.addr <- m[1]:
			default:
			}
		}
	}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	return s
}

// MustListen waits until the server listens, and sets its URL.
func (s *server) MustListen() {
	s.t.Helper()
	select {
	case a := <-s.addr:
		s.URL = "http://" + a
	case err := <-s.done:
		s.t.Fatalf("ledger serve exited before listening: %v\n%s", err, s.Log())
	case <-time.After(startLimit):
		s.t.Fatalf("ledger serve did not listen within %s\n%s", startLimit, s.Log())
	}
}

// lineWriter hands each complete line written to it to line.
type lineWriter struct {
	line func(string)
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// Log returns what the server wrote on stderr so far.
func (s *server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Stop sends SIGTERM and returns the exit error.
func (s *server) Stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.done:
		return err
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("no exit 2 minutes after SIGTERM")
	}
}

// runLedger runs the binary to completion.
func runLedger(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ledgerBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
