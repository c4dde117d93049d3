package domain

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Area is the part of school life an event type belongs to (not to be
// confused with a stream's category, see streams.go).
type Area string

// Areas, in the order the registry lists them.
const (
	AreaDirectory       Area = "directory"
	AreaDirectoryImport Area = "directory import"
	AreaSchoolLife      Area = "school life"
	AreaTextbook        Area = "cahier de textes"
	AreaMessaging       Area = "messaging"
	AreaBooking         Area = "booking"
	AreaNews            Area = "news"
)

// Registry maps wire names to event types. Build one with NewRegistry and
// inject it; there is no global registry.
//
// It is the one list of the ledger's event types: every other list (what
// the live hub delivers, what a family's feed shows, what the directory
// import folds, what the audit indexes, the events document) derives from
// it, or is checked against it by a test.
type Registry struct {
	types map[string]registered
}

type registered struct {
	area   Area
	decode func([]byte) (Event, error)
}

// NewRegistry returns a registry of every event type of the ledger.
func NewRegistry() *Registry {
	r := &Registry{types: make(map[string]registered)}
	// Directory.
	register[EstablishmentRegistered](r, AreaDirectory)
	register[EstablishmentFeedKeyRecorded](r, AreaDirectory)
	register[AccountOpened](r, AreaDirectory)
	register[AccountUpdated](r, AreaDirectory)
	register[AccountActivated](r, AreaDirectory)
	register[AccountClosed](r, AreaDirectory)
	register[InspectorHabilitated](r, AreaDirectory)
	register[RelativeLinked](r, AreaDirectory)
	register[RelativeUnlinked](r, AreaDirectory)
	register[GroupCreated](r, AreaDirectory)
	register[GroupLabelled](r, AreaDirectory)
	register[MemberJoined](r, AreaDirectory)
	register[MemberLeft](r, AreaDirectory)
	register[UserConnected](r, AreaDirectory)
	register[LessonScheduled](r, AreaDirectory)
	register[LessonUnscheduled](r, AreaDirectory)
	// Directory import.
	register[AccountMissingFromFeed](r, AreaDirectoryImport)
	register[AccountBackInFeed](r, AreaDirectoryImport)
	register[ImportForced](r, AreaDirectoryImport)
	// School life.
	register[RollCallCompleted](r, AreaSchoolLife)
	register[AbsenceRecorded](r, AreaSchoolLife)
	register[LatenessRecorded](r, AreaSchoolLife)
	register[AbsenceCancelled](r, AreaSchoolLife)
	register[AbsenceReasonDeclared](r, AreaSchoolLife)
	register[JustificationAccepted](r, AreaSchoolLife)
	register[JustificationRefused](r, AreaSchoolLife)
	register[IncidentReported](r, AreaSchoolLife)
	register[PunishmentGiven](r, AreaSchoolLife)
	register[SanctionPronounced](r, AreaSchoolLife)
	register[SanctionAnnulled](r, AreaSchoolLife)
	// Cahier de textes.
	register[LessonContentRecorded](r, AreaTextbook)
	register[HomeworkAssigned](r, AreaTextbook)
	register[HomeworkAmended](r, AreaTextbook)
	register[HomeworkWithdrawn](r, AreaTextbook)
	register[HomeworkDone](r, AreaTextbook)
	// Messaging.
	register[MessageSent](r, AreaMessaging)
	register[MessageRead](r, AreaMessaging)
	register[MessageAcknowledged](r, AreaMessaging)
	// Booking.
	register[ResourceRegistered](r, AreaBooking)
	register[BookingRequested](r, AreaBooking)
	register[BookingApproved](r, AreaBooking)
	register[BookingRefused](r, AreaBooking)
	register[BookingCancelled](r, AreaBooking)
	// News.
	register[ArticlePublished](r, AreaNews)
	register[ArticleAmended](r, AreaNews)
	register[ArticleWithdrawn](r, AreaNews)
	return r
}

func register[T Event](r *Registry, a Area) {
	var zero T
	name := zero.EventType()
	if _, dup := r.types[name]; dup {
		panic("domain: event type registered twice: " + name)
	}
	r.types[name] = registered{area: a, decode: func(data []byte) (Event, error) {
		var e T
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, err
		}
		return e, nil
	}}
}

// Types lists the registered wire names, sorted; of the given areas only,
// when any is given.
func (r *Registry) Types(areas ...Area) []string {
	names := make([]string, 0, len(r.types))
	for n, t := range r.types {
		if len(areas) == 0 || slices.Contains(areas, t.area) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Known reports whether typ is a registered wire name.
func (r *Registry) Known(typ string) bool {
	_, ok := r.types[typ]
	return ok
}

// Area returns the area of a registered wire name (false if typ is
// unknown).
func (r *Registry) Area(typ string) (Area, bool) {
	t, ok := r.types[typ]
	return t.area, ok
}

// Encode returns the wire name and JSON payload of e.
func (r *Registry) Encode(e Event) (string, []byte, error) {
	typ := e.EventType()
	if !r.Known(typ) {
		return "", nil, fmt.Errorf("encode event: unknown type %q", typ)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return typ, data, nil
}

// Decode returns the typed event of a wire name and payload.
func (r *Registry) Decode(typ string, data []byte) (Event, error) {
	t, ok := r.types[typ]
	if !ok {
		return nil, fmt.Errorf("decode event: unknown type %q", typ)
	}
	e, err := t.decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	return e, nil
}

// DecodeRecord decodes a stored record's payload.
func (r *Registry) DecodeRecord(rec Record) (Event, error) {
	e, err := r.Decode(rec.Type, rec.Data)
	if err != nil {
		return nil, fmt.Errorf("%s@%d: %w", rec.Stream, rec.Version, err)
	}
	return e, nil
}
