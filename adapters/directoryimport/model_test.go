package directoryimport

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// readModel projects the log into directory.v1 and returns its queries.
func (x *harness) readModel() *projections.Queries {
	x.t.Helper()
	log, ok := x.store.(projections.Log)
	if !ok {
		x.t.Fatalf("%T is no projections.Log", x.store)
	}
	docs := projections.NewMemoryDocs()
	red := projections.NewDirectory()
	run, err := projector.NewRunner(projector.RunnerConfig{Log: log, Docs: docs, Gens: docs, Registry: x.reg,
		Reducers: []projections.Reducer{red}, Locker: docs})
	if err != nil {
		x.t.Fatal(err)
	}
	if _, err := run.CatchUp(x.ctx, red, projections.Namespace(red.Name(), 1), nil); err != nil {
		x.t.Fatal(err)
	}
	return projections.NewQueries(docs, docs, log, x.reg, nil)
}

// entry returns the directory.v1 entry of a join id.
func entry(t *testing.T, x *harness, q *projections.Queries, joinID string) *projections.AccountEntry {
	t.Helper()
	a, err := q.AccountByExternalID(x.ctx, joinID)
	if err != nil {
		t.Fatalf("%s: %v", joinID, err)
	}
	return a
}

// shown renders an entry's memberships as "LABEL/role/subject".
func shown(a *projections.AccountEntry) []string {
	var out []string
	for _, m := range a.Groups {
		s := m.Shown() + "/" + string(m.Role)
		if m.Subject != "" {
			s += "/" + m.Subject
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// links renders an entry's relatives or children with what they are.
func links(ls []projections.AccountLink) []string {
	var out []string
	for _, l := range ls {
		out = append(out, strings.Join([]string{l.DisplayName, string(l.Relation), strings.Repeat("L", bool2int(l.LegalGuardian)),
			strings.Repeat("1", l.LegalRank), strings.Repeat("F", bool2int(l.Financial)), strings.Repeat("C", bool2int(l.Contact))}, "/"))
	}
	slices.Sort(out)
	return out
}

func bool2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The académie's 2D data model: subjects and MEFs with their labels, two
// collèges sharing a teacher, an assistant d'éducation and a parent, a
// head and a deputy told apart by their function's code, relatives with
// their relation, rank, financial responsibility and contact, labelled
// classes.
func TestAAF2DDataModel(t *testing.T) {
	x := newHarness(t, nil)
	feed := x.sources(FormatAAF, "", "aaf/model")
	rep, recs := x.MustImport(feed, DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{
		RegisterEstablishment: 2, RecordFeedKey: 2, OpenAccount: 12, CreateGroup: 4, JoinGroup: 10, LinkRelative: 6,
	})
	if len(recs) != 36 || len(rep.Rejected)+len(rep.Skipped) != 0 || len(rep.Guards) != 0 {
		t.Fatalf("%d events, rejected %v, skipped %v, guards %v", len(recs), rep.Rejected, rep.Skipped, rep.Guards)
	}
	labels := map[string]int{}
	for _, f := range rep.Files {
		labels[string(f.Category)] = f.Labels
	}
	if labels["MatiereEducNat"] != 3 || labels["MefEducNat"] != 2 {
		t.Errorf("labels read: %v", labels)
	}

	// The events say it all.
	var keys []string
	var joins, linked int
	for _, r := range recs {
		switch e := decode(t, x, r).(type) {
		case domain.EstablishmentFeedKeyRecorded:
			keys = append(keys, e.UAI+"="+e.FeedKey)
		case domain.GroupCreated:
			if e.Name == "6A" && e.Label != "6EME A" {
				t.Errorf("6A created %+v", e)
			}
		case domain.MemberJoined:
			if e.Account == AccountID("T101") && e.Role == domain.RoleTeacher && e.Group == GroupID("0132002B", domain.GroupClass, "5B") {
				joins++
				if e.Subject != "FRANCAIS" || !slices.Equal(e.SubjectCodes, []string{"030201"}) {
					t.Errorf("T101 joins 5B: %+v", e)
				}
			}
		case domain.RelativeLinked:
			if e.Student == AccountID("S101") && e.Relative == AccountID("R101") {
				linked++
				want := domain.RelativeLinked{Student: e.Student, Relative: e.Relative, LegalGuardian: true,
					Relation: domain.RelationMother, LegalRank: 1, Financial: true, Contact: true}
				if e != want {
					t.Errorf("S101's mother: %+v", e)
				}
			}
		}
	}
	slices.Sort(keys)
	checkStrings(t, "feed keys", keys, "0132001A=7601", "0132002B=7602")
	if joins != 1 || linked != 1 {
		t.Errorf("%d joins of 5B by T101, %d links of S101 to R101", joins, linked)
	}

	// The read model, as pages read it.
	q := x.readModel()
	est, err := q.Establishment(x.ctx, "0132001A")
	if err != nil || est.FeedKey != "7601" {
		t.Fatalf("establishment %+v %v", est, err)
	}
	lou := entry(t, x, q, "S101")
	if lou.MEF != "10010012110" || lou.ShownMEF() != "6EME" || lou.Establishment != "0132001A" || len(lou.Establishments) != 0 {
		t.Errorf("Lou: %+v", lou)
	}
	checkStrings(t, "Lou's classes", shown(lou), "6EME A/student", "LATIN 5E/student")
	checkStrings(t, "Lou's relatives", links(lou.Relatives),
		"Josiane VIDAL/family////C", "Nadia FABRE/mother/L/1/F/C", "Éric FABRE/father/L/11//")
	// The MefEducNat label beats the record's own.
	if minh := entry(t, x, q, "S103"); minh.MEFLabel != "6EME" {
		t.Errorf("Minh's MEF: %q", minh.MEFLabel)
	}
	checkStrings(t, "Minh's tutor", links(entry(t, x, q, "S103").Relatives), "Pierre LEROY/tutor/L/1/F/C")
	// A parent with children in two collèges belongs to both.
	nadia := entry(t, x, q, "R101")
	if nadia.Establishment != "0132001A" || !slices.Equal(nadia.Establishments, []string{"0132002B"}) {
		t.Errorf("Nadia: %+v", nadia)
	}
	checkStrings(t, "Nadia's children", links(nadia.Children), "Lou FABRE/mother/L/1/F/C", "Tom FABRE/mother/L/1/F/C")
	// A teacher of both collèges: her classes in each, subjects in words,
	// her disciplines.
	claire := entry(t, x, q, "T101")
	if claire.Profile != domain.ProfileTeacher || !slices.Equal(claire.Establishments, []string{"0132002B"}) || len(claire.Posts) != 2 ||
		claire.Posts[1] != (domain.Post{Establishment: "0132002B", Code: "ENS", Label: "ENSEIGNEMENT", Discipline: "L0202", DisciplineLabel: "LETTRES MODERNES"}) {
		t.Errorf("Claire: %+v", claire)
	}
	checkStrings(t, "Claire's classes", shown(claire),
		"5EME B/teacher/FRANCAIS", "6EME A/head_teacher", "6EME A/teacher/FRANCAIS", "LATIN 5E/teacher/LATIN")
	if v := claire.Viewer(); v.IsStaff("0132002B") || !v.In("0132002B") || !v.MayListGroups("0132002B") || !v.MayReadNews("0132002B") {
		t.Errorf("Claire as a viewer of the other collège: %+v", v.Actor)
	}
	for id, want := range map[string]domain.Function{"P101": domain.FunctionHead, "P102": domain.FunctionDeputy, "A101": domain.FunctionEducationAssistant} {
		a := entry(t, x, q, id)
		if a.Profile != domain.ProfilePersonnel || a.Function != want {
			t.Errorf("%s: %s %s, want personnel %s", id, a.Profile, a.Function, want)
		}
	}
	if ines := entry(t, x, q, "A101"); !slices.Equal(ines.Establishments, []string{"0132002B"}) || !ines.Viewer().IsStaff("0132002B") {
		t.Errorf("the assistant d'éducation of two collèges: %+v", ines)
	}
	g, err := q.Group(x.ctx, GroupID("0132001A", domain.GroupClass, "6A"))
	if err != nil || g.Shown() != "6EME A" || g.Name != "6A" {
		t.Fatalf("6A: %+v %v", g, err)
	}

	x.MustNotChange(feed, DefaultOptions())
}

// The structure ids a feed gave are recorded: a later full feed of people
// only (no EtabEducNat file) places them, and changes only what changed;
// a structure nobody recorded still leaves its people out, refused.
func TestPeopleOnlyFeedUsesRecordedStructureIDs(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/model"), DefaultOptions())
	dir := t.TempDir()
	eleve := readFile(t, "testdata/aaf/model/ENT_Complet_20240902_Eleve_0000.xml")
	writeFile(t, filepath.Join(dir, "ENT_Complet_20241007_Eleve_0000.xml"), eleve)
	x.MustNotChange(x.sources(FormatAAF, "", dir), DefaultOptions())

	renamed := strings.Replace(eleve, `<attr name="givenName"><value>Minh</value></attr>`, `<attr name="givenName"><value>Minh-Anh</value></attr>`, 1)
	writeFile(t, filepath.Join(dir, "ENT_Complet_20241007_Eleve_0000.xml"), renamed)
	rep, recs := x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{UpdateAccount: 1})
	if len(recs) != 1 || x.account("S103").DisplayName != "Minh-Anh NGUYEN" || rep.Totals != (Outcomes{Changed: 1, Unchanged: 2}) {
		t.Fatalf("%d events, totals %+v", len(recs), rep.Totals)
	}

	unknown := strings.NewReplacer(">7601<", ">7699<", ">7601$", ">7699$", ">7602<", ">7698<", ">7602$", ">7698$").Replace(eleve)
	writeFile(t, filepath.Join(dir, "ENT_Complet_20241007_Eleve_0000.xml"), unknown)
	refused := x.mustRefuse(x.sources(FormatAAF, "", dir), DefaultOptions())
	left := wholeSkips(refused)
	if len(left) != 3 || left[0].Code != ReasonUnknownStructure || !slices.Equal(guardKinds(refused), []GuardKind{GuardSkipped}) {
		t.Fatalf("left out %+v, guards %+v", left, refused.Guards)
	}
}

// A delta without the MatiereEducNat file: a subject an earlier import
// labelled is said in words, one nobody labelled by its code; a MEF
// changes with its label.
func TestLabelsFromAnEarlierImport(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/model"), DefaultOptions())
	dir := t.TempDir()
	// One delta file of both categories: its name says neither.
	writeFile(t, filepath.Join(dir, "ENT_Delta_20241007_0000.xml"), aafHead("UTF-8")+`
    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
        <identifier><id>T102</id></identifier>
        <modifications>
            <modification name="ENTAuxEnsClassesMatieres" operation="replace"><value>7601$6A$061300</value><value>7601$6B$030201</value><value>7601$6B$999999</value></modification>
        </modifications>
    </modifyRequest>
    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
        <identifier><id>S103</id></identifier>
        <modifications>
            <modification name="ENTEleveMEF" operation="replace"><value>10110001110</value></modification>
            <modification name="ENTEleveLibelleMEF" operation="replace"><value>5EME</value></modification>
        </modifications>
    </modifyRequest>`+aafTail)
	rep, _ := x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{JoinGroup: 1, UpdateAccount: 1})
	q := x.readModel()
	checkStrings(t, "Marc's classes", shown(entry(t, x, q, "T102")), "6EME A/teacher/MATHEMATIQUES", "6EME B/teacher/999999, FRANCAIS")
	if minh := entry(t, x, q, "S103"); minh.MEF != "10110001110" || minh.MEFLabel != "5EME" {
		t.Errorf("Minh's MEF: %+v", minh)
	}
}

// A primary school's AAF 1D feed: ENTPersonNom and ENTPersonPrenom, five-
// field classes (an id and a label), ENTEleveAutoriteParentale,
// ENTPersRelEleveEleve, levels, a directrice named by ENTEnsFonctionDir.
func TestAAF1D(t *testing.T) {
	x := newHarness(t, nil)
	feed := x.sources(FormatAAF, "", "aaf/1d")
	rep, recs := x.MustImport(feed, DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{
		RegisterEstablishment: 2, RecordFeedKey: 2, OpenAccount: 9, CreateGroup: 4, JoinGroup: 7, LinkRelative: 4,
	})
	if len(recs) != 28 || len(rep.Rejected)+len(rep.Skipped) != 0 || rep.Mode != ModeFull {
		t.Fatalf("%d events, mode %s, rejected %v, skipped %v", len(recs), rep.Mode, rep.Rejected, rep.Skipped)
	}
	if e := registeredEstablishment(t, x, "0133002B"); e.Kind != domain.KindEcole || e.Name != "EMPU LES CIGALES AUBAGNE" {
		t.Errorf("the école maternelle: %+v", e)
	}
	q := x.readModel()
	jules := entry(t, x, q, "C201")
	if jules.DisplayName != "Jules BONNET" || jules.ShownMEF() != "CE1" {
		t.Errorf("Jules: %+v", jules)
	}
	checkStrings(t, "Jules's classes", shown(jules), "CE1-CE2 A/student", "CHORALE/student")
	checkStrings(t, "Jules's relatives", links(jules.Relatives), "Sandrine BONNET//L///", "Thierry BONNET//L///")
	if g, err := q.Group(x.ctx, GroupID("0133001A", domain.GroupClass, "C0123")); err != nil || g.Label != "CE1-CE2 A" ||
		len(g.Members[domain.RoleStudent]) != 2 || len(g.Members[domain.RoleTeacher]) != 1 {
		t.Fatalf("the class C0123: %+v %v", g, err)
	}
	sylvie := entry(t, x, q, "U202")
	if sylvie.Profile != domain.ProfilePersonnel || sylvie.Function != domain.FunctionHead {
		t.Errorf("the directrice: %+v", sylvie)
	}
	checkStrings(t, "the directrice's class", shown(sylvie), "CM1 B/teacher")
	if u := entry(t, x, q, "U201"); u.Profile != domain.ProfileTeacher || u.Function != "" {
		t.Errorf("a teacher: %+v", u)
	}
	if k := entry(t, x, q, "Q203"); k.Establishment != "0133002B" {
		t.Errorf("Maël's mother: %+v", k)
	}
	x.MustNotChange(feed, DefaultOptions())
}

// An école's ONDE extraction, as ONDE writes it (ISO-8859-1, ';', no
// ids): students by INE or by name and birth date, responsables linked by
// their children's names (and class when names are not enough), the
// directrice among the teachers. Re-imported, it writes nothing.
func TestONDEExtraction(t *testing.T) {
	x := newHarness(t, nil)
	const uai = "0133003C"
	if _, err := x.h.RegisterEstablishment(x.ctx, commands.Request{System: true}, domain.RegisterEstablishment{UAI: uai, Name: "EEPU FRÉDÉRIC MISTRAL", Kind: domain.KindEcole, Departement: "13"}); err != nil {
		t.Fatal(err)
	}
	srcs := ondeSources(t, x, uai, "onde/ecole")
	rep, recs := x.MustImport(srcs, DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 12, CreateGroup: 3, JoinGroup: 8, LinkRelative: 6})
	if len(recs) != 29 || rep.Mode != ModeFull || len(rep.Rejected) != 0 || len(rep.Guards) != 0 {
		t.Fatalf("%d events, mode %s, rejected %v, guards %v", len(recs), rep.Mode, rep.Rejected, rep.Guards)
	}
	for _, f := range rep.Files {
		if f.Encoding != "ISO-8859-1" || f.Format != FormatONDE {
			t.Errorf("%s read as %s %s", f.Name, f.Format, f.Encoding)
		}
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Code != ReasonChildUnknown ||
		rep.Skipped[0].Reason != "child Lucas GIRARD (class CM1 - M. Roux) is not in the students' file of the import: the link is not made" {
		t.Fatalf("skipped %+v", rep.Skipped)
	}

	q := x.readModel()
	zoe := entry(t, x, q, "ine:123456789AB")
	if zoe.DisplayName != "Zoé MARTIN" || zoe.Establishment != uai || zoe.ShownMEF() != "CE1" {
		t.Errorf("Zoé: %+v", zoe)
	}
	checkStrings(t, "Zoé's class", shown(zoe), "CE1 - Mme Noël/student")
	checkStrings(t, "Zoé's relatives", links(zoe.Relatives), "François MARTIN//L///", "Hélène MARTIN//L///")
	// Léo has no INE: his id comes from his names and birth date.
	leo := entry(t, x, q, ondeKey(uai, "eleve", "martin", "leo", "2018-09-11"))
	checkStrings(t, "Léo's relatives", links(leo.Relatives), "Hélène MARTIN//L///")
	// Anaïs goes by her usage name.
	if a := entry(t, x, q, "ine:123456790BC"); a.DisplayName != "Anaïs LEFÈVRE" || len(a.Relatives) != 1 {
		t.Errorf("Anaïs: %+v", a)
	}
	// Two Noé ROUSSEAU, told apart by their class, both Jérôme's.
	jerome := entry(t, x, q, ondeKey(uai, "resp", "m.", "rousseau", "jerome"))
	checkStrings(t, "Jérôme's children", links(jerome.Children), "Noé ROUSSEAU//L///", "Noé ROUSSEAU//L///")
	noel := entry(t, x, q, ondeKey(uai, "ens", "noel", "benedicte"))
	if noel.DisplayName != "Bénédicte NOËL" || noel.Profile != domain.ProfilePersonnel || noel.Function != domain.FunctionHead {
		t.Errorf("the directrice: %+v", noel)
	}
	checkStrings(t, "the directrice's classes", shown(noel), "CE1 - Mme Noël/teacher", "CE2 - Mme Noël/teacher")

	x.MustNotChange(srcs, DefaultOptions())

	// The students' file, saved again in UTF-8 without a BOM, would
	// rename everyone: refused, saying so.
	dir := t.TempDir()
	for _, name := range []string{"CSVExtraction-eleves.csv", "CSVExtraction-responsables.csv", "CSVExtraction-enseignants.csv"} {
		copyFile(t, filepath.Join("testdata/onde/ecole", name), filepath.Join(dir, name))
	}
	latin := readFile(t, filepath.Join(dir, "CSVExtraction-eleves.csv"))
	utf8, err := charmapOf("iso-8859-1")
	if !err {
		t.Fatal("no ISO-8859-1")
	}
	decoded, derr := utf8.NewDecoder().String(latin)
	if derr != nil {
		t.Fatal(derr)
	}
	writeFile(t, filepath.Join(dir, "CSVExtraction-eleves.csv"), decoded)
	refused := x.mustRefuse(ondeSources(t, x, uai, dir), DefaultOptions())
	if !slices.Equal(guardKinds(refused), []GuardKind{GuardEncoding}) ||
		!strings.Contains(refused.Guards[0].Message, `it declares ISO-8859-1 but its bytes are UTF-8`) {
		t.Fatalf("guards %+v", refused.Guards)
	}
	// With a BOM, UTF-8 is what it is: nothing changes.
	writeFile(t, filepath.Join(dir, "CSVExtraction-eleves.csv"), "\ufeff"+decoded)
	x.MustNotChange(ondeSources(t, x, uai, dir), DefaultOptions())
}

// ondeSources returns the ONDE sources of a directory, for the école uai.
func ondeSources(t *testing.T, x *harness, uai, dir string) []Source {
	t.Helper()
	srcs := x.sources(FormatONDE, "", dir)
	for i := range srcs {
		srcs[i].UAI = uai
	}
	return srcs
}

// The ONDE extraction names no école: the import needs its UAI.
func TestONDENeedsTheUAI(t *testing.T) {
	x := newHarness(t, nil)
	rep, _, err := x.run(x.sources(FormatONDE, "", "onde/ecole"), DefaultOptions())
	if err == nil || !strings.Contains(rep.Refused, "an ONDE extraction needs the UAI of its école") {
		t.Fatalf("refused %q, %v", rep.Refused, err)
	}
}

// A person's other establishments follow the feed: a delta of the
// functions alone adds and removes none (which of them the attachment gave
// is not known: the teacher leaves the other collège's class, and stays
// there; the assistant d'éducation attached to both stays in both); a
// record of the attachment says them all.
func TestOtherEstablishmentsFollowTheFeed(t *testing.T) {
	x := newHarness(t, nil)
	x.MustImport(x.sources(FormatAAF, "", "aaf/model"), DefaultOptions())
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ENT_Delta_20241104_PersEducNat_0000.xml"), aafHead("UTF-8")+`
    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
        <identifier><id>T101</id></identifier>
        <modifications>
            <modification name="ENTPersonFonctions" operation="replace"><value>7601$ENS$ENSEIGNEMENT$L0202$LETTRES MODERNES</value></modification>
            <modification name="ENTAuxEnsClassesMatieres" operation="replace"><value>7601$6A$030201</value></modification>
        </modifications>
    </modifyRequest>
    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
        <identifier><id>A101</id></identifier>
        <modifications>
            <modification name="ENTPersonFonctions" operation="replace"><value>7601$AED$ASSISTANT D'EDUCATION$-$-</value></modification>
        </modifications>
    </modifyRequest>`+aafTail)
	rep, _ := x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{UpdateAccount: 2, LeaveGroup: 1})
	q := x.readModel()
	claire := entry(t, x, q, "T101")
	if !slices.Equal(claire.Establishments, []string{"0132002B"}) || len(claire.Posts) != 1 {
		t.Errorf("Claire: %+v", claire)
	}
	checkStrings(t, "Claire's classes", shown(claire), "6EME A/head_teacher", "6EME A/teacher/FRANCAIS", "LATIN 5E/teacher/LATIN")
	ines := entry(t, x, q, "A101")
	if !slices.Equal(ines.Establishments, []string{"0132002B"}) || len(ines.Posts) != 1 {
		t.Errorf("Inès: %+v", ines)
	}
	x.MustNotChange(x.sources(FormatAAF, "", dir), DefaultOptions())

	// Her attachment, stated, says she is in one collège only.
	writeFile(t, filepath.Join(dir, "ENT_Delta_20241104_PersEducNat_0000.xml"), aafHead("UTF-8")+`
    <modifyRequest>
        <operationalAttributes><attr name="categoriePersonne"><value>PersEducNat</value></attr></operationalAttributes>
        <identifier><id>T101</id></identifier>
        <modifications>
            <modification name="ENTPersonStructRattach" operation="replace"><value>7601</value></modification>
        </modifications>
    </modifyRequest>`+aafTail)
	rep, _ = x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	wantCounts(t, rep.Applied, map[ChangeKind]int{UpdateAccount: 1})
	if claire := entry(t, x, x.readModel(), "T101"); len(claire.Establishments) != 0 {
		t.Errorf("Claire: %+v", claire)
	}
}

// A nomenclature whose first part did not come refuses nothing: its codes
// stay codes, nobody is flagged.
func TestNomenclaturePartMissingRefusesNothing(t *testing.T) {
	x := newHarness(t, nil)
	dir := t.TempDir()
	for _, cat := range []string{"EtabEducNat", "Eleve", "PersRelEleve", "PersEducNat", "MefEducNat"} {
		name := "ENT_Complet_20240902_" + cat + "_0000.xml"
		copyFile(t, filepath.Join("testdata/aaf/model", name), filepath.Join(dir, name))
	}
	copyFile(t, "testdata/aaf/model/ENT_Complet_20240902_MatiereEducNat_0000.xml", filepath.Join(dir, "ENT_Complet_20240902_MatiereEducNat_0001.xml"))
	rep, _ := x.MustImport(x.sources(FormatAAF, "", dir), DefaultOptions())
	if len(rep.Guards) != 0 || rep.Totals.Created != 12 {
		t.Fatalf("guards %+v, totals %+v", rep.Guards, rep.Totals)
	}
}
