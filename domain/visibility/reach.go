package visibility

import (
	"errors"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ErrNothingLive is returned for a viewer who receives no events as they
// happen: inspectors and evaluators (they audit history and read
// aggregates, not a feed of acts), guests, admins, closed accounts,
// personnel of no establishment.
var ErrNothingLive = errors.New("visibility: this account receives no live updates")

// Scope is the kind of viewer a Reach serves.
type Scope uint8

// Scopes.
const (
	ScopeFamily  Scope = iota + 1 // students and relatives
	ScopeTeacher                  // teachers
	ScopeStaff                    // personnel of an establishment
)

// Reach is what one viewer receives of the events as they happen:
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
// Events are matched by their subjects (domain.Subjects), so that nothing
// is decoded per viewer. Sets are short slices: a viewer has a handful of
// children and groups.
type Reach struct {
	Scope Scope
	Self  uuid.UUID
	// Member: the groups the viewer belongs to (messages sent to a group).
	Member []uuid.UUID
	// Students (family): whose acts the viewer sees (their children, or
	// themself).
	Students []uuid.UUID
	// Classes (family): whose cahier de textes they see (the students'
	// groups).
	Classes []uuid.UUID
	// Taught (teacher): the groups they teach.
	Taught []uuid.UUID
	// Establishment (staff).
	Establishment string
}

// NewReach returns what v receives, or ErrNothingLive. A relative's reach
// is complete once AddChild has been called with each of the children
// ChildrenToAdd names that the directory knows.
func NewReach(v *Viewer) (*Reach, error) {
	if v.Closed {
		return nil, ErrNothingLive
	}
	r := &Reach{Self: v.Account}
	for _, m := range v.Groups {
		r.Member = appendNew(r.Member, m.Group)
	}
	switch v.Profile {
	case domain.ProfileStudent:
		r.Scope = ScopeFamily
		r.Students = []uuid.UUID{v.Account}
		r.Classes = studentGroups(v.Groups)
	case domain.ProfileRelative:
		r.Scope = ScopeFamily
	case domain.ProfileTeacher:
		r.Scope = ScopeTeacher
		for _, m := range v.Groups {
			if m.Teaching() {
				r.Taught = appendNew(r.Taught, m.Group)
			}
		}
	case domain.ProfilePersonnel:
		if v.Establishment == "" {
			return nil, ErrNothingLive
		}
		r.Scope = ScopeStaff
		r.Establishment = v.Establishment
	default:
		return nil, ErrNothingLive
	}
	return r, nil
}

// ChildrenToAdd returns the children whose directory entries the reach of
// v needs: a relative's.
func ChildrenToAdd(v *Viewer) []uuid.UUID {
	if v.Profile != domain.ProfileRelative {
		return nil
	}
	return v.Children
}

// AddChild extends a relative's reach to a child: their acts and their
// groups' work.
func (r *Reach) AddChild(child *Viewer) {
	r.Students = appendNew(r.Students, child.Account)
	for _, g := range studentGroups(child.Groups) {
		r.Classes = appendNew(r.Classes, g)
	}
}

// studentGroups returns the groups of ms held as a student.
func studentGroups(ms []Membership) []uuid.UUID {
	var out []uuid.UUID
	for _, m := range ms {
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

// Receives reports whether the viewer receives an event of class c, of
// establishment uai, about subjects.
func (r *Reach) Receives(c Class, uai string, subjects []uuid.UUID) bool {
	return Receives(c, uai, subjects, r.Scope, &r.Self, r.Member, r.Students, r.Classes, r.Taught, r.Establishment)
}

// Receives is Reach.Receives for a reach whose sets are held elsewhere (a
// socket's filter keeps them without copying a Reach for each event).
func Receives(c Class, uai string, subjects []uuid.UUID, scope Scope, self *uuid.UUID, member, students, classes, taught []uuid.UUID, establishment string) bool {
	switch c {
	case ClassHidden:
		return false
	case ClassMail:
		// Subjects of a message are its sender, recipient accounts and
		// recipient groups; of a read or an acknowledgement, the reader.
		return slices.Contains(subjects, *self) || intersects(subjects, member)
	}
	switch scope {
	case ScopeFamily:
		switch c {
		case ClassStudentAct:
			// Only the students among the subjects: an absence's group
			// is a subject too, and a classmate's absence is not theirs
			// to see.
			return intersects(subjects, students)
		case ClassGroupWork:
			return intersects(subjects, classes)
		}
		return false
	case ScopeTeacher:
		return intersects(subjects, taught) || slices.Contains(subjects, *self)
	case ScopeStaff:
		return uai != "" && uai == establishment
	}
	return false
}

// Keys returns the ids an event must name among its subjects for Receives
// to accept it, whatever its class: every set Receives intersects with the
// subjects. Only a staff reach receives otherwise, by establishment.
func (r *Reach) Keys() []uuid.UUID {
	keys := appendNew(nil, r.Self)
	for _, set := range [][]uuid.UUID{r.Member, r.Students, r.Classes, r.Taught} {
		for _, id := range set {
			keys = appendNew(keys, id)
		}
	}
	return keys
}

// Redacts reports whether the viewer receives events of type typ
// redacted (RedactIncident): a family, incidents.
func (r *Reach) Redacts(typ string) bool { return Redacts(r.Scope, typ) }

// Redacts is Reach.Redacts for a reach of scope s.
func Redacts(s Scope, typ string) bool {
	return s == ScopeFamily && typ == domain.IncidentReported{}.EventType()
}
