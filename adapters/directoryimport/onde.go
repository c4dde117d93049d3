package directoryimport

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// ONDE extractions. An école exports its directory from ONDE (Outil
// numérique pour la direction d'école, formerly Base élèves premier degré)
// as three CSV files, ';'-separated, in ISO-8859-1, their first line naming
// the columns:
//
//	CSVExtraction-eleves.csv        Nom élève; Nom d'usage élève; Prénom élève;
//	                                Date naissance; Sexe; [INE;] addresses...;
//	                                Cycle; Niveau; Libellé classe (or Classe);
//	                                [Identifiant classe;] ...
//	CSVExtraction-responsables.csv  Civilité Responsable; Nom usage responsable;
//	                                Nom responsable; Prénom responsable; address,
//	                                e-mail, phones...; then for each child: Nom
//	                                d'usage enfant; Nom de famille enfant;
//	                                Prénom enfant; Classes enfants
//	CSVExtraction-enseignants.csv   Civilité; Nom usage; Nom; Prénom; address,
//	                                e-mail, phones...; Directeur (oui/non);
//	                                Classe (and more classes after it)
//
// The files say neither the école (the caller names its UAI) nor ids: the
// import derives each person's join id from what stays (a student's INE, or
// their names and birth date; a relative's civility and names; a
// teacher's names), and links relatives to the students of the same
// import by the children's names (and class, when names are not enough).
// Columns are found by their names, in any order, accents and case aside;
// the others are read past.

// ondeState gathers what ONDE files say across the files of an import.
type ondeState struct {
	// students: UAI -> folded "last|first" -> the students of that name.
	students map[string]map[string][]ondeStudent
	links    []ondeLink
	// relFiles are the UAIs whose responsables file the import holds: the
	// links of their students are the file's.
	relFiles map[string]bool
}

type ondeStudent struct {
	joinID, class string
}

// ondeLink is a child a responsable's line names.
type ondeLink struct {
	relative, uai, last, first, class string
	display                           string
	place                             Place
}

func (b *builder) ondeState() *ondeState {
	if b.onde == nil {
		b.onde = &ondeState{students: make(map[string]map[string][]ondeStudent), relFiles: make(map[string]bool)}
	}
	return b.onde
}

// ondeFold makes names and column headers comparable: lower case, no
// accents, no spaces, apostrophes or stars.
var ondeFoldReplacer = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "é", "e", "è", "e", "ê", "e", "ë", "e", "î", "i", "ï", "i",
	"ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ç", "c", "œ", "oe", "æ", "ae", "ÿ", "y",
	" ", "", "'", "", "’", "", "*", "", "-", "", "\t", "", "\u00a0", "")

func ondeFold(s string) string {
	return ondeFoldReplacer.Replace(strings.ToLower(strings.TrimSpace(s)))
}

// ondeKey is a join id derived from what identifies a person: a hash, so
// that it is short and holds no name.
func ondeKey(uai, kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(append([]string{uai, kind}, parts...), "|")))
	return "onde:" + uai + ":" + kind + ":" + hex.EncodeToString(h[:8])
}

// ondeFile is what kind of extraction a file is, by its columns.
type ondeFile uint8

const (
	ondeStudents ondeFile = iota + 1
	ondeRelatives
	ondeTeachers
)

// ondeColumns finds a file's columns: each folded name with its positions.
type ondeColumns map[string][]int

func (c ondeColumns) index(names ...string) int {
	for _, n := range names {
		if is := c[n]; len(is) > 0 {
			return is[0]
		}
	}
	return -1
}

// parseONDE streams one ONDE extraction of the école uai into b.
func (b *builder) parseONDE(ctx context.Context, name string, r io.Reader, uai, encoding string, fr *FileReport) error {
	uai = strings.ToUpper(strings.TrimSpace(uai))
	if !domain.ValidUAI(uai) {
		return fmt.Errorf("%s: an ONDE extraction needs the UAI of its école (%q is not seven digits and a letter)", name, uai)
	}
	fr.Mode = ModeFull
	fr.check = &byteCheck{r: r}
	br := bufio.NewReader(fr.check)
	// ONDE writes ISO-8859-1; a file saved again as UTF-8 says so with a
	// BOM. The bytes are checked against the encoding either way.
	fr.declared = strings.ToLower(strings.TrimSpace(encoding))
	if fr.declared == "" {
		fr.declared = "iso-8859-1"
		if bom, _ := br.Peek(3); string(bom) == "\xEF\xBB\xBF" {
			fr.declared = "utf-8"
		}
	}
	var in io.Reader = br
	fr.Encoding = "UTF-8"
	if !isUTF8(fr.declared) {
		dec, err := charsetReader(fr.declared, br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		in, fr.Encoding = dec, strings.ToUpper(fr.declared)
	}
	lr := bufio.NewReader(in)
	header, err := lr.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: read header: %w", name, err)
	}
	header = strings.TrimPrefix(header, "\ufeff")
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%s: empty file: no header line", name)
	}
	cr := csv.NewReader(io.MultiReader(strings.NewReader(header), lr))
	cr.Comma = ';'
	if strings.Count(header, ";") < strings.Count(header, ",") {
		cr.Comma = ','
	}
	cr.FieldsPerRecord = -1 // ONDE lines end with ';' or stop early
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s line 1: header: %w", name, err)
	}
	cols := make(ondeColumns, len(head))
	for i, h := range head {
		f := ondeFold(h)
		cols[f] = append(cols[f], i)
	}
	var kind ondeFile
	switch {
	case cols.index("prenomeleve", "prenomdeleleve") >= 0:
		kind, fr.Category = ondeStudents, CategoryStudent
		if cols.index("nomeleve", "nomdefamilleeleve", "nomdeleleve", "nomdusageeleve") < 0 {
			return fmt.Errorf("%s line 1: no Nom élève column (columns: %s)", name, strings.Join(head, ", "))
		}
	case cols.index("prenomresponsable") >= 0:
		kind, fr.Category = ondeRelatives, CategoryRelative
		if cols.index("nomresponsable", "nomusageresponsable") < 0 {
			return fmt.Errorf("%s line 1: no Nom responsable column (columns: %s)", name, strings.Join(head, ", "))
		}
		b.ondeState().relFiles[uai] = true
	case cols.index("prenom") >= 0 && cols.index("nom", "nomusage") >= 0:
		kind, fr.Category = ondeTeachers, CategoryEducNat
	default:
		return fmt.Errorf("%s line 1: not an ONDE extraction of students, responsables or teachers (columns: %s)",
			name, strings.Join(head, ", "))
	}
	for _, p := range fr.Category.profiles() {
		b.profiles[p] = true
	}
	// ONDE pads its lines with separators: a line of empty fields is blank.
	blank := func(rec []string) bool { return strings.TrimSpace(strings.Join(rec, "")) == "" }
	return b.readCSVLines(ctx, cr, name, fr, blank, func(place Place, rec []string) {
		get := func(names ...string) string {
			if i := cols.index(names...); i >= 0 && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		switch kind {
		case ondeStudents:
			b.ondeStudent(place, uai, get)
		case ondeRelatives:
			b.ondeRelative(place, uai, cols, rec, get)
		case ondeTeachers:
			b.ondeTeacher(place, uai, head, rec, get)
		}
	})
}

// ondeDate reads a birth date: DD/MM/YYYY (ONDE's) or YYYY-MM-DD.
var (
	frenchDate = regexp.MustCompile(`^([0-9]{2})/([0-9]{2})/([0-9]{4})$`)
	isoDate    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

func ondeDate(s string) (string, bool) {
	if m := frenchDate.FindStringSubmatch(s); m != nil {
		return m[3] + "-" + m[2] + "-" + m[1], true
	}
	return s, s == "" || isoDate.MatchString(s)
}

// ondeName returns the name a person goes by: the first name and the usage
// name, else the family name.
func ondeName(first, usage, family string) string {
	if usage != "" {
		return displayName(first, usage)
	}
	return displayName(first, family)
}

func (b *builder) ondeStudent(place Place, uai string, get func(...string) string) {
	family := get("nomeleve", "nomdefamilleeleve", "nomdeleleve")
	usage := get("nomdusageeleve")
	first := get("prenomeleve", "prenomdeleleve")
	if family == "" {
		family = usage
	}
	born, ok := ondeDate(get("datenaissance", "datedenaissance", "neele", "ne(e)le"))
	if !ok {
		b.reject(place, "", ReasonBadDate, born)
		return
	}
	if family == "" || first == "" {
		b.reject(place, "", ReasonNoName)
		return
	}
	id := ondeKey(uai, "eleve", ondeFold(family), ondeFold(first), born)
	if ine := strings.ToUpper(get("ine")); ine != "" {
		id = "ine:" + ine
	}
	r := &personRecord{op: opAdd, category: CategoryStudent, joinID: id, place: place, profile: domain.ProfileStudent,
		name: ondeName(first, usage, family), structs: []string{uai},
		known: aspName | aspEstablishment | aspStudentClasses | aspMEF}
	class := get("libelleclasse", "classe")
	if class != "" {
		r.groups = []groupRef{{Name: class, Kind: domain.GroupClass, Role: domain.RoleStudent}}
	}
	r.mefLabel = get("niveau")
	st := b.ondeState()
	if st.students[uai] == nil {
		st.students[uai] = make(map[string][]ondeStudent)
	}
	k := ondeFold(family) + "|" + ondeFold(first)
	st.students[uai][k] = append(st.students[uai][k], ondeStudent{joinID: id, class: ondeFold(class)})
	b.addPerson(r)
}

func (b *builder) ondeRelative(place Place, uai string, cols ondeColumns, rec []string, get func(...string) string) {
	family := get("nomresponsable")
	usage := get("nomusageresponsable")
	first := get("prenomresponsable")
	civility := get("civiliteresponsable", "civilite")
	if family == "" {
		family = usage
	}
	if family == "" || first == "" {
		b.reject(place, "", ReasonNoName)
		return
	}
	id := ondeKey(uai, "resp", ondeFold(civility), ondeFold(family), ondeFold(first))
	r := &personRecord{op: opAdd, category: CategoryRelative, joinID: id, place: place, profile: domain.ProfileRelative,
		name: ondeName(first, usage, family), structs: []string{uai}, known: aspName | aspEstablishment}
	// The children: groups of four columns, repeated as many times as the
	// responsable has children (lines may be longer than the header).
	start := -1
	for _, n := range []string{"nomdusageenfant", "nomdefamilleenfant", "prenomenfant", "classesenfants"} {
		if i := cols.index(n); i >= 0 && (start < 0 || i < start) {
			start = i
		}
	}
	if start >= 0 {
		pos := func(n string) int {
			if i := cols.index(n); i >= 0 {
				return i - start
			}
			return -1
		}
		off := [4]int{pos("nomdusageenfant"), pos("nomdefamilleenfant"), pos("prenomenfant"), pos("classesenfants")}
		field := func(at, o int) string {
			if o < 0 || at+o >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[at+o])
		}
		for at := start; at < len(rec); at += 4 {
			cu, cf, cfirst, cclass := field(at, off[0]), field(at, off[1]), field(at, off[2]), field(at, off[3])
			if cf == "" {
				cf = cu
			}
			if cf == "" && cfirst == "" {
				continue
			}
			b.ondeState().links = append(b.ondeState().links, ondeLink{relative: id, uai: uai, last: ondeFold(cf),
				first: ondeFold(cfirst), class: ondeFold(cclass), display: displayName(cfirst, cf) + "|" + cclass, place: place})
		}
	}
	b.addPerson(r)
}

func (b *builder) ondeTeacher(place Place, uai string, head, rec []string, get func(...string) string) {
	family := get("nom")
	usage := get("nomusage")
	first := get("prenom")
	if family == "" {
		family = usage
	}
	if family == "" || first == "" {
		b.reject(place, "", ReasonNoName)
		return
	}
	id := ondeKey(uai, "ens", ondeFold(family), ondeFold(first))
	r := &personRecord{op: opAdd, category: CategoryEducNat, joinID: id, place: place, name: ondeName(first, usage, family),
		structs: []string{uai}, known: aspName | aspEstablishment | aspFunction | aspTeachClasses,
		profile: domain.ProfileTeacher}
	if yes(get("directeur")) {
		// The directeur d'école directs and teaches: personnel, head, who
		// teaches their class.
		r.profile, r.function = domain.ProfilePersonnel, domain.FunctionHead
		r.posts = []PostRef{{Struct: uai, Code: "DIR"}}
	}
	// Classes: every Classe column, and what lines hold past the header.
	var classes []string
	for i, h := range head {
		if f := ondeFold(h); (f == "classe" || f == "classes") && i < len(rec) {
			classes = appendNew(classes, strings.TrimSpace(rec[i]))
		}
	}
	for i := len(head); i < len(rec); i++ {
		classes = appendNew(classes, strings.TrimSpace(rec[i]))
	}
	for _, c := range classes {
		r.groups = append(r.groups, groupRef{Name: c, Kind: domain.GroupClass, Role: domain.RoleTeacher})
	}
	b.addPerson(r)
}

// ondeLinks links the responsables of ONDE files to the students of the
// same import, by the children's names (and class, when names are not
// enough); the students of an école whose responsables file came have
// exactly the links it gives.
func (b *builder) ondeLinks() {
	st := b.onde
	if st == nil {
		return
	}
	for uai := range st.relFiles {
		for _, list := range st.students[uai] {
			for _, s := range list {
				if r := b.persons[s.joinID]; r != nil {
					r.known |= aspRelatives
				}
			}
		}
	}
	for _, l := range st.links {
		cands := st.students[l.uai][l.last+"|"+l.first]
		if len(cands) > 1 && l.class != "" {
			cands = slices.DeleteFunc(slices.Clone(cands), func(s ondeStudent) bool { return s.class != l.class })
		}
		child, class, _ := strings.Cut(l.display, "|")
		switch len(cands) {
		case 0:
			b.skip(l.place, l.relative, ReasonChildUnknown, child, class)
			continue
		case 1:
		default:
			b.skip(l.place, l.relative, ReasonChildAmbiguous, child, class, fmt.Sprint(len(cands)))
			continue
		}
		s := b.persons[cands[0].joinID]
		rel := b.persons[l.relative]
		if s == nil || rel == nil {
			continue
		}
		if !slices.ContainsFunc(s.relatives, func(r RelativeRef) bool { return r.JoinID == l.relative }) {
			s.relatives = append(s.relatives, RelativeRef{JoinID: l.relative, LegalGuardian: true})
		}
		rel.children = appendNew(rel.children, s.joinID)
	}
	b.onde = nil
}
