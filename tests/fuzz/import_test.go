package fuzz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// feeds is the directory import's own test feeds.
const feeds = "../../adapters/directoryimport/testdata"

// source is a feed file held in memory.
func source(name string, format directoryimport.Format, profile domain.Profile, data []byte) directoryimport.Source {
	return directoryimport.Source{
		Name: name, Format: format, Profile: profile, Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// file is a test feed's file.
type file struct {
	path string
	data []byte
}

// mustFiles reads the files matching pattern under the test feeds, in
// name order.
func mustFiles(tb testing.TB, pattern string) []file {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(feeds, pattern))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no test feed %s (%v)", pattern, err)
	}
	var out []file
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, file{p, b})
	}
	return out
}

// csvProfile is the profile of a test feed's CSV file, from its name.
func csvProfile(path string) domain.Profile {
	for _, p := range csvProfiles {
		if strings.HasPrefix(filepath.Base(path), string(p)) {
			return p
		}
	}
	return domain.ProfilePersonnel
}

var csvProfiles = []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel}

// mustImport imports sources into w: a dry run first, whose planned
// changes are what the parsers accepted, then the import. A refused feed
// is refused by both, as invalid input (a 4xx), with nothing written;
// every change applied is read back from the directory read model as it
// was planned. It returns what the two stores must agree on.
func (w *world) mustImport(t testing.TB, sources []directoryimport.Source) string {
	t.Helper()
	ctx := context.Background()
	im, err := directoryimport.New(directoryimport.Config{Handlers: w.h, Registry: w.reg, Log: w.store, Now: w.school.Clock})
	if err != nil {
		t.Fatal(err)
	}
	opts := directoryimport.DefaultOptions()
	// Every well-formed record is applied, however many others are
	// rejected.
	opts.MaxRejected = 1
	dry := opts
	dry.DryRun = true
	plan, dryErr := im.Import(ctx, sources, dry)
	rep, err := im.Import(ctx, sources, opts)
	if (dryErr == nil) != (err == nil) {
		t.Fatalf("%s: the dry run ended with %v, the import with %v", w.name, dryErr, err)
	}
	if err != nil {
		if p, _ := web.ProblemOf(err); p.Status >= 500 || !errors.Is(err, directoryimport.ErrRefused) {
			t.Fatalf("%s: import: %v is a %d problem, want a refusal (4xx)\n%s", w.name, err, p.Status, w.logs)
		}
		if rep.Events != 0 {
			t.Fatalf("%s: a refused import appended %d events", w.name, rep.Events)
		}
		return "refused: " + rep.Refused
	}
	for _, fl := range rep.Failed {
		// The parsers accepted a change the command handlers refuse: the
		// parser should have rejected its record, with a place and a
		// reason.
		t.Fatalf("%s: the change %s planned from the feed failed: %s\n%s", w.name, fl.Change, fl.Error, w.logs)
	}
	w.mustEvents(t)
	for _, c := range plan.Changes {
		w.mustChange(t, c)
	}
	return fmt.Sprintf("planned %v, applied %v, %d rejected, %d skipped, %d events", rep.Planned, rep.Applied, len(rep.Rejected), len(rep.Skipped), rep.Events)
}

// mustChange reads a change back from the directory read model.
func (w *world) mustChange(t testing.TB, c directoryimport.Change) {
	t.Helper()
	ctx := context.Background()
	switch c.Kind {
	case directoryimport.RegisterEstablishment:
		e, err := w.q.Establishment(ctx, c.Establishment)
		if err != nil {
			t.Fatalf("%s: establishment %q: %v", w.name, c.Establishment, err)
		}
		w.same(t, "the establishment's name", e.Name, c.EstablishmentName)
	case directoryimport.OpenAccount, directoryimport.UpdateAccount:
		a, err := w.q.Account(ctx, c.Account)
		if err != nil {
			t.Fatalf("%s: account %s: %v", w.name, c.Account, err)
		}
		w.same(t, "the display name", a.DisplayName, c.DisplayName)
		if c.Kind == directoryimport.OpenAccount {
			w.same(t, "the external id", a.ExternalID, c.ExternalID)
		}
	case directoryimport.CreateGroup:
		g, err := w.q.Group(ctx, c.Group)
		if err != nil {
			t.Fatalf("%s: group %s: %v", w.name, c.Group, err)
		}
		w.same(t, "the group's name", g.Name, c.GroupName)
	}
}

// hostileCSV are CSV files a careless or malicious export holds.
var hostileCSV = []string{
	"", "\n", "id\n", "\ufeffid;uai;last_name;first_name\nS1;0130001A;A\x00B;C\n",
	"id,uai,display_name\nS1,0130001A,\xff\xfe\n", "id,uai,display_name\nS1,0130001A,\"a\"\"b\n",
	"id,uai,display_name\nS1,0130001A,a\u2028b\n", "id,uai,display_name\nS1,0130001A,\uffff\n",
	"id,uai,display_name,id\nS1,0130001A,A,S2\n", "ID,UAI,Display_Name\nS1,0130001A,Zoé\n",
	"id,uai,display_name\nS1,0130001A," + strings.Repeat("é", 201) + "\n",
	"id,uai,display_name,classes\nS1,0130001A,Zoé,|||\n", "id,uai,display_name,classes\nS1,0130001A,Zoé,6A|6A\n",
	"id,uai,display_name\n" + strings.Repeat("x", 101) + ",0130001A,Zoé\n", "id,uai,display_name\nS1,9999999Z,Zoé\n",
	"id;uai;last_name;first_name\r\nS1;0130001A;  ;  \r\n",
}

// FuzzImportCSV imports a CSV file of a profile picked by index into the
// school (on SQLite and on Postgres), after the test feed's full export:
// the feed is refused whole, or what the parser accepted is planned,
// applied and read back from the directory as planned.
func FuzzImportCSV(f *testing.F) {
	worlds := MustWorlds(f)
	var full []directoryimport.Source
	for _, fl := range mustFiles(f, "csv/full/*.csv") {
		full = append(full, source(filepath.Base(fl.path), directoryimport.FormatCSV, csvProfile(fl.path), fl.data))
	}
	for _, w := range worlds {
		w.mustImport(f, full)
	}
	for _, fl := range mustFiles(f, "csv/*/*.csv") {
		f.Add(uint8(slices.Index(csvProfiles, csvProfile(fl.path))), fl.data)
	}
	for _, s := range hostileCSV {
		f.Add(uint8(0), []byte(s))
	}
	f.Fuzz(func(t *testing.T, pi uint8, data []byte) {
		profile := csvProfiles[int(pi)%len(csvProfiles)]
		src := []directoryimport.Source{source("fuzz.csv", directoryimport.FormatCSV, profile, data)}
		outcomes := make([]outcome, len(worlds))
		for i, w := range worlds {
			outcomes[i] = outcome{problem: w.mustImport(t, src)}
		}
		mustAgree(t, "CSV import", worlds, outcomes)
	})
}

// FuzzImportAAF imports an AAF file (its name, which says its mode and
// category, and its content) into the school (on SQLite and on Postgres),
// after the test feed's full export, as FuzzImportCSV does.
func FuzzImportAAF(f *testing.F) {
	worlds := MustWorlds(f)
	var full []directoryimport.Source
	for _, fl := range mustFiles(f, "aaf/full/*.xml") {
		full = append(full, source(filepath.Base(fl.path), directoryimport.FormatAAF, "", fl.data))
	}
	for _, w := range worlds {
		w.mustImport(f, full)
	}
	for _, fl := range mustFiles(f, "aaf/*/*.xml") {
		f.Add(filepath.Base(fl.path), fl.data)
	}
	for _, s := range []string{
		"", "<", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ficAlimMENESR/>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?><ficAlimMENESR><addRequest><identifier><id>\xe9</id></identifier></addRequest></ficAlimMENESR>",
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?><ficAlimMENESR/>",
		"<ficAlimMENESR><addRequest><identifier><id>E1&#0;</id></identifier></addRequest></ficAlimMENESR>",
		"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><ficAlimMENESR>&b;</ficAlimMENESR>",
	} {
		f.Add("ENT_Delta_20240916_Eleve_0000.xml", []byte(s))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		src := []directoryimport.Source{source(name, directoryimport.FormatAAF, "", data)}
		outcomes := make([]outcome, len(worlds))
		for i, w := range worlds {
			outcomes[i] = outcome{problem: w.mustImport(t, src)}
		}
		mustAgree(t, "AAF import", worlds, outcomes)
	})
}
