package directoryimport

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// CSV files hold one profile each (the caller says which). The first line
// names the columns, in any order and case; the separator is ';' or ',' (the
// header decides); the encoding is UTF-8 (a BOM is skipped) unless the
// caller names another, and the bytes must match it (see byteCheck). Lists inside a cell are separated by '|'.
//
//	all profiles  id (required: the join key), uai, last_name, first_name,
//	              display_name (instead of the two names)
//	student       classes, groups, relatives (legal guardians' ids),
//	              contacts (other relatives' ids)
//	relative      children (students' ids: a relative without uai gets a
//	              child's establishment)
//	teacher       classes and groups as NAME:SUBJECT items, head_of (classes)
//	personnel     function (head, deputy, cpe, secretary, other, or the AAF
//	              codes DIR, EDU, ADF...), classes and groups taught, as
//	              for teachers
//
// Unknown columns are ignored. docs/directory.md has examples.

// csvColumns lists the columns each profile reads.
var csvColumns = map[domain.Profile][]string{
	domain.ProfileStudent:   {"classes", "groups", "relatives", "contacts"},
	domain.ProfileRelative:  {"children"},
	domain.ProfileTeacher:   {"classes", "groups", "head_of"},
	domain.ProfilePersonnel: {"function", "classes", "groups", "head_of"},
}

// csvCategory returns the category of a CSV profile.
func csvCategory(p domain.Profile) (Category, bool) {
	switch p {
	case domain.ProfileStudent:
		return CategoryStudent, true
	case domain.ProfileRelative:
		return CategoryRelative, true
	case domain.ProfileTeacher, domain.ProfilePersonnel:
		return CategoryEducNat, true
	}
	return "", false
}

// parseCSV streams one CSV file of profile into b. A malformed line is
// rejected and reading goes on; a file without the required columns is an
// error.
func (b *builder) parseCSV(ctx context.Context, name string, r io.Reader, profile domain.Profile, encoding string, fr *FileReport) error {
	cat, ok := csvCategory(profile)
	if !ok {
		return fmt.Errorf("%s: profile %q is not student, relative, teacher or personnel", name, profile)
	}
	fr.Category, fr.Mode, fr.Encoding = cat, ModeFull, "UTF-8"
	// The bytes are checked as they are read, before any decoding: a CSV
	// file says nothing of its encoding, and one read in the wrong one
	// would store garbled names.
	fr.check = &byteCheck{r: r}
	r = fr.check
	fr.declared = strings.ToLower(strings.TrimSpace(encoding))
	if !isUTF8(fr.declared) {
		dec, err := charsetReader(encoding, r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r, fr.Encoding = dec, strings.ToUpper(encoding)
	}
	br := bufio.NewReader(r)
	header, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: read header: %w", name, err)
	}
	header = strings.TrimPrefix(header, "\ufeff")
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%s: empty file: no header line", name)
	}
	cr := csv.NewReader(io.MultiReader(strings.NewReader(header), br))
	if strings.Count(header, ";") > strings.Count(header, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1 // checked here, to reject the line and go on
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s line 1: header: %w", name, err)
	}
	col := make(map[string]int, len(head))
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["id"]; !ok {
		return fmt.Errorf("%s line 1: no id column (columns: %s)", name, strings.Join(head, ", "))
	}
	_, hasDisplay := col["display_name"]
	_, hasLast := col["last_name"]
	if !hasDisplay && !hasLast {
		return fmt.Errorf("%s line 1: no last_name or display_name column", name)
	}
	if _, ok := col["function"]; !ok && profile == domain.ProfilePersonnel {
		return fmt.Errorf("%s line 1: a personnel file needs a function column", name)
	}
	if _, ok := col["uai"]; !ok && profile != domain.ProfileRelative {
		return fmt.Errorf("%s line 1: a %s file needs a uai column", name, profile)
	}
	b.profiles[profile] = true

	blank := func(rec []string) bool { return len(rec) == 1 && strings.TrimSpace(rec[0]) == "" }
	return b.readCSVLines(ctx, cr, name, fr, blank, func(place Place, rec []string) {
		b.csvRecord(place, profile, cat, head, col, rec)
	})
}

// readCSVLines reads cr's lines after its header, each through record,
// counting each line's rejections on fr: a line CSV cannot read is
// rejected with its place, unless reading cannot go past it; lines blank
// says are blank are skipped.
func (b *builder) readCSVLines(ctx context.Context, cr *csv.Reader, name string, fr *FileReport, blank func([]string) bool, record func(Place, []string)) error {
	lastOffset := cr.InputOffset()
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			if cr.InputOffset() == lastOffset {
				return fmt.Errorf("%s line %d: %w", name, perr.StartLine, err)
			}
			lastOffset = cr.InputOffset()
			b.records++
			fr.Records++
			fr.Rejected++
			b.reject(Place{File: name, Line: perr.StartLine}, "", ReasonCSVSyntax, perr.Err.Error())
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		lastOffset = cr.InputOffset()
		if blank(rec) {
			continue
		}
		b.records++
		fr.Records++
		before := len(b.rejected)
		record(Place{File: name, Line: line}, rec)
		fr.Rejected += len(b.rejected) - before
	}
}

// csvRecord turns one CSV line into a person record, or rejects it.
func (b *builder) csvRecord(place Place, profile domain.Profile, cat Category, head []string, col map[string]int, rec []string) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	id := get("id")
	if len(rec) != len(head) {
		b.reject(place, id, ReasonCSVFields, strconv.Itoa(len(rec)), strconv.Itoa(len(head)))
		return
	}
	if id == "" {
		b.reject(place, "", ReasonNoID)
		return
	}
	r := &personRecord{op: opAdd, category: cat, joinID: id, place: place, profile: profile}
	r.known = aspName | aspEstablishment | aspFunction
	r.name = get("display_name")
	if r.name == "" {
		r.name = displayName(get("first_name"), get("last_name"))
	}
	if r.name == "" {
		b.reject(place, id, ReasonNoName)
		return
	}
	if uai := strings.ToUpper(get("uai")); uai != "" {
		if !domain.ValidUAI(uai) {
			b.reject(place, id, ReasonBadUAI, uai)
			return
		}
		r.structs = []string{uai}
	} else if profile != domain.ProfileRelative {
		b.reject(place, id, ReasonNoUAI)
		return
	}
	list := func(name string) []string {
		var out []string
		for _, v := range strings.Split(get(name), "|") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	groups := func(name string, kind domain.GroupKind, role domain.Role, withSubject bool) {
		r.known |= membershipAspect(kind, role)
		for _, v := range list(name) {
			g := groupRef{Name: v, Kind: kind, Role: role}
			if withSubject {
				if n, s, ok := strings.Cut(v, ":"); ok {
					g.Name, g.Subject = strings.TrimSpace(n), strings.TrimSpace(s)
				}
			}
			if g.Name != "" {
				r.groups = append(r.groups, g)
			}
		}
	}
	switch profile {
	case domain.ProfileStudent:
		groups("classes", domain.GroupClass, domain.RoleStudent, false)
		groups("groups", domain.GroupTeaching, domain.RoleStudent, false)
		r.known |= aspRelatives
		for _, rel := range list("relatives") {
			r.relatives = append(r.relatives, RelativeRef{JoinID: rel, LegalGuardian: true})
		}
		for _, rel := range list("contacts") {
			r.relatives = append(r.relatives, RelativeRef{JoinID: rel})
		}
	case domain.ProfileRelative:
		r.children = list("children")
	case domain.ProfilePersonnel:
		f, ok := csvFunction(get("function"))
		if !ok {
			b.reject(place, id, ReasonBadFunction, get("function"))
			return
		}
		r.function = f
		fallthrough
	case domain.ProfileTeacher:
		groups("classes", domain.GroupClass, domain.RoleTeacher, true)
		groups("groups", domain.GroupTeaching, domain.RoleTeacher, true)
		groups("head_of", domain.GroupClass, domain.RoleHeadTeacher, false)
	}
	b.addPerson(r)
}

// csvFunction reads a personnel function: the ledger's names or AAF codes.
func csvFunction(s string) (domain.Function, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return domain.FunctionOther, true
	}
	if f := domain.Function(strings.ToLower(s)); f != domain.FunctionNone && f.Valid() {
		return f, true
	}
	f, ok := functionCodes[strings.ToUpper(s)]
	return f, ok
}
