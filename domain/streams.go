package domain

import (
	"strings"

	"github.com/google/uuid"
)

// Stream categories. A stream is named "category-id"; the category is the
// aggregate. These names are persisted: never rename one.
const (
	CategoryEstablishment = "establishment"
	CategoryAccount       = "account"
	CategoryConnections   = "connections"
	CategoryGroup         = "group"
	CategoryLesson        = "lesson"
	CategoryDiscipline    = "discipline"
	CategoryIncident      = "incident"
	CategoryHomework      = "homework"
	CategoryMessage       = "message"
	CategoryResource      = "resource"
	CategoryArticle       = "article"
	CategoryImport        = "import"
	CategoryPrivacy       = "privacy"
	// CategoryConsultations is an establishment's consultation trail.
	CategoryConsultations = "consultations"
	// CategoryRetention is an establishment's retention settings and
	// expiries.
	CategoryRetention = "retention"
	// CategoryNotifications is a person's notification preferences.
	CategoryNotifications = "notifications"
	// CategoryDeliveries is the outcomes of the messages sent about an
	// establishment's acts.
	CategoryDeliveries = "deliveries"
)

// StreamPrefix is put before every stream name so that the ledger's streams
// can be told apart in a shared store (EventStoreDB's $all holds system
// streams too).
const StreamPrefix = "ledger."

// StreamName names the stream of an aggregate.
func StreamName(category, id string) string { return StreamPrefix + category + "-" + id }

// StreamCategory returns the category and id of a stream name, and whether it
// is one of the ledger's.
func StreamCategory(stream string) (category, id string, ok bool) {
	rest, ok := strings.CutPrefix(stream, StreamPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "-")
}

// Stream names of each aggregate.
func EstablishmentStream(uai string) string { return StreamName(CategoryEstablishment, uai) }
func AccountStream(id uuid.UUID) string     { return StreamName(CategoryAccount, id.String()) }
func ConnectionsStream(id uuid.UUID) string { return StreamName(CategoryConnections, id.String()) }
func GroupStream(id uuid.UUID) string       { return StreamName(CategoryGroup, id.String()) }
func LessonStream(id uuid.UUID) string      { return StreamName(CategoryLesson, id.String()) }
func DisciplineStream(student uuid.UUID) string {
	return StreamName(CategoryDiscipline, student.String())
}
func IncidentStream(id uuid.UUID) string { return StreamName(CategoryIncident, id.String()) }
func HomeworkStream(id uuid.UUID) string { return StreamName(CategoryHomework, id.String()) }
func MessageStream(id uuid.UUID) string  { return StreamName(CategoryMessage, id.String()) }
func ResourceStream(id uuid.UUID) string { return StreamName(CategoryResource, id.String()) }
func ArticleStream(id uuid.UUID) string  { return StreamName(CategoryArticle, id.String()) }

// PrivacyStream is the stream of what was done about a person's data (its
// exports, its erasure), by their account id.
func PrivacyStream(id uuid.UUID) string { return StreamName(CategoryPrivacy, id.String()) }

// ImportStream is the stream of a directory import, by its correlation id.
func ImportStream(id uuid.UUID) string { return StreamName(CategoryImport, id.String()) }

// Namespace for the ledger's name-based (v5) identifiers.
var namespace = uuid.MustParse("6f1c1a52-5b0e-4c57-9a53-2d0f3b1d9e11")

// LessonID is the id of the lesson of group on date at slot: the same lesson
// always gets the same id, so that two roll calls of it meet in one stream.
func LessonID(group uuid.UUID, date Date, slot Slot) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte("lesson|"+group.String()+"|"+date.String()+"|"+slot.Start))
}

// AbsenceID is the id of a student's absence from a lesson.
func AbsenceID(lesson, student uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte("absence|"+lesson.String()+"|"+student.String()))
}

// DeterministicID derives an id from parts; used for idempotent event ids.
func DeterministicID(parts ...string) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte(strings.Join(parts, "|")))
}
