package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// benchUAI is the establishment of the generated events.
const benchUAI = "0130001F"

// slots of a school day.
var slots = []domain.Slot{
	{Start: "08:00", End: "08:55"}, {Start: "09:00", End: "09:55"}, {Start: "10:10", End: "11:05"},
	{Start: "11:10", End: "12:05"}, {Start: "14:00", End: "14:55"}, {Start: "15:00", End: "15:55"},
}

var subjects = []string{"Mathématiques", "Français", "Histoire-géographie", "Anglais", "SVT", "Physique-chimie", "EPS"}

// envelope encodes e with the metadata a command gives it.
func (e *env) envelope(ev domain.Event, actor uuid.UUID, profile domain.Profile, command string, at time.Time) domain.Envelope {
	typ, data, err := e.reg.Encode(ev)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", ev, err)) // every event here is registered
	}
	corr := uuid.New()
	return domain.Envelope{
		ID: uuid.New(), Type: typ, Data: data,
		Metadata: domain.Metadata{
			Actor: actor, Profile: profile, Establishment: benchUAI,
			CorrelationID: corr, CausationID: corr, Command: command, Time: at.UTC().Truncate(time.Microsecond),
		},
	}
}

// absenceEnvelope is one absence.recorded.v1 with its metadata, as a
// roll call records it: the single-event command of the append scenario.
func (e *env) absenceEnvelope(teacher, student, group uuid.UUID, day domain.Date, slot int) domain.Envelope {
	s := slots[slot%len(slots)]
	lesson := domain.LessonID(group, day, s)
	return e.envelope(domain.AbsenceRecorded{
		Absence: domain.AbsenceID(lesson, student), Lesson: lesson, Student: student, Group: group,
		Date: day, Slot: s, Subject: subjects[slot%len(subjects)],
	}, teacher, domain.ProfileTeacher, "RecordRollCall", time.Now())
}

// rawRow is an envelope as the baselines store it: the events table's
// columns, encoded once.
type rawRow struct {
	id                   uuid.UUID
	stream               string
	version              int64
	typ                  string
	data, metadata       string
	recordedAt           time.Time
	hash                 []byte
	correlation, student uuid.UUID
}

func toRaw(env domain.Envelope, stream string, version int64) rawRow {
	md, _ := json.Marshal(env.Metadata)
	return rawRow{
		id: env.ID, stream: stream, version: version, typ: env.Type, data: string(env.Data), metadata: string(md),
		recordedAt: env.Metadata.Time, hash: domain.ChainHash(nil, env.ID, stream, uint64(version), env.Type, env.Data, md),
	}
}
