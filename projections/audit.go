package projections

// audit.v1: the inspectors' history of every student file, group, resource
// and account.
//
// Collections (key -> document):
//
//	history   "subject id|TX.SEQ" -> AuditEntry, one per event concerning
//	          the subject (see Subjects) or done by it (the metadata's
//	          actor), with TX and SEQ the event's global position, each
//	          zero-padded to 20 digits so that a subject's keys sort in log
//	          order and its history is one range scan.
//
// An entry copies everything the audit shows: where the event is (position,
// stream, version), what it is (type, data as stored), who did it (actor,
// profile), from which command, correlation and causation ids, when and in
// which establishment. Entries are written once and never read back by the
// reducer, so it does no reads at all.
//
// In SQL (live generation N from rm_generations), a subject's history:
//
//	SELECT key, doc FROM rm_docs
//	WHERE ns = 'audit.v1@N' AND coll = 'history'
//	  AND key >= '<subject id>|' AND key < '<subject id>}' ORDER BY key;

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionAudit is the persisted name of the audit read model.
const ProjectionAudit = "audit.v1"

// auditHistory is audit.v1's one collection.
const auditHistory = "history"

// AuditEntry is one event in a subject's history.
type AuditEntry struct {
	Position      domain.Position `json:"position"`
	ID            uuid.UUID       `json:"id"`
	Stream        string          `json:"stream"`
	Version       uint64          `json:"version"`
	Type          string          `json:"type"`
	Time          time.Time       `json:"time"`
	Actor         uuid.UUID       `json:"actor"`
	Profile       domain.Profile  `json:"profile"`
	Command       string          `json:"command"`
	CorrelationID uuid.UUID       `json:"correlation_id"`
	CausationID   uuid.UUID       `json:"causation_id"`
	Establishment string          `json:"establishment,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// record returns the stored event the entry copies.
func (a *AuditEntry) record() domain.Record {
	return domain.Record{
		ID: a.ID, Stream: a.Stream, Version: a.Version, Position: a.Position, Type: a.Type, Data: a.Data,
		Metadata: domain.Metadata{
			Actor: a.Actor, Profile: a.Profile, Establishment: a.Establishment,
			CorrelationID: a.CorrelationID, CausationID: a.CausationID, Command: a.Command, Time: a.Time,
		},
	}
}

// auditKey is the key of subject's entry for the event at pos.
func auditKey(subject uuid.UUID, pos domain.Position) string {
	return fmt.Sprintf("%s|%020d.%020d", subject, pos.Tx, pos.Seq)
}

type audit struct{}

// NewAudit returns the reducer of audit.v1.
func NewAudit() Reducer { return audit{} }

func (audit) Name() string { return ProjectionAudit }

// Collections lists the collections the reducer writes.
func (audit) Collections() []string { return []string{auditHistory} }

func (audit) Apply(_ context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	ids := domain.Subjects(e)
	if a := rec.Metadata.Actor; a != uuid.Nil && !slices.Contains(ids, a) {
		ids = append(ids, a)
	}
	if len(ids) == 0 {
		return nil
	}
	entry := &AuditEntry{
		Position: rec.Position, ID: rec.ID, Stream: rec.Stream, Version: rec.Version, Type: rec.Type,
		Time: rec.Metadata.Time, Actor: rec.Metadata.Actor, Profile: rec.Metadata.Profile,
		Command: rec.Metadata.Command, CorrelationID: rec.Metadata.CorrelationID,
		CausationID: rec.Metadata.CausationID, Establishment: rec.Metadata.Establishment,
		Data: json.RawMessage(rec.Data),
	}
	for _, id := range ids {
		// The entry is never mutated: every subject's document may share it.
		b.Put(auditHistory, auditKey(id, rec.Position), entry)
	}
	return nil
}

// HistoryFilter narrows a subject's history. Zero fields do not filter.
type HistoryFilter struct {
	// Types keeps only these wire names.
	Types []string
	// From and To bound the events' time (metadata time): From <= t < To.
	From, To time.Time
	// Actor keeps only what this account did.
	Actor uuid.UUID
	// After and Limit page through a long history: entries after position
	// After, at most Limit of them (0: no limit).
	After domain.Position
	Limit int
}

func (f *HistoryFilter) keep(a *AuditEntry) bool {
	switch {
	case len(f.Types) > 0 && !slices.Contains(f.Types, a.Type):
		return false
	case !f.From.IsZero() && a.Time.Before(f.From):
		return false
	case !f.To.IsZero() && !a.Time.Before(f.To):
		return false
	case f.Actor != uuid.Nil && a.Actor != f.Actor:
		return false
	}
	return true
}

// History returns a page of what happened to subject (a student, any
// account, a group or a resource) and what it did, in log order: who,
// what, when, from which command and correlation id. The page holds at
// most f.Limit entries after f.After; its Next is the position of its last
// entry when more follow.
func (q *Queries) History(ctx context.Context, subject uuid.UUID, f HistoryFilter) (List[AuditEntry], error) {
	r, err := q.reader(ctx, ProjectionAudit)
	if err != nil {
		return List[AuditEntry]{}, err
	}
	out := List[AuditEntry]{Items: []AuditEntry{}}
	err = q.auditScan(ctx, r, subject, f, func(a AuditEntry) error {
		if f.Limit > 0 && len(out.Items) == f.Limit {
			out.Next = out.Items[len(out.Items)-1].Position.String()
			return errPageFull
		}
		out.Items = append(out.Items, a)
		return nil
	})
	return out, err
}

// RecentBy returns a page of what author did of the given types, the most
// recent first: at most limit entries before position before (zero: from
// the end of the log); its Next is the position of its oldest entry when
// older ones follow. It reads the author's history in log order and keeps
// only the last limit+1 entries it met, so it holds one page whatever the
// length of the history.
func (q *Queries) RecentBy(ctx context.Context, author uuid.UUID, types []string, before domain.Position, limit int) (List[AuditEntry], error) {
	if limit <= 0 {
		return List[AuditEntry]{}, fmt.Errorf("recent acts of %s: limit %d", author, limit)
	}
	r, err := q.reader(ctx, ProjectionAudit)
	if err != nil {
		return List[AuditEntry]{}, err
	}
	ring := make([]AuditEntry, 0, limit+1)
	f := HistoryFilter{Types: types, Actor: author}
	err = q.auditScan(ctx, r, author, f, func(a AuditEntry) error {
		if !before.IsZero() && !a.Position.Less(before) {
			return errPageFull
		}
		if len(ring) == limit+1 {
			copy(ring, ring[1:])
			ring = ring[:limit]
		}
		ring = append(ring, a)
		return nil
	})
	if err != nil {
		return List[AuditEntry]{}, err
	}
	out := List[AuditEntry]{Items: make([]AuditEntry, 0, min(len(ring), limit))}
	more := len(ring) > limit
	for i := len(ring) - 1; i >= 0 && len(out.Items) < limit; i-- {
		out.Items = append(out.Items, ring[i])
	}
	if more {
		out.Next = out.Items[len(out.Items)-1].Position.String()
	}
	return out, nil
}

// auditScan calls fn with each entry of subject's history f keeps, in log
// order, until fn returns an error (errPageFull ends it without one). The
// read model keeps payloads as stored: each entry's personal fields are
// opened (in clear, or erased) on their way out.
func (q *Queries) auditScan(ctx context.Context, r DocReader, subject uuid.UUID, f HistoryFilter, fn func(AuditEntry) error) error {
	prefix := subject.String() + "|"
	from := prefix
	if !f.After.IsZero() {
		from = auditKey(subject, f.After) + "\x00"
	}
	err := ScanJSON(ctx, r, auditHistory, from, PrefixEnd(prefix), func(_ string, a AuditEntry) error {
		if !f.keep(&a) {
			return nil
		}
		if q.reg != nil {
			data, err := q.reg.Open(a.Type, a.Data)
			if err != nil {
				return err
			}
			a.Data = data
		}
		return fn(a)
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return fmt.Errorf("history of %s: %w", subject, err)
	}
	return nil
}

// asOfBatch is how many entries AsOf applies at a time: a subject's
// history is replayed as it is read, never held whole.
const asOfBatch = 1000

// AsOf replays subject's history up to asOf (events whose metadata time is
// not after it) through red into a fresh in-memory store, and returns the
// queries over it: the read model red builds as it stood then, for that
// subject. It suits reducers whose documents about the subject depend only
// on events concerning it (the student file does).
func (q *Queries) AsOf(ctx context.Context, red Reducer, subject uuid.UUID, asOf time.Time) (*Queries, error) {
	r, err := q.reader(ctx, ProjectionAudit)
	if err != nil {
		return nil, err
	}
	mem := NewMemoryDocs()
	ns := Namespace(red.Name(), 1)
	recs := make([]domain.Record, 0, asOfBatch)
	apply := func() error {
		if len(recs) == 0 {
			return nil
		}
		err := mem.Update(ctx, ns, func(tx DocTx) error {
			b := NewBatch(tx)
			if err := ApplyAll(ctx, q.reg, red, b, recs); err != nil {
				return err
			}
			docs, err := b.Changes()
			if err != nil {
				return err
			}
			return tx.Put(ctx, docs)
		})
		recs = recs[:0]
		return err
	}
	err = q.auditScan(ctx, r, subject, HistoryFilter{}, func(a AuditEntry) error {
		if a.Time.After(asOf) {
			return nil
		}
		recs = append(recs, a.record())
		if len(recs) < asOfBatch {
			return nil
		}
		return apply()
	})
	if err == nil {
		err = apply()
	}
	if err != nil {
		return nil, fmt.Errorf("%s of %s as of %s: %w", red.Name(), subject, asOf.Format(time.RFC3339), err)
	}
	return NewQueries(mem, mem, q.log, q.reg, q.loc), nil
}

// StudentFileAsOf returns a student's file from `from` on (a zero date: its
// beginning) as it stood at asOf: what had been recorded by then, in the
// state it was in then (an absence justified later shows as unjustified,
// a sanction annulled later as standing). It is cut short as StudentFile
// is.
func (q *Queries) StudentFileAsOf(ctx context.Context, student uuid.UUID, asOf time.Time, from domain.Date) (*StudentFile, error) {
	then, err := q.AsOf(ctx, NewStudentFile(), student, asOf)
	if err != nil {
		return nil, err
	}
	return then.StudentFile(ctx, student, from, domain.Date{})
}

// ExportedEvent is one line of an establishment's export.
type ExportedEvent struct {
	Position domain.Position `json:"position"`
	ID       uuid.UUID       `json:"id"`
	Stream   string          `json:"stream"`
	Version  uint64          `json:"version"`
	Type     string          `json:"type"`
	Metadata domain.Metadata `json:"metadata"`
	Data     json.RawMessage `json:"data"`
}

// exportBatch is how many events an export reads from the log at a time.
const exportBatch = 1000

// Flusher is a writer that can push what it holds to its reader: an HTTP
// response (http.ResponseController's Flush).
type Flusher interface {
	Flush() error
}

// ExportEstablishment writes the history of establishment uai between from
// (inclusive) and to (exclusive), zero meaning no bound, as JSON Lines: one
// ExportedEvent per event whose metadata names the establishment, in log
// order. It reads the log itself, not a read model, so it shows exactly
// what is stored. It streams: it holds one batch of the log at a time, and
// flushes w after each batch that wrote lines when w is a Flusher.
func (q *Queries) ExportEstablishment(ctx context.Context, w io.Writer, uai string, from, to time.Time) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		if f, ok := w.(Flusher); ok {
			return f.Flush()
		}
		return nil
	}
	after := domain.Start
	for {
		recs, err := q.log.ReadAll(ctx, after, exportBatch)
		if err != nil {
			return fmt.Errorf("export %s: %w", uai, err)
		}
		if len(recs) == 0 {
			break
		}
		wrote := false
		for _, rec := range recs {
			md := rec.Metadata
			if md.Establishment != uai || (!from.IsZero() && md.Time.Before(from)) || (!to.IsZero() && !md.Time.Before(to)) {
				continue
			}
			data := rec.Data
			if q.reg != nil {
				// Personal fields in clear, or erased.
				if data, err = q.reg.Open(rec.Type, data); err != nil {
					return fmt.Errorf("export %s: %w", uai, err)
				}
			}
			line := ExportedEvent{
				Position: rec.Position, ID: rec.ID, Stream: rec.Stream, Version: rec.Version,
				Type: rec.Type, Metadata: md, Data: json.RawMessage(data),
			}
			if err := enc.Encode(&line); err != nil {
				return fmt.Errorf("export %s at %s: %w", uai, rec.Position, err)
			}
			wrote = true
		}
		if wrote {
			if err := flush(); err != nil {
				return fmt.Errorf("export %s: %w", uai, err)
			}
		}
		after = recs[len(recs)-1].Position
	}
	if err := flush(); err != nil {
		return fmt.Errorf("export %s: %w", uai, err)
	}
	return nil
}
