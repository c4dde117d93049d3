package domain

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Registry maps wire names to event types. Build one with NewRegistry and
// inject it; there is no global registry.
type Registry struct {
	decoders map[string]func([]byte) (Event, error)
}

// NewRegistry returns a registry of every event type of the ledger.
func NewRegistry() *Registry {
	r := &Registry{decoders: make(map[string]func([]byte) (Event, error))}
	// Directory.
	register[EstablishmentRegistered](r)
	register[AccountOpened](r)
	register[AccountUpdated](r)
	register[AccountActivated](r)
	register[AccountClosed](r)
	register[InspectorHabilitated](r)
	register[RelativeLinked](r)
	register[RelativeUnlinked](r)
	register[GroupCreated](r)
	register[MemberJoined](r)
	register[MemberLeft](r)
	register[UserConnected](r)
	register[LessonScheduled](r)
	register[LessonUnscheduled](r)
	register[AccountMissingFromFeed](r)
	register[AccountBackInFeed](r)
	// School life.
	register[RollCallCompleted](r)
	register[AbsenceRecorded](r)
	register[LatenessRecorded](r)
	register[AbsenceCancelled](r)
	register[AbsenceReasonDeclared](r)
	register[JustificationAccepted](r)
	register[JustificationRefused](r)
	register[IncidentReported](r)
	register[PunishmentGiven](r)
	register[SanctionPronounced](r)
	register[SanctionAnnulled](r)
	// Cahier de textes.
	register[LessonContentRecorded](r)
	register[HomeworkAssigned](r)
	register[HomeworkAmended](r)
	register[HomeworkWithdrawn](r)
	register[HomeworkDone](r)
	// Messaging.
	register[MessageSent](r)
	register[MessageRead](r)
	register[MessageAcknowledged](r)
	// Booking.
	register[ResourceRegistered](r)
	register[BookingRequested](r)
	register[BookingApproved](r)
	register[BookingRefused](r)
	register[BookingCancelled](r)
	// News.
	register[ArticlePublished](r)
	register[ArticleAmended](r)
	register[ArticleWithdrawn](r)
	return r
}

func register[T Event](r *Registry) {
	var zero T
	name := zero.EventType()
	if _, dup := r.decoders[name]; dup {
		panic("domain: event type registered twice: " + name)
	}
	r.decoders[name] = func(data []byte) (Event, error) {
		var e T
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, err
		}
		return e, nil
	}
}

// Types lists the registered wire names, sorted.
func (r *Registry) Types() []string {
	names := make([]string, 0, len(r.decoders))
	for n := range r.decoders {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Known reports whether typ is a registered wire name.
func (r *Registry) Known(typ string) bool {
	_, ok := r.decoders[typ]
	return ok
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
	dec, ok := r.decoders[typ]
	if !ok {
		return nil, fmt.Errorf("decode event: unknown type %q", typ)
	}
	e, err := dec(data)
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
