package projections

// consultations.v1: each establishment's consultation trail, who read
// which child's file and when, for its head (docs/privacy.md,
// "Consultation trail"). Each consultations.recorded event lists one
// node's gathered reads; each of its consultations is one document.
//
// Collections (key -> document):
//
//	trail  "UAI|newest-first last read|position|index" -> ConsultationEntry
//
// "Newest-first" is newestFirst(t) (see mailbox.go): the entries of an
// establishment read from prefix on are the most recent reads first, and
// a period is one range of keys.

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionConsultations is the persisted name of the trail's read model.
const ProjectionConsultations = "consultations.v1"

// Collections of consultations.v1.
const ctTrail = "trail"

// ConsultationEntry is one reader's reads of one child's file (or, for an
// export, of every file of the establishment) over a period.
type ConsultationEntry struct {
	Establishment string          `json:"establishment"`
	Reader        uuid.UUID       `json:"reader"`
	Profile       domain.Profile  `json:"profile"`
	Function      domain.Function `json:"function,omitempty"`
	// Student is nil for an export.
	Student uuid.UUID `json:"student,omitempty"`
	What    string    `json:"what"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Count   int       `json:"count"`
}

type consultations struct{}

// NewConsultations returns the reducer of consultations.v1.
func NewConsultations() Reducer { return consultations{} }

func (consultations) Name() string { return ProjectionConsultations }

// Collections lists the collections the reducer writes.
func (consultations) Collections() []string { return []string{ctTrail} }

func (consultations) Apply(_ context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	ev, ok := e.(domain.ConsultationsRecorded)
	if !ok {
		return nil
	}
	for i, c := range ev.Consultations {
		key := fmt.Sprintf("%s|%s|%s|%d", ev.Establishment, newestFirst(c.Last.UTC()), rec.Position, i)
		b.Put(ctTrail, key, &ConsultationEntry{
			Establishment: ev.Establishment, Reader: c.Reader, Profile: c.Profile, Function: c.Function,
			Student: c.Student, What: c.What, First: c.First.UTC(), Last: c.Last.UTC(), Count: c.Count,
		})
	}
	return nil
}

// ConsultationFilter narrows an establishment's trail.
type ConsultationFilter struct {
	// Student, when set, keeps the reads of this child's file (and the
	// exports, which hold every file).
	Student uuid.UUID
	// From and To, when set, keep the entries whose last read is at or
	// after From and before To.
	From, To time.Time
}

// Queries of consultations.v1.

// Consultations returns a page of an establishment's consultation trail,
// the most recent reads first.
func (q *Queries) Consultations(ctx context.Context, uai string, f ConsultationFilter, p Page) (List[ConsultationEntry], error) {
	r, err := q.reader(ctx, ProjectionConsultations)
	if err != nil {
		return List[ConsultationEntry]{}, err
	}
	prefix := uai + "|"
	lo, hi := prefix, PrefixEnd(prefix)
	if !f.To.IsZero() {
		lo = prefix + newestFirst(f.To.Add(-time.Nanosecond).UTC())
	}
	if !f.From.IsZero() {
		hi = prefix + newestFirst(f.From.Add(-time.Nanosecond).UTC())
	}
	var keep func(ConsultationEntry) bool
	if f.Student != uuid.Nil {
		keep = func(c ConsultationEntry) bool { return c.Student == f.Student || c.Student == uuid.Nil }
	}
	return scanPage(ctx, r, ctTrail, prefix, lo, hi, p, keep)
}
