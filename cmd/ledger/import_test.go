package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
)

const importFixtures = "../../adapters/directoryimport/testdata"

// runImport runs "ledger import ARGS..." in process and returns its
// standard output. Until main.go lists the subcommand, it calls it
// directly.
func runImport(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := NewMain(&stdout, &stderr, func(string) string { return "" })
	var err error
	if slices.ContainsFunc(m.subcommands(), func(sc subcommand) bool { return sc.name == "import" }) {
		err = m.Run(context.Background(), append([]string{"import"}, args...))
	} else {
		err = m.importCmd(context.Background(), args)
	}
	if err != nil {
		t.Logf("ledger import %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), err
}

// importedEvents returns the number of events in a SQLite ledger file.
func importedEvents(t *testing.T, store string) int {
	t.Helper()
	s, err := sqlite.Open(context.Background(), strings.TrimPrefix(store, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.ReadAll(context.Background(), domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestImportCommand(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	full := filepath.Join(importFixtures, "aaf", "full")

	out, err := runImport(t, "aaf", "--store", store, "--dry-run", full)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"planned changes (41):", "account.open E001 0130001A student \"Léa MARTIN\"", "dry run, nothing written", "full feed, 4 file(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if n := importedEvents(t, store); n != 0 {
		t.Fatalf("a dry run wrote %d events", n)
	}

	// Flags after the files are read too.
	out, err = runImport(t, "aaf", full, "--store", store, "--grace", "45d", "--max-rejected", "5%")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "events appended: 41") || importedEvents(t, store) != 41 {
		t.Fatalf("import output:\n%s", out)
	}
	out, err = runImport(t, "aaf", "--store", store, "--json", full)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Events  int            `json:"events"`
		Planned map[string]int `json:"planned"`
		Mode    string         `json:"mode"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if rep.Events != 0 || rep.Mode != "full" || rep.Planned["account.open"] != 0 {
		t.Fatalf("re-import report %+v", rep)
	}

	// A refused feed: exit status 2, nothing written.
	_, err = runImport(t, "aaf", "--store", store, filepath.Join(importFixtures, "aaf", "refused"))
	if err == nil || exitCode(err) != 2 {
		t.Fatalf("refused feed: %v (exit %d)", err, exitCode(err))
	}
	if n := importedEvents(t, store); n != 41 {
		t.Fatalf("a refused feed wrote: %d events", n)
	}

	// CSV: one profile per file. Personnel of a school that is not
	// registered are all left out: refused, saying why.
	out, err = runImport(t, "csv", "--store", store, "--profile", "personnel", filepath.Join(importFixtures, "csv", "full", "personnel.csv"))
	if exitCode(err) != 2 || !strings.Contains(out, "establishment 0840003C is not registered and the import does not list it") ||
		!strings.Contains(out, "skipped REFUSES: 2 of the feed's 2 people would be left out (100.0 %, more than 5.0 %)") {
		t.Fatalf("personnel of an unregistered school: %v\n%s", err, out)
	}
}

// A feed the guards refuse is imported with --force, which the log
// records; the thresholds are flags.
func TestImportCommandForce(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	samples := filepath.Join(importFixtures, "aaf", "kinds")
	if _, err := runImport(t, "aaf", "--store", store, samples); err != nil {
		t.Fatal(err)
	}
	n := importedEvents(t, store)

	// A delta for people nobody knows: all left out.
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "ENT_Delta_20241104_Eleve_0000.xml"), `<?xml version="1.0" encoding="UTF-8"?>
<ficAlimMENESR>
    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
        <identifier><id>NOBODY</id></identifier>
        <modifications><modification name="sn" operation="replace"><value>X</value></modification></modifications>
    </modifyRequest>
</ficAlimMENESR>
`)
	out, err := runImport(t, "aaf", "--store", store, dir)
	if exitCode(err) != 2 || !strings.Contains(out, "1 of the feed's 1 people would be left out") || importedEvents(t, store) != n {
		t.Fatalf("refused delta: %v\n%s", err, out)
	}
	out, err = runImport(t, "aaf", "--store", store, "--force", dir)
	if err != nil || !strings.Contains(out, "skipped forced: 1 of the feed's 1 people") || !strings.Contains(out, "events appended: 1") {
		t.Fatalf("forced delta: %v\n%s", err, out)
	}
	if importedEvents(t, store) != n+1 {
		t.Fatalf("the forcing is not recorded: %d events, had %d", importedEvents(t, store), n)
	}
	// --max-skipped 100% lets it through unforced: nothing to record.
	if _, err := runImport(t, "aaf", "--store", store, "--max-skipped", "100%", dir); err != nil || importedEvents(t, store) != n+1 {
		t.Fatalf("--max-skipped 100%%: %v", err)
	}
}

func TestImportCommandUsage(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	for _, args := range [][]string{
		{"xml", "--store", store, "f.xml"},
		{"aaf", "--store", store},
		{"csv", "--store", store, "students.csv"},
		{"csv", "--store", store, "--profile", "parent", "students.csv"},
		{"aaf", "--store", store, "--grace", "a month", "dir"},
		{"aaf", "--store", store, "--max-rejected", "150%", "dir"},
		{"aaf", "--store", store, "--max-changes", "150%", "dir"},
		{"aaf", "--store", store, "--guard-min", "some", "dir"},
		{"csv", "--store", store, "--profile", "student", "--encoding", "EBCDIC", "students.csv"},
		{"aaf", "--store", store, "--mode", "partial", "dir"},
		{"aaf", "--store", store, "no/such/dir"},
		{"aaf", "--store", store, "--watch", t.TempDir(), "ENT_Complet_20240902_Eleve_0000.xml"},
		{"aaf", "--store", store, "--watch", t.TempDir(), "--dry-run"},
		{"aaf", "--store", store, "--watch", "no/such/dir", "--watch-settle", "0"},
		{"aaf", "--store", store, "--watch", t.TempDir(), "--watch-interval", "0"},
	} {
		if _, err := runImport(t, args...); err == nil {
			t.Errorf("ledger import %v: no error", args)
		}
	}
}

// The shares' cases are directoryimport.TestParseShare's.
func TestParseDays(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "0": 0, "72h": 72 * time.Hour, "1.5d": 36 * time.Hour} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %s, %v", in, got, err)
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An école's ONDE extraction: --uai names the école (registered by an AAF
// establishment file here), the files are read as ISO-8859-1; the
// extraction is imported once.
func TestImportCommandONDE(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	onde := filepath.Join(importFixtures, "onde", "ecole")
	if _, err := runImport(t, "onde", "--store", store, onde); err == nil || !strings.Contains(err.Error(), "--uai") {
		t.Fatalf("an extraction without its école: %v", err)
	}
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "ENT_1D_Complet_20240902_EtabEducNat_0000.xml"), `<?xml version="1.0" encoding="UTF-8"?>
<ficAlimMENESR>
    <addRequest>
        <operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes>
        <identifier><id>9103</id></identifier>
        <attributes>
            <attr name="ENTStructureJointure"><value>9103</value></attr>
            <attr name="ENTStructureUAI"><value>0133003C</value></attr>
            <attr name="ENTStructureNomCourant"><value>EEPU FREDERIC MISTRAL$AUBAGNE</value></attr>
            <attr name="ENTStructureCodeTypeStruct"><value>151</value></attr>
        </attributes>
    </addRequest>
</ficAlimMENESR>
`)
	if _, err := runImport(t, "aaf", "--store", store, dir); err != nil {
		t.Fatal(err)
	}
	n := importedEvents(t, store)
	out, err := runImport(t, "onde", "--store", store, "--uai", "0133003c", onde)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"CSVExtraction-eleves.csv: onde Eleve full, ISO-8859-1", "events appended: 29",
		"child Lucas GIRARD (class CM1 - M. Roux) is not in the students' file of the import"} {
		if !strings.Contains(out, want) {
			t.Errorf("the ONDE import's report lacks %q:\n%s", want, out)
		}
	}
	if got := importedEvents(t, store) - n; got != 29 {
		t.Fatalf("%d events", got)
	}
	if out, err := runImport(t, "onde", "--store", store, "--uai", "0133003C", onde); err != nil || !strings.Contains(out, "events appended: 0") {
		t.Fatalf("again: %v\n%s", err, out)
	}
}

// zipFeed writes a zip of the fixture files of dir under folder, as an
// académie delivers them, with extra entries (name, content).
func zipFeed(t *testing.T, path, dir, folder string, extra ...string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, body []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		add(folder+"/"+e.Name(), b)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		add(extra[i], []byte(extra[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, path, buf.String())
}

// copyFixtures copies the fixture files of dir into a new directory to.
func copyFixtures(t *testing.T, dir, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, filepath.Join(to, e.Name()), string(b))
	}
}

// An archive is imported as its files; a hostile one, or one larger
// uncompressed than --max-import-bytes, is refused (exit status 2),
// nothing written.
func TestImportCommandArchive(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	in := t.TempDir()
	good := filepath.Join(in, "ENT_2024-09-02.zip")
	zipFeed(t, good, filepath.Join(importFixtures, "aaf", "full"), "ENT_2024-09-02")
	bad := filepath.Join(in, "ENT_2024-09-03.zip")
	zipFeed(t, bad, filepath.Join(importFixtures, "aaf", "full"), "ENT_2024-09-03", "../../x.xml", "<ficAlimMENESR/>")

	out, err := runImport(t, "aaf", "--store", store, "--max-import-bytes", "1000", good)
	if exitCode(err) != 2 || importedEvents(t, store) != 0 ||
		!strings.Contains(out, "REFUSED, nothing written: archive ENT_2024-09-02.zip would hold more than 1000 bytes uncompressed") {
		t.Fatalf("a zip larger than --max-import-bytes: %v\n%s", err, out)
	}
	out, err = runImport(t, "aaf", "--store", store, bad)
	if exitCode(err) != 2 || importedEvents(t, store) != 0 ||
		!strings.Contains(out, `REFUSED, nothing written: archive ENT_2024-09-03.zip: entry "../../x.xml" has an unsafe name`) {
		t.Fatalf("a zip with a traversal: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(in, "..", "..", "x.xml")); !os.IsNotExist(err) {
		t.Fatalf("an entry was written by its name: %v", err)
	}
	out, err = runImport(t, "aaf", "--store", store, good)
	if err != nil || importedEvents(t, store) != 41 ||
		!strings.Contains(out, "ENT_Complet_20240902_Eleve_0000.xml (in ENT_2024-09-02.zip): aaf Eleve full") {
		t.Fatalf("a zip: %v\n%s", err, out)
	}
}

// --watch imports the deliveries of a directory in date order, records
// them, and stops at a refused one (exit status 2, naming it); started
// again, it imports none twice and stops at the same one.
func TestImportCommandWatch(t *testing.T) {
	t.Parallel()
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	watch := t.TempDir()
	// Dropped out of order: the delta of the 16th, then the full feed of
	// the 2nd, then a delta the guards refuse.
	copyFixtures(t, filepath.Join(importFixtures, "aaf", "delta"), filepath.Join(watch, "ENT_2024-09-16"))
	zipFeed(t, filepath.Join(watch, "ENT_2024-09-02.zip"), filepath.Join(importFixtures, "aaf", "full"), "ENT_2024-09-02",
		"__MACOSX/ENT_2024-09-02/._ENT_Complet_20240902_Eleve_0000.xml", "fork")
	copyFixtures(t, filepath.Join(importFixtures, "aaf", "refused"), filepath.Join(watch, "ENT_20240920"))
	writeTestFile(t, filepath.Join(watch, "ENT_2024-09-21.zip.part"), "PK")

	args := []string{"aaf", "--store", store, "--watch", watch, "--watch-settle", "0", "--watch-interval", "1h"}
	out, err := runImport(t, args...)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "delivery ENT_20240920 stopped the watch: directory import refused") {
		t.Fatalf("watch: %v\n%s", err, out)
	}
	full := strings.Index(out, "delivery ENT_2024-09-02.zip (dated 2024-09-02):\ndirectory import ")
	delta := strings.Index(out, "delivery ENT_2024-09-16 (dated 2024-09-16):\ndirectory import ")
	refused := strings.Index(out, "delivery ENT_20240920 (dated 2024-09-20):\ndirectory import ")
	if full < 0 || delta < full || refused < delta || !strings.Contains(out[full:delta], "events appended: 41") ||
		!strings.Contains(out[delta:refused], "delta feed, 2 file(s)") || !strings.Contains(out[refused:], "REFUSED, nothing written") {
		t.Fatalf("deliveries out of order, or not reported:\n%s", out)
	}
	n := importedEvents(t, store)
	if n <= 41 {
		t.Fatalf("%d events: the delta wrote nothing", n)
	}
	var st struct {
		Imported []struct {
			Name   string `json:"name"`
			Events int    `json:"events"`
		} `json:"imported"`
	}
	b, err := os.ReadFile(filepath.Join(watch, ".ledger-watch.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil || len(st.Imported) != 2 || st.Imported[0].Name != "ENT_2024-09-02.zip" ||
		st.Imported[1].Name != "ENT_2024-09-16" || st.Imported[0].Events+st.Imported[1].Events != n {
		t.Fatalf("state %v: %s", err, b)
	}

	out, err = runImport(t, args...)
	if exitCode(err) != 2 || importedEvents(t, store) != n || strings.Contains(out, "delivery ENT_2024-09-02.zip") ||
		strings.Contains(out, "delivery ENT_2024-09-16") || !strings.Contains(out, "delivery ENT_20240920") {
		t.Fatalf("started again: %v\n%s", err, out)
	}
}
