package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Aggregate folds the events of one stream into the state its decisions
// need. Apply must neither keep nor modify an event's slices and maps
// (clone what it keeps): the command handlers fold the same decoded events
// into many aggregates, concurrently.
type Aggregate interface {
	Apply(Event)
}

// Directory errors.
var (
	ErrEstablishmentExists  = newError(CodeConflict, "establishment-exists", "establishment already registered")
	ErrUnknownEstablishment = newError(CodeNotFound, "unknown-establishment", "unknown establishment")
	ErrWrongEstablishment   = newError(CodeForbidden, "wrong-establishment", "outside the actor's establishment")
	ErrAccountExists        = newError(CodeConflict, "account-exists", "account already opened")
	ErrUnknownAccount       = newError(CodeNotFound, "unknown-account", "unknown account")
	ErrAccountClosed        = newError(CodeRule, "account-closed", "account is closed")
	ErrUnknownStudent       = newError(CodeNotFound, "unknown-student", "unknown student")
	ErrNotAStudent          = newError(CodeRule, "not-a-student", "account is not a student")
	ErrNotARelative         = newError(CodeRule, "not-a-relative", "account is not a relative")
	ErrAlreadyLinked        = newError(CodeRule, "already-linked", "relative already linked to this student")
	ErrNotLinked            = newError(CodeRule, "not-linked", "relative is not linked to this student")
	ErrGroupExists          = newError(CodeConflict, "group-exists", "group already created")
	ErrUnknownGroup         = newError(CodeNotFound, "unknown-group", "unknown group")
	ErrAlreadyMember        = newError(CodeRule, "already-member", "account already holds this role in the group")
	ErrNotMember            = newError(CodeRule, "not-member", "account does not hold this role in the group")
	ErrAlreadyActivated     = newError(CodeRule, "already-activated", "account already activated")
)

// Establishment is the state of an establishment's stream.
type Establishment struct {
	Exists      bool
	UAI         string
	Name        string
	Kind        EstablishmentKind
	Type        string
	Departement string
	Reasons     []JustificationReason
	// FeedKey is the id the directory feeds give the establishment.
	FeedKey string
}

// Apply folds an event.
func (s *Establishment) Apply(e Event) {
	switch r := e.(type) {
	case EstablishmentRegistered:
		*s = Establishment{Exists: true, UAI: r.UAI, Name: r.Name, Kind: r.Kind, Type: r.Type, Departement: r.Departement, Reasons: r.Reasons}
	case EstablishmentFeedKeyRecorded:
		s.FeedKey = r.FeedKey
	}
}

// Reason returns the establishment's justification reason with code.
func (s *Establishment) Reason(code string) (JustificationReason, bool) {
	i := slices.IndexFunc(s.Reasons, func(r JustificationReason) bool { return r.Code == code })
	if i < 0 {
		return JustificationReason{}, false
	}
	return s.Reasons[i], true
}

// RegisterEstablishment is the command that opens an establishment.
type RegisterEstablishment struct {
	UAI  string            `json:"uai" text:"code"`
	Name string            `json:"name" text:"name"`
	Kind EstablishmentKind `json:"kind"`
	// Type is the national type a directory feed names (optional).
	Type        string                `json:"type,omitempty" text:"name"`
	Departement string                `json:"departement" text:"code"`
	Reasons     []JustificationReason `json:"reasons,omitempty"`
}

// ValidUAI reports whether s looks like a UAI code: seven digits and a
// letter (0131234A).
func ValidUAI(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s[:7] {
		if c < '0' || c > '9' {
			return false
		}
	}
	c := s[7]
	return c >= 'A' && c <= 'Z'
}

// Register decides the registration of an establishment.
func (s *Establishment) Register(actor Actor, cmd RegisterEstablishment) ([]Event, error) {
	if !actor.IsAdmin(cmd.UAI) {
		return nil, Errorf(ErrForbidden, "only an administrator registers establishments")
	}
	if !ValidUAI(cmd.UAI) {
		return nil, Errorf(ErrInvalid, "UAI %q is not seven digits and a letter", cmd.UAI)
	}
	if strings.TrimSpace(cmd.Name) == "" {
		return nil, Errorf(ErrInvalid, "name is required")
	}
	if !cmd.Kind.Valid() {
		return nil, Errorf(ErrInvalid, "kind %q is not one of %v", cmd.Kind, EstablishmentKinds())
	}
	if s.Exists {
		return nil, Errorf(ErrEstablishmentExists, "%s", cmd.UAI)
	}
	reasons := cmd.Reasons
	if len(reasons) == 0 {
		reasons = DefaultReasons()
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		if r.Code == "" || seen[r.Code] {
			return nil, Errorf(ErrInvalid, "reason codes must be set and distinct (%q)", r.Code)
		}
		seen[r.Code] = true
	}
	return []Event{EstablishmentRegistered{UAI: cmd.UAI, Name: cmd.Name, Kind: cmd.Kind, Type: cmd.Type, Departement: cmd.Departement, Reasons: reasons}}, nil
}

// RecordFeedKey records the id a directory feed gives an establishment.
type RecordFeedKey struct {
	UAI     string `json:"uai" text:"code"`
	FeedKey string `json:"feed_key" text:"code"`
}

// RecordFeedKey decides recording an establishment's feed key; it emits
// nothing when the key is already the establishment's.
func (s *Establishment) RecordFeedKey(actor Actor, cmd RecordFeedKey) ([]Event, error) {
	if !actor.IsAdmin(cmd.UAI) {
		return nil, Errorf(ErrForbidden, "only an administrator records feed keys")
	}
	if !s.Exists {
		return nil, Errorf(ErrUnknownEstablishment, "%s", cmd.UAI)
	}
	if strings.TrimSpace(cmd.FeedKey) == "" {
		return nil, Errorf(ErrInvalid, "feed key is required")
	}
	if s.FeedKey == cmd.FeedKey {
		return nil, nil
	}
	return []Event{EstablishmentFeedKeyRecorded{UAI: cmd.UAI, FeedKey: cmd.FeedKey}}, nil
}

// RelativeLink is a relative's link to a student, as the student's stream
// knows it.
type RelativeLink struct {
	LegalGuardian bool
	Relation      Relation
	LegalRank     int
	Financial     bool
	Contact       bool
}

// Account is the directory state of one account, folded from its stream.
type Account struct {
	ID            uuid.UUID
	Exists        bool
	Closed        bool
	Activated     bool
	Establishment string
	Profile       Profile
	Function      Function
	ExternalID    string
	DisplayName   string
	Details       AccountDetails
	Habilitations []string
	// Relatives of a student: relative account -> link.
	Relatives map[uuid.UUID]RelativeLink
	// Identities are the external identities linked to the account.
	Identities map[ExternalIdentity]IdentityLinked
}

// Apply folds an event.
func (a *Account) Apply(e Event) {
	switch e := e.(type) {
	case AccountOpened:
		a.ID, a.Exists = e.Account, true
		a.Establishment, a.Profile, a.Function = e.Establishment, e.Profile, e.Function
		a.ExternalID, a.DisplayName = e.ExternalID, e.DisplayName
		a.Details = e.Details.Clone()
	case AccountUpdated:
		a.Establishment, a.Function, a.DisplayName = e.Establishment, e.Function, e.DisplayName
		a.Details = e.Details.Clone()
	case AccountActivated:
		a.Activated = true
	case AccountClosed:
		a.Closed = true
	case InspectorHabilitated:
		a.Habilitations = slices.Clone(e.Establishments)
	case RelativeLinked:
		if a.Relatives == nil {
			a.Relatives = make(map[uuid.UUID]RelativeLink)
		}
		a.Relatives[e.Relative] = RelativeLink{LegalGuardian: e.LegalGuardian, Relation: e.Relation, LegalRank: e.LegalRank,
			Financial: e.Financial, Contact: e.Contact}
	case RelativeUnlinked:
		delete(a.Relatives, e.Relative)
	case IdentityLinked:
		if a.Identities == nil {
			a.Identities = make(map[ExternalIdentity]IdentityLinked)
		}
		a.Identities[ExternalIdentity{Provider: e.Provider, Subject: e.Subject}] = e
	case IdentityUnlinked:
		delete(a.Identities, ExternalIdentity{Provider: e.Provider, Subject: e.Subject})
	}
}

// Actor returns the account as the issuer of a command.
func (a *Account) Actor() Actor {
	return Actor{Account: a.ID, Profile: a.Profile, Function: a.Function, Establishment: a.Establishment,
		Establishments: a.Details.Establishments, Habilitations: a.Habilitations}
}

// In reports whether the account belongs to establishment uai: its main
// one or one of its others.
func (a *Account) In(uai string) bool { return a.Actor().In(uai) }

// HasRelative reports whether relative is linked to this student.
func (a *Account) HasRelative(relative uuid.UUID) bool {
	_, ok := a.Relatives[relative]
	return ok
}

// OpenAccount is the command that creates an account.
type OpenAccount struct {
	Account       uuid.UUID `json:"account"`
	Establishment string    `json:"establishment" text:"code"`
	Profile       Profile   `json:"profile"`
	Function      Function  `json:"function,omitempty"`
	ExternalID    string    `json:"external_id,omitempty" text:"code"`
	DisplayName   string    `json:"display_name" text:"name"`
	// Details are what a directory feed says besides (optional).
	Details AccountDetails `json:"details,omitzero"`
}

// checkDetails checks an account's details: valid UAIs, other than its
// main establishment, each once and sorted; posts with a code in a valid
// UAI; a MEF only for a student.
func checkDetails(profile Profile, main string, d AccountDetails) error {
	for i, uai := range d.Establishments {
		if !ValidUAI(uai) || uai == main || (i > 0 && d.Establishments[i-1] >= uai) {
			return Errorf(ErrInvalid, "other establishments must be valid UAIs, sorted, once each and not the main one (%q)", uai)
		}
	}
	for _, p := range d.Posts {
		if !ValidUAI(p.Establishment) || strings.TrimSpace(p.Code) == "" {
			return Errorf(ErrInvalid, "a post needs an establishment and a code (%q %q)", p.Establishment, p.Code)
		}
	}
	if (d.MEF != "" || d.MEFLabel != "") && profile != ProfileStudent {
		return Errorf(ErrInvalid, "only students have a MEF")
	}
	if d.StudentID != "" && (profile != ProfileStudent || !ValidStudentID(d.StudentID)) {
		return Errorf(ErrInvalid, "only students have a student id, of letters, digits and dashes (%q)", d.StudentID)
	}
	return nil
}

// Open decides the opening of an account. est is the establishment's state
// (zero for accounts of no establishment: evaluators, inspectors, admins).
func (a *Account) Open(actor Actor, est *Establishment, cmd OpenAccount) ([]Event, error) {
	if !actor.IsAdmin(cmd.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator opens accounts")
	}
	if cmd.Account == uuid.Nil {
		return nil, Errorf(ErrInvalid, "account id is required")
	}
	if !cmd.Profile.Valid() {
		return nil, Errorf(ErrInvalid, "profile %q is unknown", cmd.Profile)
	}
	if !cmd.Function.Valid() {
		return nil, Errorf(ErrInvalid, "function %q is unknown", cmd.Function)
	}
	if cmd.Function != FunctionNone && cmd.Profile != ProfilePersonnel {
		return nil, Errorf(ErrInvalid, "only personnel have a function")
	}
	if strings.TrimSpace(cmd.DisplayName) == "" {
		return nil, Errorf(ErrInvalid, "display name is required")
	}
	needsEstablishment := cmd.Profile != ProfileInspector && cmd.Profile != ProfileEvaluator && cmd.Profile != ProfileAdmin
	if needsEstablishment && cmd.Establishment == "" {
		return nil, Errorf(ErrInvalid, "profile %s needs an establishment", cmd.Profile)
	}
	if cmd.Establishment != "" && (est == nil || !est.Exists) {
		return nil, Errorf(ErrUnknownEstablishment, "%s", cmd.Establishment)
	}
	if err := checkDetails(cmd.Profile, cmd.Establishment, cmd.Details); err != nil {
		return nil, err
	}
	if a.Exists {
		return nil, Errorf(ErrAccountExists, "%s", cmd.Account)
	}
	return []Event{AccountOpened{
		Account: cmd.Account, Establishment: cmd.Establishment, Profile: cmd.Profile,
		Function: cmd.Function, ExternalID: cmd.ExternalID, DisplayName: cmd.DisplayName, Details: cmd.Details.Clone(),
	}}, nil
}

// UpdateAccount changes an account's directory attributes. Details, when
// set, replace the account's details whole; unset, they are kept.
type UpdateAccount struct {
	Account       uuid.UUID       `json:"account"`
	Establishment string          `json:"establishment" text:"code"`
	Function      Function        `json:"function,omitempty"`
	DisplayName   string          `json:"display_name" text:"name"`
	Details       *AccountDetails `json:"details,omitempty"`
}

// Update decides an account update; it emits nothing when nothing changes.
func (a *Account) Update(actor Actor, est *Establishment, cmd UpdateAccount) ([]Event, error) {
	if err := a.mustBeOpen(cmd.Account); err != nil {
		return nil, err
	}
	if !actor.IsAdmin(a.Establishment) || !actor.IsAdmin(cmd.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator updates accounts")
	}
	if !cmd.Function.Valid() || (cmd.Function != FunctionNone && a.Profile != ProfilePersonnel) {
		return nil, Errorf(ErrInvalid, "function %q does not fit profile %s", cmd.Function, a.Profile)
	}
	if strings.TrimSpace(cmd.DisplayName) == "" {
		return nil, Errorf(ErrInvalid, "display name is required")
	}
	if cmd.Establishment != "" && (est == nil || !est.Exists) {
		return nil, Errorf(ErrUnknownEstablishment, "%s", cmd.Establishment)
	}
	details := a.Details
	if cmd.Details != nil {
		details = *cmd.Details
	}
	if err := checkDetails(a.Profile, cmd.Establishment, details); err != nil {
		return nil, err
	}
	if cmd.Establishment == a.Establishment && cmd.Function == a.Function && cmd.DisplayName == a.DisplayName &&
		details.Equal(a.Details) {
		return nil, nil
	}
	return []Event{AccountUpdated{Account: cmd.Account, Establishment: cmd.Establishment, Function: cmd.Function,
		DisplayName: cmd.DisplayName, Details: details.Clone()}}, nil
}

func (a *Account) mustBeOpen(id uuid.UUID) error {
	if !a.Exists {
		return Errorf(ErrUnknownAccount, "%s", id)
	}
	if a.Closed {
		return Errorf(ErrAccountClosed, "%s", id)
	}
	return nil
}

// ActivateAccount marks an account's first use.
type ActivateAccount struct {
	Account uuid.UUID `json:"account"`
}

// Activate decides the activation of an account, by its owner or an admin.
func (a *Account) Activate(actor Actor, id uuid.UUID) ([]Event, error) {
	if err := a.mustBeOpen(id); err != nil {
		return nil, err
	}
	if actor.Account != id && !actor.IsAdmin(a.Establishment) {
		return nil, Errorf(ErrForbidden, "only the owner or an administrator activates an account")
	}
	if a.Activated {
		return nil, Errorf(ErrAlreadyActivated, "%s", id)
	}
	return []Event{AccountActivated{Account: id}}, nil
}

// CloseAccount closes an account.
type CloseAccount struct {
	Account uuid.UUID `json:"account"`
	Reason  string    `json:"reason" text:"reason"`
}

// Close decides the closing of an account.
func (a *Account) Close(actor Actor, id uuid.UUID, reason string) ([]Event, error) {
	if err := a.mustBeOpen(id); err != nil {
		return nil, err
	}
	if !actor.IsAdmin(a.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator closes accounts")
	}
	return []Event{AccountClosed{Account: id, Reason: reason}}, nil
}

// HabilitateInspector sets the establishments an inspector may audit.
type HabilitateInspector struct {
	Account        uuid.UUID `json:"account"`
	Establishments []string  `json:"establishments" text:"code"`
}

// Habilitate sets the establishments an inspector may audit.
func (a *Account) Habilitate(actor Actor, id uuid.UUID, establishments []string) ([]Event, error) {
	if err := a.mustBeOpen(id); err != nil {
		return nil, err
	}
	if !actor.IsAdmin("") {
		return nil, Errorf(ErrForbidden, "only a global administrator habilitates inspectors")
	}
	if a.Profile != ProfileInspector {
		return nil, Errorf(ErrInvalid, "account %s is not an inspector", id)
	}
	for _, uai := range establishments {
		if !ValidUAI(uai) {
			return nil, Errorf(ErrInvalid, "UAI %q is not seven digits and a letter", uai)
		}
	}
	return []Event{InspectorHabilitated{Account: id, Establishments: slices.Clone(establishments)}}, nil
}

// LinkRelative links a relative to a student, or changes the link's
// details.
type LinkRelative struct {
	Student       uuid.UUID `json:"student"`
	Relative      uuid.UUID `json:"relative"`
	LegalGuardian bool      `json:"legal_guardian"`
	Relation      Relation  `json:"relation,omitempty"`
	LegalRank     int       `json:"legal_rank,omitempty"`
	Financial     bool      `json:"financial,omitempty"`
	Contact       bool      `json:"contact,omitempty"`
}

// LinkRelative decides a link on the student's account; relative is the
// relative's account state.
func (a *Account) LinkRelative(actor Actor, relative *Account, cmd LinkRelative) ([]Event, error) {
	if err := a.mustBeOpen(cmd.Student); err != nil {
		return nil, err
	}
	if a.Profile != ProfileStudent {
		return nil, Errorf(ErrNotAStudent, "%s", cmd.Student)
	}
	if !actor.IsAdmin(a.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator links relatives")
	}
	if err := relative.mustBeOpen(cmd.Relative); err != nil {
		return nil, err
	}
	if relative.Profile != ProfileRelative {
		return nil, Errorf(ErrNotARelative, "%s", cmd.Relative)
	}
	if !cmd.Relation.Valid() {
		return nil, Errorf(ErrInvalid, "relation %q is unknown", cmd.Relation)
	}
	if cmd.LegalRank < 0 || cmd.LegalRank > 2 || (cmd.LegalRank > 0 && !cmd.LegalGuardian) {
		return nil, Errorf(ErrInvalid, "legal rank %d: only a legal guardian is ranked, 1 or 2", cmd.LegalRank)
	}
	link := RelativeLink{LegalGuardian: cmd.LegalGuardian, Relation: cmd.Relation, LegalRank: cmd.LegalRank,
		Financial: cmd.Financial, Contact: cmd.Contact}
	if l, ok := a.Relatives[cmd.Relative]; ok && l == link {
		return nil, Errorf(ErrAlreadyLinked, "%s", cmd.Relative)
	}
	return []Event{RelativeLinked(cmd)}, nil
}

// UnlinkRelative removes a relative's link to a student.
type UnlinkRelative struct {
	Student  uuid.UUID `json:"student"`
	Relative uuid.UUID `json:"relative"`
}

// UnlinkRelative decides removing a relative's link.
func (a *Account) UnlinkRelative(actor Actor, student, relative uuid.UUID) ([]Event, error) {
	if !a.Exists {
		return nil, Errorf(ErrUnknownAccount, "%s", student)
	}
	if !actor.IsAdmin(a.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator unlinks relatives")
	}
	if !a.HasRelative(relative) {
		return nil, Errorf(ErrNotLinked, "%s", relative)
	}
	return []Event{RelativeUnlinked{Student: student, Relative: relative}}, nil
}

// Group is the state of a class or teaching group.
type Group struct {
	ID            uuid.UUID
	Exists        bool
	Establishment string
	Kind          GroupKind
	Name          string
	Label         string
	// Members: account -> roles held -> subject (teachers).
	Members map[uuid.UUID]map[Role]string
	// subjectCodes: account -> role -> the codes of its subject.
	subjectCodes map[uuid.UUID]map[Role][]string
	// Timetable entries by id.
	Timetable map[uuid.UUID]LessonScheduled
}

// Apply folds an event.
func (g *Group) Apply(e Event) {
	switch e := e.(type) {
	case GroupCreated:
		g.ID, g.Exists, g.Establishment, g.Kind, g.Name, g.Label = e.Group, true, e.Establishment, e.Kind, e.Name, e.Label
	case GroupLabelled:
		g.Label = e.Label
	case MemberJoined:
		if g.Members == nil {
			g.Members = make(map[uuid.UUID]map[Role]string)
			g.subjectCodes = make(map[uuid.UUID]map[Role][]string)
		}
		if g.Members[e.Account] == nil {
			g.Members[e.Account] = make(map[Role]string)
			g.subjectCodes[e.Account] = make(map[Role][]string)
		}
		g.Members[e.Account][e.Role] = e.Subject
		g.subjectCodes[e.Account][e.Role] = slices.Clone(e.SubjectCodes)
	case MemberLeft:
		delete(g.Members[e.Account], e.Role)
		delete(g.subjectCodes[e.Account], e.Role)
		if len(g.Members[e.Account]) == 0 {
			delete(g.Members, e.Account)
			delete(g.subjectCodes, e.Account)
		}
	case LessonScheduled:
		if g.Timetable == nil {
			g.Timetable = make(map[uuid.UUID]LessonScheduled)
		}
		g.Timetable[e.Entry] = e
	case LessonUnscheduled:
		delete(g.Timetable, e.Entry)
	}
}

// Has reports whether account holds role in the group.
func (g *Group) Has(account uuid.UUID, role Role) bool {
	_, ok := g.Members[account][role]
	return ok
}

// HasStudent reports whether account is a student of the group.
func (g *Group) HasStudent(account uuid.UUID) bool { return g.Has(account, RoleStudent) }

// Teaches reports whether account teaches the group.
func (g *Group) Teaches(account uuid.UUID) bool {
	return g.Has(account, RoleTeacher) || g.Has(account, RoleHeadTeacher)
}

// Students lists the group's students, sorted.
func (g *Group) Students() []uuid.UUID {
	var out []uuid.UUID
	for id, roles := range g.Members {
		if _, ok := roles[RoleStudent]; ok {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// CreateGroup is the command that creates a group.
type CreateGroup struct {
	Group         uuid.UUID `json:"group"`
	Establishment string    `json:"establishment" text:"code"`
	Kind          GroupKind `json:"kind"`
	Name          string    `json:"name" text:"name"`
	// Label is what pages show, when it is not the name (optional).
	Label string `json:"label,omitempty" text:"name"`
}

// Create decides the creation of a group.
func (g *Group) Create(actor Actor, est *Establishment, cmd CreateGroup) ([]Event, error) {
	if !actor.IsAdmin(cmd.Establishment) && !actor.IsStaff(cmd.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator or the establishment's staff create groups")
	}
	if cmd.Group == uuid.Nil || strings.TrimSpace(cmd.Name) == "" {
		return nil, Errorf(ErrInvalid, "group id and name are required")
	}
	if cmd.Kind != GroupClass && cmd.Kind != GroupTeaching {
		return nil, Errorf(ErrInvalid, "kind %q is not class or teaching_group", cmd.Kind)
	}
	if est == nil || !est.Exists {
		return nil, Errorf(ErrUnknownEstablishment, "%s", cmd.Establishment)
	}
	if g.Exists {
		return nil, Errorf(ErrGroupExists, "%s", cmd.Group)
	}
	if cmd.Label == cmd.Name {
		cmd.Label = ""
	}
	return []Event{GroupCreated(cmd)}, nil
}

// LabelGroup changes the label a group is shown with.
type LabelGroup struct {
	Group uuid.UUID `json:"group"`
	Label string    `json:"label" text:"name"`
}

// LabelGroup decides a group's new label (its name's is empty); it emits
// nothing when the label does not change.
func (g *Group) LabelGroup(actor Actor, cmd LabelGroup) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", cmd.Group)
	}
	if !actor.IsAdmin(g.Establishment) && !actor.IsStaff(g.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator or the establishment's staff label groups")
	}
	label := strings.TrimSpace(cmd.Label)
	if label == g.Name {
		label = ""
	}
	if label == g.Label {
		return nil, nil
	}
	return []Event{GroupLabelled{Group: cmd.Group, Label: label}}, nil
}

// Shown returns what pages show of the group: its label, else its name.
func (g *Group) Shown() string {
	if g.Label != "" {
		return g.Label
	}
	return g.Name
}

// JoinGroup puts an account in a group in a role, or changes the subject
// of a teacher's role.
type JoinGroup struct {
	Group        uuid.UUID `json:"group"`
	Account      uuid.UUID `json:"account"`
	Role         Role      `json:"role"`
	Subject      string    `json:"subject,omitempty" text:"title"`
	SubjectCodes []string  `json:"subject_codes,omitempty" text:"code"`
}

// Join decides a member joining; member is the account's state.
func (g *Group) Join(actor Actor, member *Account, cmd JoinGroup) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", cmd.Group)
	}
	if !actor.IsAdmin(g.Establishment) && !actor.IsStaff(g.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator or the establishment's staff manage groups")
	}
	if err := member.mustBeOpen(cmd.Account); err != nil {
		return nil, err
	}
	switch cmd.Role {
	case RoleStudent:
		if member.Profile != ProfileStudent {
			return nil, Errorf(ErrNotAStudent, "%s", cmd.Account)
		}
	case RoleTeacher, RoleHeadTeacher:
		if member.Profile != ProfileTeacher && member.Profile != ProfilePersonnel {
			return nil, Errorf(ErrInvalid, "account %s (%s) cannot teach", cmd.Account, member.Profile)
		}
	default:
		return nil, Errorf(ErrInvalid, "role %q is not student, teacher or head_teacher", cmd.Role)
	}
	if !member.In(g.Establishment) {
		return nil, Errorf(ErrWrongEstablishment, "account %s belongs to %s, group to %s", cmd.Account, member.Establishment, g.Establishment)
	}
	if subj, ok := g.Members[cmd.Account][cmd.Role]; ok && subj == cmd.Subject &&
		slices.Equal(g.subjectCodes[cmd.Account][cmd.Role], cmd.SubjectCodes) {
		return nil, Errorf(ErrAlreadyMember, "%s as %s", cmd.Account, cmd.Role)
	}
	return []Event{MemberJoined(cmd)}, nil
}

// LeaveGroup removes an account from a group role.
type LeaveGroup struct {
	Group   uuid.UUID `json:"group"`
	Account uuid.UUID `json:"account"`
	Role    Role      `json:"role"`
}

// Leave decides a member leaving a role.
func (g *Group) Leave(actor Actor, account uuid.UUID, role Role) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", g.ID)
	}
	if !actor.IsAdmin(g.Establishment) && !actor.IsStaff(g.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator or the establishment's staff manage groups")
	}
	if !g.Has(account, role) {
		return nil, Errorf(ErrNotMember, "%s as %s", account, role)
	}
	return []Event{MemberLeft{Group: g.ID, Account: account, Role: role}}, nil
}

// RecordConnection records a successful sign-in of the command's actor.
type RecordConnection struct {
	Method SignInMethod `json:"method"`
}

// RecordConnection decides the "user connected" event of a sign-in.
func (a *Account) RecordConnection(method SignInMethod) ([]Event, error) {
	if err := a.mustBeOpen(a.ID); err != nil {
		return nil, err
	}
	switch method {
	case SignInPassword, SignInSSO, SignInToken, SignInSAML, SignInOIDC, SignInCAS:
	default:
		return nil, Errorf(ErrInvalid, "sign-in method %q is unknown", method)
	}
	return []Event{UserConnected{Account: a.ID, Profile: a.Profile, Establishment: a.Establishment, Method: method}}, nil
}

// Timetable errors.
var (
	ErrTimetableClash = newError(CodeConflict, "timetable-clash", "the group already has a lesson at that time")
	ErrUnknownEntry   = newError(CodeNotFound, "unknown-timetable-entry", "no such timetable entry")
)

// ScheduleLesson puts a weekly lesson in a group's timetable.
type ScheduleLesson struct {
	Group   uuid.UUID    `json:"group"`
	Entry   uuid.UUID    `json:"entry"`
	Weekday time.Weekday `json:"weekday"`
	Slot    Slot         `json:"slot"`
	Subject string       `json:"subject" text:"title"`
	Teacher uuid.UUID    `json:"teacher"`
	From    Date         `json:"from" date:"plan"`
	Until   Date         `json:"until" date:"plan"`
}

// Schedule decides a timetable entry: by an administrator or the
// establishment's staff, for a teacher of the group, without overlapping
// another entry of the group on the same weekday and dates.
func (g *Group) Schedule(actor Actor, cmd ScheduleLesson) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", cmd.Group)
	}
	if !actor.IsAdmin(g.Establishment) && !actor.IsStaff(g.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator or the establishment's staff set timetables")
	}
	if cmd.Entry == uuid.Nil || cmd.Weekday < time.Monday || cmd.Weekday > time.Saturday {
		return nil, Errorf(ErrInvalid, "entry id and a weekday from Monday to Saturday are required")
	}
	if err := cmd.Slot.Validate(); err != nil {
		return nil, err
	}
	if cmd.From.IsZero() || cmd.Until.IsZero() || cmd.Until.Before(cmd.From) {
		return nil, Errorf(ErrInvalid, "from %s until %s is not a period", cmd.From, cmd.Until)
	}
	if !g.Teaches(cmd.Teacher) {
		return nil, Errorf(ErrNotTeacherOfGroup, "teacher %s, group %s", cmd.Teacher, g.Name)
	}
	for _, e := range g.Timetable {
		if e.Entry == cmd.Entry {
			return nil, Errorf(ErrTimetableClash, "entry %s exists", cmd.Entry)
		}
		overlapDates := !e.Until.Before(cmd.From) && !cmd.Until.Before(e.From)
		overlapTime := e.Slot.Start < cmd.Slot.End && cmd.Slot.Start < e.Slot.End
		if e.Weekday == cmd.Weekday && overlapDates && overlapTime {
			return nil, Errorf(ErrTimetableClash, "%s %s (entry %s)", e.Weekday, e.Slot, e.Entry)
		}
	}
	return []Event{LessonScheduled(cmd)}, nil
}

// UnscheduleLesson removes a timetable entry.
type UnscheduleLesson struct {
	Group uuid.UUID `json:"group"`
	Entry uuid.UUID `json:"entry"`
}

// Unschedule decides removing a timetable entry.
func (g *Group) Unschedule(actor Actor, entry uuid.UUID) ([]Event, error) {
	if !g.Exists {
		return nil, Errorf(ErrUnknownGroup, "%s", g.ID)
	}
	if !actor.IsAdmin(g.Establishment) && !actor.IsStaff(g.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator or the establishment's staff set timetables")
	}
	if _, ok := g.Timetable[entry]; !ok {
		return nil, Errorf(ErrUnknownEntry, "%s", entry)
	}
	return []Event{LessonUnscheduled{Group: g.ID, Entry: entry}}, nil
}
