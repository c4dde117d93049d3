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
	AreaPrivacy         Area = "privacy"
	AreaServices        Area = "services"
	AreaNotifications   Area = "notifications"
)

// Registry maps wire names to event types. Build one with NewRegistry and
// inject it; there is no global registry.
//
// It is the one list of the ledger's event types: every other list (what
// the live hub delivers, what a family's feed shows, what the directory
// import folds, what the audit indexes, the events document) derives from
// it, or is checked against it by a test.
//
// Event schema evolution: a type whose shape changes gets a new wire name
// (absence.recorded.v2), and the old name is retired, not forgotten. An
// Upcaster reads events stored under a retired name: it decodes the
// payload into the old shape and converts it to the current type, so that
// every reader (aggregates, projections, live sockets) meets only current
// types. Stored events are never rewritten: their bytes are in the hash
// chain. Only current types are written.
type Registry struct {
	types map[string]registered
	// retired maps a retired wire name to how its events are read.
	retired map[string]Upcaster
	// opener, when set, opens the sealed values of payloads before they
	// are decoded (WithOpener).
	opener Opener
}

// Opener opens the sealed (encrypted) values of a stored payload: it
// returns the payload with each sealed value replaced by what was written,
// or by a placeholder when its key was destroyed, and the payload itself
// when it holds none. typ is the payload's wire name as stored. Adapters
// implement it (the keys are in a store); the domain only calls it.
type Opener interface {
	Open(typ string, data []byte) ([]byte, error)
}

// WithOpener returns a registry like r whose Decode and DecodeRecord open
// each payload through o first: every reader of the log (handlers,
// projections, audit, exports, live sockets) then meets personal fields in
// clear, or erased. r itself is unchanged.
func (r *Registry) WithOpener(o Opener) *Registry {
	c := *r
	c.opener = o
	return &c
}

type registered struct {
	area   Area
	decode func([]byte) (Event, error)
}

// Upcaster reads the events stored under one retired wire name; build one
// with Upcast.
type Upcaster struct {
	from, to string
	decode   func([]byte) (Event, error)
}

// Upcast returns the upcaster of the retired wire name from: its payloads
// decode into Old, and up converts each into the current type New (whose
// own wire name must be registered, and current: when New is retired in
// turn, compose the conversions so that from reads straight into the
// newest type). An error of up is an event the ledger cannot read, as a
// payload that does not decode.
func Upcast[Old any, New Event](from string, up func(Old) (New, error)) Upcaster {
	var zero New
	return Upcaster{from: from, to: zero.EventType(), decode: func(data []byte) (Event, error) {
		var old Old
		if err := json.Unmarshal(data, &old); err != nil {
			return nil, err
		}
		e, err := up(old)
		if err != nil {
			return nil, fmt.Errorf("upcast to %s: %w", zero.EventType(), err)
		}
		return e, nil
	}}
}

// upcasters are the ledger's own: one per wire name retired, each with its
// case in domain's TestUpcasters. None yet: every type is at its first
// version.
func upcasters() []Upcaster { return nil }

// NewRegistry returns a registry of every event type of the ledger and of
// the ledger's upcasters, and of extra upcasters when given (tests give
// their own).
func NewRegistry(extra ...Upcaster) *Registry {
	r := &Registry{types: make(map[string]registered), retired: make(map[string]Upcaster)}
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
	register[IdentityLinked](r, AreaDirectory)
	register[IdentityUnlinked](r, AreaDirectory)
	register[ConsultationsRecorded](r, AreaDirectory)
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
	register[SursisRevoked](r, AreaSchoolLife)
	register[SanctionEffaced](r, AreaSchoolLife)
	register[AlertRaised](r, AreaSchoolLife)
	register[AlertHandled](r, AreaSchoolLife)
	register[AlertSettingsSet](r, AreaSchoolLife)
	register[LetterSent](r, AreaSchoolLife)
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
	// Privacy.
	register[DataExported](r, AreaPrivacy)
	register[SubjectErased](r, AreaPrivacy)
	register[StoreResealed](r, AreaPrivacy)
	register[RetentionSet](r, AreaPrivacy)
	register[RetentionApplied](r, AreaPrivacy)
	// Notifications.
	register[NotificationPreferencesSet](r, AreaNotifications)
	register[NotificationSent](r, AreaNotifications)
	register[NotificationFailed](r, AreaNotifications)
	register[NotificationOpened](r, AreaNotifications)
	// Connected services.
	register[ServiceRegistered](r, AreaServices)
	register[ServiceUnregistered](r, AreaServices)
	register[ServiceAccessed](r, AreaServices)
	register[SubjectScrubbed](r, AreaPrivacy)
	// Retired names, once every current one is known.
	for _, u := range append(upcasters(), extra...) {
		r.retire(u)
	}
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

// retire registers an upcaster; a retired name must be no current one,
// and its target must be current.
func (r *Registry) retire(u Upcaster) {
	if _, dup := r.types[u.from]; dup {
		panic("domain: wire name both current and retired: " + u.from)
	}
	if _, dup := r.retired[u.from]; dup {
		panic("domain: wire name retired twice: " + u.from)
	}
	if _, ok := r.types[u.to]; !ok {
		panic("domain: " + u.from + " upcasts to " + u.to + ", which is not a current type")
	}
	r.retired[u.from] = u
}

// Types lists the registered wire names, sorted; of the given areas only,
// when any is given. They are the current names, those written today;
// Retired lists the others the registry reads.
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

// Retired lists the retired wire names the registry reads through an
// upcaster, sorted.
func (r *Registry) Retired() []string {
	names := make([]string, 0, len(r.retired))
	for n := range r.retired {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Names lists every wire name the log may hold that the registry reads,
// current and retired, sorted; of the given areas only, when any is given
// (a retired name is in its current type's area). Code that picks stored
// events by their type before decoding them derives its list from Names,
// so that it keeps the events of retired names too.
func (r *Registry) Names(areas ...Area) []string {
	names := r.Types(areas...)
	for n, u := range r.retired {
		if len(areas) == 0 || slices.Contains(areas, r.types[u.to].area) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Current returns the current wire name of typ: typ itself when it is
// current, the name it upcasts to when retired, false when unknown.
func (r *Registry) Current(typ string) (string, bool) {
	if _, ok := r.types[typ]; ok {
		return typ, true
	}
	if u, ok := r.retired[typ]; ok {
		return u.to, true
	}
	return "", false
}

// Known reports whether typ is a current wire name: one that may be
// written.
func (r *Registry) Known(typ string) bool {
	_, ok := r.types[typ]
	return ok
}

// Area returns the area of a wire name, current or retired (false if typ
// is unknown).
func (r *Registry) Area(typ string) (Area, bool) {
	cur, ok := r.Current(typ)
	if !ok {
		return "", false
	}
	return r.types[cur].area, true
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

// Decode returns the typed event of a wire name and payload: of the
// current type, also for a retired name (upcast).
func (r *Registry) Decode(typ string, data []byte) (Event, error) {
	decode := r.types[typ].decode
	if u, ok := r.retired[typ]; ok {
		decode = u.decode
	}
	if decode == nil {
		return nil, fmt.Errorf("decode event: unknown type %q", typ)
	}
	if r.opener != nil {
		opened, err := r.opener.Open(typ, data)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", typ, err)
		}
		data = opened
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	return e, nil
}

// Open returns a stored payload with its personal fields opened (in clear,
// or the placeholder of an erased subject) when r has an Opener, as
// stored otherwise: for readers that show payloads as they are, without
// decoding them (the inspectors' history and export).
func (r *Registry) Open(typ string, data []byte) ([]byte, error) {
	if r.opener == nil {
		return data, nil
	}
	opened, err := r.opener.Open(typ, data)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", typ, err)
	}
	return opened, nil
}

// DecodeRecord decodes a stored record's payload.
func (r *Registry) DecodeRecord(rec Record) (Event, error) {
	e, err := r.Decode(rec.Type, rec.Data)
	if err != nil {
		return nil, fmt.Errorf("%s@%d: %w", rec.Stream, rec.Version, err)
	}
	return e, nil
}
