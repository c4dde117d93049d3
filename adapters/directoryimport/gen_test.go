package directoryimport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// Helpers shared by the tests, and the generator of large AAF feeds.

const aafTail = "</ficAlimMENESR>\n"

func aafHead(encoding string) string {
	return `<?xml version="1.0" encoding="` + encoding + `"?>` + "\n" +
		`<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">` + "\n<ficAlimMENESR>\n"
}

func genID(prefix string, i int) string { return fmt.Sprintf("%s%07d", prefix, i) }

func genAttr(b *strings.Builder, name string, values ...string) {
	b.WriteString(`            <attr name="`)
	b.WriteString(name)
	b.WriteString(`">`)
	if len(values) == 0 {
		b.WriteString("<value/>")
	}
	for _, v := range values {
		b.WriteString("<value>")
		b.WriteString(v)
		b.WriteString("</value>")
	}
	b.WriteString("</attr>\n")
}

func genRecord(b *strings.Builder, category, id string, attrs func()) {
	b.WriteString("    <addRequest>\n        <operationalAttributes><attr name=\"categoriePersonne\"><value>")
	b.WriteString(category)
	b.WriteString("</value></attr></operationalAttributes>\n        <identifier><id>")
	b.WriteString(id)
	b.WriteString("</id></identifier>\n        <attributes>\n")
	attrs()
	b.WriteString("        </attributes>\n    </addRequest>\n")
}

// genStudent is a student record as the académies send them (most
// attributes are unused by the ledger); class is the raw ENTEleveClasses
// value.
func genStudent(id, structure, class string, relatives ...string) string {
	var b strings.Builder
	genRecord(&b, "Eleve", id, func() {
		genAttr(&b, "ENTPersonJointure", id)
		genAttr(&b, "ENTEleveINE", "1"+id[1:]+"AB")
		genAttr(&b, "ENTEleveStructRattachId", "4"+strings.TrimLeft(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) // their id in the school's software
		genAttr(&b, "ENTPersonDateNaissance", "14/03/2012")
		genAttr(&b, "ENTPersonNomPatro", "NOM"+id)
		genAttr(&b, "sn", "NOM"+id)
		genAttr(&b, "givenName", "Prénom")
		genAttr(&b, "ENTPersonAutresPrenoms", "Prénom", "Deuxième")
		genAttr(&b, "personalTitle", "M.")
		genAttr(&b, "ENTElevePersRelEleve", relatives...)
		genAttr(&b, "ENTEleveBoursier", "N")
		genAttr(&b, "ENTEleveRegime", "DEMI-PENSIONNAIRE DANS L'ETABLISSEMENT")
		genAttr(&b, "ENTEleveTransport", "N")
		genAttr(&b, "ENTPersonAdresse", "12 avenue des Écoles$Bâtiment B$$")
		genAttr(&b, "ENTPersonCodePostal", "13001")
		genAttr(&b, "ENTPersonVille", "MARSEILLE")
		genAttr(&b, "ENTPersonPays", "FRANCE")
		genAttr(&b, "ENTEleveAdresseRel", id)
		genAttr(&b, "ENTEleveStatutEleve", "SCOLAIRE")
		genAttr(&b, "ENTEleveMEF", "10010012110")
		genAttr(&b, "ENTEleveLibelleMEF", "6EME")
		genAttr(&b, "ENTEleveNivFormation", "6EME")
		genAttr(&b, "ENTEleveFiliere", "COLLEGE")
		genAttr(&b, "ENTEleveEnseignements", "ANGLAIS LV1", "EDUCATION PHYSIQUE ET SPORTIVE")
		genAttr(&b, "ENTEleveCodeEnseignements", "030201", "100100")
		genAttr(&b, "ENTPersonStructRattach", structure)
		genAttr(&b, "ENTEleveDateEntreeClasses", structure+"$02/09/2024$"+class)
		genAttr(&b, "ENTEleveDateSortieClasses")
		genAttr(&b, "ENTEleveClasses", class)
		genAttr(&b, "ENTEleveGroupes")
	})
	return b.String()
}

// feedSize is the shape of a generated feed.
type feedSize struct {
	establishments, perEstablishment int
	// filler adds that many bytes of unused attributes to each person
	// record: the same persons in bigger files.
	filler int
}

// persons is the number of persons of a generated feed.
func (s feedSize) persons() int { return s.establishments * s.perEstablishment }

// genFeed writes a full AAF feed (the four files) into dir: per
// establishment, 45 % students in 16 classes, half of them in one of 4
// groups; one legal relative per student, and every third student has the
// previous student's relative as a contact; 8 % teachers with two classes
// each (a class's first teacher is its head teacher); 2 % personnel (head,
// deputy, two CPE, others).
func genFeed(t testing.TB, dir string, size feedSize) {
	t.Helper()
	per := size.perEstablishment
	nStudents, nTeachers := per*45/100, per*8/100
	nPersonnel := per - 2*nStudents - nTeachers
	filler := strings.Repeat("x", size.filler)
	classes := make([]string, 0, 16)
	for _, lvl := range []string{"6", "5", "4", "3"} {
		for _, l := range []string{"A", "B", "C", "D"} {
			classes = append(classes, lvl+l)
		}
	}
	groups := []string{"LATIN", "ALLEMAND", "CHORALE", "SOUTIEN"}
	subjects := []string{"FRANCAIS", "MATHEMATIQUES", "HISTOIRE-GEOGRAPHIE", "ANGLAIS", "SVT", "PHYSIQUE-CHIMIE", "EPS", "TECHNOLOGIE"}

	files := map[string]*bufio.Writer{}
	var closers []*os.File
	for _, cat := range []string{"EtabEducNat", "Eleve", "PersRelEleve", "PersEducNat"} {
		f, err := os.Create(filepath.Join(dir, "ENT_Complet_20240902_"+cat+"_0000.xml"))
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, f)
		files[cat] = bufio.NewWriterSize(f, 1<<20)
		files[cat].WriteString(aafHead("UTF-8"))
	}
	var b strings.Builder
	flush := func(cat string) {
		files[cat].WriteString(b.String())
		b.Reset()
	}
	fill := func() {
		if filler != "" {
			genAttr(&b, "ENTPersonCommentaire", filler)
		}
	}
	n := 0
	for e := range size.establishments {
		sid := fmt.Sprint(9000 + e)
		uai := fmt.Sprintf("%07d%c", 130000+e, 'A'+e%26)
		b.WriteString("    <addRequest>\n        <operationalAttributes><attr name=\"categorieStructure\"><value>EtabEducNat</value></attr></operationalAttributes>\n")
		b.WriteString("        <identifier><id>" + sid + "</id></identifier>\n        <attributes>\n")
		genAttr(&b, "ENTStructureJointure", sid)
		genAttr(&b, "ENTStructureUAI", uai)
		genAttr(&b, "ENTStructureNomCourant", "CLG-COLLEGE "+sid+"$MARSEILLE")
		genAttr(&b, "ENTStructureTypeStruct", "CLG")
		var cl []string
		for _, c := range classes {
			cl = append(cl, c+"$"+c)
		}
		genAttr(&b, "ENTStructureClasses", cl...)
		genAttr(&b, "ENTStructureGroupes", groups...)
		b.WriteString("        </attributes>\n    </addRequest>\n")
		flush("EtabEducNat")

		firstStudent := n
		for i := range nStudents {
			id, rel := genID("S", n), genID("R", n)
			rels := []string{rel + "$10$1$1$1$1"}
			if i%3 == 2 {
				rels = append(rels, genID("R", n-1)+"$90$0$0$1$0")
			}
			grp := []string{}
			if i%2 == 0 {
				grp = append(grp, sid+"$"+groups[i/2%len(groups)])
			}
			class := sid + "$" + classes[i%len(classes)]
			b.WriteString(strings.Replace(genStudent(id, sid, class, rels...),
				`<attr name="ENTEleveGroupes"><value/></attr>`, groupAttr(grp), 1))
			if filler != "" {
				s := b.String()
				b.Reset()
				b.WriteString(strings.Replace(s, "        </attributes>\n    </addRequest>\n", "", 1))
				fill()
				b.WriteString("        </attributes>\n    </addRequest>\n")
			}
			flush("Eleve")
			n++
		}
		for i := range nStudents {
			id := genID("R", firstStudent+i)
			genRecord(&b, "PersRelEleve", id, func() {
				genAttr(&b, "ENTPersonJointure", id)
				genAttr(&b, "sn", "NOM"+id)
				genAttr(&b, "givenName", "Parent")
				genAttr(&b, "personalTitle", "Mme")
				genAttr(&b, "ENTPersonAdresse", "12 avenue des Écoles$Bâtiment B$$")
				genAttr(&b, "ENTPersonCodePostal", "13001")
				genAttr(&b, "ENTPersonVille", "MARSEILLE")
				genAttr(&b, "ENTPersonPays", "FRANCE")
				genAttr(&b, "mobile", "0600000000")
				genAttr(&b, "mail", strings.ToLower(id)+"@example.org")
				fill()
			})
			flush("PersRelEleve")
			n++
		}
		for i := range nTeachers + nPersonnel {
			id := genID("P", n)
			genRecord(&b, "PersEducNat", id, func() {
				genAttr(&b, "ENTPersonJointure", id)
				genAttr(&b, "sn", "NOM"+id)
				genAttr(&b, "givenName", "Agent")
				genAttr(&b, "personalTitle", "M.")
				genAttr(&b, "ENTPersonStructRattach", sid)
				genAttr(&b, "mail", strings.ToLower(id)+"@ac-aix-marseille.fr")
				if i < nTeachers {
					subj := subjects[i%len(subjects)]
					genAttr(&b, "ENTPersonFonctions", sid+"$ENS$ENSEIGNEMENT$L0000$"+subj)
					genAttr(&b, "ENTAuxEnsClassesMatieres",
						sid+"$"+classes[i%len(classes)]+"$"+subj, sid+"$"+classes[(i+5)%len(classes)]+"$"+subj)
					genAttr(&b, "ENTAuxEnsGroupesMatieres")
					if i < len(classes) {
						genAttr(&b, "ENTAuxEnsClassesPrincipal", sid+"$"+classes[i])
					}
				} else {
					code := []string{"DIR$DIRECTION$D0010$CHEF D'ETABLISSEMENT", "DIR$DIRECTION$D0020$ADJOINT", "EDU$EDUCATION$-$CPE", "EDU$EDUCATION$-$CPE"}
					fn := "ADF$ADMINISTRATION$-$-"
					if j := i - nTeachers; j < len(code) {
						fn = code[j]
					}
					genAttr(&b, "ENTPersonFonctions", sid+"$"+fn)
				}
				fill()
			})
			flush("PersEducNat")
			n++
		}
	}
	for _, w := range files {
		w.WriteString(aafTail)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range closers {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func groupAttr(groups []string) string {
	var b strings.Builder
	genAttr(&b, "ENTEleveGroupes", groups...)
	return strings.TrimSpace(b.String())
}

// registeredEstablishment folds an establishment's stream.
func registeredEstablishment(t *testing.T, x *harness, uai string) domain.Establishment {
	t.Helper()
	recs, err := x.store.ReadStream(x.ctx, domain.EstablishmentStream(uai), 0)
	if err != nil {
		t.Fatal(err)
	}
	var est domain.Establishment
	for _, r := range recs {
		est.Apply(decode(t, x, r))
	}
	if !est.Exists {
		t.Fatalf("establishment %s is not registered", uai)
	}
	return est
}

func decode(t *testing.T, x *harness, r domain.Record) domain.Event {
	t.Helper()
	e, err := x.reg.DecodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func checkStrings(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lineOf returns the 1-based line of the first occurrence of s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not found", s)
	}
	return strings.Count(text[:i], "\n") + 1
}

func mustReadAll(t *testing.T, x *harness) []domain.Record {
	t.Helper()
	recs, err := x.store.ReadAll(x.ctx, domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// failingStore fails every append after the first failAfter, like a disk
// that fills up mid-import (failAfter < 0: never).
type failingStore struct {
	store
	mu        sync.Mutex
	failAfter int
	appends   int
}

func (s *failingStore) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	s.mu.Lock()
	fail := s.failAfter >= 0 && s.appends >= s.failAfter
	if !fail {
		s.appends++
	}
	s.mu.Unlock()
	if fail {
		return domain.AppendResult{}, errors.New("disk full")
	}
	return s.store.Append(ctx, stream, expected, events)
}

// copyFile copies a file byte for byte (its encoding kept).
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	writeFile(t, to, readFile(t, from))
}

// wholeSkips returns the issues that left a person out whole.
func wholeSkips(rep *Report) []Issue {
	var out []Issue
	for _, is := range rep.Skipped {
		if is.Whole {
			out = append(out, is)
		}
	}
	return out
}
