// Package memory is an event store held in memory: for tests of the layers
// above the store and for throw-away runs. It passes the same contract suite
// as the durable stores.
package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Store is an in-memory event store. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	log     []domain.Record
	streams map[string][]int // stream -> indexes into log
	ids     map[uuid.UUID]int
	wake    chan struct{} // closed and replaced on every append
}

// New returns an empty store.
func New() *Store {
	return &Store{
		streams: make(map[string][]int),
		ids:     make(map[uuid.UUID]int),
		wake:    make(chan struct{}),
	}
}

// Append implements the store port.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return domain.AppendResult{}, err
	}
	if err := check(stream, events); err != nil {
		return domain.AppendResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, wrote, err := s.appendLocked(stream, expected, events)
	if wrote {
		s.wakeUp()
	}
	return res, err
}

// AppendBatch appends many streams' events at once, all or nothing: each
// append is checked as Append checks it, in order; if one fails, the ones
// before it are undone and its error is returned.
func (s *Store) AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, a := range appends {
		if err := check(a.Stream, a.Events); err != nil {
			return nil, fmt.Errorf("append %d of the batch: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mark := len(s.log)
	out := make([]domain.AppendResult, len(appends))
	for i, a := range appends {
		res, _, err := s.appendLocked(a.Stream, a.Expected, a.Events)
		if err != nil {
			s.undo(mark)
			return nil, fmt.Errorf("append %d of the batch: %w", i, err)
		}
		out[i] = res
	}
	if len(s.log) > mark {
		s.wakeUp()
	}
	return out, nil
}

// undo removes the events appended after the first mark ones, the last
// first. The caller holds s.mu.
func (s *Store) undo(mark int) {
	for i := len(s.log) - 1; i >= mark; i-- {
		r := s.log[i]
		delete(s.ids, r.ID)
		idx := s.streams[r.Stream]
		if len(idx) == 1 {
			delete(s.streams, r.Stream)
		} else {
			s.streams[r.Stream] = idx[:len(idx)-1]
		}
	}
	clear(s.log[mark:])
	s.log = s.log[:mark]
}

// check rejects what no append may hold.
func check(stream string, events []domain.Envelope) error {
	if len(events) == 0 {
		return domain.Errorf(domain.ErrInvalid, "append to %s: no events", stream)
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		if seen[e.ID] {
			return domain.Errorf(domain.ErrDuplicateEvent, "event %s twice in one append to %s", e.ID, stream)
		}
		seen[e.ID] = true
	}
	return nil
}

// wakeUp wakes every Wait. The caller holds s.mu.
func (s *Store) wakeUp() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// appendLocked runs one append; wrote tells whether it stored events (a
// retry of stored events stores none). The caller holds s.mu.
func (s *Store) appendLocked(stream string, expected domain.ExpectedVersion, events []domain.Envelope) (res domain.AppendResult, wrote bool, err error) {
	idx := s.streams[stream]
	if res, done, err := s.replayed(stream, idx, events); done || err != nil {
		return res, false, err
	}
	current := uint64(len(idx))
	if !expected.Matches(current) {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrVersionConflict, "%s: expected %s, at %d", stream, expected, current)
	}
	for _, e := range events {
		if _, dup := s.ids[e.ID]; dup {
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "event %s", e.ID)
		}
	}
	now := time.Now().UTC()
	var last domain.Record
	for _, e := range events {
		current++
		md := e.Metadata
		if md.Time.IsZero() {
			md.Time = now
		}
		last = domain.Record{
			ID:       e.ID,
			Stream:   stream,
			Version:  current,
			Position: domain.Position{Seq: uint64(len(s.log) + 1)},
			Type:     e.Type,
			Data:     slices.Clone(e.Data),
			Metadata: md,
		}
		s.ids[e.ID] = len(s.log)
		s.streams[stream] = append(s.streams[stream], len(s.log))
		s.log = append(s.log, last)
	}
	return domain.AppendResult{Version: last.Version, Position: last.Position}, true, nil
}

// replayed reports whether events were already appended, in order, to stream.
func (s *Store) replayed(stream string, idx []int, events []domain.Envelope) (domain.AppendResult, bool, error) {
	first, ok := s.ids[events[0].ID]
	if !ok {
		return domain.AppendResult{}, false, nil
	}
	if s.log[first].Stream != stream {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "event %s is in %s", events[0].ID, s.log[first].Stream)
	}
	start := int(s.log[first].Version) - 1
	if start+len(events) > len(idx) {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "events partly stored in %s", stream)
	}
	for i, e := range events {
		if s.log[idx[start+i]].ID != e.ID {
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "events partly stored in %s", stream)
		}
	}
	last := s.log[idx[start+len(events)-1]]
	return domain.AppendResult{Version: last.Version, Position: last.Position}, true, nil
}

// ReadStream implements the store port.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.streams[stream]
	if from >= uint64(len(idx)) {
		return nil, nil
	}
	out := make([]domain.Record, 0, len(idx)-int(from))
	for _, i := range idx[from:] {
		out = append(out, s.log[i])
	}
	return out, nil
}

// ReadAll implements the projector's log port.
func (s *Store) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.behind(after) {
		return nil, nil
	}
	start := int(after.Seq)
	end := len(s.log)
	if limit > 0 && start+limit < end {
		end = start + limit
	}
	return slices.Clone(s.log[start:end]), nil
}

// behind tells whether events follow after. Positions with a transaction
// part are never ours (ours have Tx 0) and lie after all of them, as on
// SQLite. The caller holds s.mu.
func (s *Store) behind(after domain.Position) bool {
	return after.Tx == 0 && after.Seq < uint64(len(s.log))
}

// Wait implements the projector's log port.
func (s *Store) Wait(ctx context.Context, after domain.Position) error {
	s.mu.Lock()
	if s.behind(after) {
		s.mu.Unlock()
		return nil
	}
	wake := s.wake
	s.mu.Unlock()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-wake:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close releases nothing; it exists so the store fits the contract suite.
func (s *Store) Close() error { return nil }
