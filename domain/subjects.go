package domain

import (
	"slices"

	"github.com/google/uuid"
)

// Subjects lists what an event concerns, as the inspectors' audit indexes
// it and the live hub routes it: the student files, groups, resources and accounts it is about (the
// student of an absence, the protagonists of an incident, the member
// joining and the group, the sender and the recipients of a message, the
// group of a homework, the resource of a booking...). Each id appears once,
// in a stable order. Establishments are not subjects (they are UAI codes,
// not ids: their history is an export of the log, see projections.ExportEstablishment);
// nor are lessons, messages, articles or homework themselves, whose events
// are found through their group, sender or author.
//
// A new event type must be added here: a test fails until it is.
func Subjects(e Event) []uuid.UUID {
	ids, _ := subjects(e)
	return ids
}

// subjects is Subjects, and whether it knows e's type at all (a test
// checks every registered type is known).
func subjects(e Event) ([]uuid.UUID, bool) {
	var ids []uuid.UUID
	switch e := e.(type) {
	// Privacy.
	case SubjectErased:
		ids = append(ids, e.Subject)
	case RetentionSet, RetentionApplied:
	case SubjectScrubbed:
		ids = append(ids, e.Subject)
	// Directory.
	case EstablishmentRegistered:
	case EstablishmentFeedKeyRecorded:
	case AccountOpened:
		ids = append(ids, e.Account)
	case AccountUpdated:
		ids = append(ids, e.Account)
	case AccountActivated:
		ids = append(ids, e.Account)
	case AccountClosed:
		ids = append(ids, e.Account)
	case InspectorHabilitated:
		ids = append(ids, e.Account)
	case RelativeLinked:
		ids = append(ids, e.Student, e.Relative)
	case RelativeUnlinked:
		ids = append(ids, e.Student, e.Relative)
	case GroupCreated:
		ids = append(ids, e.Group)
	case GroupLabelled:
		ids = append(ids, e.Group)
	case MemberJoined:
		ids = append(ids, e.Group, e.Account)
	case MemberLeft:
		ids = append(ids, e.Group, e.Account)
	case UserConnected:
		ids = append(ids, e.Account)
	case IdentityLinked:
		ids = append(ids, e.Account)
	case IdentityUnlinked:
		ids = append(ids, e.Account)
	case ConsultationsRecorded:
		// The establishment's trail: read through its own read model
		// (consultations.v1) and the establishment's export, not through
		// the history of each student it names.
	case LessonScheduled:
		ids = append(ids, e.Group, e.Teacher)
	case LessonUnscheduled:
		ids = append(ids, e.Group)
	// Directory import.
	case AccountMissingFromFeed:
		ids = append(ids, e.Account)
	case AccountBackInFeed:
		ids = append(ids, e.Account)
	case ImportForced:
		// About a whole feed: found through its establishments and actor.
	// School life.
	case RollCallCompleted:
		ids = append(ids, e.Group, e.Teacher)
	case AbsenceRecorded:
		ids = append(ids, e.Student, e.Group)
	case LatenessRecorded:
		ids = append(ids, e.Student, e.Group)
	case AbsenceCancelled:
		ids = append(ids, e.Student)
	case AbsenceReasonDeclared:
		ids = append(ids, e.Student, e.Relative)
	case JustificationAccepted:
		ids = append(ids, e.Student)
	case JustificationRefused:
		ids = append(ids, e.Student)
	case IncidentReported:
		for _, p := range e.Protagonists {
			ids = append(ids, p.Account)
		}
	case PunishmentGiven:
		ids = append(ids, e.Student, e.Group)
	case SanctionPronounced:
		ids = append(ids, e.Student)
	case SanctionAnnulled:
		ids = append(ids, e.Student)
	case SursisRevoked:
		ids = append(ids, e.Student)
	case SanctionEffaced:
		ids = append(ids, e.Student)
	case AlertRaised:
		ids = append(ids, e.Student, e.Group, e.Teacher)
	case AlertHandled:
		ids = append(ids, e.Student)
	case AlertSettingsSet:
	case LetterSent:
		ids = append(ids, e.Student)
		ids = append(ids, e.Recipients...)
	// Cahier de textes.
	case LessonContentRecorded:
		ids = append(ids, e.Group)
	case HomeworkAssigned:
		ids = append(ids, e.Group)
	case HomeworkAmended:
		ids = append(ids, e.Group)
	case HomeworkWithdrawn:
		ids = append(ids, e.Group)
	case HomeworkDone:
		ids = append(ids, e.Student, e.Group)
	// Messaging.
	case MessageSent:
		ids = append(ids, e.From)
		ids = append(ids, e.ToAccounts...)
		ids = append(ids, e.ToGroups...)
	case MessageRead:
		ids = append(ids, e.Reader)
	case MessageAcknowledged:
		ids = append(ids, e.Reader)
	// Booking.
	case ResourceRegistered:
		ids = append(ids, e.Resource)
	case BookingRequested:
		ids = append(ids, e.Resource, e.By)
	case BookingApproved:
		ids = append(ids, e.Resource)
	case BookingRefused:
		ids = append(ids, e.Resource)
	case BookingCancelled:
		ids = append(ids, e.Resource)
	// News.
	case ArticlePublished:
		ids = append(ids, e.Author)
	case ArticleAmended:
	case ArticleWithdrawn:
	// Privacy.
	case DataExported:
		ids = append(ids, e.Subject, e.Exporter)
	case StoreResealed:
		// A whole store's copy is about nobody in particular.
	// Connected services: found through their establishment; an access
	// through the account.
	case ServiceRegistered:
	case ServiceUnregistered:
	case ServiceAccessed:
		ids = append(ids, e.Account)
	// Notifications: a person's preferences are theirs; an outcome is on
	// the file of the students it was about, and the recipient's.
	case NotificationPreferencesSet:
		ids = append(ids, e.Account)
	case NotificationSent:
		ids = append(append(ids, e.Students...), e.Recipient)
	case NotificationFailed:
		ids = append(append(ids, e.Students...), e.Recipient)
	case NotificationOpened:
		ids = append(append(ids, e.Students...), e.Recipient)
	default:
		return nil, false
	}
	return uniqueIDs(ids), true
}

// uniqueIDs drops nil ids and repeats, keeping the first occurrence's place.
func uniqueIDs(ids []uuid.UUID) []uuid.UUID {
	out := ids[:0]
	for _, id := range ids {
		if id != uuid.Nil && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
