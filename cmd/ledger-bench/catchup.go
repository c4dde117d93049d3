package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// head returns the position of the last event of the log.
func (b *benchStore) head(ctx context.Context) (domain.Position, error) {
	var p domain.Position
	if b.pg != nil {
		var tx string
		err := b.pg.Pool().QueryRow(ctx, `SELECT tx_id::text, seq FROM events ORDER BY tx_id DESC, seq DESC LIMIT 1`).Scan(&tx, &p.Seq)
		if err != nil {
			return p, err
		}
		p.Tx, err = strconv.ParseUint(tx, 10, 64)
		return p, err
	}
	var seq int64
	err := b.sqlite.DB().QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&seq)
	p.Seq = uint64(seq)
	return p, err
}

// waitCaughtUp waits until every projection of a running server and its
// live forwarder have applied the whole log.
func (e *env) waitCaughtUp(ctx context.Context, b *benchStore, within time.Duration) error {
	head, err := b.head(ctx)
	if err != nil {
		return err
	}
	names := []string{}
	for _, r := range projections.Reducers(e.loc) {
		names = append(names, r.Name())
	}
	p := startProgress(e.m.stderr, "server catching up (projections and forwarder at the head)", len(names)+1)
	defer p.Done()
	deadline := time.Now().Add(within)
	for {
		behind := 0
		for _, n := range names {
			g, err := b.docs.Generations(ctx, n)
			if err != nil {
				return err
			}
			cp := domain.Start
			if g.Live != 0 {
				if cp, err = b.docs.Checkpoint(ctx, projections.Namespace(n, g.Live)); err != nil {
					return err
				}
			}
			if g.Live == 0 || cp.Less(head) {
				behind++
			}
		}
		cp, err := b.docs.Checkpoint(ctx, live.ForwarderNamespace)
		if err != nil {
			return err
		}
		if cp.Less(head) {
			behind++
		}
		p.Set(len(names) + 1 - behind)
		if behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server's projections did not catch up with the log within %s", within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// parallel runs fn(i) for i in [0, n) on workers goroutines, counting on
// p (when not nil), and returns the first error.
func parallel(ctx context.Context, n, workers int, p *progress, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := fn(gctx, i); err != nil {
				return err
			}
			if p != nil {
				p.Add(1)
			}
			return nil
		})
	}
	return g.Wait()
}

// firstErrors keeps a few error samples.
type firstErrors struct {
	mu   sync.Mutex
	n    int
	errs []string
}

func (f *firstErrors) Add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.errs) < 5 {
		f.errs = append(f.errs, err.Error())
	}
}

// Samples returns the errors kept.
func (f *firstErrors) Samples() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.errs)
}
