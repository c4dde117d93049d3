package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	esdbc "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/schoollife/ledger/domain"
)

// idle bounds how long ReadAll waits for a subscription that says nothing:
// a server that neither sends CaughtUp (23.10 on) nor a checkpoint at the
// end of its catch-up would otherwise keep a read open until more events
// come.
const idle = 2 * time.Second

// filter keeps the ledger's streams; the server applies it.
func filter() *esdbc.SubscriptionFilter {
	return &esdbc.SubscriptionFilter{Type: esdbc.StreamFilterType, Prefixes: []string{domain.StreamPrefix}}
}

// from is where a subscription after p starts: EventStoreDB's catch-up
// subscriptions exclude their start position.
// ofAll reads a position a client gave as one of $all. A bare number
// (Tx 0, the form of SQLite's positions) is never one, since commit
// positions start above 0: it is read as the commit position it names,
// so that one past the end of $all reads nothing instead of everything.
func ofAll(p domain.Position) domain.Position {
	if p.Tx == 0 && p.Seq > 0 {
		return domain.Position{Tx: p.Seq, Seq: p.Seq}
	}
	return p
}

func from(p domain.Position) esdbc.AllPosition {
	if p.IsZero() {
		return esdbc.Start{}
	}
	return esdbc.Position{Commit: p.Tx, Prepare: p.Seq}
}

// ReadAll implements projections.Log: up to limit events of the ledger's
// streams after `after` (all of them when limit <= 0), in the order of $all.
//
// The Go client reads $all with a server-side filter only through a
// subscription, so this is a filtered catch-up subscription from `after`
// that stops at limit events, when the server says it caught up, or at the
// end of $all as it was when the read began. EventStoreDB has one writer
// and exposes $all only up to what it has committed, so no event can commit
// before one already read: a checkpoint never skips one.
func (s *Store) ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	recs, err := s.readAll(ctx, after, limit)
	return recs, Classify(err)
}

func (s *Store) readAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	after = ofAll(after)
	end, err := s.tail(ctx)
	if err != nil {
		return nil, fmt.Errorf("read $all: %w", err)
	}
	if !after.Less(end) {
		return nil, nil // nothing at all after it, the ledger's or not
	}
	c, err := s.conn()
	if err != nil {
		return nil, err
	}
	sub, err := c.SubscribeToAll(ctx, esdbc.SubscribeToAllOptions{From: from(after), Filter: filter()})
	if err != nil {
		if err := done(ctx); err != nil {
			return nil, err
		}
		s.failed(c, err)
		return nil, fmt.Errorf("read $all after %v: %w", after, err)
	}
	defer sub.Close()
	var quiet atomic.Bool
	timer := time.AfterFunc(idle, func() { quiet.Store(true); _ = sub.Close() })
	defer timer.Stop()

	var out []domain.Record
	for {
		ev := sub.Recv()
		timer.Reset(idle)
		switch {
		case ev.EventAppeared != nil:
			r, err := s.record(ev.EventAppeared.Event)
			if err != nil {
				return nil, fmt.Errorf("read $all: %w", err)
			}
			if !after.Less(r.Position) {
				continue // the server excludes it already; be sure
			}
			out = append(out, r)
			if (limit > 0 && len(out) >= limit) || !r.Position.Less(end) {
				return out, nil
			}
		case ev.CheckPointReached != nil:
			cp := *ev.CheckPointReached
			// Some servers send 0 as the prepare part of a checkpoint:
			// only a commit position past the end is conclusive.
			if cp.Commit > end.Tx || (cp.Commit == end.Tx && cp.Prepare >= end.Seq) {
				return out, nil
			}
		case ev.CaughtUp != nil:
			return out, nil
		case ev.SubscriptionDropped != nil:
			if err := done(ctx); err != nil {
				return nil, err
			}
			if quiet.Load() {
				return out, nil
			}
			s.failed(c, ev.SubscriptionDropped.Error)
			return nil, fmt.Errorf("read $all after %v: %w", after, ev.SubscriptionDropped.Error)
		}
	}
}

// tail returns the position of the last event in $all, whatever its stream
// (the zero position when $all is empty).
func (s *Store) tail(ctx context.Context) (domain.Position, error) {
	c, err := s.conn()
	if err != nil {
		return domain.Position{}, err
	}
	rs, err := c.ReadAll(ctx, esdbc.ReadAllOptions{Direction: esdbc.Backwards, From: esdbc.End{}}, 1)
	if err != nil {
		s.failed(c, err)
		return domain.Position{}, err
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) {
		return domain.Position{}, nil
	}
	if err != nil {
		if err := done(ctx); err != nil {
			return domain.Position{}, err
		}
		s.failed(c, err)
		return domain.Position{}, err
	}
	p := ev.OriginalEvent().Position
	return domain.Position{Tx: p.Commit, Seq: p.Prepare}, nil
}

// Wait implements projections.Log with a filtered subscription to $all from
// after: it returns when one of the ledger's events arrives after it, after
// about a second, or when ctx ends.
//
// A subscription per call keeps the store stateless; a caught-up projector
// opens one a second, which the server handles without effort. (A
// long-lived subscription fanning out to waiters would save that, at the
// cost of reconnection logic of its own.)
func (s *Store) Wait(ctx context.Context, after domain.Position) error {
	after = ofAll(after)
	if err := done(ctx); err != nil {
		return err
	}
	// A timer that cancels, not a deadline: gRPC would end the call on its
	// own clock, a hair before the context says why.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	timer := time.AfterFunc(s.wait, func() { timedOut.Store(true); cancel() })
	defer timer.Stop()
	c, err := s.conn()
	if err != nil {
		return err
	}
	sub, err := c.SubscribeToAll(wctx, esdbc.SubscribeToAllOptions{From: from(after), Filter: filter()})
	if err != nil {
		if err := done(ctx); err != nil {
			return err
		}
		if timedOut.Load() {
			return nil
		}
		s.failed(c, err)
		return fmt.Errorf("wait after %v: %w", after, err)
	}
	defer sub.Close()
	for {
		ev := sub.Recv()
		switch {
		case ev.EventAppeared != nil:
			p := ev.EventAppeared.OriginalEvent().Position
			if after.Less(domain.Position{Tx: p.Commit, Seq: p.Prepare}) {
				return nil
			}
		case ev.SubscriptionDropped != nil:
			if err := done(ctx); err != nil {
				return err
			}
			if timedOut.Load() {
				return nil
			}
			s.failed(c, ev.SubscriptionDropped.Error)
			return fmt.Errorf("wait after %v: %w", after, ev.SubscriptionDropped.Error)
		}
	}
}

// done returns why ctx ended, if it did. gRPC ends a call at the context's
// deadline on its own clock, a hair before ctx.Err() says so.
func done(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}
