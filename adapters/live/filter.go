package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
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

// ErrNothingLive is returned for a viewer who receives nothing live
// (visibility.ErrNothingLive: inspectors, evaluators, guests, admins,
// closed accounts).
var ErrNothingLive = errors.New("live: this account receives no live updates")

// class is what an event type is, for the filters (visibility.Class).
type class = visibility.Class

const (
	classOther      = visibility.ClassOther
	classStudentAct = visibility.ClassStudentAct
	classGroupWork  = visibility.ClassGroupWork
	classMail       = visibility.ClassMail
	classHidden     = visibility.ClassHidden
)

// classes is the class of every registered type, looked up once per event
// by the hub: visibility's table, for the registry's types.
var classes = classTable(domain.NewRegistry())

func classTable(reg *domain.Registry) map[string]class {
	out := make(map[string]class)
	for _, typ := range reg.Types() {
		if k, ok := visibility.KindOf(typ); ok {
			out[typ] = k.Class
		}
	}
	return out
}

// incidentType is redacted for families.
var incidentType = domain.IncidentReported{}.EventType()

// scope is the kind of viewer a filter serves (visibility.Scope).
type scope = visibility.Scope

const (
	scopeFamily  = visibility.ScopeFamily  // students and relatives
	scopeTeacher = visibility.ScopeTeacher // teachers
	scopeStaff   = visibility.ScopeStaff   // personnel of an establishment
)

// filter decides what one viewer receives: the sets of its
// visibility.Reach, read from the directory when the socket opens, kept
// as short slices (a viewer has a handful of children and groups, and a
// socket's memory must stay small).
type filter struct {
	scope         scope
	self          uuid.UUID
	member        []uuid.UUID
	students      []uuid.UUID
	classes       []uuid.UUID
	taught        []uuid.UUID
	establishment string
}

// newFilter reads what a viewer may see from the directory (see
// visibility.Reach): their own entry and, for a relative, their
// children's.
func newFilter(ctx context.Context, dir Directory, v Viewer) (*filter, error) {
	acc, err := dir.Account(ctx, v.Account)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return nil, ErrNothingLive
	}
	if err != nil {
		return nil, fmt.Errorf("live: directory: %w", err)
	}
	viewer := acc.Viewer()
	r, err := visibility.NewReach(&viewer)
	if errors.Is(err, visibility.ErrNothingLive) {
		return nil, ErrNothingLive
	}
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	for _, id := range visibility.ChildrenToAdd(&viewer) {
		child, err := dir.Account(ctx, id)
		if errors.Is(err, domain.ErrUnknownAccount) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("live: directory: %w", err)
		}
		cv := child.Viewer()
		r.AddChild(&cv)
	}
	return &filter{
		scope: r.Scope, self: r.Self, member: r.Member, students: r.Students,
		classes: r.Classes, taught: r.Taught, establishment: r.Establishment,
	}, nil
}

// appendNew appends id to ids unless it is nil or there already (tests
// build filters with it).
func appendNew(ids []uuid.UUID, id uuid.UUID) []uuid.UUID {
	if id == uuid.Nil || slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

// reach is the filter as a visibility.Reach (slice headers copied), for
// what is asked once per socket; match, asked once per event and socket,
// passes the sets to visibility.Receives instead.
func (f *filter) reach() visibility.Reach {
	return visibility.Reach{
		Scope: f.scope, Self: f.self, Member: f.member, Students: f.students,
		Classes: f.classes, Taught: f.taught, Establishment: f.establishment,
	}
}

// match reports whether the viewer may see ev.
func (f *filter) match(ev *Event, c class) bool {
	return visibility.Receives(c, ev.Establishment, ev.Subjects, f.scope, &f.self, f.member, f.students, f.classes, f.taught, f.establishment)
}

// keys returns the ids an event must name among its subjects for match to
// accept it, whatever its class. Only a staff filter matches otherwise, by
// establishment. The hub indexes sockets by them.
func (f *filter) keys() []uuid.UUID {
	r := f.reach()
	return r.Keys()
}

// redacts reports whether f sees a redacted form of events of type typ
// (a family, incidents: see visibility.RedactIncident).
func (f *filter) redacts(typ string) bool { return visibility.Redacts(f.scope, typ) }

// redactIncident returns the incident payload a family may see.
func (f *filter) redactIncident(data json.RawMessage) (json.RawMessage, error) {
	var e domain.IncidentReported
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("redact incident: %w", err)
	}
	return json.Marshal(struct {
		domain.IncidentReported
		Description string `json:"description,omitempty"`
	}{IncidentReported: visibility.RedactIncident(e, f.students)})
}
