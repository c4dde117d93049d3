package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

const ntfUAI = "0750001A"

var (
	ntfTeacher  = rmID(1)
	ntfS1       = rmID(2) // child of p1 and p2 (p2 unlinked later)
	ntfS2       = rmID(3) // child of p3
	ntfP1       = rmID(4)
	ntfP2       = rmID(5)
	ntfP3       = rmID(6)
	ntfCPE      = rmID(7)
	ntfHead     = rmID(8)
	ntfOutsider = rmID(9) // a student of another class
	ntfClass    = rmID(10)
	ntfOther    = rmID(11)
	ntfHW       = rmID(20)
	ntfLesson   = rmID(21)
	ntfAbsence  = domain.AbsenceID(ntfLesson, ntfS1)
	ntfPunish   = rmID(22)
	ntfIncident = rmID(23)
	ntfSanction = rmID(24)
	ntfMsg      = rmID(25)
	ntfRoom     = rmID(26)
	ntfB1       = rmID(27)
	ntfB2       = rmID(28)
	ntfBase     = time.Date(2006, 3, 14, 7, 0, 0, 0, time.UTC)
)

// ntfAt is minute m of the notifications history.
func ntfAt(m int) time.Time { return ntfBase.Add(time.Duration(m) * time.Minute) }

// notificationsHistory: two students of a class, their relatives (one
// unlinked on the way), a student of another class; acts, homework, a
// message, bookings. It returns the position of each act by name.
func notificationsHistory(t *testing.T) (*world, map[string]domain.Position) {
	w := newWorld(t)
	pos := map[string]domain.Position{}
	sys := system(ntfUAI)
	byTeacher := teacherOf(ntfUAI, ntfTeacher)
	byCPE := actor{id: ntfCPE, profile: domain.ProfilePersonnel, uai: ntfUAI}
	byHead := actor{id: ntfHead, profile: domain.ProfilePersonnel, uai: ntfUAI}
	day := domain.MustDate("2006-03-14")
	slot := domain.Slot{Start: "08:00", End: "08:55"}

	emitAt(w, ntfAt(0), sys, domain.GroupStream(ntfClass),
		domain.MemberJoined{Group: ntfClass, Account: ntfTeacher, Role: domain.RoleTeacher, Subject: "Maths"},
		domain.MemberJoined{Group: ntfClass, Account: ntfS1, Role: domain.RoleStudent},
		domain.MemberJoined{Group: ntfClass, Account: ntfS2, Role: domain.RoleStudent},
	)
	emitAt(w, ntfAt(0), sys, domain.GroupStream(ntfOther),
		domain.MemberJoined{Group: ntfOther, Account: ntfOutsider, Role: domain.RoleStudent})
	emitAt(w, ntfAt(0), sys, domain.AccountStream(ntfS1),
		domain.RelativeLinked{Student: ntfS1, Relative: ntfP1, LegalGuardian: true},
		domain.RelativeLinked{Student: ntfS1, Relative: ntfP2})
	emitAt(w, ntfAt(0), sys, domain.AccountStream(ntfS2),
		domain.RelativeLinked{Student: ntfS2, Relative: ntfP3, LegalGuardian: true})

	pos["absence"] = emitAt(w, ntfAt(60), byTeacher, domain.LessonStream(ntfLesson),
		domain.RollCallCompleted{Lesson: ntfLesson, Group: ntfClass, Date: day, Slot: slot, Subject: "Maths", Teacher: ntfTeacher, Absent: 1},
		domain.AbsenceRecorded{Absence: ntfAbsence, Lesson: ntfLesson, Student: ntfS1, Group: ntfClass, Date: day, Slot: slot, Subject: "Maths"},
	)
	pos["homework"] = emitAt(w, ntfAt(61), byTeacher, domain.HomeworkStream(ntfHW), domain.HomeworkAssigned{
		Homework: ntfHW, Group: ntfClass, Subject: "Maths", Given: day, Due: domain.MustDate("2006-03-16"),
		Instructions: "Exercices 1 à 5", WorkloadMinutes: 30,
	})
	// p2 is unlinked: nothing more about s1 reaches them.
	emitAt(w, ntfAt(62), sys, domain.AccountStream(ntfS1), domain.RelativeUnlinked{Student: ntfS1, Relative: ntfP2})
	// The parent's own declaration notifies nobody.
	emitAt(w, ntfAt(63), actor{id: ntfP1, profile: domain.ProfileRelative, uai: ntfUAI}, domain.LessonStream(ntfLesson),
		domain.AbsenceReasonDeclared{Absence: ntfAbsence, Lesson: ntfLesson, Student: ntfS1, Relative: ntfP1, Reason: "Grippe"})
	pos["justified"] = emitAt(w, ntfAt(64), byCPE, domain.LessonStream(ntfLesson), domain.JustificationAccepted{
		Absence: ntfAbsence, Lesson: ntfLesson, Student: ntfS1, ReasonCode: "maladie", Comment: "Certificat reçu",
	})
	pos["punishment"] = emitAt(w, ntfAt(65), byTeacher, domain.DisciplineStream(ntfS1), domain.PunishmentGiven{
		Punishment: ntfPunish, Student: ntfS1, Group: ntfClass, Kind: domain.PunishmentDetention, Date: day, Reason: "Bavardages",
	})
	pos["incident"] = emitAt(w, ntfAt(66), byCPE, domain.IncidentStream(ntfIncident), domain.IncidentReported{
		Incident: ntfIncident, Establishment: ntfUAI, OccurredAt: ntfAt(50), Place: "Cour", Seriousness: domain.SeriousnessSerious,
		Description: "Bousculade", Protagonists: []domain.Protagonist{
			{Account: ntfS1, Role: domain.ProtagonistAuthor}, {Account: ntfS2, Role: domain.ProtagonistVictim},
		},
	})
	pos["sanction"] = emitAt(w, ntfAt(67), byHead, domain.DisciplineStream(ntfS2), domain.SanctionPronounced{
		Sanction: ntfSanction, Student: ntfS2, Kind: domain.SanctionWarning, Date: day, Incident: ntfIncident, Reason: "Violence",
	})
	pos["annulled"] = emitAt(w, ntfAt(68), byHead, domain.DisciplineStream(ntfS2), domain.SanctionAnnulled{
		Sanction: ntfSanction, Student: ntfS2, Reason: "Erreur",
	})
	pos["late"] = emitAt(w, ntfAt(69), byTeacher, domain.LessonStream(ntfLesson), domain.LatenessRecorded{
		Lesson: ntfLesson, Student: ntfS2, Group: ntfClass, Date: day, Slot: slot, Subject: "Maths", Minutes: 10,
	})
	pos["message"] = emitAt(w, ntfAt(70), byCPE, domain.MessageStream(ntfMsg), domain.MessageSent{
		Message: ntfMsg, From: ntfCPE, ToAccounts: []uuid.UUID{ntfP3}, ToGroups: []uuid.UUID{ntfClass},
		Subject: "Réunion parents-professeurs", Body: "Jeudi 18 h.", AckRequested: true,
	})
	pos["amended"] = emitAt(w, ntfAt(71), byTeacher, domain.HomeworkStream(ntfHW), domain.HomeworkAmended{
		Homework: ntfHW, Group: ntfClass, Due: domain.MustDate("2006-03-17"), Instructions: "Exercices 1 à 6", WorkloadMinutes: 40,
	})
	pos["withdrawn"] = emitAt(w, ntfAt(72), byTeacher, domain.HomeworkStream(ntfHW), domain.HomeworkWithdrawn{Homework: ntfHW, Group: ntfClass})
	// Bookings: approved at once on the teacher's own request (no
	// notification), cancelled later by the CPE; a second one refused.
	start := time.Date(2006, 3, 20, 10, 0, 0, 0, paris)
	emitAt(w, ntfAt(73), byCPE, domain.ResourceStream(ntfRoom),
		domain.ResourceRegistered{Resource: ntfRoom, Establishment: ntfUAI, Kind: domain.ResourceRoom, Name: "Salle 12"})
	emitAt(w, ntfAt(74), byTeacher, domain.ResourceStream(ntfRoom),
		domain.BookingRequested{Booking: ntfB1, Resource: ntfRoom, By: ntfTeacher, Start: start.UTC(), End: start.Add(time.Hour).UTC()},
		domain.BookingApproved{Booking: ntfB1, Resource: ntfRoom},
	)
	emitAt(w, ntfAt(75), byTeacher, domain.ResourceStream(ntfRoom), domain.BookingRequested{
		Booking: ntfB2, Resource: ntfRoom, By: ntfTeacher, Start: start.AddDate(0, 0, 1).UTC(), End: start.AddDate(0, 0, 1).Add(time.Hour).UTC(),
		RepeatUntil: domain.MustDate("2006-04-04"),
	})
	pos["refused"] = emitAt(w, ntfAt(76), byCPE, domain.ResourceStream(ntfRoom),
		domain.BookingRefused{Booking: ntfB2, Resource: ntfRoom, Reason: "Salle réservée aux examens"})
	pos["cancelled"] = emitAt(w, ntfAt(77), byCPE, domain.ResourceStream(ntfRoom),
		domain.BookingCancelled{Booking: ntfB1, Resource: ntfRoom})
	return w, pos
}

func TestNotifications(t *testing.T) {
	w, pos := notificationsHistory(t)
	n := func(act, typ string, m int, ref uuid.UUID, summary string, students ...uuid.UUID) projections.Notification {
		return projections.Notification{Position: pos[act], Type: typ, Time: ntfAt(m), Ref: ref, Students: students, Summary: summary}
	}
	const (
		absent     = "Absence: 2006-03-14 08:00 Maths"
		homework   = "Homework in Maths due 2006-03-16"
		justified  = "Absence justified (maladie): 2006-03-14 08:00 Maths"
		punishment = "Punishment: retenue, 2006-03-14"
		message    = "Message (acknowledgement requested): Réunion parents-professeurs"
		amended    = "Homework in Maths amended, due 2006-03-17"
		withdrawn  = "Homework in Maths due 2006-03-17 withdrawn"
	)
	s1Acts := func(who uuid.UUID) []projections.Notification {
		out := []projections.Notification{
			n("withdrawn", "homework.withdrawn.v1", 72, ntfHW, withdrawn, ntfS1),
			n("amended", "homework.amended.v1", 71, ntfHW, amended, ntfS1),
		}
		if who == ntfS1 {
			out = append(out, n("message", "message.sent.v1", 70, ntfMsg, message))
		}
		return append(out,
			n("incident", "incident.reported.v1", 66, ntfIncident, "Incident (serious): author", ntfS1),
			n("punishment", "punishment.given.v1", 65, ntfPunish, punishment, ntfS1),
			n("justified", "absence.justification_accepted.v1", 64, ntfAbsence, justified, ntfS1),
			n("homework", "homework.assigned.v1", 61, ntfHW, homework, ntfS1),
			n("absence", "absence.recorded.v1", 60, ntfAbsence, absent, ntfS1),
		)
	}
	s2Acts := []projections.Notification{
		n("withdrawn", "homework.withdrawn.v1", 72, ntfHW, withdrawn, ntfS2),
		n("amended", "homework.amended.v1", 71, ntfHW, amended, ntfS2),
		n("message", "message.sent.v1", 70, ntfMsg, message),
		n("late", "lateness.recorded.v1", 69, ntfLesson, "Late (10 min): 2006-03-14 08:00 Maths", ntfS2),
		n("annulled", "sanction.annulled.v1", 68, ntfSanction, "Sanction annulled: avertissement, 2006-03-14", ntfS2),
		n("sanction", "sanction.pronounced.v1", 67, ntfSanction, "Sanction: avertissement, 2006-03-14", ntfS2),
		n("incident", "incident.reported.v1", 66, ntfIncident, "Incident (serious): victim", ntfS2),
		n("homework", "homework.assigned.v1", 61, ntfHW, homework, ntfS2),
	}

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 3, projections.NewNotifications())
		for _, c := range []struct {
			name    string
			account uuid.UUID
			limit   int
			want    []projections.Notification
		}{
			{"student s1: own acts, homework, messages", ntfS1, 0, s1Acts(ntfS1)},
			{"parent p1: s1's acts and homework", ntfP1, 0, s1Acts(ntfP1)},
			{"limited", ntfP1, 2, s1Acts(ntfP1)[:2]},
			{"parent p2, unlinked after the homework", ntfP2, 0, []projections.Notification{
				n("homework", "homework.assigned.v1", 61, ntfHW, homework, ntfS1),
				n("absence", "absence.recorded.v1", 60, ntfAbsence, absent, ntfS1),
			}},
			{"student s2", ntfS2, 0, s2Acts},
			{"parent p3: s2's acts and the message sent to them", ntfP3, 0, s2Acts},
			{"teacher: messages and others' decisions on their bookings", ntfTeacher, 0, []projections.Notification{
				n("cancelled", "booking.cancelled.v1", 77, ntfB1, "Booking cancelled: Salle 12, 2006-03-20 10:00"),
				n("refused", "booking.refused.v1", 76, ntfB2, "Booking refused: Salle 12, 2006-03-21 10:00, weekly until 2006-04-04"),
				n("message", "message.sent.v1", 70, ntfMsg, message),
			}},
			{"the CPE is not notified of their own acts", ntfCPE, 0, []projections.Notification{}},
			{"another class hears nothing", ntfOutsider, 0, []projections.Notification{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := mustItems[projections.Notification](t)(q.Notifications(ctx, c.account, projections.Page{Limit: c.limit}))
				mustEqualJSON(t, "notifications", got, c.want)
			})
		}
	})
}

// rmAudienceLookup is a fixed AudienceLookup.
type rmAudienceLookup struct {
	relatives map[uuid.UUID][]uuid.UUID
	members   map[uuid.UUID]map[uuid.UUID][]domain.Role
	bookings  map[uuid.UUID]uuid.UUID
}

func (l rmAudienceLookup) RelativesOf(_ context.Context, s uuid.UUID) ([]uuid.UUID, error) {
	return l.relatives[s], nil
}

func (l rmAudienceLookup) GroupMembers(_ context.Context, g uuid.UUID) (map[uuid.UUID][]domain.Role, error) {
	return l.members[g], nil
}

func (l rmAudienceLookup) BookingRequester(_ context.Context, b uuid.UUID) (uuid.UUID, error) {
	return l.bookings[b], nil
}

func TestAudience(t *testing.T) {
	teacher, s1, s2, p1, p2, staff := rmID(1), rmID(2), rmID(3), rmID(4), rmID(5), rmID(6)
	class, booking := rmID(10), rmID(20)
	look := rmAudienceLookup{
		relatives: map[uuid.UUID][]uuid.UUID{s1: {p1}, s2: {p1, p2}},
		members: map[uuid.UUID]map[uuid.UUID][]domain.Role{
			class: {teacher: {domain.RoleTeacher}, s1: {domain.RoleStudent}, s2: {domain.RoleStudent}},
		},
		bookings: map[uuid.UUID]uuid.UUID{booking: teacher},
	}
	rec := func(actor uuid.UUID) domain.Record { return domain.Record{Metadata: domain.Metadata{Actor: actor}} }
	for _, c := range []struct {
		name  string
		actor uuid.UUID
		e     domain.Event
		want  []projections.Concerned
	}{
		{"homework: students and relatives, one entry per account", teacher, domain.HomeworkAssigned{Group: class}, []projections.Concerned{
			{Account: s1, Students: []uuid.UUID{s1}},
			{Account: s2, Students: []uuid.UUID{s2}},
			{Account: p1, Students: []uuid.UUID{s1, s2}},
			{Account: p2, Students: []uuid.UUID{s2}},
		}},
		{"incident: protagonists and their relatives", staff, domain.IncidentReported{Protagonists: []domain.Protagonist{
			{Account: s2, Role: domain.ProtagonistWitness},
		}}, []projections.Concerned{
			{Account: s2, Students: []uuid.UUID{s2}},
			{Account: p1, Students: []uuid.UUID{s2}},
			{Account: p2, Students: []uuid.UUID{s2}},
		}},
		{"message: recipients, not the relatives of student recipients", teacher, domain.MessageSent{From: teacher, ToGroups: []uuid.UUID{class}}, []projections.Concerned{
			{Account: s1}, {Account: s2},
		}},
		{"booking decided by staff", staff, domain.BookingRefused{Booking: booking}, []projections.Concerned{{Account: teacher}}},
		{"booking approved by the requester's own request", teacher, domain.BookingApproved{Booking: booking}, []projections.Concerned{}},
		{"a relative's declaration", p1, domain.AbsenceReasonDeclared{Student: s1, Relative: p1}, []projections.Concerned{}},
		{"homework done", s1, domain.HomeworkDone{Group: class, Student: s1}, []projections.Concerned{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := mustOK[[]projections.Concerned](t)(projections.Audience(context.Background(), look, rec(c.actor), c.e))
			mustEqualJSON(t, "audience", got, c.want)
		})
	}
}
