package projections_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Alice's acts, as her file shows them.
var (
	fileLastYear = projections.FileAbsence{
		Absence: absLastYear, Lesson: lesson(class2A, "2005-06-10", slot8), Group: class2A,
		Date: domain.MustDate("2005-06-10"), Slot: slot8, Subject: "maths",
		State: domain.AbsenceRefused, DecisionReasonCode: "convenance",
	}
	fileJustified = projections.FileAbsence{
		Absence: absJustified, Lesson: lesson(class2A, "2006-03-06", slot8), Group: class2A,
		Date: domain.MustDate("2006-03-06"), Slot: slot8, Subject: "maths", State: domain.AbsenceJustified,
		DeclaredReason: "Malade, certificat joint", DeclaredBy: mother,
		DecisionReasonCode: "maladie", DecisionComment: "certificat vu",
	}
	// Refused, then declared again: the refusal is cleared.
	fileDeclared = projections.FileAbsence{
		Absence: absDeclared, Lesson: lesson(class2A, "2006-03-06", slot10), Group: class2A,
		Date: domain.MustDate("2006-03-06"), Slot: slot10, Subject: "francais", State: domain.AbsenceDeclared,
		DeclaredReason: "Grève des transports", DeclaredBy: mother,
	}
	fileCancelled = projections.FileAbsence{
		Absence: absCancelled, Lesson: lesson(class2A, "2006-03-07", slot9), Group: class2A,
		Date: domain.MustDate("2006-03-07"), Slot: slot9, Subject: "maths",
		State: domain.AbsenceCancelledState, CancelReason: "erreur de saisie",
	}
	fileToday = projections.FileAbsence{
		Absence: absToday, Lesson: lesson(class2A, "2006-03-13", slot8), Group: class2A,
		Date: today, Slot: slot8, Subject: "maths", State: domain.AbsenceUnjustified,
	}
	fileLate = projections.FileLateness{
		Lesson: lesson(class2A, "2006-03-10", slot8), Group: class2A, Date: domain.MustDate("2006-03-10"),
		Slot: slot8, Subject: "anglais", Minutes: 5,
	}
	fileRetenue = projections.FilePunishment{
		Punishment: id("retenue"), Kind: domain.PunishmentDetention, Date: domain.MustDate("2006-03-08"),
		Group: class2A, Reason: "bavardages répétés", GivenBy: durand,
	}
	fileWarning = projections.FileSanction{
		Sanction: id("warning"), Kind: domain.SanctionWarning, Date: domain.MustDate("2006-03-09"),
		Incident: id("fight"), Reason: "bousculade dans la cour", PronouncedBy: head,
		Authority: domain.AuthorityHead, EffacedOn: domain.MustDate("2006-09-01"),
	}
	fileBlame = projections.FileSanction{
		Sanction: id("blame"), Kind: domain.SanctionReprimand, Date: domain.MustDate("2006-03-10"),
		Reason: "insolence", PronouncedBy: head, Annulled: true, AnnulReason: "élève confondue",
		Authority: domain.AuthorityHead, EffacedOn: domain.MustDate("2006-09-01"),
	}
	fileFight = projections.FileIncident{
		Incident: id("fight"), Establishment: uaiLycee, OccurredAt: at("2006-03-09 15:30").UTC(),
		Date: domain.MustDate("2006-03-09"), Place: "cour", Seriousness: domain.SeriousnessSerious, Role: domain.ProtagonistAuthor,
	}
	fileNight = projections.FileIncident{
		Incident: id("night"), Establishment: uaiLycee, OccurredAt: at("2006-03-13 00:30").UTC(),
		Date: today, Place: "internat", Seriousness: domain.SeriousnessMinor, Role: domain.ProtagonistWitness,
	}
)

func TestStudentFile(t *testing.T) {
	w := school(t)
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 512, projections.NewStudentFile())
		for _, tc := range []struct {
			name     string
			student  uuid.UUID
			from, to string
			want     projections.StudentFile
		}{
			{name: "alice, all", student: alice, want: projections.StudentFile{
				Absences:    []projections.FileAbsence{fileLastYear, fileJustified, fileDeclared, fileCancelled, fileToday},
				Lateness:    []projections.FileLateness{fileLate},
				Punishments: []projections.FilePunishment{fileRetenue},
				Sanctions:   []projections.FileSanction{fileWarning, fileBlame},
				Incidents:   []projections.FileIncident{fileFight, fileNight},
				Counts: projections.StudentFileCounts{
					Absences: 4, AbsencesUnjustified: 3, Lateness: 1, LatenessMinutes: 5, Punishments: 1, Sanctions: 1, Incidents: 2,
				},
			}},
			// The last date there is: no key sorts after its day.
			{name: "alice, to the last date", student: alice, from: "0000-01-01", to: "9999-12-31", want: projections.StudentFile{
				Absences:    []projections.FileAbsence{fileLastYear, fileJustified, fileDeclared, fileCancelled, fileToday},
				Lateness:    []projections.FileLateness{fileLate},
				Punishments: []projections.FilePunishment{fileRetenue},
				Sanctions:   []projections.FileSanction{fileWarning, fileBlame},
				Incidents:   []projections.FileIncident{fileFight, fileNight},
				Counts: projections.StudentFileCounts{
					Absences: 4, AbsencesUnjustified: 3, Lateness: 1, LatenessMinutes: 5, Punishments: 1, Sanctions: 1, Incidents: 2,
				},
			}},
			{name: "alice, a week", student: alice, from: "2006-03-07", to: "2006-03-13", want: projections.StudentFile{
				Absences:    []projections.FileAbsence{fileCancelled, fileToday},
				Lateness:    []projections.FileLateness{fileLate},
				Punishments: []projections.FilePunishment{fileRetenue},
				Sanctions:   []projections.FileSanction{fileWarning, fileBlame},
				Incidents:   []projections.FileIncident{fileFight, fileNight},
				Counts: projections.StudentFileCounts{
					Absences: 1, AbsencesUnjustified: 1, Lateness: 1, LatenessMinutes: 5, Punishments: 1, Sanctions: 1, Incidents: 2,
				},
			}},
			// The night incident is on the 12th in UTC but the 13th in Paris.
			{name: "alice, to the 12th", student: alice, from: "2006-03-01", to: "2006-03-12", want: projections.StudentFile{
				Absences:    []projections.FileAbsence{fileJustified, fileDeclared, fileCancelled},
				Lateness:    []projections.FileLateness{fileLate},
				Punishments: []projections.FilePunishment{fileRetenue},
				Sanctions:   []projections.FileSanction{fileWarning, fileBlame},
				Incidents:   []projections.FileIncident{fileFight},
				Counts: projections.StudentFileCounts{
					Absences: 2, AbsencesUnjustified: 1, Lateness: 1, LatenessMinutes: 5, Punishments: 1, Sanctions: 1, Incidents: 1,
				},
			}},
			{name: "alice, from today", student: alice, from: "2006-03-13", want: projections.StudentFile{
				Absences: []projections.FileAbsence{fileToday}, Lateness: []projections.FileLateness{},
				Punishments: []projections.FilePunishment{}, Sanctions: []projections.FileSanction{},
				Incidents: []projections.FileIncident{fileNight},
				Counts:    projections.StudentFileCounts{Absences: 1, AbsencesUnjustified: 1, Incidents: 1},
			}},
			{name: "alice, last school year", student: alice, to: "2005-08-31", want: projections.StudentFile{
				Absences: []projections.FileAbsence{fileLastYear}, Lateness: []projections.FileLateness{},
				Punishments: []projections.FilePunishment{}, Sanctions: []projections.FileSanction{},
				Incidents: []projections.FileIncident{},
				Counts:    projections.StudentFileCounts{Absences: 1, AbsencesUnjustified: 1},
			}},
			{name: "bruno", student: bruno, want: projections.StudentFile{
				Absences: []projections.FileAbsence{{
					Absence: absBruno, Lesson: lesson(class2A, "2006-03-07", slot9), Group: class2A,
					Date: domain.MustDate("2006-03-07"), Slot: slot9, Subject: "maths", State: domain.AbsenceUnjustified,
				}},
				Lateness: []projections.FileLateness{{
					Lesson: lesson(class2A, "2006-03-13", slot8), Group: class2A, Date: today, Slot: slot8, Subject: "maths", Minutes: 10,
				}},
				Punishments: []projections.FilePunishment{}, Sanctions: []projections.FileSanction{},
				Incidents: []projections.FileIncident{{
					Incident: id("fight"), Establishment: uaiLycee, OccurredAt: at("2006-03-09 15:30").UTC(),
					Date: domain.MustDate("2006-03-09"), Place: "cour", Seriousness: domain.SeriousnessSerious, Role: domain.ProtagonistVictim,
				}},
				Counts: projections.StudentFileCounts{Absences: 1, AbsencesUnjustified: 1, Lateness: 1, LatenessMinutes: 10, Incidents: 1},
			}},
			{name: "nobody", student: id("nobody"), want: projections.StudentFile{
				Absences: []projections.FileAbsence{}, Lateness: []projections.FileLateness{},
				Punishments: []projections.FilePunishment{}, Sanctions: []projections.FileSanction{},
				Incidents: []projections.FileIncident{},
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				from, to := optDate(tc.from), optDate(tc.to)
				got := mustOK[*projections.StudentFile](t)(q.StudentFile(ctx, tc.student, from, to))
				tc.want.Student, tc.want.From, tc.want.To = tc.student, from, to
				mustEqualJSON(t, "StudentFile", got, tc.want)
			})
		}
	})
}

// Each step of an absence's life shows in the file as it happens.
func TestStudentFileAbsenceStates(t *testing.T) {
	l := lesson(class2A, "2006-03-06", slot8)
	abs := domain.AbsenceID(l, alice)
	by := teacherOf(uaiLycee, durand)
	staff := actor{id: head, profile: domain.ProfilePersonnel, uai: uaiLycee}
	relative := actor{id: mother, profile: domain.ProfileRelative, uai: uaiLycee}
	steps := []struct {
		who   actor
		event domain.Event
		want  func(a *projections.FileAbsence)
	}{
		{by, domain.AbsenceRecorded{Absence: abs, Lesson: l, Student: alice, Group: class2A, Date: domain.MustDate("2006-03-06"), Slot: slot8, Subject: "maths"},
			func(a *projections.FileAbsence) {}},
		{relative, domain.AbsenceReasonDeclared{Absence: abs, Lesson: l, Student: alice, Relative: mother, Reason: "réveil"},
			func(a *projections.FileAbsence) {
				a.State, a.DeclaredReason, a.DeclaredBy = domain.AbsenceDeclared, "réveil", mother
			}},
		{staff, domain.JustificationRefused{Absence: abs, Lesson: l, Student: alice, ReasonCode: "convenance", Comment: "non"},
			func(a *projections.FileAbsence) {
				a.State, a.DecisionReasonCode, a.DecisionComment = domain.AbsenceRefused, "convenance", "non"
			}},
		{relative, domain.AbsenceReasonDeclared{Absence: abs, Lesson: l, Student: alice, Relative: mother, Reason: "malade"},
			func(a *projections.FileAbsence) {
				a.State, a.DeclaredReason, a.DecisionReasonCode, a.DecisionComment = domain.AbsenceDeclared, "malade", "", ""
			}},
		{staff, domain.JustificationAccepted{Absence: abs, Lesson: l, Student: alice, ReasonCode: "maladie"},
			func(a *projections.FileAbsence) { a.State, a.DecisionReasonCode = domain.AbsenceJustified, "maladie" }},
		{by, domain.AbsenceCancelled{Absence: abs, Lesson: l, Student: alice, Reason: "erreur"},
			func(a *projections.FileAbsence) { a.State, a.CancelReason = domain.AbsenceCancelledState, "erreur" }},
	}
	want := projections.FileAbsence{
		Absence: abs, Lesson: l, Group: class2A, Date: domain.MustDate("2006-03-06"), Slot: slot8, Subject: "maths",
		State: domain.AbsenceUnjustified,
	}
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		w, want := newWorld(t), want
		for _, s := range steps {
			w.emit(s.who, domain.LessonStream(l), s.event)
			s.want(&want)
			q := w.MustProject(t, docs, 2, projections.NewStudentFile())
			f := mustOK[*projections.StudentFile](t)(q.StudentFile(ctx, alice, domain.Date{}, domain.Date{}))
			mustEqualJSON(t, "after "+s.event.EventType(), f.Absences, []projections.FileAbsence{want})
		}
	})
}

// optDate parses a date, "" being the zero date.
func optDate(s string) domain.Date {
	if s == "" {
		return domain.Date{}
	}
	return domain.MustDate(s)
}
