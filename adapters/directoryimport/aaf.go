package directoryimport

import (
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// AAF files ("ficAlimMENESR", version AAF-VE1301): one root element holding
// addRequest / modifyRequest / deleteRequest records, each with
// operationalAttributes (the record's category), an identifier and either
// attributes (add) or modifications (modify), as attr/modification elements
// named after LDAP attributes with one or more value elements. Compound
// values separate their fields with '$'. docs/directory.md maps every
// attribute used.

// AAF file names end with the category and a four-digit part number, and
// say the mode as a word before: ENT_Complet_20240902_Eleve_0000.xml,
// ENT_0130001A_Delta_20240916_PersEducNat_0001.xml,
// FULL_ACADEMIE_Complet_20130117_EtabEducNat_0000.xml. A large category
// comes in several parts (_0000, _0001...).
var (
	aafPart = regexp.MustCompile(`(?i)^(.*)_([A-Za-z]+)_([0-9]{4})\.xml$`)
	aafMode = regexp.MustCompile(`(?i)(?:^|[^a-z])(Complet|Delta)(?:[^a-z]|$)`)
)

// aafCategories are the categories an AAF file name may end with.
var aafCategories = []Category{CategoryStructure, CategoryStudent, CategoryRelative, CategoryEducNat, CategorySubject, CategoryMEF}

// aafCategory reads a category name: a file's or a record's
// (categoriePersonne, categorieStructure, categorieMatiere...).
// MatEducNat is the subjects' other name.
func aafCategory(name string) (Category, bool) {
	if strings.EqualFold(name, "MatEducNat") {
		return CategorySubject, true
	}
	for _, c := range aafCategories {
		if strings.EqualFold(name, string(c)) {
			return c, true
		}
	}
	return Category(name), false
}

// aafFile is what an AAF file's name says.
type aafFile struct {
	mode     Mode // ModeAuto when the name does not say
	category Category
	// part is the part number, -1 when the name has none; delivery names
	// the parts of one category of one delivery (the name without it).
	part     int
	delivery string
}

// aafFileInfo reads the mode, category and part from an AAF file name.
func aafFileInfo(name string) aafFile {
	base := filepath.Base(name)
	f := aafFile{mode: ModeAuto, part: -1}
	if m := aafMode.FindStringSubmatch(base); m != nil {
		f.mode = ModeDelta
		if strings.EqualFold(m[1], "Complet") {
			f.mode = ModeFull
		}
	}
	m := aafPart.FindStringSubmatch(base)
	if m == nil {
		return f
	}
	cat, known := aafCategory(m[2])
	if !known && f.mode == ModeAuto {
		return f // not an AAF name: the records say their category
	}
	f.category = cat
	f.part, _ = strconv.Atoi(m[3])
	f.delivery = strings.ToLower(m[1] + "_" + m[2])
	return f
}

// aafRecord is one request being read. Its attribute map is reused from
// record to record.
type aafRecord struct {
	op       op
	place    Place
	id       string
	category string
	attrs    map[string][]string
}

// parseAAF streams one AAF file into b, token by token: only the record
// being read is held. A malformed record is rejected and reading goes on; a
// file that is not well-formed XML (truncated, garbled) is an error.
func (b *builder) parseAAF(ctx context.Context, name string, r io.Reader, fr *FileReport) error {
	info := aafFileInfo(name)
	mode, fileCat := info.mode, info.category
	fr.Mode, fr.Category = mode, fileCat
	switch fileCat {
	case CategoryStructure, CategoryStudent, CategoryRelative, CategoryEducNat, CategorySubject, CategoryMEF, "":
	default:
		// A category the ledger does not know: read nothing.
		fr.Ignored = true
		return nil
	}
	// The bytes are checked as the decoder reads them: a file whose bytes
	// do not match its declared encoding would be read garbled.
	fr.check = &byteCheck{r: r}
	d := xml.NewDecoder(fr.check)
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		fr.Encoding, fr.declared = strings.ToUpper(label), strings.ToLower(label)
		return charsetReader(label, input)
	}
	fr.Encoding = "UTF-8"

	var (
		depth    int
		rootSeen bool
		rec      *aafRecord
		section  string // operationalAttributes, identifier, attributes, modifications
		attr     string // current attr or modification name
		values   []string
		text     strings.Builder
		inText   bool
	)
	attrs := make(map[string][]string)
	line := func() int { l, _ := d.InputPos(); return l }
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if !rootSeen {
				return fmt.Errorf("%s: no ficAlimMENESR element: not an AAF file", name)
			}
			if depth != 0 {
				return fmt.Errorf("%s line %d: truncated: the file ends inside an element", name, line())
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s line %d: not well-formed XML (truncated or garbled): %w", name, line(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			el := t.Name.Local
			switch {
			case depth == 1:
				if el != "ficAlimMENESR" {
					return fmt.Errorf("%s line %d: root element is %s, not ficAlimMENESR: not an AAF file", name, line(), el)
				}
				rootSeen = true
			case depth == 2:
				clear(attrs)
				rec = &aafRecord{place: Place{File: name, Line: line()}, attrs: attrs}
				switch el {
				case "addRequest":
					rec.op = opAdd
				case "modifyRequest":
					rec.op = opModify
				case "deleteRequest":
					rec.op = opDelete
				default:
					rec.op = 255 // rejected at its end
					rec.category = el
				}
			case depth == 3:
				section = el
			case el == "attr" || el == "modification":
				attr, values = attrValue(t, "name"), values[:0]
			case el == "value" || el == "id":
				text.Reset()
				inText = true
			}
		case xml.CharData:
			if inText {
				text.Write(t)
			}
		case xml.EndElement:
			el := t.Name.Local
			switch {
			case el == "value" && inText:
				inText = false
				values = append(values, strings.TrimSpace(text.String()))
			case el == "id" && inText && section == "identifier":
				inText = false
				rec.id = strings.TrimSpace(text.String())
			case (el == "attr" || el == "modification") && rec != nil && attr != "":
				if section == "operationalAttributes" {
					if len(values) > 0 {
						rec.category = values[0]
					}
				} else {
					attrs[attr] = append(attrs[attr], nonEmpty(values)...)
				}
				attr = ""
			case depth == 3:
				section = ""
			case depth == 2 && rec != nil:
				b.records++
				fr.Records++
				before, labels := len(b.rejected), len(b.subjects)+len(b.mefs)
				b.aafRecord(rec, fileCat)
				fr.Rejected += len(b.rejected) - before
				fr.Labels += len(b.subjects) + len(b.mefs) - labels
				rec = nil
			}
			depth--
		}
	}
}

// attrValue returns the value of an XML attribute.
func attrValue(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// nonEmpty drops empty values (<value/> stands for "none").
func nonEmpty(vs []string) []string {
	out := vs[:0:0]
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// aafRecord turns one AAF record into a structure or person record, or
// rejects it.
func (b *builder) aafRecord(rec *aafRecord, fileCat Category) {
	if rec.op > opDelete {
		b.reject(rec.place, rec.id, ReasonNotARequest, rec.category)
		return
	}
	cat := fileCat
	if rec.category != "" {
		cat, _ = aafCategory(rec.category)
	}
	switch {
	case cat == "":
		b.reject(rec.place, rec.id, ReasonNoCategory)
		return
	case fileCat != "" && cat != fileCat:
		b.reject(rec.place, rec.id, ReasonWrongCategory, string(cat), string(fileCat))
		return
	}
	switch cat {
	case CategoryStructure:
		b.aafStructure(rec)
	case CategoryStudent, CategoryRelative, CategoryEducNat:
		for _, p := range cat.profiles() {
			b.profiles[p] = true
		}
		b.aafPerson(rec, cat)
	case CategorySubject:
		b.aafLabel(rec, b.subjects, "ENTMatJointure", "ENTLibelleMatiere")
	case CategoryMEF:
		b.aafLabel(rec, b.mefs, "ENTMefJointure", "ENTLibelleMef")
	default:
		b.reject(rec.place, rec.id, ReasonUnknownCategory, string(cat))
	}
}

// first returns the first value of an attribute.
func (rec *aafRecord) first(name string) string {
	if vs := rec.attrs[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// has reports whether the record states an attribute (possibly empty).
func (rec *aafRecord) has(name string) bool {
	_, ok := rec.attrs[name]
	return ok
}

func (b *builder) aafStructure(rec *aafRecord) {
	id := rec.first("ENTStructureJointure")
	if id == "" {
		id = rec.id
	}
	uai := strings.ToUpper(rec.first("ENTStructureUAI"))
	if uai == "" {
		uai = strings.ToUpper(rec.first("ENTEtablissementUAI"))
	}
	if rec.op != opAdd {
		// Establishments are registered once; the ledger has no command to
		// change or close one. The record still says which UAI the
		// structure id stands for.
		if id != "" && domain.ValidUAI(uai) {
			b.structUAIs[id] = uai
		}
		b.skip(rec.place, id, ReasonEstablishmentChange, requestName(rec.op))
		return
	}
	switch {
	case uai == "":
		b.rejectStructure(rec.place, id, ReasonNoUAI)
		return
	case !domain.ValidUAI(uai):
		b.rejectStructure(rec.place, id, ReasonBadUAI, uai)
		return
	}
	name := strings.Join(strings.Fields(strings.ReplaceAll(rec.first("ENTStructureNomCourant"), "$", " ")), " ")
	if name == "" {
		b.rejectStructure(rec.place, id, ReasonNoStructureName)
		return
	}
	code, label := strings.TrimSpace(rec.first("ENTStructureCodeTypeStruct")), strings.TrimSpace(rec.first("ENTStructureTypeStruct"))
	e := &Establishment{JoinID: id, UAI: uai, Name: name, Kind: establishmentKind(code, label),
		Type: strings.TrimSpace(code + " " + label), Departement: departementOf(uai), Place: rec.place}
	for _, v := range rec.attrs["ENTStructureClasses"] {
		e.Classes = append(e.Classes, codeLabel(v))
	}
	for _, v := range rec.attrs["ENTStructureGroupes"] {
		e.Groups = append(e.Groups, codeLabel(v))
	}
	b.addStructure(e)
}

// codeLabel reads a CODE$LABEL value (the label is dropped when it is the
// code).
func codeLabel(v string) GroupLabel {
	c, l, _ := strings.Cut(v, "$")
	g := GroupLabel{Name: strings.TrimSpace(c), Label: strings.TrimSpace(l)}
	if g.Label == g.Name {
		g.Label = ""
	}
	return g
}

// aafLabel reads a nomenclature record (a subject, a MEF): its code and
// label. Records that change or delete one are used as an add: only the
// labels matter.
func (b *builder) aafLabel(rec *aafRecord, into map[string]string, idAttr, labelAttr string) {
	code := cmp.Or(rec.first(idAttr), rec.id)
	label := strings.Join(strings.Fields(rec.first(labelAttr)), " ")
	switch {
	case code == "":
		b.reject(rec.place, "", ReasonNoID)
	case rec.op == opDelete:
	case label == "":
		b.reject(rec.place, code, ReasonNoLabel, labelAttr)
	default:
		into[code] = label
	}
}

// establishmentKind maps a structure's national type: its code
// (ENTStructureCodeTypeStruct, the nature of the UAI in the national
// register) when there is one, else its label (ENTStructureTypeStruct).
// A type it does not know is KindOther: every structure becomes an
// establishment, whatever its type, so that no one is left out for it.
func establishmentKind(code, label string) domain.EstablishmentKind {
	if k, ok := natureKind(code); ok {
		return k
	}
	return labelKind(label)
}

// natureKind maps a nature code: 1xx are écoles; 3xx the second degree.
func natureKind(code string) (domain.EstablishmentKind, bool) {
	n, err := strconv.Atoi(code)
	if err != nil {
		return "", false
	}
	switch {
	case n >= 100 && n < 200:
		return domain.KindEcole, true
	case n == 320, n == 332, n == 334: // LP, école professionnelle spécialisée, SEP
		return domain.KindLyceePro, true
	case n == 340, n == 350, n == 352, n == 390: // collège, climatique, spécialisé; SEGPA
		return domain.KindCollege, true
	case n >= 300 && n < 340: // LEGT, LT, LG, LPO, climatique, expérimental, SGT...
		return domain.KindLycee, true
	case n == 370:
		return domain.KindEREA, true
	}
	return domain.KindOther, true
}

// unaccent folds the accents the labels may carry.
var unaccent = strings.NewReplacer("É", "E", "È", "E", "Ê", "E", "À", "A", "Ô", "O", "Ç", "C", "é", "E", "è", "E", "ê", "E", "ç", "C")

// labelKind maps a type label: the académies' abbreviations (CLG, LYC, LP,
// EREA...) or words (COLLEGE, LYCEE PROFESSIONNEL, ECOLE ELEMENTAIRE...).
func labelKind(label string) domain.EstablishmentKind {
	s := strings.ToUpper(unaccent.Replace(strings.TrimSpace(label)))
	words := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(" -_.$'", r) })
	if len(words) == 0 {
		return domain.KindOther
	}
	first := words[0]
	has := func(w string) bool { return slices.Contains(words, w) }
	switch {
	case first == "EREA" || first == "LEA" || (first == "ETABLISSEMENT" && has("ADAPTE")):
		return domain.KindEREA
	case first == "SEGPA" || first == "SES" || (first == "SECTION" && has("ADAPTE")) ||
		strings.HasPrefix(first, "CLG") || strings.HasPrefix(first, "COLL"):
		return domain.KindCollege
	case first == "LP" || first == "LPA" || first == "SEP" ||
		((strings.HasPrefix(first, "LYC") || first == "SECTION") && has("PROFESSIONNEL")):
		return domain.KindLyceePro
	case strings.HasPrefix(first, "LY") || first == "LG" || first == "LGT" || first == "LEGT" || first == "LPO" || first == "SGT":
		return domain.KindLycee
	case strings.HasPrefix(first, "EC") || first == "EE" || first == "EM" || first == "EP" || first == "EEPU" ||
		first == "EMPU" || first == "1ORD":
		return domain.KindEcole
	}
	return domain.KindOther
}

func requestName(o op) string {
	switch o {
	case opAdd:
		return "addRequest"
	case opModify:
		return "modifyRequest"
	default:
		return "deleteRequest"
	}
}

func (b *builder) aafPerson(rec *aafRecord, cat Category) {
	id := rec.first("ENTPersonJointure")
	if id == "" {
		id = rec.id
	}
	if id == "" {
		b.reject(rec.place, "", ReasonNoID)
		return
	}
	r := &personRecord{op: rec.op, category: cat, joinID: id, place: rec.place}
	switch cat {
	case CategoryStudent:
		r.profile = domain.ProfileStudent
	case CategoryRelative:
		r.profile = domain.ProfileRelative
	}
	if rec.op == opDelete {
		b.addPerson(r)
		return
	}
	if rec.op == opAdd {
		r.known = aspAll
	}

	// Name: the second degree's givenName and sn, the first degree's
	// ENTPersonPrenom and ENTPersonNom.
	disp := rec.first("displayName")
	first, last := "givenName", "sn"
	if !rec.has(first) && !rec.has(last) {
		first, last = "ENTPersonPrenom", "ENTPersonNom"
	}
	switch {
	case disp != "":
		r.name, r.known = disp, r.known|aspName
	case rec.has(first) && rec.has(last):
		r.name, r.known = displayName(rec.first(first), rec.first(last)), r.known|aspName
	case rec.op == opModify && (rec.has(first) || rec.has(last)):
		b.skip(rec.place, id, ReasonOneName)
	}
	if rec.op == opAdd && r.name == "" {
		b.reject(rec.place, id, ReasonNoName)
		return
	}

	var bad []*badValue
	// Establishment: ENTPersonStructRattach, every value (the first that
	// resolves is the main one, the others are the person's other
	// establishments). A student's ENTEleveStructRattachId is their id in
	// the school's own software, not a structure.
	if rec.has("ENTPersonStructRattach") {
		r.known |= aspEstablishment
		for _, v := range rec.attrs["ENTPersonStructRattach"] {
			r.structs = appendNew(r.structs, firstField(v))
		}
	}

	addGroups := func(attrName string, kind domain.GroupKind, role domain.Role) {
		if !rec.has(attrName) {
			return
		}
		r.known |= membershipAspect(kind, role)
		for _, v := range rec.attrs[attrName] {
			f := strings.Split(v, "$")
			for i := range f {
				f[i] = strings.TrimSpace(f[i])
			}
			var g groupRef
			switch {
			case len(f) >= 5 && f[0] != "" && f[3] != "":
				// The first degree's five fields: STRUCTURE$...$...$ID$LABEL.
				g = groupRef{Struct: f[0], Name: f[3], Label: f[4]}
			case len(f) >= 2 && f[0] != "" && f[1] != "":
				g = groupRef{Struct: f[0], Name: f[1]}
				if role != domain.RoleStudent && role != domain.RoleHeadTeacher && len(f) > 2 {
					g.SubjectCode = f[2]
				}
			default:
				bad = append(bad, &badValue{attrName, v, "STRUCTURE$NAME"})
				continue
			}
			if g.Label == g.Name {
				g.Label = ""
			}
			g.Kind, g.Role = kind, role
			r.groups = append(r.groups, g)
		}
	}
	switch cat {
	case CategoryStudent:
		addGroups("ENTEleveClasses", domain.GroupClass, domain.RoleStudent)
		addGroups("ENTPersonClasses", domain.GroupClass, domain.RoleStudent)
		addGroups("ENTEleveGroupes", domain.GroupTeaching, domain.RoleStudent)
		addGroups("ENTPersonGroupes", domain.GroupTeaching, domain.RoleStudent)
		if rec.has("ENTElevePersRelEleve") || rec.has("ENTEleveAutoriteParentale") {
			r.known |= aspRelatives
			bad = append(bad, r.aafRelatives(rec)...)
		}
		if rec.has("ENTEleveMEF") || rec.has("ENTEleveLibelleMEF") || rec.has("ENTEleveNiveau") {
			r.known |= aspMEF
		}
		// ENTEleveStructRattachId: the student's id in the school's
		// software, by which ÉduConnect's FrEduVecteur names them.
		if rec.has("ENTEleveStructRattachId") {
			r.known |= aspStudentID
			r.studentID = rec.first("ENTEleveStructRattachId")
			if r.studentID != "" && !domain.ValidStudentID(r.studentID) {
				bad = append(bad, &badValue{"ENTEleveStructRattachId", r.studentID, "1 to 32 letters, digits and dashes"})
			}
		}
		r.mef = rec.first("ENTEleveMEF")
		r.mefLabel = cmp.Or(rec.first("ENTEleveLibelleMEF"), rec.first("ENTEleveNiveau"))
		r.known &^= aspFunction | aspTeachClasses | aspTeachGroups | aspHeadOf
	case CategoryRelative:
		for _, attr := range []string{"ENTAuxPersRelEleveEleve", "ENTPersRelEleveEleve"} {
			for _, v := range rec.attrs[attr] {
				if child := firstField(v); child != "" {
					r.children = appendNew(r.children, child)
				}
			}
		}
		r.known &= aspName | aspEstablishment
	case CategoryEducNat:
		// Older feeds list classes without subjects; the subjects of
		// ENTAuxEnsClassesMatieres are merged in.
		addGroups("ENTAuxEnsClasses", domain.GroupClass, domain.RoleTeacher)
		addGroups("ENTAuxEnsClassesMatieres", domain.GroupClass, domain.RoleTeacher)
		addGroups("ENTPersonClasses", domain.GroupClass, domain.RoleTeacher)
		addGroups("ENTAuxEnsGroupes", domain.GroupTeaching, domain.RoleTeacher)
		addGroups("ENTAuxEnsGroupesMatieres", domain.GroupTeaching, domain.RoleTeacher)
		addGroups("ENTPersonGroupes", domain.GroupTeaching, domain.RoleTeacher)
		addGroups("ENTAuxEnsClassesPrincipal", domain.GroupClass, domain.RoleHeadTeacher)
		if rec.op == opAdd || rec.has("ENTPersonFonctions") || rec.has("ENTEnsFonctionDir") ||
			rec.has("ENTPersonCategorieEnseignant") || rec.has("PersEducNatPresenceDevantEleves") {
			r.known |= aspFunction
			posts, err := aafPosts(rec.attrs["ENTPersonFonctions"], rec.attrs["ENTEnsFonctionDir"])
			if err != nil {
				bad = append(bad, err)
			}
			r.posts = posts
			if len(r.structs) == 0 && rec.op == opAdd {
				// Teachers may name their structures only in their
				// functions.
				for _, p := range posts {
					r.structs = appendNew(r.structs, p.Struct)
				}
			}
			var home string
			if len(r.structs) > 0 {
				home = r.structs[0]
			}
			r.profile, r.function = educNatProfile(posts, home,
				yes(rec.first("ENTPersonCategorieEnseignant")) || yes(rec.first("PersEducNatPresenceDevantEleves")))
		}
		r.known &^= aspStudentClasses | aspStudentGroups | aspRelatives | aspMEF | aspStudentID
	}
	if len(bad) > 0 {
		// The first malformed value says why: one rejection per record.
		b.reject(rec.place, id, ReasonBadValue, bad[0].attr, bad[0].value, bad[0].want)
		return
	}
	b.addPerson(r)
}

// aafRelatives reads a student's relatives: the second degree's
// ENTElevePersRelEleve (ID$RELATION$FINANCIAL$LEGAL$CONTACT$PAYMENT), the
// first degree's ENTEleveAutoriteParentale (the ids of the legal
// guardians, first field).
func (r *personRecord) aafRelatives(rec *aafRecord) []*badValue {
	var bad []*badValue
	seen := make(map[string]bool)
	for _, v := range rec.attrs["ENTElevePersRelEleve"] {
		f := strings.Split(v, "$")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) < 4 || f[0] == "" {
			bad = append(bad, &badValue{"ENTElevePersRelEleve", v, "ID$RELATION$FINANCIAL$LEGAL$CONTACT$PAYMENT"})
			continue
		}
		ref := RelativeRef{JoinID: f[0], Relation: relationOf(f[1]), Financial: f[2] == "1"}
		switch f[3] {
		case "", "0":
		case "1", "2":
			ref.LegalGuardian, ref.LegalRank = true, int(f[3][0]-'0')
		default:
			ref.LegalGuardian = true
		}
		ref.Contact = len(f) > 4 && f[4] == "1"
		if !seen[ref.JoinID] {
			seen[ref.JoinID] = true
			r.relatives = append(r.relatives, ref)
		}
	}
	for _, v := range rec.attrs["ENTEleveAutoriteParentale"] {
		id := firstField(v)
		if id == "" {
			bad = append(bad, &badValue{"ENTEleveAutoriteParentale", v, "ID"})
			continue
		}
		if !seen[id] {
			seen[id] = true
			r.relatives = append(r.relatives, RelativeRef{JoinID: id, LegalGuardian: true})
		}
	}
	return bad
}

// relations maps the feeds' codes of the lien de parenté (SIECLE's,
// carried by ENTElevePersRelEleve) to the ledger's relations.
var relations = map[string]domain.Relation{
	"10": domain.RelationMother,
	"20": domain.RelationFather,
	"37": domain.RelationSibling,      // fratrie
	"38": domain.RelationGrandparent,  // ascendant
	"39": domain.RelationFamily,       // autre membre de la famille
	"41": domain.RelationEducator,     // éducateur
	"42": domain.RelationFosterCarer,  // assistant familial
	"50": domain.RelationTutor,        // tuteur
	"51": domain.RelationChildWelfare, // aide sociale à l'enfance
	"70": domain.RelationSelf,         // l'élève lui-même
	"90": domain.RelationOther,        // autre lien
}

// relationOf maps a lien de parenté code; an unknown code is "other", none
// is unknown.
func relationOf(code string) domain.Relation {
	if code == "" {
		return domain.RelationUnknown
	}
	if r, ok := relations[code]; ok {
		return r
	}
	return domain.RelationOther
}

// firstField returns the first field of a compound value.
func firstField(v string) string {
	f, _, _ := strings.Cut(v, "$")
	return strings.TrimSpace(f)
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// aafPosts reads the functions of ENTPersonFonctions
// (STRUCTURE$CODE$LABEL$DISCIPLINE$DISCIPLINE_LABEL; the code "-" is no
// function) and the directions of ENTEnsFonctionDir (the structures a
// teacher of the first degree directs).
func aafPosts(functions, directs []string) ([]PostRef, *badValue) {
	var out []PostRef
	for _, v := range functions {
		f := strings.Split(v, "$")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) < 2 || f[0] == "" {
			return nil, &badValue{"ENTPersonFonctions", v, "STRUCTURE$CODE$LABEL$..."}
		}
		code := strings.ToUpper(f[1])
		if code == "" || code == "-" {
			continue
		}
		p := PostRef{Struct: f[0], Code: code}
		if len(f) > 2 {
			p.Label = f[2]
		}
		if len(f) > 3 {
			p.Discipline = f[3]
		}
		if len(f) > 4 {
			p.DisciplineLabel = f[4]
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, v := range directs {
		s := firstField(v)
		if s == "" {
			return nil, &badValue{"ENTEnsFonctionDir", v, "STRUCTURE"}
		}
		if !slices.ContainsFunc(out, func(p PostRef) bool { return p.Struct == s && p.Code == "DIR" }) {
			out = append(out, PostRef{Struct: s, Code: "DIR"})
		}
	}
	return out, nil
}

// badValue is a compound value with too few fields.
type badValue struct{ attr, value, want string }

func (e *badValue) Error() string {
	return fmt.Sprintf("%s value %q is not %s", e.attr, e.value, e.want)
}

// yes reads an AAF boolean.
func yes(s string) bool {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "O", "OUI", "Y", "YES", "TRUE", "1":
		return true
	}
	return false
}

// functionCodes maps the function codes of ENTPersonFonctions to the
// ledger. Teaching codes (ENS, DOC) make a teacher and are not here.
var functionCodes = map[string]domain.Function{
	"DIR": domain.FunctionHead,               // direction (see directionFunction)
	"EDU": domain.FunctionCPE,                // éducation: CPE
	"AED": domain.FunctionEducationAssistant, // assistant d'éducation
	"SUR": domain.FunctionEducationAssistant, // surveillance
	"ADF": domain.FunctionSecretary,          // administration, secrétariat
	"ORI": domain.FunctionOther,              // orientation
	"MDS": domain.FunctionOther,              // médico-social
	"LAB": domain.FunctionOther,              // laboratoire
	"OUV": domain.FunctionOther,              // ouvrier, services
	"CTR": domain.FunctionOther,              // chef de travaux
	"ASE": domain.FunctionOther,              // assistant étranger
	"ALB": domain.FunctionOther,
	"TEC": domain.FunctionOther,
	"CFC": domain.FunctionOther,
	"ACP": domain.FunctionOther,
	"AES": domain.FunctionOther,
}

// directionDisciplines tells head from deputy by the discipline code of a
// DIR function: D0010 is the chef d'établissement, D0020 the adjoint.
// Another or no code is taken as the head.
var directionDisciplines = map[string]domain.Function{
	"D0010": domain.FunctionHead,
	"D0020": domain.FunctionDeputy,
}

// functionOf maps one post to the ledger's function.
func functionOf(p PostRef) domain.Function {
	fn, ok := functionCodes[p.Code]
	if !ok {
		return domain.FunctionOther
	}
	if p.Code == "DIR" {
		if d, ok := directionDisciplines[strings.ToUpper(p.Discipline)]; ok {
			return d
		}
	}
	return fn
}

// functionRank orders functions: a person holding several gets the first.
var functionRank = map[domain.Function]int{
	domain.FunctionHead: 1, domain.FunctionDeputy: 2, domain.FunctionCPE: 3,
	domain.FunctionSecretary: 4, domain.FunctionEducationAssistant: 5, domain.FunctionOther: 6,
}

// educNatProfile decides a PersEducNat person's profile and function from
// their posts (preferring those in their attachment structure home):
// direction or éducation make personnel, whatever else they do (personnel
// may teach a group too); otherwise teaching (ENS, DOC, or the teacher
// flags) makes a teacher; otherwise personnel with the best-ranked function.
func educNatProfile(posts []PostRef, home string, teacherFlag bool) (domain.Profile, domain.Function) {
	teaches := teacherFlag
	var best domain.Function
	var inHome bool
	for _, p := range posts {
		if p.Code == "ENS" || p.Code == "DOC" {
			teaches = true
			continue
		}
		fn := functionOf(p)
		here := home == "" || p.Struct == home
		// A function in the home structure beats any elsewhere.
		if best == "" || (here && !inHome) || (here == inHome && functionRank[fn] < functionRank[best]) {
			best, inHome = fn, here
		}
	}
	switch {
	case best == domain.FunctionHead || best == domain.FunctionDeputy || best == domain.FunctionCPE:
		return domain.ProfilePersonnel, best
	case teaches:
		return domain.ProfileTeacher, domain.FunctionNone
	case best != "":
		return domain.ProfilePersonnel, best
	}
	return domain.ProfilePersonnel, domain.FunctionOther
}
