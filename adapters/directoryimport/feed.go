package directoryimport

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// Category is what a file (or an AAF record) describes.
type Category string

// Categories, named after the AAF files.
const (
	CategoryStructure Category = "EtabEducNat"  // establishments
	CategoryStudent   Category = "Eleve"        // students
	CategoryRelative  Category = "PersRelEleve" // students' relatives
	CategoryEducNat   Category = "PersEducNat"  // teachers and personnel
	// Nomenclatures: the labels of the codes the other files use.
	CategorySubject Category = "MatiereEducNat" // subjects (matières)
	CategoryMEF     Category = "MefEducNat"     // MEF (courses of study and years)
)

// profiles returns the profiles a category of person records covers.
func (c Category) profiles() []domain.Profile {
	switch c {
	case CategoryStudent:
		return []domain.Profile{domain.ProfileStudent}
	case CategoryRelative:
		return []domain.Profile{domain.ProfileRelative}
	case CategoryEducNat:
		return []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel}
	}
	return nil
}

// Mode says whether a feed lists everyone (full) or only changes (delta).
type Mode string

// Modes.
const (
	// ModeAuto reads the mode from AAF file names (ENT_Complet_* / ENT_Delta_*;
	// delta when they do not say) and takes CSV exports as full.
	ModeAuto  Mode = "auto"
	ModeFull  Mode = "full"
	ModeDelta Mode = "delta"
)

// Place is where a record starts: its file and line.
type Place struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

func (p Place) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Issue is a record the import rejected, or a part of the feed it left
// aside, with its place and the reason: a stable code with its arguments
// (the portal words them in French), and the same in English words.
type Issue struct {
	Place
	// ID is the record's join id, when it could be read.
	ID   string     `json:"id,omitempty"`
	Code ReasonCode `json:"code,omitempty"`
	Args []string   `json:"args,omitempty"`
	// Whole is set when the person was left out whole: nothing changed
	// for them.
	Whole  bool   `json:"whole,omitempty"`
	Reason string `json:"reason"`
}

func (i Issue) String() string {
	if i.ID != "" {
		return fmt.Sprintf("%s: %s: %s", i.Place, i.ID, i.Reason)
	}
	return fmt.Sprintf("%s: %s", i.Place, i.Reason)
}

// aspect is one part of a person a record states. An AAF modifyRequest
// states only the attributes it modifies; the import changes only those.
type aspect uint16

const (
	aspName aspect = 1 << iota
	aspEstablishment
	aspFunction // profile and function of teachers and personnel
	aspStudentClasses
	aspStudentGroups
	aspTeachClasses
	aspTeachGroups
	aspHeadOf
	aspRelatives
	aspMEF       // a student's MEF or level
	aspStudentID // a student's id in the school's software

	aspAll = aspName | aspEstablishment | aspFunction | aspStudentClasses | aspStudentGroups |
		aspTeachClasses | aspTeachGroups | aspHeadOf | aspRelatives | aspMEF | aspStudentID
)

// membershipAspect returns the aspect that states memberships of kind in
// role.
func membershipAspect(kind domain.GroupKind, role domain.Role) aspect {
	switch {
	case role == domain.RoleStudent && kind == domain.GroupClass:
		return aspStudentClasses
	case role == domain.RoleStudent:
		return aspStudentGroups
	case role == domain.RoleHeadTeacher:
		return aspHeadOf
	case kind == domain.GroupClass:
		return aspTeachClasses
	default:
		return aspTeachGroups
	}
}

// Establishment is an establishment of a feed.
type Establishment struct {
	// JoinID is the AAF structure id (ENTStructureJointure) that person
	// records use in their compound values.
	JoinID string                   `json:"join_id,omitempty"`
	UAI    string                   `json:"uai"`
	Name   string                   `json:"name"`
	Kind   domain.EstablishmentKind `json:"kind"`
	// Type is the national type as the feed gives it (code and label).
	Type        string `json:"type,omitempty"`
	Departement string `json:"departement"`
	// Classes and Groups are the establishment's own lists
	// (ENTStructureClasses, ENTStructureGroupes): created even when empty.
	Classes []GroupLabel `json:"classes,omitempty"`
	Groups  []GroupLabel `json:"groups,omitempty"`
	Place   Place        `json:"place"`
}

// GroupLabel is a class or group by its code (Name), with the label pages
// show (empty: the code).
type GroupLabel struct {
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
}

// Membership is a role in a class or group a feed gives a person.
type Membership struct {
	// UAI is the group's establishment; empty while the structure id the
	// record names (Struct) is unknown to the import.
	UAI    string           `json:"uai"`
	Struct string           `json:"structure,omitempty"`
	Kind   domain.GroupKind `json:"kind"`
	Name   string           `json:"name"`
	// Label is the group's label, when the record gives one (AAF 1D
	// classes).
	Label string      `json:"label,omitempty"`
	Role  domain.Role `json:"role"`
	// Subject is a teacher's subject in words (CSV); SubjectCodes the
	// subjects' codes (AAF: the MatiereEducNat ids), sorted, whose labels
	// the diff finds.
	Subject      string   `json:"subject,omitempty"`
	SubjectCodes []string `json:"subject_codes,omitempty"`
}

// RelativeRef is a student's relative, by join id, and what they are to
// the student.
type RelativeRef struct {
	JoinID        string          `json:"join_id"`
	LegalGuardian bool            `json:"legal_guardian"`
	Relation      domain.Relation `json:"relation,omitempty"`
	LegalRank     int             `json:"legal_rank,omitempty"`
	Financial     bool            `json:"financial,omitempty"`
	Contact       bool            `json:"contact,omitempty"`
}

// PostRef is a function a record gives a person in a structure (see
// domain.Post): UAI once the structure id (Struct) is resolved.
type PostRef struct {
	UAI             string `json:"uai,omitempty"`
	Struct          string `json:"structure,omitempty"`
	Code            string `json:"code"`
	Label           string `json:"label,omitempty"`
	Discipline      string `json:"discipline,omitempty"`
	DisciplineLabel string `json:"discipline_label,omitempty"`
}

// Person is one person of a feed, normalized: what the diff compares with
// the directory and nothing more.
type Person struct {
	// JoinID is the external join key (ENTPersonJointure, or the CSV id).
	JoinID   string   `json:"join_id"`
	Category Category `json:"category"`
	// Profile is empty when a modifyRequest does not say (the directory
	// knows it).
	Profile     domain.Profile  `json:"profile,omitempty"`
	Function    domain.Function `json:"function,omitempty"`
	UAI         string          `json:"uai,omitempty"`
	DisplayName string          `json:"display_name,omitempty"`
	// UAICandidates are the establishments of a relative's children, for a
	// relative whose record names none.
	UAICandidates []string `json:"uai_candidates,omitempty"`
	// Others are the person's other establishments the record names (its
	// other attachment structures, the structures of its functions);
	// otherStructs those whose structure ids did not resolve.
	Others   []string  `json:"others,omitempty"`
	Posts    []PostRef `json:"posts,omitempty"`
	MEF      string    `json:"mef,omitempty"`
	MEFLabel string    `json:"mef_label,omitempty"`
	// StudentID is a student's id in the school's software
	// (ENTEleveStructRattachId).
	StudentID   string        `json:"student_id,omitempty"`
	Memberships []Membership  `json:"memberships,omitempty"`
	Relatives   []RelativeRef `json:"relatives,omitempty"`
	// Deleted is set by an AAF deleteRequest.
	Deleted bool `json:"deleted,omitempty"`
	// Complete is set when the record states the whole person (addRequest,
	// CSV line), not only changes.
	Complete bool  `json:"complete"`
	Place    Place `json:"place"`
	known    aspect
	// structs are the attachment structure ids when none resolved.
	structs      []string
	otherStructs []string
}

// Knows reports whether the person's record states a.
func (p *Person) knows(a aspect) bool { return p.known&a != 0 }

// Feed is a directory feed parsed and normalized: every file of one import.
type Feed struct {
	Mode  Mode
	Files []FileReport
	// Records counts the records read (establishments and persons).
	Records        int
	Rejected       []Issue
	Skipped        []Issue
	Establishments []Establishment // by UAI
	Persons        []Person        // by join id
	// rejectedIDs are the join ids of rejected records: never taken as
	// missing from a full feed.
	rejectedIDs map[string]bool
	// rejectedStructs are the structure ids of rejected establishment
	// records, with the rejection: their people are skipped with it.
	rejectedStructs map[string]Issue
	// profiles are the profiles the files cover: a full feed flags missing
	// only accounts of these profiles.
	profiles map[domain.Profile]bool
	// subjects and mefs are the labels of the codes the import's
	// nomenclature files give (MatiereEducNat, MefEducNat).
	subjects, mefs map[string]string
}

// FileReport tells what was read from one file and what became of it.
type FileReport struct {
	Name string `json:"name"`
	// Archive is the archive the file was read from, if any.
	Archive  string   `json:"archive,omitempty"`
	Format   Format   `json:"format"`
	Category Category `json:"category,omitempty"`
	Mode     Mode     `json:"mode"`
	// Encoding is the encoding the file was read in: declared (AAF), given
	// (CSV), or UTF-8.
	Encoding string `json:"encoding,omitempty"`
	Bytes    int64  `json:"bytes"`
	Records  int    `json:"records"`
	Rejected int    `json:"rejected"`
	// Ignored is set for files the import does not use.
	Ignored bool `json:"ignored,omitempty"`
	// Establishments and Persons count what the file describes (a person
	// listed in several files counts in the last); Labels the codes whose
	// labels a nomenclature file gives.
	Establishments int `json:"establishments,omitempty"`
	Persons        int `json:"persons,omitempty"`
	Labels         int `json:"labels,omitempty"`
	// What became of them.
	Outcomes
	// Reasons counts the file's rejected records and skipped parts by
	// reason.
	Reasons []ReasonCount `json:"reasons,omitempty"`
	// check is what the file's bytes said of its encoding.
	check *byteCheck
	// declared is the encoding the file declares (AAF) or the caller gave
	// (CSV), lower-case; empty: none.
	declared string
}

// Outcomes counts what an import does to establishments or people:
// Created (establishments registered, accounts opened), Changed (anything
// changed), Unchanged, Removed (flagged missing by a deleteRequest) and
// Skipped (left out whole: nothing changed).
type Outcomes struct {
	Created   int `json:"created"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed,omitempty"`
	Skipped   int `json:"skipped"`
}

func (o *Outcomes) add(out outcome) {
	switch out {
	case outCreated:
		o.Created++
	case outChanged:
		o.Changed++
	case outRemoved:
		o.Removed++
	case outSkipped:
		o.Skipped++
	default:
		o.Unchanged++
	}
}

// ReasonCount is how many issues of a file have one reason.
type ReasonCount struct {
	Code ReasonCode `json:"code"`
	// Summary says in words what they share.
	Summary string `json:"summary"`
	Count   int    `json:"count"`
	// Rejected: malformed records; else skipped parts (Whole: people left
	// out whole).
	Rejected bool `json:"rejected,omitempty"`
	Whole    bool `json:"whole,omitempty"`
}

// op is an AAF request: add, modify or delete.
type op uint8

const (
	opAdd op = iota
	opModify
	opDelete
)

// groupRef is a class or group named by a person record, in the structure
// Struct (an AAF structure id or a UAI; empty: the person's own). Subject
// is in words (CSV), SubjectCode a code (AAF).
type groupRef struct {
	Struct, Name, Label, Subject, SubjectCode string
	Kind                                      domain.GroupKind
	Role                                      domain.Role
}

// personRecord is a person record as parsed, before structure ids are
// resolved to UAIs (the EtabEducNat file may come after).
type personRecord struct {
	op       op
	category Category
	joinID   string
	place    Place
	known    aspect
	name     string
	profile  domain.Profile
	function domain.Function
	// structs are the attachment structures, by preference.
	structs   []string
	posts     []PostRef
	groups    []groupRef
	relatives []RelativeRef
	mef       string
	mefLabel  string
	studentID string
	// children are student join ids a relative's record names
	// (ENTAuxPersRelEleveEleve, CSV children): they give a relative without
	// an establishment the establishment of a child.
	children []string
}

// builder gathers the records of every file of an import, then resolves
// them into a Feed. It keeps one personRecord per person: memory grows with
// the number of persons, never with the size of the files.
type builder struct {
	structures map[string]*Establishment // by join id (or UAI when none)
	// structUAIs are structure ids the feed names in records that register
	// nothing (modifyRequest, deleteRequest), with their UAI: persons may
	// use them.
	structUAIs      map[string]string
	rejectedStructs map[string]Issue
	persons         map[string]*personRecord
	records         int
	rejected        []Issue
	skipped         []Issue
	rejectedIDs     map[string]bool
	files           []FileReport
	profiles        map[domain.Profile]bool
	subjects, mefs  map[string]string
	// onde gathers what ONDE files say across files (onde.go).
	onde *ondeState
}

func newBuilder() *builder {
	return &builder{
		structures:      make(map[string]*Establishment),
		structUAIs:      make(map[string]string),
		rejectedStructs: make(map[string]Issue),
		persons:         make(map[string]*personRecord),
		rejectedIDs:     make(map[string]bool),
		profiles:        make(map[domain.Profile]bool),
		subjects:        make(map[string]string),
		mefs:            make(map[string]string),
	}
}

// reject records a malformed record.
func (b *builder) reject(place Place, id string, code ReasonCode, args ...string) {
	b.rejected = append(b.rejected, newIssue(place, id, code, args...))
	if id != "" {
		b.rejectedIDs[id] = true
	}
}

// rejectStructure records a malformed establishment record: the persons
// attached to it are skipped with this reason.
func (b *builder) rejectStructure(place Place, id string, code ReasonCode, args ...string) {
	b.reject(place, id, code, args...)
	if id != "" {
		b.rejectedStructs[id] = b.rejected[len(b.rejected)-1]
	}
}

// skip records a part of a record the import leaves aside.
func (b *builder) skip(place Place, id string, code ReasonCode, args ...string) {
	b.skipped = append(b.skipped, newIssue(place, id, code, args...))
}

// addStructure keeps an establishment record (a later one replaces an
// earlier one with the same id).
func (b *builder) addStructure(e *Establishment) {
	key := cmp.Or(e.JoinID, e.UAI)
	if prev, ok := b.structures[key]; ok {
		b.skip(e.Place, key, ReasonEstablishmentTwice, prev.Place.String())
	}
	delete(b.rejectedStructs, key)
	b.structures[key] = e
}

// addPerson merges a person record into what earlier records said.
func (b *builder) addPerson(r *personRecord) {
	prev, ok := b.persons[r.joinID]
	switch {
	case !ok:
		b.persons[r.joinID] = r
	case r.op == opModify && prev.op != opDelete:
		prev.merge(r)
	default:
		if r.op == opAdd && prev.op == opAdd {
			b.skip(r.place, r.joinID, ReasonPersonTwice, prev.place.String())
		}
		b.persons[r.joinID] = r
	}
}

// merge applies a modifyRequest to an earlier record of the same person.
func (p *personRecord) merge(m *personRecord) {
	if m.known&aspName != 0 {
		p.name = m.name
	}
	if m.known&aspEstablishment != 0 {
		p.structs = m.structs
	}
	if m.known&aspFunction != 0 {
		p.profile, p.function, p.posts = m.profile, m.function, m.posts
	}
	if m.known&aspMEF != 0 {
		p.mef, p.mefLabel = m.mef, m.mefLabel
	}
	if m.known&aspStudentID != 0 {
		p.studentID = m.studentID
	}
	if m.known&aspRelatives != 0 {
		p.relatives = m.relatives
	}
	if len(m.children) > 0 {
		p.children = m.children
	}
	// Memberships are replaced aspect by aspect.
	p.groups = slices.DeleteFunc(p.groups, func(g groupRef) bool { return m.known&membershipAspect(g.Kind, g.Role) != 0 })
	p.groups = append(p.groups, m.groups...)
	p.known |= m.known
	p.place = m.place
}

// build resolves structure ids and normalizes every person.
func (b *builder) build(mode Mode) *Feed {
	f := &Feed{
		Mode:            mode,
		Files:           b.files,
		Records:         b.records,
		rejectedIDs:     b.rejectedIDs,
		rejectedStructs: b.rejectedStructs,
		profiles:        b.profiles,
		subjects:        b.subjects,
		mefs:            b.mefs,
	}
	b.ondeLinks()
	uaiOf := make(map[string]string, len(b.structures)+len(b.structUAIs))
	maps.Copy(uaiOf, b.structUAIs)
	byUAI := make(map[string]Establishment, len(b.structures))
	keys := slices.Sorted(maps.Keys(b.structures))
	slices.SortStableFunc(keys, func(x, y string) int { return placeOrder(b.structures[x].Place, b.structures[y].Place) })
	for _, key := range keys {
		e := b.structures[key]
		if bad := e.badText(); bad != "" {
			b.rejectBuilt(e.Place, validID(key), bad)
			continue
		}
		uaiOf[key] = e.UAI
		if prev, dup := byUAI[e.UAI]; dup && prev.Place != e.Place {
			b.skip(e.Place, e.UAI, ReasonUAITwice, e.UAI, prev.Place.String())
		}
		byUAI[e.UAI] = *e
	}
	for _, e := range byUAI {
		f.Establishments = append(f.Establishments, e)
	}
	slices.SortFunc(f.Establishments, func(a, b Establishment) int { return strings.Compare(a.UAI, b.UAI) })
	resolve := func(ref string) string {
		if u, ok := uaiOf[ref]; ok {
			return u
		}
		if domain.ValidUAI(ref) {
			return ref
		}
		return ""
	}

	ids := make([]string, 0, len(b.persons))
	for id := range b.persons {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	f.Persons = make([]Person, 0, len(ids))
	index := make(map[string]int, len(ids))
	for _, id := range ids {
		r := b.persons[id]
		p := Person{
			JoinID: r.joinID, Category: r.category, Profile: r.profile, Function: r.function,
			DisplayName: r.name, Relatives: r.relatives, Deleted: r.op == opDelete,
			Complete: r.op == opAdd, Place: r.place, known: r.known,
		}
		if p.Deleted {
			p.known = 0
		}
		if p.knows(aspEstablishment) {
			first := -1
			for i, s := range r.structs {
				if p.UAI = resolve(s); p.UAI != "" {
					first = i
					break
				}
			}
			if p.UAI == "" {
				// Left to the diff, which may learn the structure from the
				// directory.
				p.structs = r.structs
			}
			for i, s := range r.structs {
				if i != first {
					p.addOther(s, resolve(s))
				}
			}
		}
		if p.knows(aspFunction) {
			for _, post := range r.posts {
				post.UAI = resolve(post.Struct)
				if post.UAI != "" {
					post.Struct = ""
				}
				p.Posts = append(p.Posts, post)
				p.addOther(post.Struct, post.UAI)
			}
		}
		if p.knows(aspMEF) {
			p.MEF, p.MEFLabel = r.mef, cmp.Or(b.mefs[r.mef], r.mefLabel)
		}
		if p.knows(aspStudentID) {
			p.StudentID = r.studentID
		}
		p.Memberships = memberships(r, p.UAI, resolve)
		if bad := p.badText(); bad != "" {
			b.rejectBuilt(p.Place, validID(id), bad)
			continue
		}
		index[id] = len(f.Persons)
		f.Persons = append(f.Persons, p)
	}
	// A relative whose record names no establishment takes one of its
	// children's.
	addCandidate := func(rel string, uai string) {
		if i, ok := index[rel]; ok && uai != "" && f.Persons[i].Category == CategoryRelative && f.Persons[i].UAI == "" {
			if !slices.Contains(f.Persons[i].UAICandidates, uai) {
				f.Persons[i].UAICandidates = append(f.Persons[i].UAICandidates, uai)
			}
		}
	}
	for i := range f.Persons {
		s := &f.Persons[i]
		if s.Category == CategoryStudent && s.UAI != "" {
			for _, rel := range s.Relatives {
				addCandidate(rel.JoinID, s.UAI)
			}
		}
	}
	for _, id := range ids {
		r := b.persons[id]
		for _, child := range r.children {
			if i, ok := index[child]; ok && f.Persons[i].UAI != "" {
				addCandidate(id, f.Persons[i].UAI)
			}
		}
	}
	f.Rejected, f.Skipped = b.rejected, b.skipped
	slices.SortStableFunc(f.Rejected, issueOrder)
	slices.SortStableFunc(f.Skipped, issueOrder)
	byFile := f.fileIndex()
	for _, e := range f.Establishments {
		if i, ok := byFile[e.Place.File]; ok {
			f.Files[i].Establishments++
		}
	}
	for _, pe := range f.Persons {
		if i, ok := byFile[pe.Place.File]; ok {
			f.Files[i].Persons++
		}
	}
	return f
}

// Texts are checked once a record is built (a modifyRequest merged, the
// subjects of a group joined) as the commands that take them check them
// (domain.TextKind): a record the ledger would refuse is rejected with its
// place and reason, counted against Options.MaxRejected, rather than
// failing when its change is applied, half-way through the import.

// rejectBuilt rejects a record once built: its file counts it too.
func (b *builder) rejectBuilt(place Place, id, reason string) {
	b.reject(place, id, ReasonBadText, reason)
	for i := range b.files {
		if b.files[i].Name == place.File {
			b.files[i].Rejected++
		}
	}
}

// addOther notes another establishment of the person: resolved (uai), or
// a structure id left to the diff. The main one is dropped by the diff.
func (p *Person) addOther(structure, uai string) {
	switch {
	case uai != "":
		if !slices.Contains(p.Others, uai) {
			p.Others = append(p.Others, uai)
		}
	case structure != "":
		if !slices.Contains(p.otherStructs, structure) {
			p.otherStructs = append(p.otherStructs, structure)
		}
	}
}

// badText says what is wrong with the first text of an establishment the
// commands would refuse: its name, its classes' and groups' names.
func (e *Establishment) badText() string {
	bad := textIssue(domain.TextName, "name", e.Name)
	for _, g := range append(slices.Clip(e.Classes), e.Groups...) {
		bad = cmp.Or(bad, textIssue(domain.TextName, "class or group", g.Name), textIssue(domain.TextName, "label of "+g.Name, g.Label))
	}
	return bad
}

// badText says what is wrong with the first text of a person the commands
// would refuse: the join id (the account's external id), the name, the
// names of classes and groups and the subjects taught in each.
func (p *Person) badText() string {
	bad := cmp.Or(textIssue(domain.TextCode, "id", p.JoinID), textIssue(domain.TextName, "name", p.DisplayName))
	for _, m := range p.Memberships {
		bad = cmp.Or(bad, textIssue(domain.TextName, "class or group", m.Name), textIssue(domain.TextTitle, "subjects of "+m.Name, m.Subject))
	}
	return bad
}

// textIssue is what is wrong with s, a text of kind, or "".
func textIssue(kind domain.TextKind, field, s string) string {
	err := kind.Check(field, s)
	var de *domain.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &de) && de.Detail != "":
		return de.Detail
	}
	return err.Error()
}

// validID is id if a report may show it, else "".
func validID(id string) string {
	if textIssue(domain.TextCode, "id", id) != "" {
		return ""
	}
	return id
}

// fileIndex maps the feed's file names to their index in Files.
func (f *Feed) fileIndex() map[string]int {
	m := make(map[string]int, len(f.Files))
	for i, fr := range f.Files {
		m[fr.Name] = i
	}
	return m
}

func issueOrder(a, b Issue) int { return placeOrder(a.Place, b.Place) }

func placeOrder(a, b Place) int {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
}

// memberships resolves a record's classes and groups (uai is the person's
// establishment, when known); subjects of the same group and role are
// merged. A structure id the import does not list is kept for the diff.
func memberships(r *personRecord, uai string, resolve func(string) string) []Membership {
	if len(r.groups) == 0 {
		return nil
	}
	type key struct {
		uai, structure, name string
		kind                 domain.GroupKind
		role                 domain.Role
	}
	subjects := make(map[key][]string)
	codes := make(map[key][]string)
	labels := make(map[key]string)
	var order []key
	for _, g := range r.groups {
		k := key{structure: g.Struct, name: g.Name, kind: g.Kind, role: g.Role}
		if g.Struct == "" {
			k.uai = uai
		} else {
			k.uai = resolve(g.Struct)
		}
		if k.uai != "" {
			k.structure = ""
		}
		if _, seen := subjects[k]; !seen {
			order = append(order, k)
			subjects[k] = nil
		}
		if g.Subject != "" && !slices.Contains(subjects[k], g.Subject) {
			subjects[k] = append(subjects[k], g.Subject)
		}
		if g.SubjectCode != "" && !slices.Contains(codes[k], g.SubjectCode) {
			codes[k] = append(codes[k], g.SubjectCode)
		}
		if g.Label != "" {
			labels[k] = g.Label
		}
	}
	out := make([]Membership, 0, len(order))
	for _, k := range order {
		subj, cs := subjects[k], codes[k]
		slices.Sort(subj)
		slices.Sort(cs)
		out = append(out, Membership{UAI: k.uai, Struct: k.structure, Kind: k.kind, Name: k.name, Label: labels[k], Role: k.role,
			Subject: strings.Join(subj, ", "), SubjectCodes: cs})
	}
	slices.SortFunc(out, membershipOrder)
	return out
}

func membershipOrder(a, b Membership) int {
	return cmp.Or(strings.Compare(a.UAI, b.UAI), strings.Compare(a.Struct, b.Struct), strings.Compare(string(a.Kind), string(b.Kind)),
		strings.Compare(a.Name, b.Name), strings.Compare(string(a.Role), string(b.Role)))
}

// departementOf returns the département of a UAI: its first three digits
// without the leading zero (0131234A: 13; 9710001A: 971).
func departementOf(uai string) string {
	if len(uai) < 3 {
		return ""
	}
	d := strings.TrimPrefix(uai[:3], "0")
	if d == "" {
		return "0"
	}
	return d
}

// displayName joins a first and a last name.
func displayName(first, last string) string {
	return strings.TrimSpace(strings.Join(strings.Fields(first+" "+last), " "))
}
