package directoryimport

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

const csvUAI = "0840003C"

// registerSchool registers the CSV fixtures' école: CSV files carry no
// establishment records.
func registerSchool(t *testing.T, x *harness) {
	t.Helper()
	_, err := x.h.RegisterEstablishment(x.ctx, commands.Request{System: true}, domain.RegisterEstablishment{
		UAI: csvUAI, Name: "École Jean Jaurès", Kind: domain.KindEcole, Departement: "84"})
	if err != nil {
		t.Fatal(err)
	}
}

// csvExport returns the four files of a CSV export directory.
func csvExport(x *harness, dir string) []Source {
	var srcs []Source
	for _, p := range []domain.Profile{domain.ProfileRelative, domain.ProfileStudent, domain.ProfileTeacher, domain.ProfilePersonnel} {
		name := map[domain.Profile]string{domain.ProfileRelative: "relatives", domain.ProfileStudent: "students",
			domain.ProfileTeacher: "teachers", domain.ProfilePersonnel: "personnel"}[p]
		srcs = append(srcs, x.sources(FormatCSV, p, filepath.Join("csv", dir, name+".csv"))...)
	}
	return srcs
}

// The CSV scenario: a school's export, then the export a month later with
// a student moving class, a relative unlinked, a teacher gaining a class and
// a student (and their parent) gone; every second run appends nothing; the
// leavers are closed once the grace period is over.
func TestCSVExportThenNextExport(t *testing.T) {
	x := newHarness(t, nil)
	registerSchool(t, x)
	opts := DefaultOptions()

	rep, _ := x.MustImport(csvExport(x, "full"), opts)
	if rep.Mode != ModeFull {
		t.Fatalf("mode %s: CSV exports are full", rep.Mode)
	}
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 14, CreateGroup: 3, JoinGroup: 11, LinkRelative: 6})
	if len(rep.Rejected)+len(rep.Skipped) != 0 {
		t.Fatalf("rejected %v, skipped %v", rep.Rejected, rep.Skipped)
	}
	checkStrings(t, "T01 groups", groupsOf(x.account("T01")),
		"CM1/head_teacher", "CM1/teacher/Français, Mathématiques", "Chorale/teacher/Musique")
	checkStrings(t, "S03 relatives", relatives(x.account("S03")), "P04*", "P05")
	if a := x.account("D01"); a.Profile != domain.ProfilePersonnel || a.Function != domain.FunctionHead || a.DisplayName != "Agnès Roche" {
		t.Errorf("D01: %+v", a)
	}
	x.MustNotChange(csvExport(x, "full"), opts)

	x.now = x.now.Add(30 * 24 * time.Hour)
	rep, _ = x.MustImport(csvExport(x, "second"), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{LeaveGroup: 1, JoinGroup: 2, UnlinkRelative: 1, FlagMissing: 2})
	checkStrings(t, "S02 groups", groupsOf(x.account("S02")), "CM2/student")
	checkStrings(t, "S03 relatives", relatives(x.account("S03")), "P04*")
	checkStrings(t, "T02 groups", groupsOf(x.account("T02")), "CM1/teacher/Anglais", "CM2/head_teacher", "CM2/teacher/Français")
	for _, id := range []string{"S04", "P06"} {
		if a := x.account(id); !a.Missing || a.Closed {
			t.Errorf("%s: missing %v closed %v", id, a.Missing, a.Closed)
		}
	}
	x.MustNotChange(csvExport(x, "second"), opts)

	x.now = x.now.Add(31 * 24 * time.Hour)
	rep, _ = x.MustImport(csvExport(x, "second"), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{LeaveGroup: 1, CloseAccount: 2})
	for _, id := range []string{"S04", "P06"} {
		if a := x.account(id); !a.Closed {
			t.Errorf("%s still open", id)
		}
	}
	x.MustNotChange(csvExport(x, "second"), opts)
}

// One file per import, as "ledger import csv --profile P FILE" runs: a
// full file of one profile flags only accounts of that profile.
func TestCSVOneProfilePerImport(t *testing.T) {
	x := newHarness(t, nil)
	registerSchool(t, x)
	opts := DefaultOptions()
	for _, f := range []struct {
		profile domain.Profile
		file    string
		opened  int
	}{
		{domain.ProfileRelative, "relatives", 6},
		{domain.ProfileStudent, "students", 4},
		{domain.ProfilePersonnel, "personnel", 2},
		{domain.ProfileTeacher, "teachers", 2},
	} {
		rep, _ := x.MustImport(x.sources(FormatCSV, f.profile, "csv/full/"+f.file+".csv"), opts)
		if rep.Applied[OpenAccount] != f.opened || rep.Applied[FlagMissing] != 0 {
			t.Fatalf("%s: %v", f.file, rep.Applied)
		}
	}
	for _, f := range []string{"relatives", "students", "teachers", "personnel"} {
		profile := map[string]domain.Profile{"relatives": domain.ProfileRelative, "students": domain.ProfileStudent,
			"teachers": domain.ProfileTeacher, "personnel": domain.ProfilePersonnel}[f]
		x.MustNotChange(x.sources(FormatCSV, profile, "csv/full/"+f+".csv"), opts)
	}
}

func TestCSVMalformedLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,uai,last_name,first_name,classes\n")
	for i := range 30 {
		fmt.Fprintf(&b, "N%02d,%s,Nom%d,Prénom,CM1\n", i, csvUAI, i)
	}
	b.WriteString("BAD1,0840003,Sansuai,Léo,CM1\n")       // line 32: bad UAI
	b.WriteString("BAD2,0840003C,Trop,De,CM1,champs\n")   // line 33: one field too many
	b.WriteString(`BAD3,0840003C,Du"pont,Max,CM1` + "\n") // line 34: a bare quote
	b.WriteString(",0840003C,Sansid,Eve,CM1\n")           // line 35: no id
	path := filepath.Join(t.TempDir(), "students.csv")
	writeFile(t, path, b.String())

	x := newHarness(t, nil)
	registerSchool(t, x)
	rep, recs, err := x.run(x.sources(FormatCSV, domain.ProfileStudent, path), DefaultOptions())
	if !errors.Is(err, ErrRefused) || len(recs) != 0 {
		t.Fatalf("4 bad lines of 34: error %v, %d events", err, len(recs))
	}
	want := []struct {
		line   int
		reason string
	}{{32, "is not seven digits"}, {33, "6 fields, the header has 5"}, {34, "bare \" in non-quoted-field"}, {35, "no join id"}}
	if len(rep.Rejected) != len(want) || rep.Records != 34 {
		t.Fatalf("%d records, rejected %v", rep.Records, rep.Rejected)
	}
	for i, w := range want {
		if r := rep.Rejected[i]; r.Line != w.line || r.File != "students.csv" || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("rejection %d: %+v, want line %d %q", i, r, w.line, w.reason)
		}
	}
	opts := DefaultOptions()
	opts.MaxRejected = 0.2
	rep, _ = x.MustImport(x.sources(FormatCSV, domain.ProfileStudent, path), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 30, CreateGroup: 1, JoinGroup: 30})
}

// TestCSVTextsTheLedgerRefuses: a record whose texts the commands would
// refuse (domain/text.go) is rejected with its line and reason, like any
// malformed record, instead of failing when its change is applied.
func TestCSVTextsTheLedgerRefuses(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,uai,display_name,classes\n")
	for i := range 10 {
		fmt.Fprintf(&b, "N%02d,%s,Élève %d,CM1\n", i, csvUAI, i)
	}
	b.WriteString("BAD1,0840003C,A\x00B,CM1\n")                           // line 12: a NUL
	b.WriteString("BAD2,0840003C,\xff\xfe,CM1\n")                         // line 13: not UTF-8
	b.WriteString("BAD3,0840003C,a\u2028b,CM1\n")                         // line 14: a line separator
	b.WriteString("BAD4,0840003C," + strings.Repeat("é", 201) + ",CM1\n") // line 15: too long a name
	b.WriteString(strings.Repeat("X", 101) + ",0840003C,Zoé,CM1\n")       // line 16: too long an id
	b.WriteString("BAD6,0840003C,Zoé," + strings.Repeat("C", 201) + "\n") // line 17: too long a class
	path := filepath.Join(t.TempDir(), "students.csv")
	writeFile(t, path, b.String())

	x := newHarness(t, nil)
	registerSchool(t, x)
	opts := DefaultOptions()
	opts.MaxRejected = 0.5
	// Line 13's bytes are not UTF-8: the encoding guard refuses the file
	// first; forced past it, the line is rejected like the others.
	refused, _, err := x.run(x.sources(FormatCSV, domain.ProfileStudent, path), opts)
	if !errors.Is(err, ErrRefused) || len(refused.Guards) != 1 || refused.Guards[0].Kind != GuardEncoding {
		t.Fatalf("unforced: %v, guards %+v, want the encoding guard alone", err, refused.Guards)
	}
	opts.Force = true
	rep, _ := x.MustImport(x.sources(FormatCSV, domain.ProfileStudent, path), opts)
	want := []struct {
		line   int
		reason string
	}{
		{12, "name: control character U+0000"}, {13, "name: not valid UTF-8"}, {14, "name: one line only"},
		{15, "name: 201 characters long"}, {16, "id: 101 characters long"}, {17, "class or group: 201 characters long"},
	}
	if len(rep.Rejected) != len(want) || len(rep.Failed) != 0 || rep.Files[0].Rejected != len(want) {
		t.Fatalf("rejected %v, failed %v, file %+v", rep.Rejected, rep.Failed, rep.Files[0])
	}
	for i, w := range want {
		if r := rep.Rejected[i]; r.Line != w.line || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("rejection %d: %+v, want line %d %q", i, r, w.line, w.reason)
		}
	}
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 10, CreateGroup: 1, JoinGroup: 10})
}

func TestCSVEncodingAndHeaders(t *testing.T) {
	x := newHarness(t, nil)
	registerSchool(t, x)
	dir := t.TempDir()
	latin9, err := charmap.ISO8859_15.NewEncoder().String("ID;UAI;Display_Name;Function\nD09;0840003C;Œdipe Cœurjoly;DIR\n")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "personnel.csv")
	if err := os.WriteFile(path, []byte(latin9), 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := FileSources(FormatCSV, domain.ProfilePersonnel, "ISO-8859-15", path)
	if err != nil {
		t.Fatal(err)
	}
	x.MustImport(srcs, DefaultOptions())
	if a := x.account("D09"); a.DisplayName != "Œdipe Cœurjoly" || a.Function != domain.FunctionHead {
		t.Fatalf("D09: %+v", a)
	}

	for name, content := range map[string]string{
		"no id column":    "uai,last_name\n0840003C,X\n",
		"no name column":  "id,uai\nA,0840003C\n",
		"no uai column":   "id,last_name\nA,X\n",
		"empty":           "",
		"unknown charset": "id,uai,last_name\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "students.csv")
			writeFile(t, path, content)
			srcs, err := FileSources(FormatCSV, domain.ProfileStudent, map[bool]string{true: "EBCDIC"}[name == "unknown charset"], path)
			if err != nil {
				t.Fatal(err)
			}
			_, recs, err := x.run(srcs, DefaultOptions())
			if !errors.Is(err, ErrRefused) || len(recs) != 0 {
				t.Fatalf("error %v, %d events", err, len(recs))
			}
		})
	}
}
