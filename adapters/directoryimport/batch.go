package directoryimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// BatchStore is an event store that appends many streams' events in one
// transaction, all or nothing (the Postgres, SQLite and memory stores).
// The import then writes its changes a few thousand events at a time
// rather than one command per transaction.
type BatchStore interface {
	commands.EventStore
	AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error)
}

// DefaultBatchEvents is how many events the import buffers before it
// writes them in one transaction.
const DefaultBatchEvents = 4096

// errBatch marks the failure of a batch's write: it stops the import, and
// no change is reported as refused for it.
var errBatch = errors.New("directory import: a batch of appends was not written")

// batcher is the store the import's command handlers run on. It keeps
// their appends and writes them in batches through a BatchStore: every
// size events (the append that fills a batch writes it, while the other
// workers go on filling the next), and when the applier asks at the end of
// a phase (flush).
//
// An append is checked as the store would: the expected version against
// the stream's head as the batcher knows it (stored plus kept), a retry of
// kept events returns their result, an id kept in another stream is a
// duplicate. The store checks each append again when the batch is written,
// against what it holds, and refuses the whole batch if one fails: an
// event id stored in a stream the import never read, a stream written by
// someone else meanwhile. Then every later call fails with errBatch: the
// import stops, and a new run finishes the job from the diff.
//
// Reads serve the kept events. A stream the import created (it was empty
// when the batcher first appended to it) is known whole: a read of what
// follows its stored part is answered without the store. Other streams
// are read from the store, followed by what is kept for them. Once a
// batch is written its events are dropped; only the stored version of the
// streams the import created stays, so that memory follows the number of
// streams, not of events.
type batcher struct {
	store BatchStore
	size  int

	flushMu sync.Mutex // one batch written at a time, in order

	mu      sync.Mutex
	streams map[string]*keptStream
	queue   []commands.StreamAppend // not sent yet
	queued  int                     // events in queue
	ids     map[uuid.UUID]string    // kept events (queued or being written): their stream
	visited []string                // streams read from the store since the last batch
	written int                     // events stored by the batches
	err     error                   // the failure of a batch: every later call returns it
}

// keptStream is what the batcher knows of a stream.
type keptStream struct {
	// created: the import appended the stream's first event, so nobody
	// else writes it before the import's batches are stored.
	created bool
	// stored is the stream's version in the store, as of the batcher's
	// last look or write.
	stored uint64
	// recs are the kept events after stored: queued or being written.
	recs []domain.Record
}

func newBatcher(s BatchStore, size int) *batcher {
	if size <= 0 {
		size = DefaultBatchEvents
	}
	return &batcher{store: s, size: size, streams: make(map[string]*keptStream), ids: make(map[uuid.UUID]string)}
}

// failed returns the error every call returns after a batch failed.
func (b *batcher) failed() error {
	if b.err == nil {
		return nil
	}
	return batchFailure{b.err}
}

// batchFailure is the failure of a batch's write. It is errBatch and its
// cause, except a domain error: the store's refusal of one append of the
// batch (a version conflict, a duplicate) must not read as the refusal of
// the change at hand, which the import would report and go past.
type batchFailure struct{ err error }

func (e batchFailure) Error() string { return errBatch.Error() + ": " + e.err.Error() }

func (e batchFailure) Unwrap() []error {
	if domain.CodeOf(e.err) != "" {
		return []error{errBatch}
	}
	return []error{errBatch, e.err}
}

// ReadStream implements commands.EventStore.
func (b *batcher) ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error) {
	b.mu.Lock()
	if err := b.failed(); err != nil {
		b.mu.Unlock()
		return nil, err
	}
	if st := b.streams[stream]; st != nil && st.created && from >= st.stored {
		out := st.after(from)
		b.mu.Unlock()
		return out, nil
	}
	b.mu.Unlock()
	recs, err := b.store.ReadStream(ctx, stream, from)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.streams[stream]
	if st == nil {
		if len(recs) > 0 || from == 0 {
			// Its head, for the append that usually follows the read.
			head := from
			if len(recs) > 0 {
				head = recs[len(recs)-1].Version
			}
			b.streams[stream] = &keptStream{stored: head}
			b.visited = append(b.visited, stream)
		}
		return recs, nil
	}
	return st.merge(stream, from, recs)
}

// after returns copies of the kept events of st after version from. The
// caller holds b.mu.
func (st *keptStream) after(from uint64) []domain.Record {
	skip := int(min(from-st.stored, uint64(len(st.recs))))
	return slices.Clone(st.recs[skip:])
}

// merge returns the stream after from: recs, read from the store, then the
// kept events that follow them. Stored events past st.stored must be kept
// ones (a batch written meanwhile), unless nothing is kept: the stream
// then simply moved on. The caller holds b.mu.
func (st *keptStream) merge(stream string, from uint64, recs []domain.Record) ([]domain.Record, error) {
	if len(recs) > 0 {
		last := recs[len(recs)-1].Version
		if len(st.recs) == 0 {
			st.stored = max(st.stored, last)
			return recs, nil
		}
		for _, r := range recs {
			if r.Version <= st.stored {
				continue
			}
			if i := r.Version - st.stored - 1; i >= uint64(len(st.recs)) || st.recs[i].ID != r.ID {
				return nil, fmt.Errorf("read %s: version %d was written by another writer during the import", stream, r.Version)
			}
		}
		from = last
	}
	if from < st.stored {
		return nil, fmt.Errorf("read %s: the store holds %d events, the import wrote %d", stream, from, st.stored)
	}
	return append(recs, st.after(from)...), nil
}

// Append implements commands.EventStore: it keeps the events for the next
// batch, and writes that batch when it is full.
func (b *batcher) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	if len(events) == 0 {
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "append to %s: no events", stream)
	}
	for {
		b.mu.Lock()
		res, err := b.keep(stream, expected, events)
		full := err == nil && b.queued >= b.size
		b.mu.Unlock()
		if errors.Is(err, errUnknown) {
			// Not read yet, or forgotten after a batch: read its head.
			if _, err := b.ReadStream(ctx, stream, 0); err != nil {
				return domain.AppendResult{}, err
			}
			continue
		}
		if full {
			if err := b.write(ctx); err != nil {
				return domain.AppendResult{}, err
			}
		}
		return res, err
	}
}

// errUnknown is keep's answer for a stream whose head the batcher does not
// know.
var errUnknown = errors.New("head unknown")

// keep checks an append against what the batcher knows and queues it. The
// caller holds b.mu.
func (b *batcher) keep(stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	if err := b.failed(); err != nil {
		return domain.AppendResult{}, err
	}
	st := b.streams[stream]
	if st == nil {
		return domain.AppendResult{}, errUnknown
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		if seen[e.ID] {
			return domain.AppendResult{}, domain.Errorf(domain.ErrDuplicateEvent, "event %s twice in one append to %s", e.ID, stream)
		}
		seen[e.ID] = true
	}
	if res, done, err := st.replayed(stream, events, b.ids); done || err != nil {
		return res, err
	}
	head := st.stored + uint64(len(st.recs))
	if !expected.Matches(head) {
		return domain.AppendResult{}, domain.Errorf(domain.ErrVersionConflict, "%s: expected %s, at %d", stream, expected, head)
	}
	for _, e := range events {
		if at, dup := b.ids[e.ID]; dup {
			return domain.AppendResult{}, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s is in %s", stream, e.ID, at)
		}
	}
	if head == 0 {
		st.created = true
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		if e.Metadata.Time.IsZero() {
			e.Metadata.Time = now
		}
		e.Data = slices.Clone(e.Data)
		envs[i] = e
		st.recs = append(st.recs, domain.Record{ID: e.ID, Stream: stream, Version: head + uint64(i) + 1,
			Type: e.Type, Data: e.Data, Metadata: e.Metadata})
		b.ids[e.ID] = stream
	}
	b.queue = append(b.queue, commands.StreamAppend{Stream: stream, Expected: expected, Events: envs})
	b.queued += len(envs)
	return domain.AppendResult{Version: head + uint64(len(envs))}, nil
}

// replayed reports whether events are kept, in order, at the end of st or
// before: a retry of a kept append returns its result. The caller holds
// b.mu.
func (st *keptStream) replayed(stream string, events []domain.Envelope, ids map[uuid.UUID]string) (domain.AppendResult, bool, error) {
	at, ok := ids[events[0].ID]
	if !ok {
		return domain.AppendResult{}, false, nil
	}
	if at != stream {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s is in %s", stream, events[0].ID, at)
	}
	i := slices.IndexFunc(st.recs, func(r domain.Record) bool { return r.ID == events[0].ID })
	if i < 0 || i+len(events) > len(st.recs) {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events partly kept already", stream)
	}
	for j, e := range events {
		if st.recs[i+j].ID != e.ID {
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events partly kept already", stream)
		}
	}
	return domain.AppendResult{Version: st.recs[i+len(events)-1].Version}, true, nil
}

// stored is how many events the batches stored.
func (b *batcher) stored() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written
}

// flush writes what is queued; the applier calls it at the end of each
// phase.
func (b *batcher) flush(ctx context.Context) error { return b.write(ctx) }

// write sends the queued appends as one batch, after the batch being
// written, if any.
func (b *batcher) write(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	if err := b.failed(); err != nil {
		b.mu.Unlock()
		return err
	}
	batch := b.queue
	b.queue, b.queued = nil, 0
	b.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	_, err := b.store.AppendBatch(ctx, batch)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.err = err
		return b.failed()
	}
	// The batch is stored: its events leave the kept ones.
	written := make(map[string]int)
	for _, a := range batch {
		written[a.Stream] += len(a.Events)
		b.written += len(a.Events)
		for _, e := range a.Events {
			delete(b.ids, e.ID)
		}
	}
	for name, n := range written {
		st := b.streams[name]
		st.stored += uint64(n)
		st.recs = slices.Delete(st.recs, 0, n)
		if len(st.recs) == 0 {
			st.recs = nil
		}
	}
	// Streams the import did not create are read from the store anyway:
	// forget those with nothing kept.
	visited := b.visited[:0]
	for _, name := range b.visited {
		switch st := b.streams[name]; {
		case st == nil, st.created:
		case len(st.recs) == 0:
			delete(b.streams, name)
		default:
			visited = append(visited, name)
		}
	}
	clear(b.visited[len(visited):])
	b.visited = visited
	return nil
}
