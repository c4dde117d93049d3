package visibility

import (
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Class is what an event type is to the rules of who receives it.
type Class uint8

const (
	// ClassOther: directory, timetable, roll calls, bookings, news:
	// teachers see them through their groups, staff through their
	// establishment, families not at all.
	ClassOther Class = iota
	// ClassStudentAct: an act about one student (or the protagonists of
	// an incident); families see the acts about their own children.
	ClassStudentAct
	// ClassGroupWork: the cahier de textes of a group; families see their
	// children's groups'.
	ClassGroupWork
	// ClassMail: messages, seen by their sender and recipients only,
	// whatever the profile.
	ClassMail
	// ClassHidden: sign-ins, delivered to nobody (connection tracking,
	// not news).
	ClassHidden
)

// Kind is what an event type is to the rules: its class, and whether the
// people it concerns are notified of it (see ConcernOf).
type Kind struct {
	Class    Class
	Notified bool
}

// KindOf returns the kind of the event type named typ, false if the type
// is unknown. Every registered type has one (a test checks it), so that a
// new type is a decision, not an accident.
func KindOf(typ string) (Kind, bool) {
	switch typ {
	// Directory.
	case domain.EstablishmentRegistered{}.EventType(),
		domain.EstablishmentFeedKeyRecorded{}.EventType(),
		domain.AccountOpened{}.EventType(),
		domain.AccountUpdated{}.EventType(),
		domain.AccountActivated{}.EventType(),
		domain.AccountClosed{}.EventType(),
		domain.InspectorHabilitated{}.EventType(),
		domain.RelativeLinked{}.EventType(),
		domain.RelativeUnlinked{}.EventType(),
		domain.GroupCreated{}.EventType(),
		domain.GroupLabelled{}.EventType(),
		domain.MemberJoined{}.EventType(),
		domain.MemberLeft{}.EventType(),
		domain.LessonScheduled{}.EventType(),
		domain.LessonUnscheduled{}.EventType(),
		domain.IdentityLinked{}.EventType(),
		domain.IdentityUnlinked{}.EventType():
		return Kind{Class: ClassOther}, true
	case domain.UserConnected{}.EventType(),
		domain.ConsultationsRecorded{}.EventType():
		return Kind{Class: ClassHidden}, true
	// Privacy: an erasure is shown to nobody as it happens.
	case domain.SubjectErased{}.EventType(), domain.SubjectScrubbed{}.EventType():
		return Kind{Class: ClassHidden}, true
	// Retention: an establishment's settings and expiries are the
	// administrators' business, shown to nobody as they happen.
	case domain.RetentionSet{}.EventType(),
		domain.RetentionApplied{}.EventType():
		return Kind{Class: ClassHidden}, true
	// Directory import.
	case domain.AccountMissingFromFeed{}.EventType(),
		domain.AccountBackInFeed{}.EventType(),
		domain.ImportForced{}.EventType():
		return Kind{Class: ClassOther}, true
	// School life.
	case domain.RollCallCompleted{}.EventType():
		return Kind{Class: ClassOther}, true
	case domain.AbsenceRecorded{}.EventType(),
		domain.LatenessRecorded{}.EventType(),
		domain.AbsenceCancelled{}.EventType(),
		domain.JustificationAccepted{}.EventType(),
		domain.JustificationRefused{}.EventType(),
		domain.IncidentReported{}.EventType(),
		domain.PunishmentGiven{}.EventType(),
		domain.SanctionPronounced{}.EventType(),
		domain.SanctionAnnulled{}.EventType(),
		domain.SursisRevoked{}.EventType():
		return Kind{Class: ClassStudentAct, Notified: true}, true
	case domain.SanctionEffaced{}.EventType():
		// Nobody is alerted that a sanction left the file.
		return Kind{Class: ClassStudentAct}, true
	case domain.AbsenceReasonDeclared{}.EventType():
		// The family declared it: nobody is told what they did.
		return Kind{Class: ClassStudentAct}, true
	// Alerts are the office's and the head's work list, read through the
	// office's pages: delivered live to nobody (not to the family, not to
	// the group's teachers).
	case domain.AlertRaised{}.EventType(),
		domain.AlertHandled{}.EventType(),
		domain.AlertSettingsSet{}.EventType():
		return Kind{Class: ClassHidden}, true
	case domain.LetterSent{}.EventType():
		// On the student's file; the family has the letter itself, so it
		// is not notified of it.
		return Kind{Class: ClassStudentAct}, true
	// Cahier de textes.
	case domain.LessonContentRecorded{}.EventType():
		return Kind{Class: ClassGroupWork}, true
	case domain.HomeworkAssigned{}.EventType(),
		domain.HomeworkAmended{}.EventType(),
		domain.HomeworkWithdrawn{}.EventType():
		return Kind{Class: ClassGroupWork, Notified: true}, true
	case domain.HomeworkDone{}.EventType():
		return Kind{Class: ClassStudentAct}, true
	// Messaging.
	case domain.MessageSent{}.EventType():
		return Kind{Class: ClassMail, Notified: true}, true
	case domain.MessageRead{}.EventType(),
		domain.MessageAcknowledged{}.EventType():
		return Kind{Class: ClassMail}, true
	// Booking.
	case domain.ResourceRegistered{}.EventType(),
		domain.BookingRequested{}.EventType():
		return Kind{Class: ClassOther}, true
	case domain.BookingApproved{}.EventType(),
		domain.BookingRefused{}.EventType(),
		domain.BookingCancelled{}.EventType():
		return Kind{Class: ClassOther, Notified: true}, true
	// News.
	case domain.ArticlePublished{}.EventType(),
		domain.ArticleAmended{}.EventType(),
		domain.ArticleWithdrawn{}.EventType():
		return Kind{Class: ClassOther}, true
	// Privacy.
	case domain.DataExported{}.EventType():
		// The trace of an access to a person's data: delivered to nobody.
		return Kind{Class: ClassHidden}, true
	case domain.StoreResealed{}.EventType():
		// An operator's act on the whole store: delivered to nobody.
		return Kind{Class: ClassHidden}, true
	// Connected services: their registry is the establishment's business;
	// an access counts like a sign-in.
	case domain.ServiceRegistered{}.EventType(),
		domain.ServiceUnregistered{}.EventType():
		return Kind{Class: ClassOther}, true
	case domain.ServiceAccessed{}.EventType():
		return Kind{Class: ClassHidden}, true
	// Notifications: a person's preferences are theirs alone; the outcomes
	// of deliveries (thousands at the morning peak) are news to nobody,
	// read through the student's history and the office's pages.
	case domain.NotificationPreferencesSet{}.EventType(),
		domain.NotificationSent{}.EventType(),
		domain.NotificationFailed{}.EventType(),
		domain.NotificationOpened{}.EventType():
		return Kind{Class: ClassHidden}, true
	}
	return Kind{}, false
}

// FamilyReceives reports whether students and relatives receive any event
// of class c (those about themselves, their children or their groups, and
// their own mail).
func FamilyReceives(c Class) bool {
	return c == ClassStudentAct || c == ClassGroupWork || c == ClassMail
}

// FamilyFeed returns, in their order, the types among types that a family
// is notified of: the kinds a family receives and whose concerned people
// are notified.
func FamilyFeed(types []string) []string {
	var out []string
	for _, typ := range types {
		if k, ok := KindOf(typ); ok && k.Notified && FamilyReceives(k.Class) {
			out = append(out, typ)
		}
	}
	return out
}

// Concern is whom an event concerns, to be notified of it.
type Concern struct {
	// Students the event is about: each of them, and the relatives linked
	// to them, are concerned.
	Students []uuid.UUID
	// Groups whose students (and their relatives) are concerned.
	Groups []uuid.UUID
	// Message: the event is a message, its recipients are concerned.
	Message bool
	// Bookings whose requester is concerned.
	Bookings []uuid.UUID
}

// ConcernOf returns whom e concerns: nobody unless its type is Notified.
// The author of the event is never concerned by it; the caller, who knows
// the metadata, leaves them out.
func ConcernOf(e domain.Event) Concern {
	switch e := e.(type) {
	case domain.AbsenceRecorded:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.AbsenceCancelled:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.LatenessRecorded:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.JustificationAccepted:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.JustificationRefused:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.PunishmentGiven:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.SanctionPronounced:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.SanctionAnnulled:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.SursisRevoked:
		return Concern{Students: []uuid.UUID{e.Student}}
	case domain.IncidentReported:
		c := Concern{Students: make([]uuid.UUID, 0, len(e.Protagonists))}
		for _, p := range e.Protagonists {
			c.Students = append(c.Students, p.Account)
		}
		return c
	case domain.HomeworkAssigned:
		return Concern{Groups: []uuid.UUID{e.Group}}
	case domain.HomeworkAmended:
		return Concern{Groups: []uuid.UUID{e.Group}}
	case domain.HomeworkWithdrawn:
		return Concern{Groups: []uuid.UUID{e.Group}}
	case domain.MessageSent:
		return Concern{Message: true}
	case domain.BookingApproved:
		return Concern{Bookings: []uuid.UUID{e.Booking}}
	case domain.BookingRefused:
		return Concern{Bookings: []uuid.UUID{e.Booking}}
	case domain.BookingCancelled:
		return Concern{Bookings: []uuid.UUID{e.Booking}}
	}
	return Concern{}
}

// RedactIncident returns the incident as a family that sees the acts about
// students sees it: neither its description nor the other protagonists
// (they may be other children; the student file copies neither).
func RedactIncident(e domain.IncidentReported, students []uuid.UUID) domain.IncidentReported {
	e.Description = ""
	e.Protagonists = slices.DeleteFunc(slices.Clone(e.Protagonists), func(p domain.Protagonist) bool {
		return !slices.Contains(students, p.Account)
	})
	return e
}
