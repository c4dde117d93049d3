// Package reseal copies a store written before sealing, whose personal
// fields are (partly) in clear, into a new store with every personal
// field sealed under its subject's key (`ledger privacy reseal`,
// docs/privacy.md): each event keeps its stream, version, id and
// metadata, in log order; the copy gets new hashes, a new chain and new
// seals. Check then reads both logs and compares each event once opened.
package reseal

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Log is a store's global log, read in order. Wait returns when events
// after a position may be readable: on Postgres a reader sees the events
// of a transaction once every older one has ended (in the whole cluster),
// so the end of what ReadAll returns may lag the end of the log for a
// while.
type Log interface {
	ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error)
	Wait(ctx context.Context, after domain.Position) error
}

// Destination is the store the copy is written to.
type Destination interface {
	Log
	AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error)
	// CountEvents counts the events stored, readable yet or not.
	CountEvents(ctx context.Context) (int64, error)
}

// Sealer seals, in the destination's keys, the personal fields of events
// decoded as stored (adapters/subjectkeys.Cipher).
type Sealer interface {
	Reseal(ctx context.Context, md domain.Metadata, e domain.Event) (domain.Event, bool, error)
	Subjects(md domain.Metadata, e domain.Event) []uuid.UUID
	Prepare(ctx context.Context, subjects []uuid.UUID) error
}

// Masker replaces the personal values about erased people by the
// placeholder (adapters/subjectkeys.Cipher, on the destination's keys).
type Masker interface {
	Mask(ctx context.Context, md domain.Metadata, e domain.Event) (domain.Event, error)
}

// DefaultBatch is how many events one append of the copy writes: one
// transaction, a few multi-row statements.
const DefaultBatch = 2000

// readPage is how many records one read of a log returns.
const readPage = 2000

// Copy is one copy of a source's log into a destination.
type Copy struct {
	Source Log
	Dest   Destination
	// Registry decodes and encodes events as stored: it has no opener.
	Registry *domain.Registry
	Sealer   Sealer
	// Head is the position of the source's last event to copy (its last
	// seal's): events after it are not copied. Events is how many events
	// the source holds up to Head.
	Head   domain.Position
	Events int
	// Batch is how many events an append writes (DefaultBatch when 0).
	Batch int
	// Progress, when set, is told how many events are copied so far.
	Progress func(done int)
}

// Report says what a copy did.
type Report struct {
	// Copied counts the events of the source in the destination, Resumed
	// those that were there already (an interrupted copy), Rewritten those
	// whose payload changed (a value sealed, or erased).
	Copied, Resumed, Rewritten int
}

// Run copies the source's events up to Head that the destination lacks.
// The destination's log must be the copy's first event (the
// privacy.store_resealed.v1 that names the source), followed by the
// source's first events, in order: what an interrupted copy left; the
// copy resumes after them. Any other event is refused.
func (c Copy) Run(ctx context.Context) (Report, error) {
	batch := c.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	var rep Report
	stored, err := c.Dest.CountEvents(ctx)
	if err != nil {
		return rep, fmt.Errorf("read the destination: %w", err)
	}
	dst := newCursor(c.Dest, int(stored))
	first, ok, err := dst.next(ctx)
	switch {
	case err != nil:
		return rep, err
	case !ok || first.Type != (domain.StoreResealed{}).EventType():
		return rep, errors.New("the destination does not start with the record of the copy (privacy.store_resealed.v1)")
	}
	src := newCursor(c.Source, c.Events)
	var pending []pendingEvent
	for {
		r, ok, err := src.next(ctx)
		if err != nil {
			return rep, fmt.Errorf("read the source: %w", err)
		}
		if !ok || c.Head.Less(r.Position) {
			break
		}
		// What the destination holds already: the same events in order.
		if !dst.done {
			d, ok, err := dst.next(ctx)
			if err != nil {
				return rep, fmt.Errorf("read the destination: %w", err)
			}
			if ok {
				if d.ID != r.ID {
					return rep, fmt.Errorf("the destination's event %d is %s, the source's %s: not a copy of this source", rep.Copied+2, d.ID, r.ID)
				}
				rep.Copied++
				rep.Resumed++
				continue
			}
		}
		pending = append(pending, pendingEvent{rec: r})
		if len(pending) == batch {
			n, err := c.flush(ctx, pending)
			if err != nil {
				return rep, err
			}
			rep.Copied += len(pending)
			rep.Rewritten += n
			pending = pending[:0]
			if c.Progress != nil {
				c.Progress(rep.Copied)
			}
		}
	}
	if !dst.done {
		if d, ok, err := dst.next(ctx); err != nil {
			return rep, fmt.Errorf("read the destination: %w", err)
		} else if ok {
			return rep, fmt.Errorf("the destination holds event %s, past the source's last: not a copy of this source", d.ID)
		}
	}
	if len(pending) > 0 {
		n, err := c.flush(ctx, pending)
		if err != nil {
			return rep, err
		}
		rep.Copied += len(pending)
		rep.Rewritten += n
	}
	if c.Progress != nil {
		c.Progress(rep.Copied)
	}
	return rep, nil
}

// pendingEvent is a source event waiting for its batch.
type pendingEvent struct {
	rec domain.Record
	e   domain.Event
}

// flush seals a batch of source events and appends them, consecutive
// events of one stream in one append, in log order. It returns how many
// payloads changed.
func (c Copy) flush(ctx context.Context, batch []pendingEvent) (int, error) {
	var subjects []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for i := range batch {
		r := batch[i].rec
		e, err := c.Registry.Decode(r.Type, r.Data)
		if err != nil {
			return 0, fmt.Errorf("event %s at %s: %w", r.ID, r.Position, err)
		}
		batch[i].e = e
		for _, s := range c.Sealer.Subjects(r.Metadata, e) {
			if !seen[s] {
				seen[s] = true
				subjects = append(subjects, s)
			}
		}
	}
	// The keys of the batch in one statement, not one transaction each.
	if err := c.Sealer.Prepare(ctx, subjects); err != nil {
		return 0, err
	}
	var (
		appends   []commands.StreamAppend
		rewritten int
	)
	for _, p := range batch {
		r := p.rec
		sealed, changed, err := c.Sealer.Reseal(ctx, r.Metadata, p.e)
		if err != nil {
			return 0, fmt.Errorf("event %s at %s: %w", r.ID, r.Position, err)
		}
		env := domain.Envelope{ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata}
		if changed {
			rewritten++
			if env.Type, env.Data, err = c.Registry.Encode(sealed); err != nil {
				return 0, fmt.Errorf("event %s at %s: %w", r.ID, r.Position, err)
			}
		}
		if n := len(appends); n > 0 && appends[n-1].Stream == r.Stream {
			appends[n-1].Events = append(appends[n-1].Events, env)
			continue
		}
		appends = append(appends, commands.StreamAppend{Stream: r.Stream, Expected: domain.Exact(r.Version - 1), Events: []domain.Envelope{env}})
	}
	if _, err := c.Dest.AppendBatch(ctx, appends); err != nil {
		return 0, fmt.Errorf("append to the destination: %w", err)
	}
	return rewritten, nil
}

// cursor reads a log page by page.
type cursor struct {
	log Log
	// want is how many records the log holds at least: the cursor waits
	// for them to be readable before it reports the end.
	want  int
	read  int
	after domain.Position
	page  []domain.Record
	done  bool
}

func newCursor(l Log, want int) *cursor { return &cursor{log: l, want: want} }

// next returns the next record, false at the end of the log.
func (c *cursor) next(ctx context.Context) (domain.Record, bool, error) {
	for len(c.page) == 0 && !c.done {
		recs, err := c.log.ReadAll(ctx, c.after, readPage)
		if err != nil {
			return domain.Record{}, false, err
		}
		c.page = recs
		if len(recs) > 0 {
			break
		}
		if c.read >= c.want {
			c.done = true
			break
		}
		// Stored, not readable yet: an older transaction holds them back.
		if err := c.log.Wait(ctx, c.after); err != nil {
			return domain.Record{}, false, err
		}
	}
	if len(c.page) == 0 {
		return domain.Record{}, false, nil
	}
	r := c.page[0]
	c.page = c.page[1:]
	c.after = r.Position
	c.read++
	return r, true, nil
}

// Erased returns the people whose erasure the log records up to head
// (privacy.subject_erased.v1): they stay erased in the copy, whether or
// not their key was destroyed in the source.
func Erased(ctx context.Context, log Log, reg *domain.Registry, head domain.Position, events int) ([]uuid.UUID, error) {
	var out []uuid.UUID
	erased := (domain.SubjectErased{}).EventType()
	cur := newCursor(log, events)
	for {
		r, ok, err := cur.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok || head.Less(r.Position) {
			return out, nil
		}
		if r.Type != erased {
			continue
		}
		e, err := reg.Decode(r.Type, r.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s at %s: %w", r.ID, r.Position, err)
		}
		out = append(out, e.(domain.SubjectErased).Subject)
	}
}

// Check compares, event by event, the source's log up to head (read
// through srcReg, which opens what the source sealed) with the copy's
// (through dstReg, which opens with the destination's keys): the same
// ids, streams, versions, types and metadata in the same order, and the
// same decoded payloads, but for the personal values about erased people,
// which the copy reads as the placeholder (mask). The copy's first event,
// the record of the copy, is skipped. events is how many events the
// source holds up to head. It returns how many events it compared, and
// the first difference as an error.
func Check(ctx context.Context, src Log, srcReg *domain.Registry, dst Log, dstReg *domain.Registry, mask Masker, head domain.Position, events int) (int, error) {
	s, d := newCursor(src, events), newCursor(dst, events+1)
	if _, ok, err := d.next(ctx); err != nil || !ok {
		return 0, fmt.Errorf("read the copy: empty, or %w", err)
	}
	n := 0
	for {
		sr, sok, err := s.next(ctx)
		if err != nil {
			return n, fmt.Errorf("read the source: %w", err)
		}
		if sok && head.Less(sr.Position) {
			sok = false
		}
		dr, dok, err := d.next(ctx)
		if err != nil {
			return n, fmt.Errorf("read the copy: %w", err)
		}
		switch {
		case !sok && !dok:
			return n, nil
		case !sok:
			return n, fmt.Errorf("the copy has more events than the source: %s at %s", dr.ID, dr.Position)
		case !dok:
			return n, fmt.Errorf("the copy lacks the source's events from %s at %s", sr.ID, sr.Position)
		}
		n++
		if err := same(ctx, sr, srcReg, dr, dstReg, mask); err != nil {
			return n, fmt.Errorf("event %d (%s): %w", n, sr.ID, err)
		}
	}
}

// same compares one event of the source with its copy.
func same(ctx context.Context, sr domain.Record, srcReg *domain.Registry, dr domain.Record, dstReg *domain.Registry, mask Masker) error {
	if sr.ID != dr.ID || sr.Stream != dr.Stream || sr.Version != dr.Version || sr.Type != dr.Type {
		return fmt.Errorf("the copy is %s %s v%d %s, the source %s %s v%d %s", dr.ID, dr.Stream, dr.Version, dr.Type, sr.ID, sr.Stream, sr.Version, sr.Type)
	}
	if !sameMetadata(sr.Metadata, dr.Metadata) {
		return fmt.Errorf("metadata differ: copy %+v, source %+v", dr.Metadata, sr.Metadata)
	}
	se, err := srcReg.DecodeRecord(sr)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	want, err := mask.Mask(ctx, sr.Metadata, se)
	if err != nil {
		return err
	}
	got, err := dstReg.DecodeRecord(dr)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("payloads differ once opened: copy %+v, source %+v", got, want)
	}
	return nil
}

// sameMetadata compares metadata, times as instants.
func sameMetadata(a, b domain.Metadata) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a.Time = b.Time
	return a == b
}
