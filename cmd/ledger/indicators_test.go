package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestIndicatorsSpanRefused: `ledger indicators` refuses the spans the API
// refuses, with the same rule, before it opens the store.
func TestIndicatorsSpanRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	for _, args := range [][]string{
		{"--from", "0001-01-01", "--to", "9999-12-31", "--granularity", "day"},
		{"--from", "2005-09-01", "--to", "2007-09-01", "--granularity", "day"},
		{"--from", "0001-01-01", "--to", "9999-12-31"},
	} {
		m := NewMain(io.Discard, io.Discard, func(string) string { return "" })
		err := m.Run(context.Background(), append([]string{"indicators", "--store", "sqlite:" + path}, args...))
		if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), "at most to") {
			t.Errorf("ledger indicators %v: %v, want %v", args, err, domain.ErrInvalid)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store was opened: %v", err)
	}
}

// TestIndicatorsReplayLine: a replay prints one progress line, its last.
func TestIndicatorsReplayLine(t *testing.T) {
	d := newDemoApp(t)
	d.seed(t, parisTime(t, "2026-12-07 12:00"))
	var stdout, stderr bytes.Buffer
	m := NewMain(&stdout, &stderr, func(string) string { return "" })
	err := m.Run(context.Background(), []string{"indicators", "--store", d.cfg.Store, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	events := len(d.records(t))
	if len(lines) != 1 || !strings.HasPrefix(lines[0], fmt.Sprintf("replay: %d/%d (100%%)", events, events)) {
		t.Errorf("replay lines:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "\n2026-11-01,2026-11-01,2026-11-30,all,all,") {
		t.Errorf("indicators:\n%s", stdout.String())
	}
}
