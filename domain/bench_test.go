package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// benchEvents are events of the kinds the log holds most of, with
// realistic payloads.
func benchEvents() []domain.Event {
	id := func(s string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s)) }
	day := domain.MustDate("2006-03-14")
	slot := domain.Slot{Start: "08:00", End: "08:55"}
	lesson := domain.LessonID(id("6A"), day, slot)
	return []domain.Event{
		domain.AbsenceRecorded{Absence: domain.AbsenceID(lesson, id("lea")), Lesson: lesson, Student: id("lea"), Group: id("6A"), Date: day, Slot: slot, Subject: "Mathématiques"},
		domain.RollCallCompleted{Lesson: lesson, Group: id("6A"), Date: day, Slot: slot, Subject: "Mathématiques", Teacher: id("martin"), Absent: 3, Late: 1},
		domain.LatenessRecorded{Lesson: lesson, Student: id("hugo"), Group: id("6A"), Date: day, Slot: slot, Subject: "Mathématiques", Minutes: 10},
		domain.UserConnected{Account: id("durand"), Profile: domain.ProfileRelative, Establishment: "0130001F", Method: domain.SignInPassword},
		domain.MemberJoined{Group: id("6A"), Account: id("lea"), Role: domain.RoleStudent},
		domain.HomeworkAssigned{Homework: id("hw"), Group: id("6A"), Subject: "Mathématiques", Given: day, Due: day.AddDays(2),
			Instructions: "Exercices 12 à 15 page 84 (fractions).", WorkloadMinutes: 30},
		domain.MessageSent{Message: id("msg"), From: id("martin"), ToAccounts: []uuid.UUID{id("durand")}, Subject: "Sortie au musée", AckRequested: true,
			Body: "Bonjour, la classe de 6e A visitera le musée d'histoire naturelle jeudi. Merci d'en accuser réception."},
	}
}

// BenchmarkEncode measures the encoding of an event's payload by the
// registry, per event type.
func BenchmarkEncode(b *testing.B) {
	reg := domain.NewRegistry()
	for _, e := range benchEvents() {
		b.Run(e.EventType(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := reg.Encode(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode measures the decoding of a stored payload into its
// event struct, per event type: what every replay and command load does
// for each event.
func BenchmarkDecode(b *testing.B) {
	reg := domain.NewRegistry()
	for _, e := range benchEvents() {
		typ, data, err := reg.Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(typ, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Decode(typ, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeMetadata measures the decoding of the metadata every
// stored event carries (stores decode it for each record they read).
func BenchmarkDecodeMetadata(b *testing.B) {
	id := uuid.NewSHA1(uuid.NameSpaceOID, []byte("martin"))
	md, err := json.Marshal(domain.Metadata{
		Actor: id, Profile: domain.ProfileTeacher, Establishment: "0130001F", CorrelationID: id, CausationID: id,
		Command: "RecordRollCall", Time: time.Date(2006, 3, 14, 8, 3, 0, 0, time.UTC),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(md)))
	b.ReportAllocs()
	for b.Loop() {
		var m domain.Metadata
		if err := json.Unmarshal(md, &m); err != nil {
			b.Fatal(err)
		}
	}
}
