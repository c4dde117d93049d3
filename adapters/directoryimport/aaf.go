package directoryimport

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/text/encoding/charmap"

	"github.com/schoollife/ledger/domain"
)

// AAF files ("ficAlimMENESR", version AAF-VE1301): one root element holding
// addRequest / modifyRequest / deleteRequest records, each with
// operationalAttributes (the record's category), an identifier and either
// attributes (add) or modifications (modify), as attr/modification elements
// named after LDAP attributes with one or more value elements. Compound
// values separate their fields with '$'. docs/directory.md maps every
// attribute used.

// aafName matches the AAF file names: ENT_Complet_20200101_Eleve_0000.xml,
// ENT_Delta_..., possibly with a prefix (ENT_0130001A_Complet_...).
var aafName = regexp.MustCompile(`(?i)(Complet|Delta)_[0-9]+_([A-Za-z]+)_[0-9]+\.xml$`)

// aafFileInfo reads the mode and category from an AAF file name.
func aafFileInfo(name string) (Mode, Category) {
	m := aafName.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return ModeAuto, ""
	}
	mode := ModeDelta
	if strings.EqualFold(m[1], "Complet") {
		mode = ModeFull
	}
	for _, c := range []Category{CategoryStructure, CategoryStudent, CategoryRelative, CategoryEducNat} {
		if strings.EqualFold(m[2], string(c)) {
			return mode, c
		}
	}
	return mode, Category(m[2])
}

// charsetReader decodes the encodings AAF files declare besides UTF-8.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-15", "iso8859-15", "latin-9", "latin9":
		return charmap.ISO8859_15.NewDecoder().Reader(input), nil
	case "iso-8859-1", "iso8859-1", "latin-1", "latin1":
		return charmap.ISO8859_1.NewDecoder().Reader(input), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(input), nil
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported (UTF-8, ISO-8859-15, ISO-8859-1, windows-1252)", label)
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
	mode, fileCat := aafFileInfo(name)
	fr.Mode, fr.Category = mode, fileCat
	switch fileCat {
	case CategoryStructure, CategoryStudent, CategoryRelative, CategoryEducNat, "":
	default:
		// Subjects (MatiereEducNat), MEFs...: not part of the ledger's
		// directory. Read nothing.
		fr.Ignored = true
		return nil
	}
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		fr.Encoding = strings.ToUpper(label)
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
		b.reject(rec.place, rec.id, "%s is not addRequest, modifyRequest or deleteRequest", rec.category)
		return
	}
	cat := Category(rec.category)
	if cat == "" {
		cat = fileCat
	}
	switch {
	case cat == "":
		b.reject(rec.place, rec.id, "no category: neither operationalAttributes nor the file name say what the record is")
		return
	case fileCat != "" && cat != fileCat:
		b.reject(rec.place, rec.id, "a %s record in a %s file", cat, fileCat)
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
		b.reject(rec.place, rec.id, "category %q is not EtabEducNat, Eleve, PersRelEleve or PersEducNat", cat)
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
	if rec.op != opAdd {
		// Establishments are registered once; the ledger has no command to
		// change or close one.
		b.skip(rec.place, id, "establishment %s: only addRequest records of establishments are used", requestName(rec.op))
		return
	}
	uai := strings.ToUpper(rec.first("ENTStructureUAI"))
	if uai == "" {
		uai = strings.ToUpper(rec.first("ENTEtablissementUAI"))
	}
	if !domain.ValidUAI(uai) {
		b.reject(rec.place, id, "ENTStructureUAI %q is not seven digits and a letter", uai)
		return
	}
	name := strings.Join(strings.Fields(strings.ReplaceAll(rec.first("ENTStructureNomCourant"), "$", " ")), " ")
	if name == "" {
		b.reject(rec.place, id, "ENTStructureNomCourant is empty")
		return
	}
	kind, ok := establishmentKind(rec.first("ENTStructureTypeStruct"))
	if !ok {
		b.reject(rec.place, id, "ENTStructureTypeStruct %q is not a collège, lycée or école type", rec.first("ENTStructureTypeStruct"))
		return
	}
	e := &Establishment{JoinID: id, UAI: uai, Name: name, Kind: kind, Departement: departementOf(uai), Place: rec.place}
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

// establishmentKind maps ENTStructureTypeStruct.
func establishmentKind(s string) (domain.EstablishmentKind, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", false
	case strings.HasPrefix(s, "CLG"), strings.HasPrefix(s, "COLL"):
		return domain.KindCollege, true
	case strings.HasPrefix(s, "LY"), strings.HasPrefix(s, "LP"), strings.HasPrefix(s, "LG"),
		s == "SEP", s == "SES", s == "SGT", s == "EREA", s == "EREA-LEA":
		return domain.KindLycee, true
	case strings.HasPrefix(s, "EC"), s == "EE", s == "EM", s == "EP", s == "EEPU", s == "EMPU":
		return domain.KindEcole, true
	}
	return "", false
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
		b.reject(rec.place, "", "no ENTPersonJointure and no identifier")
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
		b.skip(rec.place, id, "modifyRequest changes only one of givenName and sn: the display name is kept")
	}
	if rec.op == opAdd && r.name == "" {
		b.reject(rec.place, id, "no name: sn and givenName are empty")
		return
	}

	// Establishment: a student's ENTEleveStructRattachId first.
	if rec.has("ENTEleveStructRattachId") || rec.has("ENTPersonStructRattach") {
		r.known |= aspEstablishment
		r.structs = append(r.structs, rec.attrs["ENTEleveStructRattachId"]...)
		r.structs = append(r.structs, rec.attrs["ENTPersonStructRattach"]...)
	} else if rec.op == opAdd && cat != CategoryRelative {
		// Teachers may name their structures only in their functions.
		for _, f := range rec.attrs["ENTPersonFonctions"] {
			if s, _, ok := strings.Cut(f, "$"); ok && s != "" {
				r.structs = append(r.structs, s)
			}
		}
	}

	var bad []string
	addGroups := func(attrName string, kind domain.GroupKind, role domain.Role, minFields int) {
		if !rec.has(attrName) {
			return
		}
		r.known |= membershipAspect(kind, role)
		for _, v := range rec.attrs[attrName] {
			f := strings.Split(v, "$")
			if len(f) < minFields || strings.TrimSpace(f[0]) == "" || strings.TrimSpace(f[1]) == "" {
				bad = append(bad, fmt.Sprintf("%s value %q is not STRUCTURE$NAME", attrName, v))
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
					bad = append(bad, fmt.Sprintf("ENTElevePersRelEleve value %q is not ID$RELATION$FINANCIAL$LEGAL$CONTACT$PAYMENT", v))
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
				bad = append(bad, err.Error())
			}
			r.profile, r.function = p, f
		}
		r.known &^= aspStudentClasses | aspStudentGroups | aspRelatives
	}
	if len(bad) > 0 {
		b.reject(rec.place, id, "%s", strings.Join(bad, "; "))
		return
	}
	b.addPerson(r)
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
func educNatProfile(functions []string, home string, teacherFlag bool) (domain.Profile, domain.Function, error) {
	teaches := teacherFlag
	var best domain.Function
	var inHome bool
	for _, v := range functions {
		f := strings.Split(v, "$")
		if len(f) < 2 {
			return "", "", fmt.Errorf("ENTPersonFonctions value %q is not STRUCTURE$CODE$LABEL$...", v)
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
