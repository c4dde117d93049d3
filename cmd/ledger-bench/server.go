package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ledgerBinary returns the ledger binary: --ledger, or one built from this
// module into the run's directory (once).
func (e *env) ledgerBinary(ctx context.Context) (string, error) {
	if e.cfg.Ledger != "" {
		return e.cfg.Ledger, nil
	}
	e.buildOnce.Do(func() {
		out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		if err != nil {
			e.buildErr = fmt.Errorf("go env GOMOD: %w (pass --ledger)", err)
			return
		}
		mod := strings.TrimSpace(string(out))
		if mod == "" || mod == os.DevNull {
			e.buildErr = errors.New("not inside the ledger module: pass --ledger PATH")
			return
		}
		bin := filepath.Join(e.work, "ledger")
		e.logf("  building the ledger binary")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/schoollife/ledger/cmd/ledger")
		cmd.Dir = filepath.Dir(mod)
		if out, err := cmd.CombinedOutput(); err != nil {
			e.buildErr = fmt.Errorf("go build ./cmd/ledger: %w\n%s", err, out)
			return
		}
		e.ledgerBin = bin
	})
	return e.ledgerBin, e.buildErr
}

// ledgerServer is a `ledger serve` started by the benchmark.
type ledgerServer struct {
	cmd     *exec.Cmd
	started time.Time
	base    string // http://127.0.0.1:PORT
	log     string // its stderr
	done    chan error
}

// startServer starts `ledger serve` on the store spec, raising its open
// file limit through the shell (and inheriting ours), and waits until it
// answers /healthz.
func (e *env) startServer(ctx context.Context, spec string, extraEnv ...string) (*ledgerServer, error) {
	bin, err := e.ledgerBinary(ctx)
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.work, fmt.Sprintf("serve-%d.log", time.Now().UnixNano()))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("sh", "-c", `ulimit -n 131072 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`,
		bin, "serve", "--store", spec, "--addr", addr, "--seal-every", "0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	s := &ledgerServer{cmd: cmd, started: time.Now(), base: "http://" + addr, log: logPath, done: make(chan error, 1)}
	go func() {
		s.done <- cmd.Wait()
		logFile.Close()
	}()
	// Generous: started from the tests, the server shares a busy machine
	// with the race detector. A server that exits ends the wait at once.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("ledger serve exited: %v\n%s", err, s.tail())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("ledger serve did not answer within 5 minutes\n%s", s.tail())
		}
	}
}

// pid is the server's process id (sh exec'd it).
func (s *ledgerServer) pid() int { return s.cmd.Process.Pid }

// tail returns the end of the server's log.
func (s *ledgerServer) tail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// Stop stops the server: SIGTERM, then SIGKILL after 30 s.
func (s *ledgerServer) Stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("ledger serve: %w\n%s", err, s.tail())
		}
		return err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("ledger serve did not stop within 30 s\n%s", s.tail())
	}
}

// gcLine is a collection the server logged (GODEBUG=gctrace=1).
type gcLine struct {
	at             float64 // seconds since the process started
	heapMB, stacks int     // live heap after the collection, goroutine stacks
}

func (g gcLine) live() int { return g.heapMB + g.stacks }

var gcRE = regexp.MustCompile(`^gc \d+ @([0-9.]+)s .*->(\d+) MB, \d+ MB goal, (\d+) MB stacks`)

// gcLines reads the collections of the server's log.
func (s *ledgerServer) gcLines() []gcLine {
	b, _ := os.ReadFile(s.log)
	var out []gcLine
	for _, line := range strings.Split(string(b), "\n") {
		m := gcRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		heap, _ := strconv.Atoi(m[2])
		stacks, _ := strconv.Atoi(m[3])
		out = append(out, gcLine{at: at, heapMB: heap, stacks: stacks})
	}
	return out
}

// nextGC waits for the server's next collection (the runtime forces one
// every two minutes) and returns it; after wait, it returns the last one.
func (s *ledgerServer) nextGC(ctx context.Context, wait time.Duration) (gcLine, error) {
	after := time.Since(s.started).Seconds()
	deadline := time.Now().Add(wait)
	for {
		lines := s.gcLines()
		for _, g := range lines {
			if g.at > after {
				return g, nil
			}
		}
		if time.Now().After(deadline) {
			if len(lines) == 0 {
				return gcLine{}, errors.New("the server logged no collection (GODEBUG=gctrace=1)")
			}
			return lines[len(lines)-1], nil
		}
		select {
		case <-ctx.Done():
			return gcLine{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
