package projections

// erasures.v1: the erasures of persons' data (docs/privacy.md, "Erasing"):
// who was erased, when, by whom, on which basis, and whether the scrub
// that makes the erasure effective in the database files (every
// projection rebuilt, the database compacted) is recorded. An erasure is
// named by its subject: a person is erased once.
//
// Collections (key -> document):
//
//	erasures  "UAI|subject" -> ErasureEntry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionErasures is the persisted name of the erasures' read model.
const ProjectionErasures = "erasures.v1"

// Collections of erasures.v1.
const erErasures = "erasures"

// ErasureEntry is one person's erasure.
type ErasureEntry struct {
	Subject       uuid.UUID `json:"subject"`
	Establishment string    `json:"establishment"`
	// At is when the erasure was recorded; By and ByProfile who recorded
	// it (By unset: the ledger, on an operator's command).
	At        time.Time      `json:"at"`
	By        uuid.UUID      `json:"by,omitzero"`
	ByProfile domain.Profile `json:"by_profile"`
	Basis     string         `json:"basis"`
	Reason    string         `json:"reason"`
	// Scrubbed is when the scrub was recorded (zero: not yet).
	Scrubbed time.Time `json:"scrubbed,omitzero"`
}

type erasures struct{}

// NewErasures returns the reducer of erasures.v1.
func NewErasures() Reducer { return erasures{} }

func (erasures) Name() string { return ProjectionErasures }

// Collections lists the collections the reducer writes.
func (erasures) Collections() []string { return []string{erErasures} }

func (erasures) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	switch ev := e.(type) {
	case domain.SubjectErased:
		key := erasureKey(rec.Metadata.Establishment, ev.Subject)
		b.Put(erErasures, key, &ErasureEntry{
			Subject: ev.Subject, Establishment: rec.Metadata.Establishment, At: rec.Metadata.Time.UTC(),
			By: rec.Metadata.Actor, ByProfile: rec.Metadata.Profile, Basis: ev.Basis, Reason: ev.Reason,
		})
	case domain.SubjectScrubbed:
		key := erasureKey(rec.Metadata.Establishment, ev.Subject)
		entry, ok, err := Get[ErasureEntry](ctx, b, erErasures, key)
		if err != nil || !ok {
			return err
		}
		entry.Scrubbed = rec.Metadata.Time.UTC()
		b.Put(erErasures, key, entry)
	}
	return nil
}

func erasureKey(uai string, subject uuid.UUID) string { return uai + "|" + subject.String() }

// Queries of erasures.v1.

// Erasure returns the erasure of subject, an account of establishment uai
// (domain.ErrNotFound when it was not erased).
func (q *Queries) Erasure(ctx context.Context, uai string, subject uuid.UUID) (*ErasureEntry, error) {
	r, err := q.reader(ctx, ProjectionErasures)
	if err != nil {
		return nil, err
	}
	var e ErasureEntry
	ok, err := GetJSON(ctx, r, erErasures, erasureKey(uai, subject), &e)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.Errorf(domain.ErrNotFound, "no erasure of %s", subject)
	}
	return &e, nil
}

// Erasures returns the erasures of the accounts of establishments uais
// (nil: of every establishment), the most recent first, at most limit of
// them (0: all).
func (q *Queries) Erasures(ctx context.Context, uais []string, limit int) ([]ErasureEntry, error) {
	r, err := q.reader(ctx, ProjectionErasures)
	if err != nil {
		return nil, err
	}
	out := []ErasureEntry{}
	prefixes := []string{""}
	if uais != nil {
		prefixes = prefixes[:0]
		for _, uai := range uais {
			prefixes = append(prefixes, uai+"|")
		}
	}
	for _, prefix := range prefixes {
		hi := ""
		if prefix != "" {
			hi = PrefixEnd(prefix)
		}
		err := r.Scan(ctx, erErasures, prefix, hi, func(key string, doc []byte) error {
			var e ErasureEntry
			if err := json.Unmarshal(doc, &e); err != nil {
				return fmt.Errorf("decode %s/%s: %w", erErasures, key, err)
			}
			out = append(out, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// Erasures are rare: an establishment's are sorted here, not by key.
	slices.SortFunc(out, func(a, b ErasureEntry) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(a.Subject.String(), b.Subject.String()))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
