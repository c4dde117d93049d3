package subjectexport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
)

// Item is one event of a person's export.
type Item struct {
	Position domain.Position `json:"position"`
	ID       uuid.UUID       `json:"id"`
	Stream   string          `json:"stream"`
	Version  uint64          `json:"version"`
	Type     string          `json:"type"`
	// Label is the type's name in French.
	Label   string          `json:"label"`
	Time    time.Time       `json:"time"`
	Actor   uuid.UUID       `json:"actor,omitzero"`
	Profile domain.Profile  `json:"profile,omitempty"`
	Command string          `json:"command,omitempty"`
	Data    json.RawMessage `json:"data"`
	// Redacted says what was taken out of the stored payload, when
	// something was: Data is then the payload without it.
	Redacted string `json:"redacted,omitempty"`
	// OtherRoles are the roles of an incident's other protagonists, whose
	// identity is not shown.
	OtherRoles []domain.ProtagonistRole `json:"other_protagonists,omitempty"`

	// event is the decoded event (redacted as Data is).
	event domain.Event
}

// What is redacted, in the archive's words.
const (
	redactedIncident   = "other protagonists and description"
	redactedRecipients = "other recipients"
)

// scanner follows one person through the log: the ids that make an
// event theirs beyond its subjects, and the byte forms of all of them to
// skip, without decoding, the events that cannot be theirs.
type scanner struct {
	subject uuid.UUID
	// groups are the person's memberships, as of the event being read.
	groups map[uuid.UUID]map[domain.Role]bool
	// bookings they requested, articles they wrote.
	bookings, articles map[uuid.UUID]bool
	needles            [][]byte
}

func newScanner(subject uuid.UUID) *scanner {
	s := &scanner{
		subject:  subject,
		groups:   make(map[uuid.UUID]map[domain.Role]bool),
		bookings: make(map[uuid.UUID]bool),
		articles: make(map[uuid.UUID]bool),
	}
	s.watch(subject)
	return s
}

// watch adds id to the ids whose events are decoded.
func (s *scanner) watch(id uuid.UUID) {
	n := []byte(id.String())
	for _, have := range s.needles {
		if bytes.Equal(have, n) {
			return
		}
	}
	s.needles = append(s.needles, n)
}

// mayConcern reports whether a stored payload may concern the person:
// it names them or one of the ids watched. Every id an event's subjects,
// groups, bookings and articles come from is a field of its payload,
// written as uuid's text form.
func (s *scanner) mayConcern(data []byte) bool {
	for _, n := range s.needles {
		if bytes.Contains(data, n) {
			return true
		}
	}
	return false
}

// inGroup reports whether the person is a member of group, in any role.
func (s *scanner) inGroup(group uuid.UUID) bool { return len(s.groups[group]) > 0 }

// follow updates what the scanner watches after an event of the person.
func (s *scanner) follow(e domain.Event) {
	switch e := e.(type) {
	case domain.MemberJoined:
		if e.Account == s.subject {
			if s.groups[e.Group] == nil {
				s.groups[e.Group] = make(map[domain.Role]bool)
			}
			s.groups[e.Group][e.Role] = true
			s.watch(e.Group)
		}
	case domain.MemberLeft:
		if e.Account == s.subject {
			delete(s.groups[e.Group], e.Role)
		}
	case domain.BookingRequested:
		if e.By == s.subject {
			s.bookings[e.Booking] = true
			s.watch(e.Booking)
		}
	case domain.ArticlePublished:
		if e.Author == s.subject {
			s.articles[e.Article] = true
			s.watch(e.Article)
		}
	}
}

// concerns reports whether e is about the person.
func (s *scanner) concerns(e domain.Event) bool {
	if slices.Contains(domain.Subjects(e), s.subject) {
		return true
	}
	switch e := e.(type) {
	case domain.MessageSent:
		// Received through a group they belonged to when it was sent.
		return e.From != s.subject && slices.ContainsFunc(e.ToGroups, s.inGroup)
	case domain.BookingApproved:
		return s.bookings[e.Booking]
	case domain.BookingRefused:
		return s.bookings[e.Booking]
	case domain.BookingCancelled:
		return s.bookings[e.Booking]
	case domain.ArticleAmended:
		return s.articles[e.Article]
	case domain.ArticleWithdrawn:
		return s.articles[e.Article]
	}
	return false
}

// redact takes out of an event of the person what is about other
// people they may not read: an incident's other protagonists (their
// roles stay) and its description (visibility.RedactIncident), the other
// recipients of a message they received.
func (s *scanner) redact(it *Item) error {
	switch e := it.event.(type) {
	case domain.IncidentReported:
		for _, p := range e.Protagonists {
			if p.Account != s.subject {
				it.OtherRoles = append(it.OtherRoles, p.Role)
			}
		}
		r := visibility.RedactIncident(e, []uuid.UUID{s.subject})
		if len(it.OtherRoles) > 0 || e.Description != "" {
			it.Redacted = redactedIncident
		}
		it.event = r
	case domain.MessageSent:
		if e.From == s.subject {
			return nil
		}
		kept := slices.DeleteFunc(slices.Clone(e.ToAccounts), func(id uuid.UUID) bool { return id != s.subject })
		if len(kept) == len(e.ToAccounts) {
			return nil
		}
		e.ToAccounts = kept
		it.Redacted = redactedRecipients
		it.event = e
	default:
		return nil
	}
	data, err := marshal(it.event)
	if err != nil {
		return fmt.Errorf("redact %s: %w", it.Type, err)
	}
	it.Data = data
	return nil
}

// scan calls fn with each event of the log about subject, in log order.
// It holds one batch of the log at a time; fn must not keep the item.
func (x *Exporter) scan(ctx context.Context, subject uuid.UUID, fn func(*Item) error) error {
	s := newScanner(subject)
	after := domain.Start
	for {
		recs, err := x.cfg.Log.ReadAll(ctx, after, x.cfg.Batch)
		if err != nil {
			return fmt.Errorf("read the log after %s: %w", after, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for i := range recs {
			rec := &recs[i]
			if !s.mayConcern(rec.Data) {
				continue
			}
			e, err := x.cfg.Registry.DecodeRecord(*rec)
			if err != nil {
				return err
			}
			s.follow(e)
			if !s.concerns(e) {
				continue
			}
			// The payload as stored, its personal fields opened (in clear,
			// or erased): the person reads their data, not its ciphertext.
			data, err := x.cfg.Registry.Open(rec.Type, rec.Data)
			if err != nil {
				return err
			}
			it := &Item{
				Position: rec.Position, ID: rec.ID, Stream: rec.Stream, Version: rec.Version, Type: rec.Type,
				Label: x.label(rec.Type), Time: rec.Metadata.Time, Actor: rec.Metadata.Actor,
				Profile: rec.Metadata.Profile, Command: rec.Metadata.Command,
				Data: json.RawMessage(data), event: e,
			}
			if err := s.redact(it); err != nil {
				return err
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		after = recs[len(recs)-1].Position
	}
}

// label is the French name of an event type (its current type's, for a
// retired name).
func (x *Exporter) label(typ string) string {
	if cur, ok := x.cfg.Registry.Current(typ); ok {
		typ = cur
	}
	return x.cfg.Words.Label("event", typ)
}
