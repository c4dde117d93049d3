package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Viewer is the signed-in account a socket serves. The HTTP layer
// authenticates it; what it may see comes from the directory.
type Viewer struct {
	Account uuid.UUID
}

// Directory is what the live path needs of the directory read model
// (projections.Queries implements it).
type Directory interface {
	// Account returns an account (domain.ErrUnknownAccount if none).
	Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
}

// ErrNothingLive is returned for a viewer who receives nothing live:
// inspectors and evaluators (they audit history and read aggregates, not a
// feed of acts), guests, admins, closed accounts.
var ErrNothingLive = errors.New("live: this account receives no live updates")

// class is what an event type is, for the filters. Every registered type
// is listed (a test checks it), so that a new type is a decision, not an
// accident.
type class uint8

const (
	// classOther: directory, timetable, roll calls, bookings, news:
	// teachers see them through their groups, staff through their
	// establishment, families not at all.
	classOther class = iota
	// classStudentAct: an act about one student (or the protagonists of an
	// incident); families see the acts about their own children.
	classStudentAct
	// classGroupWork: the cahier de textes of a group; families see their
	// children's groups'.
	classGroupWork
	// classMail: messages, seen by their sender and recipients only,
	// whatever the profile.
	classMail
	// classHidden: sign-ins, delivered to nobody (connection tracking,
	// not news).
	classHidden
)

var classes = map[string]class{
	// Directory.
	domain.EstablishmentRegistered{}.EventType(): classOther,
	domain.AccountOpened{}.EventType():           classOther,
	domain.AccountUpdated{}.EventType():          classOther,
	domain.AccountActivated{}.EventType():        classOther,
	domain.AccountClosed{}.EventType():           classOther,
	domain.InspectorHabilitated{}.EventType():    classOther,
	domain.RelativeLinked{}.EventType():          classOther,
	domain.RelativeUnlinked{}.EventType():        classOther,
	domain.GroupCreated{}.EventType():            classOther,
	domain.MemberJoined{}.EventType():            classOther,
	domain.MemberLeft{}.EventType():              classOther,
	domain.UserConnected{}.EventType():           classHidden,
	domain.LessonScheduled{}.EventType():         classOther,
	domain.LessonUnscheduled{}.EventType():       classOther,
	domain.AccountMissingFromFeed{}.EventType():  classOther,
	domain.AccountBackInFeed{}.EventType():       classOther,
	// School life.
	domain.RollCallCompleted{}.EventType():     classOther,
	domain.AbsenceRecorded{}.EventType():       classStudentAct,
	domain.LatenessRecorded{}.EventType():      classStudentAct,
	domain.AbsenceCancelled{}.EventType():      classStudentAct,
	domain.AbsenceReasonDeclared{}.EventType(): classStudentAct,
	domain.JustificationAccepted{}.EventType(): classStudentAct,
	domain.JustificationRefused{}.EventType():  classStudentAct,
	domain.IncidentReported{}.EventType():      classStudentAct,
	domain.PunishmentGiven{}.EventType():       classStudentAct,
	domain.SanctionPronounced{}.EventType():    classStudentAct,
	domain.SanctionAnnulled{}.EventType():      classStudentAct,
	// Cahier de textes.
	domain.LessonContentRecorded{}.EventType(): classGroupWork,
	domain.HomeworkAssigned{}.EventType():      classGroupWork,
	domain.HomeworkAmended{}.EventType():       classGroupWork,
	domain.HomeworkWithdrawn{}.EventType():     classGroupWork,
	domain.HomeworkDone{}.EventType():          classStudentAct,
	// Messaging.
	domain.MessageSent{}.EventType():         classMail,
	domain.MessageRead{}.EventType():         classMail,
	domain.MessageAcknowledged{}.EventType(): classMail,
	// Booking.
	domain.ResourceRegistered{}.EventType(): classOther,
	domain.BookingRequested{}.EventType():   classOther,
	domain.BookingApproved{}.EventType():    classOther,
	domain.BookingRefused{}.EventType():     classOther,
	domain.BookingCancelled{}.EventType():   classOther,
	// News.
	domain.ArticlePublished{}.EventType(): classOther,
	domain.ArticleAmended{}.EventType():   classOther,
	domain.ArticleWithdrawn{}.EventType(): classOther,
}

// incidentType is redacted for families.
var incidentType = domain.IncidentReported{}.EventType()

// scope is the kind of viewer a filter serves.
type scope uint8

const (
	scopeFamily  scope = iota + 1 // students and relatives
	scopeTeacher                  // teachers
	scopeStaff                    // personnel of an establishment
)

// filter decides what one viewer receives. It is computed from the
// directory when the socket opens: a change of links or groups applies
// from the next connection (sockets are closed after Lifetime for that).
// Sets are short slices: a viewer has a handful of children and groups,
// and a socket's memory must stay small.
type filter struct {
	scope scope
	self  uuid.UUID
	// member: the groups the viewer belongs to (messages sent to a group).
	member []uuid.UUID
	// students (family): whose acts the viewer sees (their children, or
	// themself).
	students []uuid.UUID
	// classes (family): whose cahier de textes they see (the students'
	// groups).
	classes []uuid.UUID
	// taught (teacher): the groups they teach.
	taught []uuid.UUID
	// establishment (staff).
	establishment string
}

// newFilter reads what a viewer may see from the directory:
//
//   - a relative: the acts about their children (absences, lateness,
//     justifications, punishments, sanctions, incidents they are a
//     protagonist of, homework done) and the homework and lesson contents
//     of their children's groups;
//   - a student: the same about themself and their groups;
//   - a teacher: every event about a group they teach (roll calls,
//     absences and lateness in it, punishments given in it, homework,
//     memberships...) and the events naming them;
//   - personnel: every event of their establishment;
//   - everyone: the messages they send or receive (to them or to a group
//     they belong to), and their reads and acknowledgements; nobody else's.
//
// Inspectors, evaluators, guests, admins and closed accounts receive
// nothing live (ErrNothingLive): inspectors read history through the audit
// queries, evaluators only aggregates.
func newFilter(ctx context.Context, dir Directory, v Viewer) (*filter, error) {
	acc, err := dir.Account(ctx, v.Account)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return nil, ErrNothingLive
	}
	if err != nil {
		return nil, fmt.Errorf("live: directory: %w", err)
	}
	if acc.Closed {
		return nil, ErrNothingLive
	}
	f := &filter{self: acc.ID}
	for _, m := range acc.Groups {
		f.member = appendNew(f.member, m.Group)
	}
	switch acc.Profile {
	case domain.ProfileStudent:
		f.scope = scopeFamily
		f.students = []uuid.UUID{acc.ID}
		f.classes = studentGroups(acc)
	case domain.ProfileRelative:
		f.scope = scopeFamily
		for _, c := range acc.Children {
			child, err := dir.Account(ctx, c.Account)
			if errors.Is(err, domain.ErrUnknownAccount) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("live: directory: %w", err)
			}
			f.students = appendNew(f.students, child.ID)
			for _, g := range studentGroups(child) {
				f.classes = appendNew(f.classes, g)
			}
		}
	case domain.ProfileTeacher:
		f.scope = scopeTeacher
		for _, m := range acc.Groups {
			if m.Teaching() {
				f.taught = appendNew(f.taught, m.Group)
			}
		}
	case domain.ProfilePersonnel:
		if acc.Establishment == "" {
			return nil, ErrNothingLive
		}
		f.scope = scopeStaff
		f.establishment = acc.Establishment
	default:
		return nil, ErrNothingLive
	}
	return f, nil
}

// studentGroups returns the groups an account is a student of.
func studentGroups(acc *projections.AccountEntry) []uuid.UUID {
	var out []uuid.UUID
	for _, m := range acc.Groups {
		if m.Role == domain.RoleStudent {
			out = appendNew(out, m.Group)
		}
	}
	return out
}

func appendNew(ids []uuid.UUID, id uuid.UUID) []uuid.UUID {
	if id == uuid.Nil || slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

// intersects reports whether a and b share an id.
func intersects(a, b []uuid.UUID) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// match reports whether the viewer may see ev.
func (f *filter) match(ev *Event, c class) bool {
	switch c {
	case classHidden:
		return false
	case classMail:
		// Subjects of a message are its sender, recipient accounts and
		// recipient groups; of a read or an acknowledgement, the reader.
		return slices.Contains(ev.Subjects, f.self) || intersects(ev.Subjects, f.member)
	}
	switch f.scope {
	case scopeFamily:
		switch c {
		case classStudentAct:
			// Only the students among the subjects: an absence's group
			// is a subject too, and a classmate's absence is not theirs
			// to see.
			return intersects(ev.Subjects, f.students)
		case classGroupWork:
			return intersects(ev.Subjects, f.classes)
		}
		return false
	case scopeTeacher:
		return intersects(ev.Subjects, f.taught) || slices.Contains(ev.Subjects, f.self)
	case scopeStaff:
		return ev.Establishment != "" && ev.Establishment == f.establishment
	}
	return false
}

// keys returns the ids an event must name among its subjects for match to
// accept it, whatever its class: every set match intersects with the
// subjects. Only a staff filter matches otherwise, by establishment. The
// hub indexes sockets by them.
func (f *filter) keys() []uuid.UUID {
	keys := appendNew(nil, f.self)
	for _, set := range [][]uuid.UUID{f.member, f.students, f.classes, f.taught} {
		for _, id := range set {
			keys = appendNew(keys, id)
		}
	}
	return keys
}

// redacts reports whether f sees a redacted form of events of type typ:
// a family sees, of an incident, neither its description nor the other
// protagonists (they may be other children; the student file copies
// neither).
func (f *filter) redacts(typ string) bool { return f.scope == scopeFamily && typ == incidentType }

// redactIncident returns the incident payload a family may see.
func (f *filter) redactIncident(data json.RawMessage) (json.RawMessage, error) {
	var e domain.IncidentReported
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("redact incident: %w", err)
	}
	e.Description = ""
	e.Protagonists = slices.DeleteFunc(e.Protagonists, func(p domain.Protagonist) bool {
		return !slices.Contains(f.students, p.Account)
	})
	return json.Marshal(struct {
		domain.IncidentReported
		Description string `json:"description,omitempty"`
	}{IncidentReported: e})
}
