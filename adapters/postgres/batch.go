package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/schoollife/ledger/adapters/groupcommit"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// AppendBatch appends many streams' events in one transaction, all or
// nothing: the directory import writes thousands of appends at once this
// way. Each append is checked as Append checks it, in order, against the
// heads as the appends before it left them (expected version, a retry of
// events already stored, an event id stored elsewhere); if one fails, none
// is stored and its error is returned. It runs as a group of the
// committers does, on a connection of its own and outside their queue:
// the heads locked at once, the ids looked up at once, the events
// inserted by one multi-row statement with their chain hashes, the heads
// moved by another, one notification. It returns each append's result.
func (s *Store) AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error) {
	if len(appends) == 0 {
		return nil, nil
	}
	group := make([]*groupcommit.Request, len(appends))
	for i, a := range appends {
		if err := validate(a.Stream, a.Events); err != nil {
			return nil, batchError(i, err)
		}
		group[i] = groupcommit.NewRequest(a.Stream, a.Expected, a.Events)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("append a batch: %w", err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("append a batch: %w", Classify(err))
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("append a batch: %w", Classify(err))
	}
	// After a commit the rollback does nothing; after a failure it ends
	// the transaction (its error adds nothing: it is gone either way).
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := runInTx(ctx, tx, group); err != nil {
		return nil, fmt.Errorf("append a batch: %w", Classify(appendError(group[0].Stream, err)))
	}
	out := make([]domain.AppendResult, len(group))
	for i, r := range group {
		if r.Err != nil {
			return nil, batchError(i, r.Err)
		}
		out[i] = r.Result
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("append a batch: %w", Classify(err))
	}
	return out, nil
}

// batchError names the append of a batch that failed a check; a domain
// error stays one.
func batchError(i int, err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return fmt.Errorf("append %d of the batch: %w", i, err)
	}
	return err
}
