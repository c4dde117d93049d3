package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
)

// writers send commands to a server through its API until stopped, and
// record the events of every command the server acknowledged.
type writers struct {
	t    *testing.T
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	acked []uuid.UUID
	errs  []error
}

// uaiSeq numbers the establishments the writers register, across tests.
var uaiSeq atomic.Int64

// startWriters starts n writers against the server at base, signed in
// with token, and waits until they have had some commands acknowledged.
func startWriters(t *testing.T, base, token string, n int) *writers {
	t.Helper()
	w := &writers{t: t, stop: make(chan struct{})}
	for range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-w.stop:
					return
				default:
				}
				uai := fmt.Sprintf("%07dW", 1000000+uaiSeq.Add(1))
				ids, err := postCommand(base+"/api/v1/establishments", token, establishment(uai))
				w.mu.Lock()
				if err != nil {
					w.errs = append(w.errs, err)
					w.mu.Unlock()
					return
				}
				w.acked = append(w.acked, ids...)
				w.mu.Unlock()
			}
		}()
	}
	t.Cleanup(w.Stop)
	deadline := time.Now().Add(limit)
	for len(w.Acked()) < 3*n {
		if time.Now().After(deadline) {
			t.Fatalf("the writers had %d commands acknowledged in %s", len(w.Acked()), limit)
		}
		if err := w.err(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return w
}

// Acked returns the events of the commands acknowledged so far.
func (w *writers) Acked() []uuid.UUID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]uuid.UUID(nil), w.acked...)
}

func (w *writers) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.errs...)
}

// Stop stops the writers and fails the test if a command failed.
func (w *writers) Stop() {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	w.wg.Wait()
	if err := w.err(); err != nil {
		w.t.Errorf("writers: %v", err)
	}
}

// postCommand sends a command and returns the events it recorded.
func postCommand(url, token string, body any) ([]uuid.UUID, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, out)
	}
	var res struct{ Events []uuid.UUID }
	if err := json.Unmarshal(out, &res); err != nil || len(res.Events) == 0 {
		return nil, fmt.Errorf("POST %s: answer %s: %v", url, out, err)
	}
	return res.Events, nil
}

// runLedger runs `ledger ARGS...` in process and returns its standard
// output.
func runLedger(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := NewMain(&stdout, &stderr, func(string) string { return "" })
	err := m.Run(context.Background(), args)
	if err != nil {
		t.Logf("ledger %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), err
}

// mustLedger is runLedger failing the test on an error.
func mustLedger(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runLedger(t, args...)
	if err != nil {
		t.Fatalf("ledger %s: %v", args[0], err)
	}
	return out
}

// mustHold fails the test unless every event of want is in the log.
func mustHold(t *testing.T, log interface {
	ReadAll(context.Context, domain.Position, int) ([]domain.Record, error)
}, want []uuid.UUID) {
	t.Helper()
	recs, err := log.ReadAll(context.Background(), domain.Position{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[uuid.UUID]bool, len(recs))
	for _, r := range recs {
		have[r.ID] = true
	}
	for _, id := range want {
		if !have[id] {
			t.Fatalf("event %s, acknowledged before the backup began, is not in the restored log (%d events)", id, len(recs))
		}
	}
}

// mustTool returns the path of a PostgreSQL client program, or skips the
// test (fails it under CI=true) when it is not installed.
func mustTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not installed: install PostgreSQL's client programs (apt-get install postgresql-client) to run this test", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// runTool runs a program and fails the test with its output on an error.
func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, mustTool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestBackupWhileServing: `ledger backup` of a SQLite store while a server
// takes commands through its API, then `ledger restore` into a new file:
// the restored ledger verifies and holds every event acknowledged before
// the backup began. A backup does not replace a file, nor a restore a
// ledger in use.
func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store := "sqlite:" + filepath.Join(dir, "ledger.db")
	login, password := MustAdmin(t, store)
	s := MustServeMain(t, "--store", store)
	w := startWriters(t, s.URL, MustToken(t, s.URL, login, password), 3)

	before := w.Acked()
	backup := filepath.Join(dir, "ledger-backup.db")
	out := mustLedger(t, "backup", "--store", store, "--to", backup)
	during := len(w.Acked()) - len(before)
	w.Stop()
	t.Logf("%d events acknowledged before the backup, %d while it ran", len(before), during)
	if !strings.Contains(out, "history intact") {
		t.Fatalf("backup output:\n%s", out)
	}
	if _, err := runLedger(t, "backup", "--store", store, "--to", backup); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("a second backup to the same file: %v, want a refusal", err)
	}
	if _, err := runLedger(t, "restore", "--from", backup, "--store", store, "--force"); !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("restore over the served file: %v, want ErrInUse", err)
	}

	restored := "sqlite:" + filepath.Join(dir, "restored.db")
	out = mustLedger(t, "restore", "--from", backup, "--store", restored)
	if !strings.Contains(out, "history intact") {
		t.Fatalf("restore output:\n%s", out)
	}
	if out := mustLedger(t, "verify", "--store", restored); !strings.Contains(out, "history intact") {
		t.Fatalf("verify of the restored store:\n%s", out)
	}
	r, err := sqlite.Open(context.Background(), strings.TrimPrefix(restored, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mustHold(t, r, before)
	if _, err := runLedger(t, "restore", "--from", backup, "--store", restored); !errors.Is(err, sqlite.ErrNotEmpty) {
		t.Fatalf("restore over a ledger without --force: %v, want ErrNotEmpty", err)
	}
}

// TestPostgresDumpWhileServing: pg_dump of a Postgres store while a server
// takes commands through its API, restored with pg_restore into a new
// database of the same cluster: `ledger verify` passes on it and it holds
// every event acknowledged before the dump began.
func TestPostgresDumpWhileServing(t *testing.T) {
	t.Parallel()
	mustTool(t, "pg_dump")
	mustTool(t, "pg_restore")
	store := pgtest.MustDatabase(t)
	login, password := MustAdmin(t, store)
	s := MustServeMain(t, "--store", store)
	w := startWriters(t, s.URL, MustToken(t, s.URL, login, password), 3)

	before := w.Acked()
	dump := filepath.Join(t.TempDir(), "ledger.dump")
	runTool(t, "pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", dump, "--dbname", store)
	during := len(w.Acked()) - len(before)
	w.Stop()
	t.Logf("%d events acknowledged before the dump, %d while it ran", len(before), during)

	fresh := pgtest.MustDatabase(t)
	runTool(t, "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", fresh, dump)
	if out := mustLedger(t, "verify", "--store", fresh); !strings.Contains(out, "history intact") {
		t.Fatalf("verify of the restored database:\n%s", out)
	}
	r, err := postgres.Open(context.Background(), fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mustHold(t, r, before)
	if _, err := runLedger(t, "backup", "--store", store, "--to", filepath.Join(t.TempDir(), "b")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("ledger backup of a Postgres store: %v, want the way to back it up", err)
	}
}
