package domain

import (
	"slices"

	"github.com/google/uuid"
)

// LetterTemplate names a letter to families. These names are persisted:
// never rename one.
type LetterTemplate string

// Letter templates.
const (
	// LetterUnjustifiedAbsences tells the legal guardians of the
	// unjustified absences of a period and asks them to justify them.
	LetterUnjustifiedAbsences LetterTemplate = "unjustified_absences"
	// LetterMeeting summons the legal guardians to a meeting about
	// their child's attendance.
	LetterMeeting LetterTemplate = "attendance_meeting"
)

// LetterTemplates lists every template, in the order they are offered.
func LetterTemplates() []LetterTemplate {
	return []LetterTemplate{LetterUnjustifiedAbsences, LetterMeeting}
}

// Valid reports whether t is a template.
func (t LetterTemplate) Valid() bool { return slices.Contains(LetterTemplates(), t) }

// LetterChannel is how a letter reached the family.
type LetterChannel string

// Letter channels.
const (
	LetterByPrint LetterChannel = "print"
	LetterByEmail LetterChannel = "email"
)

// Valid reports whether c is a channel.
func (c LetterChannel) Valid() bool { return c == LetterByPrint || c == LetterByEmail }

// CategoryLetters is the category of a student's letters stream.
// Persisted: never rename.
const CategoryLetters = "letters"

// LettersStream is the stream of the letters sent about a student.
func LettersStream(student uuid.UUID) string { return StreamName(CategoryLetters, student.String()) }

// LetterSent records that a letter about a student went to the family:
// which template, by which channel, to whom (the legal guardians'
// accounts), about which period. The letter's text is not in the log: it
// is rebuilt from the template and the facts of the period.
type LetterSent struct {
	Letter        uuid.UUID      `json:"letter"`
	Establishment string         `json:"establishment"`
	Student       uuid.UUID      `json:"student"`
	Template      LetterTemplate `json:"template"`
	Channel       LetterChannel  `json:"channel"`
	Recipients    []uuid.UUID    `json:"recipients"`
	From          Date           `json:"from"`
	To            Date           `json:"to"`
	HalfDays      int            `json:"half_days"`
}

func (LetterSent) EventType() string { return "letter.sent.v1" }

// RecordLetter is the command of the office recording a letter sent.
type RecordLetter struct {
	Letter     uuid.UUID      `json:"letter"`
	Student    uuid.UUID      `json:"student"`
	Template   LetterTemplate `json:"template" text:"code"`
	Channel    LetterChannel  `json:"channel" text:"code"`
	Recipients []uuid.UUID    `json:"recipients"`
	From       Date           `json:"from" date:"act"`
	To         Date           `json:"to" date:"act"`
	HalfDays   int            `json:"half_days"`
}

// Letters is the state of a student's letters stream.
type Letters struct {
	Sent map[uuid.UUID]bool
}

// Apply folds an event of the stream.
func (l *Letters) Apply(ev Event) {
	if e, ok := ev.(LetterSent); ok {
		if l.Sent == nil {
			l.Sent = make(map[uuid.UUID]bool)
		}
		l.Sent[e.Letter] = true
	}
}

// RecordLetter decides recording a letter: staff of the student's
// establishment, to one to eight of the student's relatives, for a period
// in order.
func (l *Letters) RecordLetter(actor Actor, student *Account, cmd RecordLetter) ([]Event, error) {
	if !student.Exists || student.Profile != ProfileStudent {
		return nil, Errorf(ErrNotFound, "student %s", cmd.Student)
	}
	if !actor.IsStaff(student.Establishment) {
		return nil, Errorf(ErrForbidden, "only the establishment's staff write to families")
	}
	switch {
	case !cmd.Template.Valid():
		return nil, Errorf(ErrInvalid, "template %q is not a letter template", cmd.Template)
	case !cmd.Channel.Valid():
		return nil, Errorf(ErrInvalid, "channel %q: print or email", cmd.Channel)
	case len(cmd.Recipients) == 0 || len(cmd.Recipients) > 8 || slices.Contains(cmd.Recipients, uuid.Nil):
		return nil, Errorf(ErrInvalid, "recipients: between 1 and 8 accounts")
	case cmd.From.IsZero() || cmd.To.IsZero() || cmd.To.Before(cmd.From):
		return nil, Errorf(ErrInvalid, "period: from a date to a later one")
	case cmd.HalfDays < 0 || cmd.HalfDays > 1000:
		return nil, Errorf(ErrInvalid, "half_days: between 0 and 1000")
	}
	for _, r := range cmd.Recipients {
		if _, ok := student.Relatives[r]; !ok {
			return nil, Errorf(ErrInvalid, "recipient %s is not a relative of the student", r)
		}
	}
	if l.Sent[cmd.Letter] {
		return nil, nil
	}
	return []Event{LetterSent{
		Letter: cmd.Letter, Establishment: student.Establishment, Student: cmd.Student,
		Template: cmd.Template, Channel: cmd.Channel, Recipients: slices.Clone(cmd.Recipients),
		From: cmd.From, To: cmd.To, HalfDays: cmd.HalfDays,
	}}, nil
}
