package directoryimport

import (
	"context"
	"fmt"
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
