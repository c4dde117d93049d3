package directoryimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/domain"
)

// FuzzParseAAF feeds the AAF parser arbitrary bytes: it rejects or errors,
// never panics, every rejection has a place and a reason, and what it
// accepts the commands accept (see checkFeed). tests/fuzz imports what it
// accepts into real stores.
func FuzzParseAAF(f *testing.F) {
	files, _ := filepath.Glob("testdata/aaf/*/*.xml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(filepath.Base(p), b)
		}
	}
	const person = `<addRequest><operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>` +
		`<identifier><id>%s</id></identifier><attributes><attr name="ENTPersonJointure"><value>%s</value></attr>` +
		`<attr name="sn"><value>%s</value></attr><attr name="givenName"><value>Léa</value></attr>` +
		`<attr name="ENTPersonStructRattach"><value>7501</value></attr><attr name="ENTEleveClasses"><value>7501$%s</value></attr></attributes></addRequest>`
	for _, v := range []string{"E1", "E1&#0;", "\xff", "a\u2028b", "&#xFFFF;", "&#xD800;", strings.Repeat("x", 201), "]]>", "&amp;&lt;"} {
		f.Add("ENT_Delta_20240916_Eleve_0000.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><ficAlimMENESR>`+
			fmt.Sprintf(person, v, v, v, v)+`</ficAlimMENESR>`))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		b := newBuilder()
		fr := FileReport{}
		_ = b.parseAAF(context.Background(), name, strings.NewReader(string(data)), &fr)
		for _, r := range b.rejected {
			if r.Reason == "" || r.Line < 1 {
				t.Fatalf("rejection without place or reason: %+v", r)
			}
		}
		feed := b.build(ModeFull)
		checkFeed(t, feed)
		_ = diff(feed, newLogDirectory(), time.Time{}, DefaultGrace)
	})
}

// checkFeed fails when a feed holds a text the commands would refuse: the
// parser should have rejected its record.
func checkFeed(t *testing.T, feed *Feed) {
	t.Helper()
	check := func(kind domain.TextKind, what, s string) {
		t.Helper()
		if err := kind.Check(what, s); err != nil {
			t.Fatalf("the feed holds %q, which the commands refuse: %v", s, err)
		}
	}
	for _, e := range feed.Establishments {
		check(domain.TextName, "establishment name", e.Name)
		for _, g := range append(slices.Clip(e.Classes), e.Groups...) {
			check(domain.TextName, "group name", g.Name)
			check(domain.TextName, "group label", g.Label)
		}
	}
	for _, p := range feed.Persons {
		check(domain.TextCode, "join id", p.JoinID)
		check(domain.TextName, "name", p.DisplayName)
		for _, m := range p.Memberships {
			check(domain.TextName, "group name", m.Name)
			check(domain.TextTitle, "subject", m.Subject)
		}
	}
}

// FuzzParseCSV does the same for CSV files.
func FuzzParseCSV(f *testing.F) {
	files, _ := filepath.Glob("testdata/csv/*/*.csv")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	for _, v := range []string{"A\x00B", "\xff\xfe", "a\u2028b", "\uffff", `"a""b`, strings.Repeat("é", 201), "|||", "6A:" + strings.Repeat("s", 199)} {
		f.Add([]byte("id,uai,display_name,classes,groups\nS1,0840003C," + v + "," + v + ",G:" + v + "|G:Maths\n"))
	}
	// Two subjects of one group, each short enough, merged into one.
	f.Add([]byte("id,uai,display_name,groups\nT1,0840003C,Prof,G:" + strings.Repeat("a", 150) + "|G:" + strings.Repeat("b", 150) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel} {
			b := newBuilder()
			fr := FileReport{}
			_ = b.parseCSV(context.Background(), "f.csv", strings.NewReader(string(data)), p, "", &fr)
			for _, r := range b.rejected {
				if r.Reason == "" || r.Line < 1 {
					t.Fatalf("rejection without place or reason: %+v", r)
				}
			}
			checkFeed(t, b.build(ModeFull))
		}
	})
}

// FuzzArchive opens arbitrary bytes as a zip or a .tar.gz: it refuses them
// with an archive's reason or yields feed files of distinct base names
// whose bytes, read to their end, stay within the bound; the private
// directory is gone once closed.
func FuzzArchive(f *testing.F) {
	f.Add(false, []byte("PK\x05\x06"+strings.Repeat("\x00", 18)))
	f.Add(true, []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	for _, tar := range []bool{false, true} {
		dir := f.TempDir()
		p := filepath.Join(dir, "seed")
		eleve, _ := os.ReadFile("testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml")
		ms := []member{{name: "ENT_2024-09-02", dir: true}, {name: "ENT_2024-09-02/ENT_Complet_20240902_Eleve_0000.xml", body: eleve},
			{name: "__MACOSX/x", body: []byte("x")}, {name: "../x.xml", body: []byte("x")}}
		if tar {
			writeTarGz(f, p, ms...)
		} else {
			writeZip(f, p, ms...)
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(tar, b)
		}
	}
	f.Fuzz(func(t *testing.T, isTar bool, data []byte) {
		name := "feed.zip"
		if isTar {
			name = "feed.tar.gz"
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		const limit = 1 << 20
		a := &archives{max: limit}
		srcs, err := a.expand(context.Background(), []Source{{Name: name, Format: FormatAAF,
			Open: func() (io.ReadCloser, error) { return os.Open(p) }}})
		var ae *archiveError
		if err != nil && (!errors.As(err, &ae) || ae.issue.Reason == "" || ae.issue.Archive != name) {
			t.Fatalf("not an archive's refusal: %v", err)
		}
		seen := map[string]bool{}
		var total int64
		for _, src := range srcs {
			if seen[src.Name] || strings.ContainsAny(src.Name, "/\\") || !strings.EqualFold(filepath.Ext(src.Name), ".xml") {
				t.Fatalf("file %q", src.Name)
			}
			seen[src.Name] = true
			rc, err := src.Open()
			if err != nil {
				if !errors.As(err, &ae) {
					t.Fatalf("open %s: %v", src.Name, err)
				}
				continue
			}
			n, err := io.Copy(io.Discard, rc)
			_ = rc.Close()
			if err != nil && !errors.As(err, &ae) {
				t.Fatalf("read %s: %v", src.Name, err)
			}
			total += n
		}
		if total > limit {
			t.Fatalf("%d bytes read, bound %d", total, limit)
		}
		a.close()
		if a.dir != "" {
			if _, err := os.Stat(a.dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("private directory left: %v", err)
			}
		}
	})
}
