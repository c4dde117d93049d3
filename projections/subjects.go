package projections

import (
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Subjects lists what an event concerns, as the inspectors' audit indexes
// it: the student files, groups, resources and accounts it is about (the
// student of an absence, the protagonists of an incident, the member
// joining and the group, the sender and the recipients of a message, the
// group of a homework, the resource of a booking...). Each id appears once,
// in a stable order. Establishments are not subjects (they are UAI codes,
// not ids: their history is an export of the log, see ExportEstablishment);
// nor are lessons, messages, articles or homework themselves, whose events
// are found through their group, sender or author.
//
// A new event type must be added here: a test fails until it is.
func Subjects(e domain.Event) []uuid.UUID {
	ids, _ := subjects(e)
	return ids
}

// subjects is Subjects, and whether it knows e's type at all (a test
// checks every registered type is known).
func subjects(e domain.Event) ([]uuid.UUID, bool) {
	var ids []uuid.UUID
	switch e := e.(type) {
	// Directory.
	case domain.EstablishmentRegistered:
	case domain.AccountOpened:
		ids = append(ids, e.Account)
	case domain.AccountUpdated:
		ids = append(ids, e.Account)
	case domain.AccountActivated:
		ids = append(ids, e.Account)
	case domain.AccountClosed:
		ids = append(ids, e.Account)
	case domain.InspectorHabilitated:
		ids = append(ids, e.Account)
	case domain.RelativeLinked:
		ids = append(ids, e.Student, e.Relative)
	case domain.RelativeUnlinked:
		ids = append(ids, e.Student, e.Relative)
	case domain.GroupCreated:
		ids = append(ids, e.Group)
	case domain.MemberJoined:
		ids = append(ids, e.Group, e.Account)
	case domain.MemberLeft:
		ids = append(ids, e.Group, e.Account)
	case domain.UserConnected:
		ids = append(ids, e.Account)
	case domain.LessonScheduled:
		ids = append(ids, e.Group, e.Teacher)
	case domain.LessonUnscheduled:
		ids = append(ids, e.Group)
	// Directory import.
	case domain.AccountMissingFromFeed:
		ids = append(ids, e.Account)
	case domain.AccountBackInFeed:
		ids = append(ids, e.Account)
	// School life.
	case domain.RollCallCompleted:
		ids = append(ids, e.Group, e.Teacher)
	case domain.AbsenceRecorded:
		ids = append(ids, e.Student, e.Group)
	case domain.LatenessRecorded:
		ids = append(ids, e.Student, e.Group)
	case domain.AbsenceCancelled:
		ids = append(ids, e.Student)
	case domain.AbsenceReasonDeclared:
		ids = append(ids, e.Student, e.Relative)
	case domain.JustificationAccepted:
		ids = append(ids, e.Student)
	case domain.JustificationRefused:
		ids = append(ids, e.Student)
	case domain.IncidentReported:
		for _, p := range e.Protagonists {
			ids = append(ids, p.Account)
		}
	case domain.PunishmentGiven:
		ids = append(ids, e.Student, e.Group)
	case domain.SanctionPronounced:
		ids = append(ids, e.Student)
	case domain.SanctionAnnulled:
		ids = append(ids, e.Student)
	// Cahier de textes.
	case domain.LessonContentRecorded:
		ids = append(ids, e.Group)
	case domain.HomeworkAssigned:
		ids = append(ids, e.Group)
	case domain.HomeworkAmended:
		ids = append(ids, e.Group)
	case domain.HomeworkWithdrawn:
		ids = append(ids, e.Group)
	case domain.HomeworkDone:
		ids = append(ids, e.Student, e.Group)
	// Messaging.
	case domain.MessageSent:
		ids = append(ids, e.From)
		ids = append(ids, e.ToAccounts...)
		ids = append(ids, e.ToGroups...)
	case domain.MessageRead:
		ids = append(ids, e.Reader)
	case domain.MessageAcknowledged:
		ids = append(ids, e.Reader)
	// Booking.
	case domain.ResourceRegistered:
		ids = append(ids, e.Resource)
	case domain.BookingRequested:
		ids = append(ids, e.Resource, e.By)
	case domain.BookingApproved:
		ids = append(ids, e.Resource)
	case domain.BookingRefused:
		ids = append(ids, e.Resource)
	case domain.BookingCancelled:
		ids = append(ids, e.Resource)
	// News.
	case domain.ArticlePublished:
		ids = append(ids, e.Author)
	case domain.ArticleAmended:
	case domain.ArticleWithdrawn:
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
