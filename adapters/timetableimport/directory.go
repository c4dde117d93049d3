package timetableimport

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Directory is what the plan needs to know of the directory and of the
// timetable recorded so far. It is declared here, by its one user;
// LogDirectory implements it by folding the log.
type Directory interface {
	// AsOf is the log position the answers reflect; idempotency keys
	// include it.
	AsOf() domain.Position
	// Group returns the group of establishment uai with kind and name.
	Group(uai string, kind domain.GroupKind, name string) (Group, bool)
	// Teachers returns the open teacher accounts of an establishment
	// (their main one or one of their others), and TeacherByID the teacher
	// with a join id.
	Teachers(uai string) []DirTeacher
	TeacherByID(externalID string) (DirTeacher, bool)
	// SubjectLabel returns the label of a subject code, as the directory
	// import gave it.
	SubjectLabel(code string) (string, bool)
	// Entries returns the timetable entries of the groups of an
	// establishment.
	Entries(uai string) []domain.LessonScheduled
	// Held reports whether a lesson has a roll call or a content
	// recorded: the import never removes it.
	Held(lesson uuid.UUID) bool
	// GroupName returns the name of a group, for the report.
	GroupName(id uuid.UUID) string
}

// Group is a class or teaching group of the directory, with its teachers
// and the subject codes each teaches it.
type Group struct {
	ID            uuid.UUID
	Establishment string
	Kind          domain.GroupKind
	Name          string
	// Teaching: teacher account -> subject codes (none: not said).
	Teaching map[uuid.UUID][]string
}

// DirTeacher is a teacher account of the directory.
type DirTeacher struct {
	ID          uuid.UUID
	ExternalID  string
	DisplayName string
}

// Log is what the import reads of the event store: the global log, and
// the streams of the establishment's groups.
type Log interface {
	ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error)
	ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error)
}

// LogDirectory is the directory and the timetable folded from the log.
type LogDirectory struct {
	asOf       domain.Position
	groups     map[uuid.UUID]*Group
	groupNames map[groupKey]uuid.UUID
	accounts   map[uuid.UUID]*logAccount
	external   map[string]uuid.UUID
	subjects   map[string]string
	entries    map[uuid.UUID]map[uuid.UUID]domain.LessonScheduled // group -> entry
	held       map[uuid.UUID]bool
}

var _ Directory = (*LogDirectory)(nil)

type groupKey struct {
	uai, name string
	kind      domain.GroupKind
}

type logAccount struct {
	DirTeacher
	profile        domain.Profile
	establishments []string
	closed         bool
}

// foldedTypes names the events the fold reads.
func foldedTypes() map[string]bool {
	out := map[string]bool{}
	for _, e := range []domain.Event{
		domain.GroupCreated{}, domain.MemberJoined{}, domain.MemberLeft{},
		domain.AccountOpened{}, domain.AccountUpdated{}, domain.AccountClosed{},
		domain.LessonScheduled{}, domain.LessonUnscheduled{},
		domain.RollCallCompleted{}, domain.LessonContentRecorded{},
	} {
		out[e.EventType()] = true
	}
	return out
}

// readBatch is how many records LoadDirectory reads at a time.
const readBatch = 5000

// Registry decodes records; the command line passes the one that unseals
// personal fields.
type Registry interface {
	DecodeRecord(domain.Record) (domain.Event, error)
}

// LoadDirectory reads the whole log once and folds what the plan needs.
func LoadDirectory(ctx context.Context, log Log, reg Registry) (*LogDirectory, error) {
	d := NewLogDirectory()
	types := foldedTypes()
	for {
		recs, err := log.ReadAll(ctx, d.asOf, readBatch)
		if err != nil {
			return nil, fmt.Errorf("load directory: %w", err)
		}
		if len(recs) == 0 {
			return d, nil
		}
		for _, r := range recs {
			if !types[r.Type] {
				continue
			}
			e, err := reg.DecodeRecord(r)
			if err != nil {
				return nil, fmt.Errorf("load directory: %w", err)
			}
			d.Apply(e)
		}
		d.asOf = recs[len(recs)-1].Position
	}
}

// Refresh reads again the stream of every group of establishment uai: the
// global log may hold back events committed last (Postgres reads it only
// below the oldest transaction still running), a group's stream never
// does. The timetable entries and the teachers of the groups the plan
// changes are then exactly what the commands will see.
func (d *LogDirectory) Refresh(ctx context.Context, log Log, reg Registry, uai string) error {
	for id, g := range d.groups {
		if g.Establishment != uai {
			continue
		}
		recs, err := log.ReadStream(ctx, domain.GroupStream(id), 0)
		if err != nil {
			return fmt.Errorf("refresh group %s: %w", id, err)
		}
		g.Teaching = map[uuid.UUID][]string{}
		delete(d.entries, id)
		for _, r := range recs {
			e, err := reg.DecodeRecord(r)
			if err != nil {
				return fmt.Errorf("refresh group %s: %w", id, err)
			}
			switch e.(type) {
			case domain.MemberJoined, domain.MemberLeft, domain.LessonScheduled, domain.LessonUnscheduled:
				d.Apply(e)
			}
		}
	}
	return nil
}

// NewLogDirectory returns an empty directory.
func NewLogDirectory() *LogDirectory {
	return &LogDirectory{
		groups: map[uuid.UUID]*Group{}, groupNames: map[groupKey]uuid.UUID{},
		accounts: map[uuid.UUID]*logAccount{}, external: map[string]uuid.UUID{}, subjects: map[string]string{},
		entries: map[uuid.UUID]map[uuid.UUID]domain.LessonScheduled{}, held: map[uuid.UUID]bool{},
	}
}

func (d *LogDirectory) account(id uuid.UUID) *logAccount {
	a := d.accounts[id]
	if a == nil {
		a = &logAccount{DirTeacher: DirTeacher{ID: id}}
		d.accounts[id] = a
	}
	return a
}

// Apply folds one event.
func (d *LogDirectory) Apply(e domain.Event) {
	switch e := e.(type) {
	case domain.GroupCreated:
		d.groups[e.Group] = &Group{ID: e.Group, Establishment: e.Establishment, Kind: e.Kind, Name: e.Name, Teaching: map[uuid.UUID][]string{}}
		k := groupKey{e.Establishment, e.Name, e.Kind}
		if _, taken := d.groupNames[k]; !taken {
			d.groupNames[k] = e.Group
		}
	case domain.MemberJoined:
		g := d.groups[e.Group]
		if g == nil || (e.Role != domain.RoleTeacher && e.Role != domain.RoleHeadTeacher) {
			return
		}
		if _, ok := g.Teaching[e.Account]; !ok || e.Role == domain.RoleTeacher {
			g.Teaching[e.Account] = slices.Clone(e.SubjectCodes)
		}
		if len(e.SubjectCodes) == 1 && e.Subject != "" && e.Subject != e.SubjectCodes[0] {
			d.subjects[e.SubjectCodes[0]] = e.Subject
		}
	case domain.MemberLeft:
		if g := d.groups[e.Group]; g != nil && e.Role == domain.RoleTeacher {
			delete(g.Teaching, e.Account)
		}
	case domain.AccountOpened:
		a := d.account(e.Account)
		a.ExternalID, a.DisplayName, a.profile = e.ExternalID, e.DisplayName, e.Profile
		a.establishments = append([]string{e.Establishment}, e.Details.Establishments...)
		if _, taken := d.external[e.ExternalID]; e.ExternalID != "" && !taken {
			d.external[e.ExternalID] = e.Account
		}
	case domain.AccountUpdated:
		a := d.account(e.Account)
		a.DisplayName = e.DisplayName
		a.establishments = append([]string{e.Establishment}, e.Details.Establishments...)
	case domain.AccountClosed:
		d.account(e.Account).closed = true
	case domain.LessonScheduled:
		if d.entries[e.Group] == nil {
			d.entries[e.Group] = map[uuid.UUID]domain.LessonScheduled{}
		}
		d.entries[e.Group][e.Entry] = e
	case domain.LessonUnscheduled:
		delete(d.entries[e.Group], e.Entry)
	case domain.RollCallCompleted:
		d.held[e.Lesson] = true
	case domain.LessonContentRecorded:
		d.held[e.Lesson] = true
	}
}

// AsOf implements Directory.
func (d *LogDirectory) AsOf() domain.Position { return d.asOf }

// Group implements Directory.
func (d *LogDirectory) Group(uai string, kind domain.GroupKind, name string) (Group, bool) {
	id, ok := d.groupNames[groupKey{uai, name, kind}]
	if !ok {
		return Group{}, false
	}
	return *d.groups[id], true
}

// Teachers implements Directory, in account order.
func (d *LogDirectory) Teachers(uai string) []DirTeacher {
	var out []DirTeacher
	for _, a := range d.accounts {
		if a.profile == domain.ProfileTeacher && !a.closed && slices.Contains(a.establishments, uai) {
			out = append(out, a.DirTeacher)
		}
	}
	slices.SortFunc(out, func(x, y DirTeacher) int { return slices.Compare(x.ID[:], y.ID[:]) })
	return out
}

// TeacherByID implements Directory.
func (d *LogDirectory) TeacherByID(externalID string) (DirTeacher, bool) {
	id, ok := d.external[externalID]
	if !ok {
		return DirTeacher{}, false
	}
	a := d.accounts[id]
	if a.profile != domain.ProfileTeacher || a.closed {
		return DirTeacher{}, false
	}
	return a.DirTeacher, true
}

// SubjectLabel implements Directory.
func (d *LogDirectory) SubjectLabel(code string) (string, bool) {
	l, ok := d.subjects[code]
	return l, ok
}

// Entries implements Directory.
func (d *LogDirectory) Entries(uai string) []domain.LessonScheduled {
	var out []domain.LessonScheduled
	for gid, es := range d.entries {
		if g := d.groups[gid]; g == nil || g.Establishment != uai {
			continue
		}
		for _, e := range es {
			out = append(out, e)
		}
	}
	return out
}

// GroupName implements Directory.
func (d *LogDirectory) GroupName(id uuid.UUID) string {
	if g, ok := d.groups[id]; ok {
		return g.Name
	}
	return id.String()
}

// Held implements Directory.
func (d *LogDirectory) Held(lesson uuid.UUID) bool { return d.held[lesson] }
