package directoryimport

import (
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

// aafIgnored are the AAF categories the ledger does not read.
var aafIgnored = []string{"MatiereEducNat", "MatEducNat", "MefEducNat"}

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
	known := false
	for _, c := range []Category{CategoryStructure, CategoryStudent, CategoryRelative, CategoryEducNat} {
		if strings.EqualFold(m[2], string(c)) {
			f.category, known = c, true
		}
	}
	for _, c := range aafIgnored {
		if strings.EqualFold(m[2], c) {
			f.category, known = Category(c), true
		}
	}
	if !known {
		if f.mode == ModeAuto {
			return f // not an AAF name: the records say their category
		}
		f.category = Category(m[2])
	}
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
	case CategoryStructure, CategoryStudent, CategoryRelative, CategoryEducNat, "":
	default:
		// Subjects (MatiereEducNat), MEFs...: not part of the ledger's
		// directory. Read nothing.
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
				before := len(b.rejected)
				b.aafRecord(rec, fileCat)
				fr.Rejected += len(b.rejected) - before
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
	cat := Category(rec.category)
	if cat == "" {
		cat = fileCat
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
		e.Classes = append(e.Classes, codeOf(v))
	}
	for _, v := range rec.attrs["ENTStructureGroupes"] {
		e.Groups = append(e.Groups, codeOf(v))
	}
	b.addStructure(e)
}

// codeOf returns the first field of a CODE$LABEL value.
func codeOf(v string) string {
	c, _, _ := strings.Cut(v, "$")
	return strings.TrimSpace(c)
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

	// Name.
	first, last, disp := rec.first("givenName"), rec.first("sn"), rec.first("displayName")
	switch {
	case disp != "":
		r.name, r.known = disp, r.known|aspName
	case rec.has("givenName") && rec.has("sn"):
		r.name, r.known = displayName(first, last), r.known|aspName
	case rec.op == opModify && (rec.has("givenName") || rec.has("sn")):
		b.skip(rec.place, id, ReasonOneName)
	}
	if rec.op == opAdd && r.name == "" {
		b.reject(rec.place, id, ReasonNoName)
		return
	}

	// Establishment: ENTPersonStructRattach. (A student's
	// ENTEleveStructRattachId is their id in the school's own software,
	// not a structure.)
	if rec.has("ENTPersonStructRattach") {
		r.known |= aspEstablishment
		r.structs = append(r.structs, rec.attrs["ENTPersonStructRattach"]...)
	} else if rec.op == opAdd && cat != CategoryRelative {
		// Teachers may name their structures only in their functions.
		for _, f := range rec.attrs["ENTPersonFonctions"] {
			if s, _, ok := strings.Cut(f, "$"); ok && s != "" {
				r.structs = append(r.structs, s)
			}
		}
	}

	var bad []*badValue
	addGroups := func(attrName string, kind domain.GroupKind, role domain.Role, minFields int) {
		if !rec.has(attrName) {
			return
		}
		r.known |= membershipAspect(kind, role)
		for _, v := range rec.attrs[attrName] {
			f := strings.Split(v, "$")
			if len(f) < minFields || strings.TrimSpace(f[0]) == "" || strings.TrimSpace(f[1]) == "" {
				bad = append(bad, &badValue{attrName, v, "STRUCTURE$NAME"})
				continue
			}
			g := groupRef{Struct: strings.TrimSpace(f[0]), Name: strings.TrimSpace(f[1]), Kind: kind, Role: role}
			if role != domain.RoleStudent && role != domain.RoleHeadTeacher && len(f) > 2 {
				g.Subject = strings.TrimSpace(f[2])
			}
			r.groups = append(r.groups, g)
		}
	}
	switch cat {
	case CategoryStudent:
		addGroups("ENTEleveClasses", domain.GroupClass, domain.RoleStudent, 2)
		addGroups("ENTEleveGroupes", domain.GroupTeaching, domain.RoleStudent, 2)
		if rec.has("ENTElevePersRelEleve") {
			r.known |= aspRelatives
			for _, v := range rec.attrs["ENTElevePersRelEleve"] {
				f := strings.Split(v, "$")
				if len(f) < 4 || strings.TrimSpace(f[0]) == "" {
					bad = append(bad, &badValue{"ENTElevePersRelEleve", v, "ID$RELATION$FINANCIAL$LEGAL$CONTACT$PAYMENT"})
					continue
				}
				legal := strings.TrimSpace(f[3])
				r.relatives = append(r.relatives, RelativeRef{JoinID: strings.TrimSpace(f[0]), LegalGuardian: legal != "" && legal != "0"})
			}
		}
		r.known &^= aspFunction | aspTeachClasses | aspTeachGroups | aspHeadOf
	case CategoryRelative:
		r.children = rec.attrs["ENTAuxPersRelEleveEleve"]
		r.known &= aspName | aspEstablishment
	case CategoryEducNat:
		// Older feeds list classes without subjects; the subjects of
		// ENTAuxEnsClassesMatieres are merged in.
		addGroups("ENTAuxEnsClasses", domain.GroupClass, domain.RoleTeacher, 2)
		addGroups("ENTAuxEnsClassesMatieres", domain.GroupClass, domain.RoleTeacher, 2)
		addGroups("ENTAuxEnsGroupes", domain.GroupTeaching, domain.RoleTeacher, 2)
		addGroups("ENTAuxEnsGroupesMatieres", domain.GroupTeaching, domain.RoleTeacher, 2)
		addGroups("ENTAuxEnsClassesPrincipal", domain.GroupClass, domain.RoleHeadTeacher, 2)
		if rec.op == opAdd || rec.has("ENTPersonFonctions") || rec.has("ENTPersonCategorieEnseignant") || rec.has("PersEducNatPresenceDevantEleves") {
			r.known |= aspFunction
			var home string
			if len(r.structs) > 0 {
				home = r.structs[0]
			}
			p, f, err := educNatProfile(rec.attrs["ENTPersonFonctions"], home,
				yes(rec.first("ENTPersonCategorieEnseignant")) || yes(rec.first("PersEducNatPresenceDevantEleves")))
			if err != nil {
				bad = append(bad, err)
			}
			r.profile, r.function = p, f
		}
		r.known &^= aspStudentClasses | aspStudentGroups | aspRelatives
	}
	if len(bad) > 0 {
		// The first malformed value says why: one rejection per record.
		b.reject(rec.place, id, ReasonBadValue, bad[0].attr, bad[0].value, bad[0].want)
		return
	}
	b.addPerson(r)
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

// functionCodes maps the function codes of ENTPersonFonctions
// (STRUCTURE$CODE$LABEL$DISCIPLINE$DISCIPLINE_LABEL) to the ledger.
// Teaching codes make a teacher; the others make personnel.
var functionCodes = map[string]domain.Function{
	"DIR": domain.FunctionHead,      // direction (the deputy too: see educNatProfile)
	"EDU": domain.FunctionCPE,       // éducation: CPE
	"AED": domain.FunctionSecretary, // assistant d'éducation, vie scolaire
	"SUR": domain.FunctionSecretary, // surveillance, vie scolaire
	"ADF": domain.FunctionSecretary, // administration, secrétariat
	"ORI": domain.FunctionOther,     // orientation
	"MDS": domain.FunctionOther,     // médico-social
	"LAB": domain.FunctionOther,     // laboratoire
	"OUV": domain.FunctionOther,     // ouvrier, services
	"CTR": domain.FunctionOther,     // contractuel
	"ASE": domain.FunctionOther,     // assistant étranger
	"ALB": domain.FunctionOther,
	"TEC": domain.FunctionOther,
	"CFC": domain.FunctionOther,
	"ACP": domain.FunctionOther,
	"AES": domain.FunctionOther,
}

// functionRank orders functions: a person holding several gets the first.
var functionRank = map[domain.Function]int{
	domain.FunctionHead: 1, domain.FunctionDeputy: 2, domain.FunctionCPE: 3,
	domain.FunctionSecretary: 4, domain.FunctionOther: 5,
}

// educNatProfile decides a PersEducNat person's profile and function from
// their functions (preferring those in their attachment structure home):
// direction or éducation make personnel, whatever else they do (personnel
// may teach a group too); otherwise teaching (ENS, DOC, or the teacher
// flags) makes a teacher; otherwise personnel with the best-ranked function.
func educNatProfile(functions []string, home string, teacherFlag bool) (domain.Profile, domain.Function, *badValue) {
	teaches := teacherFlag
	var best domain.Function
	var inHome bool
	for _, v := range functions {
		f := strings.Split(v, "$")
		if len(f) < 2 {
			return "", "", &badValue{"ENTPersonFonctions", v, "STRUCTURE$CODE$LABEL$..."}
		}
		code := strings.ToUpper(strings.TrimSpace(f[1]))
		here := home == "" || strings.TrimSpace(f[0]) == home
		switch code {
		case "ENS", "DOC":
			teaches = true
			continue
		case "-", "":
			continue
		}
		fn, ok := functionCodes[code]
		if !ok {
			fn = domain.FunctionOther
		}
		if fn == domain.FunctionHead && len(f) > 4 && strings.Contains(strings.ToUpper(f[4]), "ADJOINT") {
			fn = domain.FunctionDeputy
		}
		// A function in the home structure beats any elsewhere.
		if best == "" || (here && !inHome) || (here == inHome && functionRank[fn] < functionRank[best]) {
			best, inHome = fn, here
		}
	}
	switch {
	case best == domain.FunctionHead || best == domain.FunctionDeputy || best == domain.FunctionCPE:
		return domain.ProfilePersonnel, best, nil
	case teaches:
		return domain.ProfileTeacher, domain.FunctionNone, nil
	case best != "":
		return domain.ProfilePersonnel, best, nil
	}
	return domain.ProfilePersonnel, domain.FunctionOther, nil
}
