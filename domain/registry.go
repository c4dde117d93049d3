package domain

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Category is the part of school life an event type belongs to.
type Category string

// Categories, in the order the registry lists them.
const (
	CategoryDirectory       Category = "directory"
	CategoryDirectoryImport Category = "directory import"
	CategorySchoolLife      Category = "school life"
	CategoryTextbook        Category = "cahier de textes"
	CategoryMessaging       Category = "messaging"
	CategoryBooking         Category = "booking"
	CategoryNews            Category = "news"
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
	category Category
	decode   func([]byte) (Event, error)
}

// NewRegistry returns a registry of every event type of the ledger.
func NewRegistry() *Registry {
	r := &Registry{types: make(map[string]registered)}
	// Directory.
	register[EstablishmentRegistered](r, CategoryDirectory)
	register[AccountOpened](r, CategoryDirectory)
	register[AccountUpdated](r, CategoryDirectory)
	register[AccountActivated](r, CategoryDirectory)
	register[AccountClosed](r, CategoryDirectory)
	register[InspectorHabilitated](r, CategoryDirectory)
	register[RelativeLinked](r, CategoryDirectory)
	register[RelativeUnlinked](r, CategoryDirectory)
	register[GroupCreated](r, CategoryDirectory)
	register[MemberJoined](r, CategoryDirectory)
	register[MemberLeft](r, CategoryDirectory)
	register[UserConnected](r, CategoryDirectory)
	register[LessonScheduled](r, CategoryDirectory)
	register[LessonUnscheduled](r, CategoryDirectory)
	// Directory import.
	register[AccountMissingFromFeed](r, CategoryDirectoryImport)
	register[AccountBackInFeed](r, CategoryDirectoryImport)
	// School life.
	register[RollCallCompleted](r, CategorySchoolLife)
	register[AbsenceRecorded](r, CategorySchoolLife)
	register[LatenessRecorded](r, CategorySchoolLife)
	register[AbsenceCancelled](r, CategorySchoolLife)
	register[AbsenceReasonDeclared](r, CategorySchoolLife)
	register[JustificationAccepted](r, CategorySchoolLife)
	register[JustificationRefused](r, CategorySchoolLife)
	register[IncidentReported](r, CategorySchoolLife)
	register[PunishmentGiven](r, CategorySchoolLife)
	register[SanctionPronounced](r, CategorySchoolLife)
	register[SanctionAnnulled](r, CategorySchoolLife)
	// Cahier de textes.
	register[LessonContentRecorded](r, CategoryTextbook)
	register[HomeworkAssigned](r, CategoryTextbook)
	register[HomeworkAmended](r, CategoryTextbook)
	register[HomeworkWithdrawn](r, CategoryTextbook)
	register[HomeworkDone](r, CategoryTextbook)
	// Messaging.
	register[MessageSent](r, CategoryMessaging)
	register[MessageRead](r, CategoryMessaging)
	register[MessageAcknowledged](r, CategoryMessaging)
	// Booking.
	register[ResourceRegistered](r, CategoryBooking)
	register[BookingRequested](r, CategoryBooking)
	register[BookingApproved](r, CategoryBooking)
	register[BookingRefused](r, CategoryBooking)
	register[BookingCancelled](r, CategoryBooking)
	// News.
	register[ArticlePublished](r, CategoryNews)
	register[ArticleAmended](r, CategoryNews)
	register[ArticleWithdrawn](r, CategoryNews)
	return r
}

func register[T Event](r *Registry, c Category) {
	var zero T
	name := zero.EventType()
	if _, dup := r.types[name]; dup {
		panic("domain: event type registered twice: " + name)
	}
	r.types[name] = registered{category: c, decode: func(data []byte) (Event, error) {
		var e T
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, err
		}
		return e, nil
	}}
}

// Types lists the registered wire names, sorted; of the given categories
// only, when any is given.
func (r *Registry) Types(categories ...Category) []string {
	names := make([]string, 0, len(r.types))
	for n, t := range r.types {
		if len(categories) == 0 || slices.Contains(categories, t.category) {
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

// Category returns the category of a registered wire name (false if typ
// is unknown).
func (r *Registry) Category(typ string) (Category, bool) {
	t, ok := r.types[typ]
	return t.category, ok
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
