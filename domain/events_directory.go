package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Fields tagged `personal:"SUBJECT"` hold personal data (names, free text
// about a person). Their string values are encrypted, before they are
// appended, with the key of one person, the field's subject, so that
// destroying that key erases them (docs/privacy.md). SUBJECT names where
// that person is: a uuid.UUID field of the event ("Student", "Account",
// "From"), "Protagonists" for the first author among an incident's
// protagonists (else its first protagonist), or "actor" for the account
// that recorded the event (its metadata). A tagged field is a string or a
// pointer to a struct whose string fields are encrypted alike.
//
// The key is the person's own (names: `personal:"Account"`) unless the tag
// scopes it after a comma: `personal:"Student,category=schoollife"` is a
// key of the student for one category of data, establishment and school
// year (RetentionCategory, periodic ones), which retention destroys when
// it expires; `personal:"Student,record=Sanction"` is a key of the student
// for the one record whose id is in the field Sanction, which the
// sanction's effacement destroys. Erasing the person destroys every key.

// EstablishmentKind is what an establishment is: collège, lycée, lycée
// professionnel, école, EREA, or another kind of structure (an académie's
// feeds also carry replacement zones, CIOs, services...). The values are
// stored in events: add new ones, never change one's meaning.
type EstablishmentKind string

// Establishment kinds.
const (
	KindCollege  EstablishmentKind = "college"
	KindLycee    EstablishmentKind = "lycee"
	KindEcole    EstablishmentKind = "ecole"
	KindLyceePro EstablishmentKind = "lycee_pro" // lycée professionnel
	KindEREA     EstablishmentKind = "erea"      // établissement régional d'enseignement adapté
	KindOther    EstablishmentKind = "other"     // any other structure: a zone, a service...
)

// EstablishmentKinds lists the kinds, in the order forms show them.
func EstablishmentKinds() []EstablishmentKind {
	return []EstablishmentKind{KindEcole, KindCollege, KindLycee, KindLyceePro, KindEREA, KindOther}
}

// Valid reports whether k is one of the kinds.
func (k EstablishmentKind) Valid() bool { return slices.Contains(EstablishmentKinds(), k) }

// JustificationReason is one entry of an establishment's list of reasons
// for absences; Justifies says whether it excuses the absence.
type JustificationReason struct {
	Code      string `json:"code" text:"code"`
	Label     string `json:"label" text:"name"`
	Justifies bool   `json:"justifies"`
}

// DefaultReasons is the list an establishment starts with.
func DefaultReasons() []JustificationReason {
	return []JustificationReason{
		{Code: "maladie", Label: "Maladie", Justifies: true},
		{Code: "rdv-medical", Label: "Rendez-vous médical", Justifies: true},
		{Code: "familial", Label: "Raison familiale", Justifies: true},
		{Code: "transport", Label: "Problème de transport", Justifies: true},
		{Code: "convocation", Label: "Convocation officielle", Justifies: true},
		{Code: "convenance", Label: "Convenance personnelle", Justifies: false},
		{Code: "non-recevable", Label: "Motif non recevable", Justifies: false},
	}
}

// EstablishmentRegistered opens an establishment in the ledger.
type EstablishmentRegistered struct {
	UAI  string            `json:"uai"`
	Name string            `json:"name"`
	Kind EstablishmentKind `json:"kind"`
	// Type is the structure's national type as the directory feed names it
	// (its code and label: "340 CLG", "SANS OBJET"); empty when registered
	// by hand or before feeds recorded it.
	Type        string                `json:"type,omitempty"`
	Departement string                `json:"departement"`
	Reasons     []JustificationReason `json:"reasons"`
}

func (EstablishmentRegistered) EventType() string { return "establishment.registered.v1" }

// EstablishmentFeedKeyRecorded records the id a directory feed gives an
// establishment (the AAF structure id, ENTStructureJointure), by which its
// people's records name it: a later feed without the establishment's own
// record (a delta, or a full feed of people only) still places them.
type EstablishmentFeedKeyRecorded struct {
	UAI     string `json:"uai"`
	FeedKey string `json:"feed_key"`
}

func (EstablishmentFeedKeyRecorded) EventType() string { return "establishment.feed_key_recorded.v1" }

// Post is a function a person holds in an establishment, as the directory
// feed gives it (AAF ENTPersonFonctions): its code and label (ENS
// ENSEIGNEMENT, DIR DIRECTION, AED ASSISTANT D'EDUCATION...) and, for a
// teacher, the discipline taught (L0202 LETTRES MODERNES).
type Post struct {
	Establishment   string `json:"establishment" text:"code"`
	Code            string `json:"code" text:"code"`
	Label           string `json:"label,omitempty" text:"name"`
	Discipline      string `json:"discipline,omitempty" text:"code"`
	DisciplineLabel string `json:"discipline_label,omitempty" text:"name"`
}

// AccountDetails are what a directory feed says of an account beyond its
// profile, function, establishment and name. Events carry the whole of
// them: an update replaces them.
type AccountDetails struct {
	// Establishments are the account's other establishments, sorted: staff
	// working in several (a teacher sharing their service, a replacement
	// teacher), a relative whose children go to several.
	Establishments []string `json:"establishments,omitempty" text:"code"`
	// Posts are the functions the person holds, in every establishment
	// (teachers and personnel).
	Posts []Post `json:"posts,omitempty"`
	// MEF is a student's module élémentaire de formation (their course of
	// study and year: 10010012110 "6EME"), or in a primary school their
	// level (CP, CE1...); MEFLabel its label.
	MEF      string `json:"mef,omitempty" text:"code"`
	MEFLabel string `json:"mef_label,omitempty" text:"name"`
	// StudentID is a student's id in their school's own software (SIECLE,
	// ONDE), as the AAF feed gives it (ENTEleveStructRattachId): the
	// fourth field of ÉduConnect's FrEduVecteur names the student by it,
	// which is how parents and students signing in through ÉduConnect are
	// matched to their accounts (docs/sso.md).
	StudentID string `json:"student_id,omitempty" text:"code"`
}

// IsZero reports whether the details are empty.
func (d AccountDetails) IsZero() bool {
	return len(d.Establishments) == 0 && len(d.Posts) == 0 && d.MEF == "" && d.MEFLabel == "" && d.StudentID == ""
}

// Equal reports whether d and o say the same.
func (d AccountDetails) Equal(o AccountDetails) bool {
	return slices.Equal(d.Establishments, o.Establishments) && slices.Equal(d.Posts, o.Posts) &&
		d.MEF == o.MEF && d.MEFLabel == o.MEFLabel && d.StudentID == o.StudentID
}

// Clone returns a copy that shares no slice with d.
func (d AccountDetails) Clone() AccountDetails {
	d.Establishments, d.Posts = slices.Clone(d.Establishments), slices.Clone(d.Posts)
	return d
}

// AccountOpened creates an account in the directory.
type AccountOpened struct {
	Account       uuid.UUID `json:"account"`
	Establishment string    `json:"establishment,omitempty"`
	Profile       Profile   `json:"profile"`
	Function      Function  `json:"function,omitempty"`
	ExternalID    string    `json:"external_id,omitempty"`
	DisplayName   string    `json:"display_name" personal:"Account"`
	// Details are the other establishments, functions and MEF a feed
	// gives (none for accounts opened by hand or before feeds gave them).
	Details AccountDetails `json:"details,omitzero"`
}

func (AccountOpened) EventType() string { return "account.opened.v1" }

// AccountUpdated changes an account's directory attributes.
type AccountUpdated struct {
	Account       uuid.UUID `json:"account"`
	Establishment string    `json:"establishment,omitempty"`
	Function      Function  `json:"function,omitempty"`
	DisplayName   string    `json:"display_name" personal:"Account"`
	// Details are the account's details after the update, whole.
	Details AccountDetails `json:"details,omitzero"`
}

func (AccountUpdated) EventType() string { return "account.updated.v1" }

// AccountActivated marks the first use of an account by its owner.
type AccountActivated struct {
	Account uuid.UUID `json:"account"`
}

func (AccountActivated) EventType() string { return "account.activated.v1" }

// AccountClosed closes an account; its history stays.
type AccountClosed struct {
	Account uuid.UUID `json:"account"`
	Reason  string    `json:"reason,omitempty"`
}

func (AccountClosed) EventType() string { return "account.closed.v1" }

// InspectorHabilitated sets the establishments an inspector may audit.
type InspectorHabilitated struct {
	Account        uuid.UUID `json:"account"`
	Establishments []string  `json:"establishments"`
}

func (InspectorHabilitated) EventType() string { return "account.habilitated.v1" }

// Relation is what a relative is to a student, after the feeds' codes of
// the lien de parenté. The values are stored in events: add new ones, never
// change one's meaning.
type Relation string

// Relations.
const (
	RelationUnknown      Relation = "" // the feed does not say
	RelationMother       Relation = "mother"
	RelationFather       Relation = "father"
	RelationTutor        Relation = "tutor" // tuteur
	RelationSibling      Relation = "sibling"
	RelationGrandparent  Relation = "grandparent" // ascendant
	RelationFamily       Relation = "family"      // autre membre de la famille
	RelationEducator     Relation = "educator"
	RelationFosterCarer  Relation = "foster_carer"  // assistant familial
	RelationChildWelfare Relation = "child_welfare" // aide sociale à l'enfance
	RelationSelf         Relation = "self"          // the student themself (of age)
	RelationOther        Relation = "other"         // autre lien
)

// Relations lists the relations, in the order forms show them.
func Relations() []Relation {
	return []Relation{RelationMother, RelationFather, RelationTutor, RelationSibling, RelationGrandparent, RelationFamily,
		RelationEducator, RelationFosterCarer, RelationChildWelfare, RelationSelf, RelationOther}
}

// Valid reports whether r is a relation or unknown.
func (r Relation) Valid() bool { return r == RelationUnknown || slices.Contains(Relations(), r) }

// RelativeLinked links a relative to a student, or changes the link. It is
// stored on the student's account stream. The fields after LegalGuardian
// came with the feeds that give them: an event without them says nothing
// of them.
type RelativeLinked struct {
	Student       uuid.UUID `json:"student"`
	Relative      uuid.UUID `json:"relative"`
	LegalGuardian bool      `json:"legal_guardian"`
	// Relation is what the relative is to the student.
	Relation Relation `json:"relation,omitempty"`
	// LegalRank is a legal guardian's rank, 1 or 2 (représentant légal 1
	// or 2); 0 when not ranked.
	LegalRank int `json:"legal_rank,omitempty"`
	// Financial: the relative is financially responsible for the student.
	Financial bool `json:"financial,omitempty"`
	// Contact: the relative is a person to contact.
	Contact bool `json:"contact,omitempty"`
}

func (RelativeLinked) EventType() string { return "relative.linked.v1" }

// RelativeUnlinked removes a relative's link to a student.
type RelativeUnlinked struct {
	Student  uuid.UUID `json:"student"`
	Relative uuid.UUID `json:"relative"`
}

func (RelativeUnlinked) EventType() string { return "relative.unlinked.v1" }

// GroupKind is a class or a teaching group.
type GroupKind string

// Group kinds.
const (
	GroupClass    GroupKind = "class"
	GroupTeaching GroupKind = "teaching_group"
)

// GroupCreated creates a class or teaching group. Name is its code (what
// feeds name it by: "6A"); Label what pages show ("6EME A"), when it
// differs.
type GroupCreated struct {
	Group         uuid.UUID `json:"group"`
	Establishment string    `json:"establishment"`
	Kind          GroupKind `json:"kind"`
	Name          string    `json:"name"`
	Label         string    `json:"label,omitempty"`
}

func (GroupCreated) EventType() string { return "group.created.v1" }

// GroupLabelled changes the label a group is shown with (empty: its
// name).
type GroupLabelled struct {
	Group uuid.UUID `json:"group"`
	Label string    `json:"label"`
}

func (GroupLabelled) EventType() string { return "group.labelled.v1" }

// Role is an account's role in a group.
type Role string

// Roles in a group.
const (
	RoleStudent     Role = "student"
	RoleTeacher     Role = "teacher"
	RoleHeadTeacher Role = "head_teacher" // professeur principal
)

// MemberJoined adds an account to a group in a role, or changes the
// subject of a teacher's role. Subject is the subject a teacher teaches the
// group, in words ("FRANCAIS, LATIN"); SubjectCodes the codes a feed gave
// for it (006600: the words are their labels, or the codes themselves when
// no label was known).
type MemberJoined struct {
	Group        uuid.UUID `json:"group"`
	Account      uuid.UUID `json:"account"`
	Role         Role      `json:"role"`
	Subject      string    `json:"subject,omitempty"`
	SubjectCodes []string  `json:"subject_codes,omitempty"`
}

func (MemberJoined) EventType() string { return "group.member_joined.v1" }

// MemberLeft removes an account from a group role.
type MemberLeft struct {
	Group   uuid.UUID `json:"group"`
	Account uuid.UUID `json:"account"`
	Role    Role      `json:"role"`
}

func (MemberLeft) EventType() string { return "group.member_left.v1" }

// SignInMethod is how a user signed in.
type SignInMethod string

// Sign-in methods.
const (
	SignInPassword SignInMethod = "password"
	SignInSSO      SignInMethod = "sso"
	SignInToken    SignInMethod = "token"
	// The single sign-on protocols, since they are told apart: ÉduConnect
	// and académies' providers over SAML 2.0, OpenID Connect providers, an
	// académie's CAS. SignInSSO is the older value of any of them.
	SignInSAML SignInMethod = "saml"
	SignInOIDC SignInMethod = "oidc"
	SignInCAS  SignInMethod = "cas"
)

// UserConnected records a successful sign-in; it feeds the connection
// indicators.
type UserConnected struct {
	Account       uuid.UUID    `json:"account"`
	Profile       Profile      `json:"profile"`
	Establishment string       `json:"establishment,omitempty"`
	Method        SignInMethod `json:"method"`
}

func (UserConnected) EventType() string { return "user.connected.v1" }

// LessonScheduled puts a weekly lesson in a group's timetable: every
// Weekday at Slot, from From to Until (inclusive), taught by Teacher.
type LessonScheduled struct {
	Group   uuid.UUID    `json:"group"`
	Entry   uuid.UUID    `json:"entry"`
	Weekday time.Weekday `json:"weekday"`
	Slot    Slot         `json:"slot"`
	Subject string       `json:"subject"`
	Teacher uuid.UUID    `json:"teacher"`
	From    Date         `json:"from"`
	Until   Date         `json:"until"`
}

func (LessonScheduled) EventType() string { return "timetable.lesson_scheduled.v1" }

// LessonUnscheduled removes a timetable entry.
type LessonUnscheduled struct {
	Group uuid.UUID `json:"group"`
	Entry uuid.UUID `json:"entry"`
}

func (LessonUnscheduled) EventType() string { return "timetable.lesson_unscheduled.v1" }
