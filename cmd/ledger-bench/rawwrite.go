package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/schoollife/ledger/projections"
)

// rawWrite measures the floor of a projection's replay set by its output:
// the documents the replay left in namespace ns are written again into a
// fresh namespace through the read-model store's own write path
// (readstore's Update and Put, the statements a replay runs), in as many
// transactions as the replay committed (txs), in the order they were first
// written, each transaction's documents sorted as projections.Batch sorts
// them. Nothing reads the log, decodes events or runs a reducer. Reading
// the documents back is left out of the time. The copy is dropped after.
//
// A document a replay rewrote (a counter, a group's members) is written
// once here, so for projections that rewrite documents this is below
// what their replay has to write; for those that write each document once
// (a feed entry, an audit entry) it is the same.
func (e *env) rawWrite(ctx context.Context, b *benchStore, ns string, txs int) (time.Duration, int, error) {
	var total int
	var err error
	if b.pg != nil {
		err = b.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM rm_docs WHERE ns = $1`, ns).Scan(&total)
	} else {
		err = b.sqlite.DB().QueryRowContext(ctx, `SELECT count(*) FROM rm_docs WHERE ns = ?`, ns).Scan(&total)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("count documents of %s: %w", ns, err)
	}
	if total == 0 {
		return 0, 0, nil
	}
	perTx := (total + max(txs, 1) - 1) / max(txs, 1)

	next, closeSource, err := e.docSource(ctx, b, ns, perTx)
	if err != nil {
		return 0, 0, err
	}
	defer closeSource()

	copyNS := ns + "-rawwrite"
	p := startProgress(e.m.stderr, b.kind+" raw write "+ns, total)
	defer p.Done()
	var spent time.Duration
	written := 0
	for {
		docs, err := next()
		if err != nil {
			return 0, 0, fmt.Errorf("read documents of %s: %w", ns, err)
		}
		if len(docs) == 0 {
			break
		}
		projections.SortDocs(docs)
		began := time.Now()
		if err := b.docs.Update(ctx, copyNS, func(tx projections.DocTx) error { return tx.Put(ctx, docs) }); err != nil {
			return 0, 0, fmt.Errorf("write documents of %s again: %w", ns, err)
		}
		spent += time.Since(began)
		written += len(docs)
		p.Set(written)
	}
	if written != total {
		return 0, 0, fmt.Errorf("raw write of %s: %d documents read back, %d counted", ns, written, total)
	}
	if err := b.docs.DropNamespace(ctx, copyNS); err != nil {
		return 0, 0, fmt.Errorf("drop %s: %w", copyNS, err)
	}
	return spent, written, nil
}

// docSource returns a function giving the documents of ns n at a time, in
// the order they were first written (SQLite's rowid; on Postgres the heap's
// order, which a table that is only appended to keeps), then none.
func (e *env) docSource(ctx context.Context, b *benchStore, ns string, n int) (func() ([]projections.Doc, error), func(), error) {
	if b.sqlite != nil {
		// Short read transactions by rowid ranges, so that the writer's
		// checkpoints are not held back; NOT INDEXED keeps SQLite from
		// reading ns through the primary key, in key order.
		var after int64
		next := func() ([]projections.Doc, error) {
			rows, err := b.sqlite.DB().QueryContext(ctx, `SELECT rowid, coll, key, doc FROM rm_docs NOT INDEXED
WHERE rowid > ? AND ns = ? ORDER BY rowid LIMIT ?`, after, ns, n)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var docs []projections.Doc
			for rows.Next() {
				var d projections.Doc
				var doc string
				if err := rows.Scan(&after, &d.Coll, &d.Key, &doc); err != nil {
					return nil, err
				}
				d.Value = []byte(doc)
				docs = append(docs, d)
			}
			return docs, rows.Err()
		}
		return next, func() {}, nil
	}

	// One read-only transaction with a cursor, on a connection of its own;
	// a sequential scan reads the heap in the order rows were written.
	conn, err := b.pg.Pool().Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		conn.Release()
		return nil, nil, err
	}
	closeSource := func() {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		conn.Release()
	}
	for _, q := range []string{
		`SET LOCAL enable_indexscan = off`,
		`SET LOCAL enable_bitmapscan = off`,
		`SET LOCAL enable_indexonlyscan = off`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			closeSource()
			return nil, nil, err
		}
	}
	if _, err := tx.Exec(ctx, `DECLARE docs NO SCROLL CURSOR FOR SELECT coll, key, doc::text FROM rm_docs WHERE ns = $1`, ns); err != nil {
		closeSource()
		return nil, nil, err
	}
	next := func() ([]projections.Doc, error) {
		rows, err := tx.Query(ctx, fmt.Sprintf(`FETCH %d FROM docs`, n))
		if err != nil {
			return nil, err
		}
		docs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (projections.Doc, error) {
			var d projections.Doc
			var doc string
			err := row.Scan(&d.Coll, &d.Key, &doc)
			d.Value = []byte(doc)
			return d, err
		})
		if err != nil {
			return nil, errors.Join(err, rows.Err())
		}
		return docs, nil
	}
	return next, closeSource, nil
}
