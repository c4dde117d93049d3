package main

import (
	"context"
	"errors"
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
