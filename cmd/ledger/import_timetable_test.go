package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

const timetableFixtures = "../../adapters/timetableimport/testdata"

// ledger import edt after the directory's AAF import: a dry run, the
// import, a re-import that writes nothing, a refusal.
func TestImportTimetableCommand(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	if _, err := runImport(t, "aaf", "--store", store, filepath.Join(importFixtures, "aaf", "full")); err != nil {
		t.Fatal(err)
	}
	before := importedEvents(t, store)
	edt := filepath.Join(timetableFixtures, "edt_0130001A.xml")
	// A wide plan window: the fixture's year stays importable whenever
	// the test runs.
	args := []string{"edt", "--store", store, "--plan-window", "10,1", "--uai", "0130001A", "--zone", "B", "--from", "2026-08-31"}

	out, err := runImport(t, append(args, "--dry-run", edt)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 courses, 4 classes and groups, 0 not matched", "add: 6A Monday 08:00-08:55", "dry run: nothing written"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if n := importedEvents(t, store); n != before {
		t.Fatalf("a dry run wrote %d events", n-before)
	}

	out, err = runImport(t, append(args, edt)...)
	if err != nil {
		t.Fatal(err)
	}
	added := importedEvents(t, store) - before
	if added == 0 || !strings.Contains(out, "written: ") {
		t.Fatalf("import wrote %d events:\n%s", added, out)
	}
	out, err = runImport(t, append(args, edt)...)
	if err != nil || !strings.Contains(out, "written: 0 entries added, 0 removed") || importedEvents(t, store) != before+added {
		t.Fatalf("re-import: %v\n%s", err, out)
	}

	// Another establishment's export: refused, exit status 2.
	_, err = runImport(t, "edt", "--store", store, "--uai", "0130002B", "--zone", "B", "--from", "2026-08-31", edt)
	if err == nil || domain.CodeOf(err) != domain.CodeInvalid || exitCode(err) != 2 {
		t.Fatalf("refusal: %v", err)
	}
	if _, err := runImport(t, "edt", "--store", store, "--uai", "0130001A", "--zone", "D", edt); err == nil || !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("zone D: %v", err)
	}
}
