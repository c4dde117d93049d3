package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Fields tagged `personal:"true"` hold personal data (names, free text about
// a person). They are the fields encrypted per person for crypto-shredding.

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

// AccountOpened creates an account in the directory.
type AccountOpened struct {
	Account       uuid.UUID `json:"account"`
	Establishment string    `json:"establishment,omitempty"`
	Profile       Profile   `json:"profile"`
	Function      Function  `json:"function,omitempty"`
	ExternalID    string    `json:"external_id,omitempty"`
	DisplayName   string    `json:"display_name" personal:"true"`
}

func (AccountOpened) EventType() string { return "account.opened.v1" }

// AccountUpdated changes an account's directory attributes.
type AccountUpdated struct {
	Account       uuid.UUID `json:"account"`
	Establishment string    `json:"establishment,omitempty"`
	Function      Function  `json:"function,omitempty"`
	DisplayName   string    `json:"display_name" personal:"true"`
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

// RelativeLinked links a relative to a student. It is stored on the
// student's account stream.
type RelativeLinked struct {
	Student       uuid.UUID `json:"student"`
	Relative      uuid.UUID `json:"relative"`
	LegalGuardian bool      `json:"legal_guardian"`
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

// GroupCreated creates a class or teaching group.
type GroupCreated struct {
	Group         uuid.UUID `json:"group"`
	Establishment string    `json:"establishment"`
	Kind          GroupKind `json:"kind"`
	Name          string    `json:"name"`
}

func (GroupCreated) EventType() string { return "group.created.v1" }

// Role is an account's role in a group.
type Role string

// Roles in a group.
const (
	RoleStudent     Role = "student"
	RoleTeacher     Role = "teacher"
	RoleHeadTeacher Role = "head_teacher" // professeur principal
)

// MemberJoined adds an account to a group in a role. Subject is the subject a
// teacher teaches the group.
type MemberJoined struct {
	Group   uuid.UUID `json:"group"`
	Account uuid.UUID `json:"account"`
	Role    Role      `json:"role"`
	Subject string    `json:"subject,omitempty"`
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
