package directoryimport

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// The AAF scenario: a full feed at the start of the school year, then a
// delta with students moving class, a relative unlinked, a student leaving
// and a teacher gaining a class; every second run appends nothing; the
// student who left is closed once the grace period is over.
func TestAAFFullThenDelta(t *testing.T) {
	x := newHarness(t, nil)
	opts := DefaultOptions()
	full := x.sources(FormatAAF, "", "aaf/full")

	rep, recs := x.MustImport(full, opts)
	if rep.Mode != ModeFull {
		t.Fatalf("mode %s, want full (ENT_Complet_ file names)", rep.Mode)
	}
	wantCounts(t, rep.Applied, map[ChangeKind]int{
		RegisterEstablishment: 2, RecordFeedKey: 2, OpenAccount: 15, CreateGroup: 4, JoinGroup: 11, LinkRelative: 7,
	})
	if len(rep.Rejected)+len(rep.Skipped) != 0 {
		t.Fatalf("rejected %v, skipped %v", rep.Rejected, rep.Skipped)
	}
	// One import, one correlation id, the system as actor, the command
	// names in the metadata: the audit shows the import.
	for _, r := range recs {
		md := r.Metadata
		if md.CorrelationID != rep.CorrelationID || md.Profile != domain.ProfileSystem || md.Actor != uuid.Nil {
			t.Fatalf("%s@%d: metadata %+v, want the system under correlation %s", r.Stream, r.Version, md, rep.CorrelationID)
		}
		if md.Command == "" {
			t.Fatalf("%s@%d: no command in the metadata", r.Stream, r.Version)
		}
	}
	for _, f := range rep.Files {
		if strings.Contains(f.Name, "EtabEducNat") && f.Encoding != "ISO-8859-15" {
			t.Errorf("%s: encoding %q, want the declared ISO-8859-15", f.Name, f.Encoding)
		}
	}

	// What the directory now says.
	est := registeredEstablishment(t, x, "0130001A")
	if est.Name != "CLG-FRÉDÉRIC MISTRAL MARSEILLE" || est.Kind != domain.KindCollege || est.Departement != "13" {
		t.Errorf("establishment: %+v", est)
	}
	if got := x.account("E003").DisplayName; got != "Inès CŒUR" {
		t.Errorf("E003 display name %q", got)
	}
	e001 := x.account("E001")
	if e001.ID != AccountID("E001") || e001.Profile != domain.ProfileStudent || e001.Establishment != "0130001A" {
		t.Errorf("E001: %+v", e001)
	}
	checkStrings(t, "E001 groups", groupsOf(e001), "6A/student", "LATIN/student")
	checkStrings(t, "E001 relatives", relatives(e001), "R001*", "R002*")
	// ENTEleveStructRattachId: the id ÉduConnect's FrEduVecteur names her by.
	if e001.Details.StudentID != "31541" {
		t.Errorf("E001 student id %q, want ENTEleveStructRattachId 31541", e001.Details.StudentID)
	}
	if d := x.account("T001").Details; d.StudentID != "" {
		t.Errorf("a teacher with a student id: %+v", d)
	}
	checkStrings(t, "E003 relatives", relatives(x.account("E003")), "R003*", "R004")
	checkStrings(t, "T001 groups", groupsOf(x.account("T001")),
		"6A/head_teacher", "6A/teacher/FRANCAIS", "6B/teacher/FRANCAIS", "LATIN/teacher/LATIN")
	if a := x.account("T001"); a.Profile != domain.ProfileTeacher || a.Function != "" {
		t.Errorf("T001: %s %q", a.Profile, a.Function)
	}
	if a := x.account("P001"); a.Profile != domain.ProfilePersonnel || a.Function != domain.FunctionHead {
		t.Errorf("P001: %s %q", a.Profile, a.Function)
	}
	if a := x.account("P002"); a.Profile != domain.ProfilePersonnel || a.Function != domain.FunctionCPE {
		t.Errorf("P002: %s %q", a.Profile, a.Function)
	}
	if a := x.account("R006"); a.Establishment != "0130002B" {
		t.Errorf("R006 (a parent of a lycée student) is in %q", a.Establishment)
	}

	x.MustNotChange(full, opts)

	// The delta, a fortnight later.
	x.now = x.now.Add(14 * 24 * time.Hour)
	delta := x.sources(FormatAAF, "", "aaf/delta")
	rep, _ = x.MustImport(delta, opts)
	if rep.Mode != ModeDelta {
		t.Fatalf("mode %s, want delta", rep.Mode)
	}
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 1, LeaveGroup: 2, JoinGroup: 4, UnlinkRelative: 1, LinkRelative: 1, FlagMissing: 1})
	if len(rep.Skipped) != 0 {
		t.Fatalf("skipped %v: the structure id 7501 should be learnt from the known students", rep.Skipped)
	}
	checkStrings(t, "E006 (arrived)", groupsOf(x.account("E006")), "6A/student")
	checkStrings(t, "E001 groups", groupsOf(x.account("E001")), "6B/student", "LATIN/student")
	checkStrings(t, "E002 groups", groupsOf(x.account("E002")), "6B/student")
	checkStrings(t, "E003 relatives", relatives(x.account("E003")), "R003*")
	checkStrings(t, "T002 groups", groupsOf(x.account("T002")), "6A/teacher/MATHEMATIQUES", "6B/teacher/MATHEMATIQUES")
	e004 := x.account("E004")
	if !e004.Missing || e004.Closed || !e004.MissingSince.Equal(x.now) {
		t.Fatalf("E004 after its deleteRequest: missing %v since %s, closed %v", e004.Missing, e004.MissingSince, e004.Closed)
	}
	x.MustNotChange(delta, opts)

	// Within the grace period nothing more happens; after it, the student
	// who left is closed and leaves their class.
	x.now = x.now.Add(29 * 24 * time.Hour)
	x.MustNotChange(delta, opts)
	x.now = x.now.Add(2 * 24 * time.Hour)
	rep, recs = x.MustImport(delta, opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{LeaveGroup: 1, CloseAccount: 1})
	if e004 := x.account("E004"); !e004.Closed || len(e004.Memberships) != 0 {
		t.Fatalf("E004 after the grace period: %+v", e004)
	}
	closed := decode(t, x, recs[len(recs)-1])
	if c, ok := closed.(domain.AccountClosed); !ok || !strings.Contains(c.Reason, "missing from the directory feed since 2024-09-16") {
		t.Fatalf("last event %#v", closed)
	}
	if recs[len(recs)-1].Metadata.Command != commands.CmdCloseMissingFromFeed {
		t.Fatalf("closed by %s", recs[len(recs)-1].Metadata.Command)
	}
	x.MustNotChange(delta, opts)
}

// A person missing from a full feed is flagged, not closed, and unflagged
// when a feed lists them again; a full feed of students flags no teacher.
func TestAAFMissingFromFullFeedThenBack(t *testing.T) {
	x := newHarness(t, nil)
	opts := DefaultOptions()
	x.MustImport(x.sources(FormatAAF, "", "aaf/full"), opts)

	dir := t.TempDir()
	eleve := readFile(t, "testdata/aaf/full/ENT_Complet_20240902_Eleve_0000.xml")
	start := strings.Index(eleve, "<identifier><id>E003</id>")
	begin := strings.LastIndex(eleve[:start], "<addRequest>")
	end := strings.Index(eleve[start:], "</addRequest>") + start + len("</addRequest>")
	writeFile(t, filepath.Join(dir, "ENT_Complet_20241001_Eleve_0000.xml"), eleve[:begin]+eleve[end:])
	copyFile(t, "testdata/aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml", filepath.Join(dir, "ENT_Complet_20241001_EtabEducNat_0000.xml"))

	x.now = x.now.Add(30 * 24 * time.Hour)
	rep, _ := x.MustImport(x.sources(FormatAAF, "", dir), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{FlagMissing: 1})
	if a := x.account("E003"); !a.Missing || a.Closed {
		t.Fatalf("E003: %+v", a)
	}
	x.MustNotChange(x.sources(FormatAAF, "", dir), opts)

	x.now = x.now.Add(3 * 24 * time.Hour)
	rep, _ = x.MustImport(x.sources(FormatAAF, "", "aaf/full"), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{MarkBackInFeed: 1})
	if a := x.account("E003"); a.Missing || a.Closed {
		t.Fatalf("E003 back in the feed: %+v", a)
	}
	x.now = x.now.Add(60 * 24 * time.Hour)
	x.MustNotChange(x.sources(FormatAAF, "", "aaf/full"), opts)
}

func TestAAFDryRunWritesNothing(t *testing.T) {
	x := newHarness(t, nil)
	opts := DefaultOptions()
	opts.DryRun = true
	rep, recs, err := x.run(x.sources(FormatAAF, "", "aaf/full"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 || rep.Events != 0 {
		t.Fatalf("a dry run appended %d events", len(recs))
	}
	wantCounts(t, rep.Planned, map[ChangeKind]int{
		RegisterEstablishment: 2, RecordFeedKey: 2, OpenAccount: 15, CreateGroup: 4, JoinGroup: 11, LinkRelative: 7,
	})
	if len(rep.Changes) != 41 {
		t.Fatalf("dry run lists %d changes, want 41", len(rep.Changes))
	}
	var out strings.Builder
	if err := rep.WriteText(&out, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"account.open E003 0130001A student \"Inès CŒUR\"", "dry run, nothing written", "relative.link student E003 relative R004 (family) (contact)\n", "relative.link student E001 relative R002 (father) (legal guardian 2)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry-run report lacks %q:\n%s", want, out.String())
		}
	}
	// The real import then plans the same.
	real := DefaultOptions()
	rep2, _ := x.MustImport(x.sources(FormatAAF, "", "aaf/full"), real)
	if !reflect.DeepEqual(rep.Planned, rep2.Planned) {
		t.Fatalf("dry run planned %v, the import %v", rep.Planned, rep2.Planned)
	}
}

// A feed with a few malformed records: they are rejected with their place
// and reason, the rest is imported.
func TestAAFMalformedRecordsRejectedRestProceeds(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml"), DefaultOptions())

	var body strings.Builder
	for i := range 40 {
		body.WriteString(genStudent(genID("N", i), "7501", "7501$6A"))
	}
	body.WriteString(genStudent("BAD1", "7501", "6A"))
	dir := t.TempDir()
	path := filepath.Join(dir, "ENT_Delta_20240910_Eleve_0000.xml")
	file := aafHead("UTF-8") + body.String() + aafTail
	writeFile(t, path, file)

	// A delta of new persons comes with the feed's EtabEducNat file: its
	// structure ids are those of the compound values.
	rep, _ := x.MustImport(x.sources(FormatAAF, "", "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml", path), DefaultOptions())
	if len(rep.Rejected) != 1 {
		t.Fatalf("rejected %v", rep.Rejected)
	}
	r := rep.Rejected[0]
	wantLine := lineOf(t, file, "<id>BAD1</id>") - 2 // the record's <addRequest> line
	if r.File != filepath.Base(path) || r.ID != "BAD1" || r.Line != wantLine || !strings.Contains(r.Reason, `ENTEleveClasses value "6A" is not STRUCTURE$NAME`) {
		t.Fatalf("rejection %+v, want %s line %d", r, filepath.Base(path), wantLine)
	}
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 40, JoinGroup: 40})
}

// Above the threshold the whole feed is refused and nothing changes.
func TestAAFTooManyRejectedRefusesTheFeed(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	refused := x.sources(FormatAAF, "", "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml", "aaf/refused")
	rep, recs, err := x.run(refused, DefaultOptions())
	if !errors.Is(err, ErrRefused) || !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("error %v, want a refusal", err)
	}
	if len(recs) != 0 {
		t.Fatalf("a refused feed appended %d events", len(recs))
	}
	if len(rep.Rejected) != 2 || rep.Refused == "" || rep.Records != 5 {
		t.Fatalf("report: refused %q, %d records, rejected %v", rep.Refused, rep.Records, rep.Rejected)
	}
	reasons := rep.Rejected[0].Reason + " / " + rep.Rejected[1].Reason
	if !strings.Contains(reasons, "not STRUCTURE$NAME") || !strings.Contains(reasons, "no name") {
		t.Fatalf("reasons: %s", reasons)
	}
	// A higher threshold lets it through.
	opts := DefaultOptions()
	opts.MaxRejected = 0.7
	rep, _ = x.MustImport(refused, opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 1, JoinGroup: 1})
}

// A truncated file changes nothing, even next to good files: every file is
// read before anything is written.
func TestAAFTruncatedFileChangesNothing(t *testing.T) {
	x := newHarness(t, nil)
	srcs := x.sources(FormatAAF, "", "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml",
		"aaf/full/ENT_Complet_20240902_PersRelEleve_0000.xml", "aaf/truncated/ENT_Complet_20240902_Eleve_0000.xml")
	rep, recs, err := x.run(srcs, DefaultOptions())
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("error %v, want a refusal", err)
	}
	if len(recs) != 0 {
		t.Fatalf("appended %d events", len(recs))
	}
	if !strings.Contains(err.Error(), "ENT_Complet_20240902_Eleve_0000.xml line ") || !strings.Contains(rep.Refused, "truncated") {
		t.Fatalf("error %q, refused %q", err, rep.Refused)
	}
	// The refusal says what the feed was: full files, not a delta.
	var text strings.Builder
	if err := rep.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	if rep.Mode != ModeFull || !strings.HasPrefix(rep.Feed, "full feed: ") || !strings.Contains(text.String(), ": full feed, 3 file(s)") {
		t.Fatalf("mode %q, feed %q:\n%s", rep.Mode, rep.Feed, text.String())
	}
}

func TestAAFNotWellFormedOrNotAAF(t *testing.T) {
	cases := map[string]string{
		"garbled":   aafHead("UTF-8") + "<addRequest><identifier><id>1</id></identifier></addRequest></wrong>",
		"not AAF":   `<?xml version="1.0"?><html><body/></html>`,
		"empty":     "",
		"bad chars": aafHead("KOI8-R") + aafTail,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			x := newHarness(t, nil)
			path := filepath.Join(t.TempDir(), "ENT_Complet_20240902_Eleve_0000.xml")
			writeFile(t, path, body)
			_, recs, err := x.run(x.sources(FormatAAF, "", path), DefaultOptions())
			if !errors.Is(err, ErrRefused) || len(recs) != 0 {
				t.Fatalf("error %v, %d events", err, len(recs))
			}
		})
	}
}

// A crashed import re-run finishes the job without doubling anything, and
// a retry of the same plan from the same state records nothing twice.
func TestAAFCrashedImportRerun(t *testing.T) {
	clean := newHarness(t, nil)
	rep, _ := clean.MustImport(clean.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	want := rep.Events

	s := &failingStore{store: memory.New(), failAfter: 20}
	x := newHarness(t, s)
	_, _, err := x.run(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v, want the store's", err)
	}
	if got := len(mustReadAll(t, x)); got != 20 {
		t.Fatalf("%d events before the crash, want 20", got)
	}
	s.failAfter = -1
	x.MustImport(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	if got := len(mustReadAll(t, x)); got != want {
		t.Fatalf("after the re-run the log has %d events, a clean import %d", got, want)
	}
	x.MustNotChange(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())

	// The same plan applied twice from the same state: the second run is
	// replayed by the idempotency keys.
	y := newHarness(t, nil)
	b := newBuilder()
	for _, src := range y.sources(FormatAAF, "", "aaf/full") {
		fr := FileReport{}
		rc, _ := src.Open()
		if err := b.parseAAF(y.ctx, src.Name, rc, &fr); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	feed := b.build(ModeFull)
	before := y.dir()
	plan := diff(feed, before, y.now, DefaultGrace)
	ap := &applier{h: y.h, asOf: before.AsOf(), corr: uuid.New(), grace: DefaultGrace, workers: 4}
	first := &Report{Applied: map[ChangeKind]int{}}
	if err := ap.apply(y.ctx, plan, first); err != nil || len(first.Failed) > 0 {
		t.Fatal(err, first.Failed)
	}
	again := &Report{Applied: map[ChangeKind]int{}}
	plan = diff(feed, y.dir(), y.now, DefaultGrace)
	if plan.Len() != 0 {
		t.Fatalf("after the first run the diff plans %d changes", plan.Len())
	}
	plan = diff(feed, before, y.now, DefaultGrace) // the state the first run was planned from
	if err := ap.apply(y.ctx, plan, again); err != nil || len(again.Failed) > 0 {
		t.Fatal(err, again.Failed)
	}
	if first.Events != want || again.Events != 0 {
		t.Fatalf("first run %d events, retry %d, want %d then 0", first.Events, again.Events, want)
	}
}

// The shared samples of the real format, when present. Their student is
// attached (ENTPersonStructRattach) to structure 1000, which no file
// lists: the import is refused with that reason rather than reporting
// the student's ENTEleveStructRattachId, their id in the school's own
// software, as a structure; forced, it registers the école and leaves the
// student out.
func TestAAFSharedSamples(t *testing.T) {
	const dir = "../../../shared/fixtures/aaf"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared AAF samples absent (%v)", err)
	}
	x := newHarness(t, nil)
	abs, _ := filepath.Abs(dir)
	rep, recs, err := x.run(x.sources(FormatAAF, "", abs), DefaultOptions())
	if !errors.Is(err, ErrRefused) || len(recs) != 0 {
		t.Fatalf("error %v, %d events", err, len(recs))
	}
	if len(rep.Guards) != 1 || rep.Guards[0].Kind != GuardSkipped || rep.Guards[0].Count != 1 || rep.Guards[0].Of != 1 {
		t.Fatalf("guards %+v", rep.Guards)
	}
	left := wholeSkips(rep)
	if len(left) != 1 || left[0].ID != "2000000" || left[0].Code != ReasonUnknownStructure || !strings.Contains(left[0].Reason, "structure 1000 is in none") {
		t.Fatalf("left out %+v", left)
	}

	opts := DefaultOptions()
	opts.Force = true
	rep, _ = x.MustImport(x.sources(FormatAAF, "", abs), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{RegisterEstablishment: 1, RecordFeedKey: 1})
	est := registeredEstablishment(t, x, "0000000V")
	if est.Name != "NOM STRUCTURE COURANT" || est.Kind != domain.KindEcole || est.Type != "ECOLE" {
		t.Errorf("establishment %+v", est)
	}
	if _, ok := x.dir().Account("2000000"); ok {
		t.Error("the student left out has an account")
	}
	for _, f := range rep.Files {
		if f.Category == CategoryStructure && f.Encoding != "ISO-8859-15" {
			t.Errorf("%s read as %s", f.Name, f.Encoding)
		}
	}
}

func TestEducNatProfile(t *testing.T) {
	cases := []struct {
		name      string
		functions []string
		teacher   bool
		profile   domain.Profile
		function  domain.Function
	}{
		{"teacher", []string{"1$ENS$ENSEIGNEMENT$L1300$MATHS"}, false, domain.ProfileTeacher, ""},
		{"documentalist", []string{"1$DOC$DOCUMENTATION$-$-"}, false, domain.ProfileTeacher, ""},
		{"head", []string{"1$DIR$DIRECTION$D0010$CHEF D'ETABLISSEMENT"}, false, domain.ProfilePersonnel, domain.FunctionHead},
		{"deputy", []string{"1$DIR$DIRECTION$D0020$ADJOINT"}, false, domain.ProfilePersonnel, domain.FunctionDeputy},
		{"head who teaches", []string{"1$ENS$ENSEIGNEMENT$-$-", "1$DIR$DIRECTION$-$-"}, false, domain.ProfilePersonnel, domain.FunctionHead},
		// The word ADJOINT says nothing: the discipline code does.
		{"head whose label says adjoint", []string{"1$DIR$DIRECTION$D0010$ADJOINT AU CHEF"}, false, domain.ProfilePersonnel, domain.FunctionHead},
		{"cpe", []string{"1$EDU$EDUCATION$-$CPE"}, false, domain.ProfilePersonnel, domain.FunctionCPE},
		{"secretary", []string{"1$ADF$ADMINISTRATION$-$-"}, false, domain.ProfilePersonnel, domain.FunctionSecretary},
		{"assistant d'éducation", []string{"1$AED$ASSISTANT D'EDUCATION$-$-"}, false, domain.ProfilePersonnel, domain.FunctionEducationAssistant},
		{"surveillant", []string{"1$SUR$SURVEILLANCE$-$-"}, false, domain.ProfilePersonnel, domain.FunctionEducationAssistant},
		{"teacher with a minor function", []string{"1$ENS$ENSEIGNEMENT$-$-", "1$ORI$ORIENTATION$-$-"}, false, domain.ProfileTeacher, ""},
		{"teacher by flag", nil, true, domain.ProfileTeacher, ""},
		{"nothing said", nil, false, domain.ProfilePersonnel, domain.FunctionOther},
		{"unknown code", []string{"1$XYZ$ODD$-$-"}, false, domain.ProfilePersonnel, domain.FunctionOther},
		{"home function wins", []string{"2$EDU$EDUCATION$-$-", "1$ADF$ADMINISTRATION$-$-"}, false, domain.ProfilePersonnel, domain.FunctionSecretary},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			posts, err := aafPosts(tc.functions, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, f := educNatProfile(posts, "1", tc.teacher)
			if p != tc.profile || f != tc.function {
				t.Fatalf("got %s %q, want %s %q", p, f, tc.profile, tc.function)
			}
		})
	}
	if _, err := aafPosts([]string{"ENS"}, nil); err == nil {
		t.Fatal("a function without fields was accepted")
	}
	// A first-degree teacher directing their école (ENTEnsFonctionDir).
	posts, err := aafPosts([]string{"1$ENS$ENSEIGNEMENT$-$-"}, []string{"1"})
	if err != nil {
		t.Fatal(err)
	}
	if p, f := educNatProfile(posts, "1", true); p != domain.ProfilePersonnel || f != domain.FunctionHead {
		t.Fatalf("directeur d'école: %s %q", p, f)
	}
}

// Groups made by hand keep their members; the feed owns the groups it names
// or an import created.
func TestHandMadeGroupsKeepTheirMembers(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	sys := commands.Request{System: true}
	soutien := uuid.New()
	if _, err := x.h.CreateGroup(x.ctx, sys, domain.CreateGroup{Group: soutien, Establishment: "0130001A", Kind: domain.GroupTeaching, Name: "SOUTIEN"}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.h.JoinGroup(x.ctx, sys, domain.JoinGroup{Group: soutien, Account: AccountID("E002"), Role: domain.RoleStudent}); err != nil {
		t.Fatal(err)
	}
	x.MustNotChange(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	checkStrings(t, "E002 groups", groupsOf(x.account("E002")), "6A/student", "SOUTIEN/student")
}

// Records the directory cannot take are skipped with their reason and
// change nothing: a profile change, a closed account listed again.
func TestFeedContradictingTheDirectory(t *testing.T) {
	x := newHarness(t, nil)
	opts := DefaultOptions()
	opts.Grace = 0
	x.MustImport(x.sources(FormatAAF, "", "aaf/full"), opts)
	rep, _ := x.MustImport(x.sources(FormatAAF, "", "aaf/delta"), opts) // E004 deleted: closed at once
	if rep.Applied[CloseAccount] != 1 || !x.account("E004").Closed {
		t.Fatalf("grace 0: %v", rep.Applied)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ENT_Delta_20241001_PersEducNat_0000.xml"), aafHead("UTF-8")+`    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
        <identifier><id>T001</id></identifier>
        <modifications>
            <modification name="ENTPersonFonctions" operation="replace"><value>7501$DIR$DIRECTION$D0010$CHEF</value></modification>
            <modification name="ENTAuxEnsClassesMatieres" operation="replace"><value/></modification>
        </modifications>
    </modifyRequest>
`+aafTail)
	before := groupsOf(x.account("T001"))
	// The delta's one person is left out: the import is refused, saying
	// why.
	rep, recs, err := x.run(x.sources(FormatAAF, "", dir), DefaultOptions())
	if !errors.Is(err, ErrRefused) || len(recs) != 0 {
		t.Fatalf("error %v, %d events", err, len(recs))
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Code != ReasonProfileChange || !rep.Skipped[0].Whole ||
		!strings.Contains(rep.Skipped[0].Reason, "makes a personnel of a teacher account") {
		t.Fatalf("skipped %v", rep.Skipped)
	}
	checkStrings(t, "T001 groups", groupsOf(x.account("T001")), before...)

	// The first full feed, imported again, lists E004, now closed (and
	// undoes the delta's other changes).
	rep, _ = x.MustImport(x.sources(FormatAAF, "", "aaf/full"), DefaultOptions())
	if len(rep.Skipped) != 1 || rep.Skipped[0].ID != "E004" || !strings.Contains(rep.Skipped[0].Reason, "does not reopen") {
		t.Fatalf("skipped %v", rep.Skipped)
	}
	if a := x.account("E004"); !a.Closed || len(a.Memberships) != 0 {
		t.Fatalf("E004: %+v", a)
	}
}
