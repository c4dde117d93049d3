package directoryimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/schoollife/ledger/domain"
)

// Feeds as the académies really send them: structures of every kind, part
// files, encodings that lie, people listed twice, exports that would
// import nobody. Each test asserts the exact counts, the words of the
// refusals, and that a refused import appended nothing.

// aafText is an AAF file split into its head, records and tail.
type aafText struct {
	head    string
	records []string
	tail    string
}

// splitAAF splits an AAF file's text into its records.
func splitAAF(t *testing.T, text string) aafText {
	t.Helper()
	first := strings.Index(text, "    <addRequest>")
	last := strings.LastIndex(text, "</ficAlimMENESR>")
	if first < 0 || last < 0 {
		t.Fatal("not an AAF file of addRequests")
	}
	f := aafText{head: text[:first], tail: text[last:]}
	for _, r := range strings.SplitAfter(text[first:last], "    </addRequest>\n") {
		if strings.TrimSpace(r) != "" {
			f.records = append(f.records, r)
		}
	}
	return f
}

// with returns the file's text holding the records whose <id> is in ids
// (all when none).
func (f aafText) with(ids ...string) string {
	var b strings.Builder
	b.WriteString(f.head)
	for _, r := range f.records {
		if len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(r, "<id>"+id+"</id>") }) {
			b.WriteString(r)
		}
	}
	b.WriteString(f.tail)
	return b.String()
}

// fullFixture is a file of testdata/aaf/full.
func fullFixture(t *testing.T, category string) aafText {
	t.Helper()
	return splitAAF(t, readFile(t, "testdata/aaf/full/ENT_Complet_20240902_"+category+"_0000.xml"))
}

const fullEtab = "testdata/aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml"

// mustRefuse runs an import that must be refused, appending nothing, and
// returns its report.
func (x *harness) mustRefuse(srcs []Source, opts Options) *Report {
	x.t.Helper()
	before := x.head()
	rep, recs, err := x.run(srcs, opts)
	if !errors.Is(err, ErrRefused) || !errors.Is(err, domain.ErrInvalid) {
		x.t.Fatalf("error %v, want a refusal", err)
	}
	if len(recs) != 0 || rep.Events != 0 || x.head() != before {
		x.t.Fatalf("a refused import appended %d events (report: %d)", len(recs), rep.Events)
	}
	if rep.Refused == "" || !strings.Contains(err.Error(), rep.Refused) {
		x.t.Fatalf("refused %q, error %q", rep.Refused, err)
	}
	return rep
}

// guardKinds lists the kinds of a report's guards.
func guardKinds(rep *Report) []GuardKind {
	var out []GuardKind
	for _, g := range rep.Guards {
		out = append(out, g.Kind)
	}
	return out
}

// mustBeForced checks that a forced import's first event records the
// guards it was forced past.
func mustBeForced(t *testing.T, x *harness, rep *Report, recs []domain.Record, guards ...string) {
	t.Helper()
	if len(recs) == 0 || recs[0].Type != "import.forced.v1" || recs[0].Stream != domain.ImportStream(rep.CorrelationID) {
		t.Fatalf("the first event is not the forcing: %+v", recs)
	}
	e := decode(t, x, recs[0]).(domain.ImportForced)
	if e.Import != rep.CorrelationID || !slices.Equal(e.Guards, guards) || e.Details == "" ||
		recs[0].Metadata.CorrelationID != rep.CorrelationID || recs[0].Metadata.Command != "RecordForcedImport" {
		t.Fatalf("forcing %+v, metadata %+v, want guards %v", e, recs[0].Metadata, guards)
	}
	for _, g := range rep.Guards {
		if !g.Forced {
			t.Errorf("guard %s not marked forced", g.Kind)
		}
	}
}

// Every structure of an EtabEducNat file becomes an establishment, its
// kind read from the type code, else the label; a replacement zone typed
// SANS OBJET and a CIO are "other", and the teacher attached to the zone
// gets an account there, with the collège where they teach as another
// establishment.
func TestEveryStructureKindIsAnEstablishment(t *testing.T) {
	x := newHarness(t, nil)
	rep, _ := x.MustImport(x.sources(FormatAAF, "", "aaf/kinds"), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{
		RegisterEstablishment: 7, RecordFeedKey: 7, OpenAccount: 11, CreateGroup: 4, JoinGroup: 6, LinkRelative: 4,
	})
	for _, tc := range []struct {
		uai  string
		kind domain.EstablishmentKind
		typ  string
	}{
		{"0131001A", domain.KindCollege, "340 CLG"},
		{"0131002B", domain.KindLyceePro, "320 LP"},
		{"0131003C", domain.KindEREA, "EREA"},
		{"0131004D", domain.KindOther, "SANS OBJET"},
		{"0131005E", domain.KindEcole, "151 ECOLE ELEMENTAIRE"},
		{"0131006F", domain.KindCollege, "SEGPA"},
		{"0131007G", domain.KindOther, "CIO"},
	} {
		est := registeredEstablishment(t, x, tc.uai)
		if est.Kind != tc.kind || est.Type != tc.typ {
			t.Errorf("%s: kind %s type %q, want %s %q", tc.uai, est.Kind, est.Type, tc.kind, tc.typ)
		}
	}
	z := x.account("Z001")
	if z.Establishment != "0131004D" || z.Profile != domain.ProfileTeacher || !slices.Equal(z.Details.Establishments, []string{"0131001A"}) ||
		!slices.Equal(z.Details.Posts, []domain.Post{{Establishment: "0131001A", Code: "ENS", Label: "ENSEIGNEMENT", Discipline: "L0422", DisciplineLabel: "ANGLAIS"}}) {
		t.Errorf("the replacement teacher: %+v", z)
	}
	if a := x.account("Z002"); a.Establishment != "0131007G" || a.Function != domain.FunctionOther {
		t.Errorf("the CIO's psychologist: %+v", a)
	}
	if a := x.account("K003"); a.Establishment != "0131006F" {
		t.Errorf("the SEGPA student: %+v", a)
	}
	// The zone's teacher teaches 3A in the collège, their function's
	// establishment.
	if len(rep.Skipped) != 0 {
		t.Fatalf("skipped %+v", rep.Skipped)
	}
	if got := groupsOf(z); !slices.Equal(got, []string{"3A/teacher/ANGLAIS"}) {
		t.Errorf("the replacement teacher's classes: %v", got)
	}
	if rep.Totals != (Outcomes{Created: 11}) {
		t.Errorf("totals %+v", rep.Totals)
	}
	x.MustNotChange(x.sources(FormatAAF, "", "aaf/kinds"), DefaultOptions())
}

func TestEstablishmentKindMapping(t *testing.T) {
	for _, tc := range []struct {
		code, label string
		want        domain.EstablishmentKind
	}{
		{"340", "", domain.KindCollege}, {"390", "SEGPA", domain.KindCollege}, {"300", "LYC", domain.KindLycee},
		{"306", "LPO", domain.KindLycee}, {"320", "LP", domain.KindLyceePro}, {"334", "SEP", domain.KindLyceePro},
		{"370", "", domain.KindEREA}, {"101", "", domain.KindEcole}, {"151", "", domain.KindEcole},
		{"380", "MFR", domain.KindOther}, {"", "CLG", domain.KindCollege}, {"", "COLLEGE", domain.KindCollege},
		{"", "Collège", domain.KindCollege}, {"", "LYC", domain.KindLycee}, {"", "LYCEE POLYVALENT", domain.KindLycee},
		{"", "LYCEE PROFESSIONNEL", domain.KindLyceePro}, {"", "LP", domain.KindLyceePro}, {"", "LPO", domain.KindLycee},
		{"", "EREA", domain.KindEREA}, {"", "ECOLE", domain.KindEcole}, {"", "1ORD", domain.KindEcole},
		{"", "EE", domain.KindEcole}, {"", "SANS OBJET", domain.KindOther}, {"", "", domain.KindOther},
		{"", "ZONE", domain.KindOther}, {"x", "CLG", domain.KindCollege}, // a code that is not a number: the label
		{"", "ETABLISSEMENT REGIONAL D'ENSEIGNEMENT ADAPTE", domain.KindEREA},
		{"", "SECTION D'ENSEIGNEMENT GENERAL ET PROFESSIONNEL ADAPTE", domain.KindCollege},
		{"", "SECTION D'ENSEIGNEMENT PROFESSIONNEL", domain.KindLyceePro}, {"", "ECOLE DE NIVEAU ELEMENTAIRE", domain.KindEcole},
	} {
		if got := establishmentKind(tc.code, tc.label); got != tc.want {
			t.Errorf("code %q label %q: %s, want %s", tc.code, tc.label, got, tc.want)
		}
	}
}

// A full feed whose PersEducNat part 0000 did not come is refused rather
// than flagging its people missing; forced, it flags them and says so.
func TestFullFeedMissingAPartIsRefused(t *testing.T) {
	x := newHarness(t, nil)
	complete, partial := t.TempDir(), t.TempDir()
	pers := fullFixture(t, "PersEducNat")
	for _, dir := range []string{complete, partial} {
		for _, cat := range []string{"EtabEducNat", "Eleve", "PersRelEleve"} {
			name := "ENT_Complet_20240902_" + cat + "_0000.xml"
			copyFile(t, "testdata/aaf/full/"+name, filepath.Join(dir, name))
		}
		writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_PersEducNat_0001.xml"), pers.with("P001", "P002"))
	}
	writeFile(t, filepath.Join(complete, "ENT_Complet_20240902_PersEducNat_0000.xml"), pers.with("T001", "T002"))
	rep, _ := x.MustImport(x.sources(FormatAAF, "", complete), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{RegisterEstablishment: 2, RecordFeedKey: 2, OpenAccount: 15, CreateGroup: 4, JoinGroup: 11, LinkRelative: 7})

	opts := DefaultOptions()
	opts.Grace = 0 // what would have closed the teachers at once
	rep = x.mustRefuse(x.sources(FormatAAF, "", partial), opts)
	want := "the full feed's PersEducNat files are incomplete: part 0000 missing (present: 0001); " +
		"everyone in the missing part would be flagged missing"
	if len(rep.Guards) != 1 || rep.Guards[0].Kind != GuardParts || rep.Guards[0].Message != want || rep.Refused != want ||
		!slices.Equal(rep.Guards[0].Missing, []int{0}) || rep.Guards[0].Category != CategoryEducNat {
		t.Fatalf("guards %+v", rep.Guards)
	}
	if rep.Mode != ModeFull || rep.Planned[FlagMissing] != 2 || rep.Planned[CloseAccount] != 2 {
		t.Fatalf("mode %s, planned %v", rep.Mode, rep.Planned)
	}
	if a := x.account("T001"); a.Missing || a.Closed {
		t.Fatalf("T001 after the refusal: %+v", a)
	}

	opts.Force, opts.Grace = true, DefaultGrace
	rep, recs := x.MustImport(x.sources(FormatAAF, "", partial), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{FlagMissing: 2})
	mustBeForced(t, x, rep, recs, "parts")
	if a := x.account("T002"); !a.Missing || a.Closed {
		t.Fatalf("T002 after the forced import: %+v", a)
	}
}

// Part numbers are read from the names the académies use.
func TestAAFFileNames(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     Mode
		category Category
		part     int
	}{
		{"ENT_Complet_20240902_Eleve_0000.xml", ModeFull, CategoryStudent, 0},
		{"ENT_0130001A_Delta_20240916_PersEducNat_0003.xml", ModeDelta, CategoryEducNat, 3},
		{"FULL_ACADEMIE_Complet_20130117_EtabEducNat_0001.xml", ModeFull, CategoryStructure, 1},
		{"ENT2D.20240902_Complet_PersRelEleve_0012.xml", ModeFull, CategoryRelative, 12},
		{"ENT_Complet_20240902_MatiereEducNat_0000.xml", ModeFull, "MatiereEducNat", 0},
		{"eleves.xml", ModeAuto, "", -1},
		{"export_eleves_0001.xml", ModeAuto, "", -1},
	} {
		f := aafFileInfo(tc.name)
		if f.mode != tc.mode || f.category != tc.category || f.part != tc.part {
			t.Errorf("%s: %+v", tc.name, f)
		}
	}
}

// A person listed in two parts is taken once, from the later part, and
// the report says so.
func TestPersonListedInTwoParts(t *testing.T) {
	x := newHarness(t, nil)
	dir := t.TempDir()
	eleve := fullFixture(t, "Eleve")
	for _, cat := range []string{"EtabEducNat", "PersRelEleve"} {
		name := "ENT_Complet_20240902_" + cat + "_0000.xml"
		copyFile(t, "testdata/aaf/full/"+name, filepath.Join(dir, name))
	}
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_Eleve_0000.xml"), eleve.with("E001", "E002", "E003"))
	again := strings.Replace(eleve.with("E003", "E004", "E005"), "<value>7501$6B</value>", "<value>7501$6A</value>", 1)
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_Eleve_0001.xml"), again)

	rep, _ := x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	if rep.Persons != 11 || rep.Applied[OpenAccount] != 11 {
		t.Fatalf("%d persons, applied %v", rep.Persons, rep.Applied)
	}
	want := Issue{Place: Place{File: "ENT_Complet_20240902_Eleve_0001.xml", Line: 4}, ID: "E003", Code: ReasonPersonTwice,
		Args:   []string{"ENT_Complet_20240902_Eleve_0000.xml:40"},
		Reason: "person listed twice (first at ENT_Complet_20240902_Eleve_0000.xml:40): the later record is used"}
	if len(rep.Skipped) != 1 || !reflect.DeepEqual(rep.Skipped[0], want) || rep.Skipped[0].Whole {
		t.Fatalf("skipped %+v", rep.Skipped)
	}
	checkStrings(t, "E003 groups", groupsOf(x.account("E003")), "6A/student")
	files := map[string]FileReport{}
	for _, f := range rep.Files {
		files[f.Name] = f
	}
	if f := files["ENT_Complet_20240902_Eleve_0000.xml"]; f.Persons != 2 || f.Created != 2 {
		t.Errorf("part 0000: %+v", f)
	}
	if f := files["ENT_Complet_20240902_Eleve_0001.xml"]; f.Persons != 3 || f.Created != 3 ||
		len(f.Reasons) != 1 || f.Reasons[0] != (ReasonCount{Code: ReasonPersonTwice, Summary: ReasonPersonTwice.Summary(), Count: 1}) {
		t.Errorf("part 0001: %+v", f)
	}
}

// A file of UTF-8 bytes that declares ISO-8859-15 would rename everyone:
// refused, saying where; forced, it is read as it declares. A file of
// Latin bytes that declares UTF-8 cannot be read at all, forced or not.
func TestAAFEncodingThatLies(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())

	dir := t.TempDir()
	copyFile(t, fullEtab, filepath.Join(dir, "ENT_Complet_20240902_EtabEducNat_0000.xml"))
	utf8Bytes := strings.Replace(readFile(t, "testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml"),
		`encoding="UTF-8"`, `encoding="ISO-8859-15"`, 1)
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_Eleve_0000.xml"), utf8Bytes)
	rep := x.mustRefuse(x.sources(FormatAAF, "", dir), DefaultOptions())
	want := `ENT_Complet_20240902_Eleve_0000.xml: it declares ISO-8859-15 but its bytes are UTF-8 ` +
		`(5 sequence(s), the first on line 13: "Léa" would read "LÃ©a"): its names would be garbled`
	if len(rep.Guards) != 1 || rep.Guards[0].Message != want || rep.Guards[0].Unforceable {
		t.Fatalf("guards %+v\nwant %s", rep.Guards, want)
	}
	m := rep.Guards[0].Encoding
	if m == nil || !m.UTF8 || m.Declared != "ISO-8859-15" || m.Line != 13 || m.Count != 5 {
		t.Fatalf("mismatch %+v", m)
	}
	if got := x.account("E003").DisplayName; got != "Inès CŒUR" {
		t.Fatalf("E003 renamed %q by a refused import", got)
	}

	opts := DefaultOptions()
	opts.Force = true
	rep, recs := x.MustImport(x.sources(FormatAAF, "", dir), opts)
	mustBeForced(t, x, rep, recs, "encoding")
	if got := x.account("E003").DisplayName; got != "InÃšs CÅ\uFFFDUR" {
		t.Fatalf("forced, E003 is %+q", got)
	}

	// Latin bytes under a UTF-8 declaration.
	latin, err := charmap.ISO8859_15.NewEncoder().String(readFile(t, "testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_Eleve_0000.xml"), latin)
	for _, force := range []bool{false, true} {
		opts.Force = force
		rep = x.mustRefuse(x.sources(FormatAAF, "", dir), opts)
		want = `ENT_Complet_20240902_Eleve_0000.xml: it declares UTF-8 but its bytes are not UTF-8 ` +
			"(first on line 13: \"L\uFFFDa\", which in ISO-8859-15 reads \"Léa\"): its names would be garbled; the file cannot be read"
		if len(rep.Guards) != 1 || !rep.Guards[0].Unforceable || rep.Guards[0].Message != want || rep.Refused != want {
			t.Fatalf("forced %v: guards %+v\nwant %s", force, rep.Guards, want)
		}
	}
}

// byteCheck sees sequences cut by the reads as whole.
func TestByteCheckAcrossReads(t *testing.T) {
	text := []byte("a\nb é\nc\xe9d\n€")
	for size := 1; size <= len(text); size++ {
		c := &byteCheck{r: &chunked{b: text, n: size}}
		buf := make([]byte, 64)
		var got []byte
		for {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		if !bytes.Equal(got, text) || c.multi != 2 || c.invalid != 1 || c.multiLine != 2 || c.invalidLine != 3 || c.line != 3 {
			t.Fatalf("reads of %d: multi %d (line %d), invalid %d (line %d), lines %d", size, c.multi, c.multiLine, c.invalid, c.invalidLine, c.line)
		}
	}
}

// chunked reads n bytes at a time.
type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[n:]
	return n, nil
}

// CSV files say nothing of their encoding: without --encoding a Latin-1
// file is refused (it is not UTF-8), with it the names are right; a UTF-8
// BOM says UTF-8, and contradicts a Latin encoding given.
func TestCSVEncodings(t *testing.T) {
	x := newHarness(t, nil)
	registerSchool(t, x)
	dir := t.TempDir()
	text := "id;uai;last_name;first_name;classes\nL01;0840003C;Bœuf;Zoé;CM1\nL02;0840003C;Garçon;Noël;CM1\n"
	latin, err := charmap.ISO8859_15.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "eleves.csv")
	writeFile(t, path, latin)
	src := func(encoding string) []Source {
		srcs, err := FileSources(FormatCSV, domain.ProfileStudent, encoding, path)
		if err != nil {
			t.Fatal(err)
		}
		return srcs
	}
	rep := x.mustRefuse(src(""), DefaultOptions())
	want := `eleves.csv: no encoding is given, so it is read as UTF-8, but its bytes are not UTF-8 ` +
		"(first on line 2: \"B\uFFFDuf\", which in ISO-8859-15 reads \"Bœuf\"): its names would be garbled"
	if len(rep.Guards) != 1 || rep.Guards[0].Kind != GuardEncoding || rep.Guards[0].Message != want {
		t.Fatalf("guards %+v\nwant %s", rep.Guards, want)
	}
	rep, _ = x.MustImport(src("ISO-8859-15"), DefaultOptions())
	if rep.Applied[OpenAccount] != 2 || x.account("L01").DisplayName != "Zoé Bœuf" || x.account("L02").DisplayName != "Noël Garçon" {
		t.Fatalf("applied %v, L01 %q", rep.Applied, x.account("L01").DisplayName)
	}

	// A BOM says UTF-8: read as such, the header's first column included.
	writeFile(t, path, "\ufeff"+strings.ReplaceAll(text, "L0", "B0"))
	rep, _ = x.MustImport(src(""), DefaultOptions())
	if rep.Applied[OpenAccount] != 2 || x.account("B01").DisplayName != "Zoé Bœuf" || rep.Files[0].Encoding != "UTF-8" {
		t.Fatalf("applied %v, files %+v", rep.Applied, rep.Files)
	}
	// Read as ISO-8859-15, its header's first column is not "id": the
	// file cannot be read, and the encoding says why.
	rep = x.mustRefuse(src("ISO-8859-15"), DefaultOptions())
	want = "eleves.csv: it declares ISO-8859-15 but its bytes are UTF-8 (5 sequence(s), the first on line 1: " +
		"\"\\ufeffid\" would read \"ï»¿id\"): its names would be garbled; the file cannot be read"
	if len(rep.Guards) != 1 || !rep.Guards[0].Unforceable || !rep.Guards[0].Encoding.UTF8 || rep.Guards[0].Message != want {
		t.Fatalf("BOM under ISO-8859-15: guards %+v", rep.Guards)
	}
}

// A full export whose every person is attached to a structure the import
// cannot place imports nobody: refused, each person's true reason given.
func TestFeedLeavingEveryoneOutIsRefused(t *testing.T) {
	x := newHarness(t, nil)
	dir := t.TempDir()
	// The EtabEducNat file lists 7501 with a malformed UAI: rejected.
	etab := strings.Replace(readFile(t, fullEtab), "<value>0130001A</value>", "<value>013001A</value>", 1)
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_EtabEducNat_0000.xml"), etab)
	var body strings.Builder
	for i := range 12 {
		s := "7501"
		if i >= 8 {
			s = "7599" // in no file at all
		}
		body.WriteString(genStudent(genID("N", i), s, s+"$6A"))
	}
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_Eleve_0000.xml"), aafHead("UTF-8")+body.String()+aafTail)

	rep := x.mustRefuse(x.sources(FormatAAF, "", dir), DefaultOptions())
	if !slices.Equal(guardKinds(rep), []GuardKind{GuardRejected, GuardSkipped}) {
		t.Fatalf("guards %+v", rep.Guards)
	}
	if g := rep.Guards[1]; g.Count != 12 || g.Of != 12 ||
		g.Message != "12 of the feed's 12 people would be left out (100.0 %, more than 5.0 %)" {
		t.Fatalf("skip guard %+v", g)
	}
	left := wholeSkips(rep)
	if len(left) != 12 || rep.Totals != (Outcomes{Skipped: 12}) {
		t.Fatalf("%d left out, totals %+v", len(left), rep.Totals)
	}
	rejected := "their attachment structure 7501 was rejected (ENT_Complet_20240902_EtabEducNat_0000.xml:4): nothing changed for this person"
	for i, is := range left {
		want := rejected
		if i >= 8 {
			want = "their attachment structure 7599 is in none of the import's EtabEducNat files, and no earlier import " +
				"recorded it (give the feed's EtabEducNat file): nothing changed for this person"
		}
		if is.Reason != want {
			t.Fatalf("%s: %q, want %q", is.ID, is.Reason, want)
		}
	}
	var text strings.Builder
	if err := rep.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  ENT_Complet_20240902_Eleve_0000.xml: aaf Eleve full, UTF-8, ",
		"    12 person(s): 0 created, 0 changed, 0 unchanged, 0 removed, 12 left out\n",
		"    8 left out: people whose establishment's record was rejected\n",
		"    4 left out: people whose establishment neither the import's EtabEducNat files nor an earlier import gives\n",
		"    1 rejected: malformed UAIs\n",
		"  skipped REFUSES: 12 of the feed's 12 people would be left out (100.0 %, more than 5.0 %)\n",
		"REFUSED, nothing written: ",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, text.String())
		}
	}
}

// Mass changes are refused above their share, from ten accounts on: a
// full feed that lost a fifth of a collège's students.
func TestMassChangesAreRefused(t *testing.T) {
	x := newHarness(t, nil)
	dir := t.TempDir()
	genFeed(t, dir, feedSize{establishments: 1, perEstablishment: 100})
	rep, _ := x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	if rep.Applied[OpenAccount] != 100 {
		t.Fatalf("applied %v", rep.Applied)
	}
	eleve := filepath.Join(dir, "ENT_Complet_20240902_Eleve_0000.xml")
	f := splitAAF(t, readFile(t, eleve))
	var keep []string
	for i := 20; i < 45; i++ {
		keep = append(keep, genID("S", i))
	}
	writeFile(t, eleve, f.with(keep...))

	x.now = x.now.Add(24 * time.Hour)
	rep = x.mustRefuse(x.sources(FormatAAF, "", dir), DefaultOptions())
	want := []string{
		"the Eleve files would change 20 of 45 existing accounts (44.4 %, more than 10.0 %): 0 renamed, 20 flagged missing, 0 closed",
		"the import would change 20 of 100 existing accounts (20.0 %, more than 10.0 %): 0 renamed, 20 flagged missing, 0 closed",
	}
	if len(rep.Guards) != 2 || rep.Guards[0].Message != want[0] || rep.Guards[1].Message != want[1] || rep.Guards[0].Flagged != 20 {
		t.Fatalf("guards %+v", rep.Guards)
	}
	if rep.Refused != want[0]+"; "+want[1] {
		t.Fatalf("refused %q", rep.Refused)
	}

	// A higher share lets it through; so does forcing, which is recorded.
	opts := DefaultOptions()
	opts.Force = true
	rep, recs := x.MustImport(x.sources(FormatAAF, "", dir), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{FlagMissing: 20})
	mustBeForced(t, x, rep, recs, "changes")
	if rep.Events != 21 {
		t.Fatalf("%d events, want the forcing and 20 flags", rep.Events)
	}
}

// The rejected share counts per file: a part file whose every record is
// malformed refuses the feed though the whole import is under 5 %.
func TestRejectedSharePerFile(t *testing.T) {
	x := newHarness(t, nil)
	dir := t.TempDir()
	copyFile(t, fullEtab, filepath.Join(dir, "ENT_Complet_20240902_EtabEducNat_0000.xml"))
	var good, bad strings.Builder
	for i := range 300 {
		good.WriteString(genStudent(genID("G", i), "7501", "7501$6A"))
	}
	for i := range 12 {
		bad.WriteString(genStudent(genID("B", i), "7501", "6A")) // no structure: malformed
	}
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_Eleve_0000.xml"), aafHead("UTF-8")+good.String()+aafTail)
	writeFile(t, filepath.Join(dir, "ENT_Complet_20240902_Eleve_0001.xml"), aafHead("UTF-8")+bad.String()+aafTail)
	rep := x.mustRefuse(x.sources(FormatAAF, "", dir), DefaultOptions())
	want := "ENT_Complet_20240902_Eleve_0001.xml: 12 of its 12 records rejected (100.0 %, more than 5.0 %)"
	if len(rep.Guards) != 1 || rep.Guards[0].Message != want || len(rep.Rejected) != 12 || rep.Records != 314 {
		t.Fatalf("guards %+v, %d rejected of %d", rep.Guards, len(rep.Rejected), rep.Records)
	}
}

// A delta that moves a child takes along the relatives it does not place:
// one whose other child stays keeps their establishment, one with no
// child left there follows.
func TestRelativesFollowTheirChildren(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/kinds"), DefaultOptions())
	if got := []string{x.account("Q002").Establishment, x.account("Q003").Establishment}; !slices.Equal(got, []string{"0131003C", "0131006F"}) {
		t.Fatalf("relatives before: %v", got)
	}
	move := func(name string, moves ...[3]string) string {
		dir := t.TempDir()
		copyFile(t, "testdata/aaf/kinds/ENT_Complet_20240902_EtabEducNat_0000.xml", filepath.Join(dir, "ENT_Complet_20240902_EtabEducNat_0000.xml"))
		var b strings.Builder
		b.WriteString(aafHead("UTF-8"))
		for _, m := range moves {
			fmt.Fprintf(&b, `    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
        <identifier><id>%s</id></identifier>
        <modifications>
            <modification name="ENTPersonStructRattach" operation="replace"><value>%s</value></modification>
            <modification name="ENTEleveClasses" operation="replace"><value>%s$%s</value></modification>
        </modifications>
    </modifyRequest>
`, m[0], m[1], m[1], m[2])
		}
		b.WriteString(aafTail)
		writeFile(t, filepath.Join(dir, name), b.String())
		return dir
	}
	// K002 (Q002's only child) leaves the EREA for the LP; K004 leaves the
	// collège for the LP, while Q003's other child stays at the SEGPA.
	rep, _ := x.MustImport(x.sources(FormatAAF, "", move("ENT_Delta_20241104_Eleve_0000.xml",
		[3]string{"K002", "8102", "1MELEC"}, [3]string{"K004", "8102", "1MELEC"})), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{UpdateAccount: 3, LeaveGroup: 2, JoinGroup: 2})
	if got := []string{x.account("K002").Establishment, x.account("Q002").Establishment, x.account("Q003").Establishment}; !slices.Equal(got, []string{"0131002B", "0131002B", "0131006F"}) {
		t.Fatalf("after the first delta: %v", got)
	}
	// K003 leaves the SEGPA for the collège: Q003 has no child left there
	// and follows the first of their children's establishments.
	rep, _ = x.MustImport(x.sources(FormatAAF, "", move("ENT_Delta_20241105_Eleve_0000.xml",
		[3]string{"K003", "8101", "3A"})), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{UpdateAccount: 2, LeaveGroup: 1, JoinGroup: 1})
	if got := x.account("Q003").Establishment; got != "0131001A" {
		t.Fatalf("Q003 after the second delta: %s", got)
	}
	checkStrings(t, "Q003's children", relativesOf(x, "Q003"), "K003", "K004")
}

// relativesOf lists the students linked to a relative.
func relativesOf(x *harness, relative string) []string {
	var out []string
	for a := range x.dir().Accounts() {
		for _, r := range a.Relatives {
			if r.ExternalID == relative {
				out = append(out, a.ExternalID)
			}
		}
	}
	slices.Sort(out)
	return out
}

// The report, as JSON, carries each file's outcomes and reasons, every
// issue's code and words, and the guards. Here the zone's teacher teaches a
// class of the collège without a function there: the class is set aside.
func TestReportJSON(t *testing.T) {
	x := newHarness(t, nil)
	dir := t.TempDir()
	for _, cat := range []string{"EtabEducNat", "Eleve", "PersRelEleve", "PersEducNat"} {
		name := "ENT_Complet_20240902_" + cat + "_0000.xml"
		writeFile(t, filepath.Join(dir, name), strings.Replace(readFile(t, "testdata/aaf/kinds/"+name),
			"8101$ENS$ENSEIGNEMENT$L0422$ANGLAIS", "8104$ENS$ENSEIGNEMENT$L0422$ANGLAIS", 1))
	}
	rep, _ := x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"name":"ENT_Complet_20240902_EtabEducNat_0000.xml","format":"aaf","category":"EtabEducNat","mode":"full","encoding":"ISO-8859-15"`,
		`"establishments":7,"created":7,"changed":0,"unchanged":0,"skipped":0`,
		`"persons":4,"created":4,"changed":0,"unchanged":0,"skipped":0,"reasons":[{"code":"group-other-establishment","summary":"classes and groups of an establishment that is not the person's","count":1}]`,
		`"code":"group-other-establishment","args":["3A","0131001A","0131004D","0131001A"],"reason":"class or group 3A of 0131001A: the account belongs to 0131004D, and the feed does not give it 0131001A as another establishment"`,
		`"totals":{"created":11,"changed":0,"unchanged":0,"skipped":0}`,
		`"max_skipped":0.05,"max_changes":0.1,"guard_min":10`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the JSON report lacks %s:\n%s", want, b)
		}
	}
}

// Every reason has its words, and says whether it leaves a person out.
func TestReasonTexts(t *testing.T) {
	for _, c := range ReasonCodes() {
		rt := reasonTexts[c]
		if rt.Detail == "" || rt.Summary == "" {
			t.Errorf("%s has no words", c)
		}
	}
	if is := newIssue(Place{File: "f", Line: 1}, "X", ReasonBadValue, "ENTEleveClasses", "6A", "STRUCTURE$NAME"); is.Reason != `ENTEleveClasses value "6A" is not STRUCTURE$NAME` {
		t.Errorf("issue %+v", is)
	}
}

// People reported as left out are not updated: a full Eleve file whose
// structure ids neither the import nor an earlier one knows, forced
// through, renames nobody, moves nobody and flags nobody missing.
func TestPeopleLeftOutAreNotUpdated(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	before := x.account("E001")
	dir := t.TempDir()
	renamed := strings.Replace(readFile(t, "testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml"),
		`<attr name="sn"><value>MARTIN</value></attr>`, `<attr name="sn"><value>MARTIN-DURAND</value></attr>`, 1)
	renamed = strings.NewReplacer(">7501<", ">7599<", ">7501$", ">7599$", ">7502<", ">7598<", ">7502$", ">7598$").Replace(renamed)
	writeFile(t, filepath.Join(dir, "ENT_Complet_20241001_Eleve_0000.xml"), renamed) // no EtabEducNat file

	opts := DefaultOptions()
	opts.Force = true
	rep, recs := x.MustImport(x.sources(FormatAAF, "", dir), opts)
	mustBeForced(t, x, rep, recs, "skipped")
	if len(recs) != 1 || rep.Totals != (Outcomes{Skipped: 5}) || len(wholeSkips(rep)) != 5 {
		t.Fatalf("%d events, totals %+v, skipped %v", len(recs), rep.Totals, rep.Skipped)
	}
	after := x.account("E001")
	if after.DisplayName != before.DisplayName || after.Missing || !slices.Equal(groupsOf(after), groupsOf(before)) {
		t.Fatalf("E001 left out, yet changed: %+v, was %+v", after, before)
	}
}
