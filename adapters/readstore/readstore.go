// Package readstore keeps read models in SQL: the documents of every
// projection generation, their checkpoints, the generations themselves, and
// the locks that elect one runner per projection. It implements
// projections.DocStore, projections.GenerationStore and projector.Locker
// on SQLite (NewSQLite, OpenSQLite) and on Postgres (NewPostgres).
//
// Both dialects share one implementation over database/sql; a small dialect
// value holds what differs (how a batch of documents is written, what a key
// range may contain). The tables are created by the event stores'
// migrations (migrations/*/0100_readmodels.sql and, on Postgres,
// 0101_readmodels_encoding.sql): documents are TEXT on SQLite (json_extract
// works on them) and jsonb on Postgres (doc->>'field'), keys compare byte
// for byte on both.
//
// A namespace's checkpoint is written in the transaction of its documents,
// and it only moves forward: a second runner that applied the same events
// (after losing its lock without noticing in time) fails to commit instead
// of counting them twice.
//
// Documents and keys hold every string the log can: on Postgres, where
// text cannot hold NUL, they are encoded so that it fits (pgcodec.go), and
// decoded on the way out. Keys must be valid UTF-8 there, and collection
// names without NUL too; scan bounds may be anything, such as
// projections.PrefixEnd's.
package readstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

var (
	_ projections.DocMultiGetter  = (*docTx)(nil)
	_ projections.DocStore        = (*Store)(nil)
	_ projections.GenerationStore = (*Store)(nil)
	_ projector.Locker            = (*Store)(nil)
)

// ErrStaleCheckpoint is returned (wrapped) by SetCheckpoint when the
// namespace's stored checkpoint is already at or after the new one: another
// runner applied these events first. The transaction must be rolled back.
var ErrStaleCheckpoint = errors.New("readstore: checkpoint does not advance")

// errClosed is what locks fail with once the store is closed.
var errClosed = errors.New("readstore: store closed")

// scanPage is how many rows a Scan inside a transaction reads at a time.
const scanPage = 512

// Store is a read-model store on SQLite or Postgres. It is safe for
// concurrent use.
type Store struct {
	d       dialect
	read    *sql.DB
	write   func(ctx context.Context, fn func(*sql.Tx) error) error
	locker  locker
	closeDB func() error

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared on read, when the dialect prepares
}

// locker is how a dialect elects holders; Close releases what it holds.
type locker interface {
	projector.Locker
	Close() error
}

// dialect is what differs between SQLite and Postgres.
type dialect struct {
	// put writes upserts and deletes in tx; keys are unique across both.
	put func(ctx context.Context, t *docTx, ups, dels []projections.Doc) error
	// bounds maps a scan range to bounds the database accepts, and says
	// whether rows must also be filtered against the original range.
	bounds func(from, to string) (lo, hi string, filter bool)
	// now is the SQL expression of the current time for updated_at.
	now string
	// prepare caches prepared statements per transaction (SQLite compiles
	// every statement otherwise; pgx already caches them per connection).
	prepare bool
	// getMany is the query reading the documents of a collection whose
	// keys are in $3, and keys what it binds to $3 (false: the keys cannot
	// be bound, read them one by one).
	getMany string
	keys    func(keys []string) (any, bool)
	// encodeKey turns a key into what the database stores, keeping their
	// order; decodeKey and decodeDoc turn what it stores back into keys and
	// documents (nil: as they are). put encodes documents.
	encodeKey, decodeKey func(string) string
	decodeDoc            func([]byte) []byte
	// outage marks the database's outages (its adapter's Classify), so
	// that a read model out of reach answers 503, not 500.
	outage func(error) error
}

func (d dialect) key(k string) string {
	if d.encodeKey == nil {
		return k
	}
	return d.encodeKey(k)
}

func (d dialect) keyOf(stored string) string {
	if d.decodeKey == nil {
		return stored
	}
	return d.decodeKey(stored)
}

func (d dialect) docOf(stored []byte) []byte {
	if d.decodeDoc == nil {
		return stored
	}
	return d.decodeDoc(stored)
}

// Option configures a Store.
type Option func(*options)

type options struct {
	lease, renew time.Duration
	ping         time.Duration
}

func collect(opts []Option) options {
	o := options{lease: DefaultLease, renew: DefaultLeaseRenew, ping: DefaultPingEvery}
	for _, opt := range opts {
		opt(&o)
	}
	if o.ping <= 0 {
		o.ping = DefaultPingEvery
	}
	return o
}

// WithLease sets, on SQLite where locks are leases (a database in memory,
// or a platform without flock(2): see NewSQLite), how long a lock's lease
// lasts and how often its holder renews it. A holder that cannot renew
// gives the lock up (its context ends) one renewal period before the lease
// expires; a process that dies holding a lock blocks the others for at
// most lease. Kernel file locks ignore it.
func WithLease(lease, renew time.Duration) Option {
	return func(o *options) { o.lease, o.renew = lease, renew }
}

// WithPingEvery sets, on Postgres, how often the connection holding the
// advisory locks is checked; the locks' contexts end when it fails.
func WithPingEvery(d time.Duration) Option { return func(o *options) { o.ping = d } }

// Close releases the locks still held (their contexts end) and, for a store
// opened by OpenSQLite, closes its database. Pools given to the
// constructors stay open.
func (s *Store) Close() error {
	err := s.locker.Close()
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		err = errors.Join(err, st.Close())
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	if s.closeDB != nil {
		err = errors.Join(err, s.closeDB())
	}
	return err
}

// TryAcquire implements projector.Locker.
func (s *Store) TryAcquire(ctx context.Context, name string) (context.Context, func(), bool, error) {
	return s.locker.TryAcquire(ctx, name)
}

// Update implements projections.DocStore: fn's documents and checkpoint
// commit together, or nothing is written if fn fails or ctx ends first.
func (s *Store) Update(ctx context.Context, ns string, fn func(projections.DocTx) error) error {
	return s.d.outage(s.write(ctx, func(tx *sql.Tx) error {
		t := &docTx{s: s, ns: ns, tx: tx}
		if err := fn(t); err != nil {
			return err
		}
		return ctx.Err()
	}))
}

// Reader implements projections.DocStore.
func (s *Store) Reader(ns string) projections.DocReader { return reader{s: s, ns: ns} }

// Checkpoint implements projections.DocStore.
func (s *Store) Checkpoint(ctx context.Context, ns string) (domain.Position, error) {
	var tx, seq int64
	err := s.read.QueryRowContext(ctx, `SELECT tx, seq FROM rm_checkpoints WHERE ns = $1`, ns).Scan(&tx, &seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return domain.Start, nil
	case err != nil:
		return domain.Start, fmt.Errorf("checkpoint of %s: %w", ns, s.d.outage(err))
	}
	return domain.Position{Tx: uint64(tx), Seq: uint64(seq)}, nil
}

// Generations implements projections.GenerationStore.
func (s *Store) Generations(ctx context.Context, projection string) (projections.Generations, error) {
	var g projections.Generations
	err := s.read.QueryRowContext(ctx, `SELECT live, building, ready FROM rm_generations WHERE projection = $1`, projection).
		Scan(&g.Live, &g.Building, &g.Ready)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return projections.Generations{}, nil
	case err != nil:
		return g, fmt.Errorf("generations of %s: %w", projection, s.d.outage(err))
	}
	return g, nil
}

// SetGenerations implements projections.GenerationStore.
func (s *Store) SetGenerations(ctx context.Context, projection string, g projections.Generations) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rm_generations (projection, live, building, ready) VALUES ($1, $2, $3, $4)
ON CONFLICT (projection) DO UPDATE SET live = excluded.live, building = excluded.building, ready = excluded.ready`,
			projection, g.Live, g.Building, g.Ready)
		return err
	})
	if err != nil {
		return fmt.Errorf("set generations of %s: %w", projection, s.d.outage(err))
	}
	return nil
}

// DropNamespace implements projections.GenerationStore: the namespace's
// documents and checkpoint go in one transaction.
func (s *Store) DropNamespace(ctx context.Context, ns string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rm_docs WHERE ns = $1`, ns); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM rm_checkpoints WHERE ns = $1`, ns)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop namespace %s: %w", ns, s.d.outage(err))
	}
	return nil
}

// queryer is what reads need: a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const (
	getSQL = `SELECT doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key = $3`
	// The scans are range scans on the primary key.
	scanSQL        = `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key >= $3 ORDER BY key`
	scanToSQL      = `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key >= $3 AND key < $4 ORDER BY key`
	pageSQL        = `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key > $3 ORDER BY key LIMIT 512`
	pageToSQL      = `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key > $3 AND key < $4 ORDER BY key LIMIT 512`
	firstPageSQL   = `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key >= $3 ORDER BY key LIMIT 512`
	firstPageToSQL = `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key >= $3 AND key < $4 ORDER BY key LIMIT 512`
)

// pooled runs reads on the pool, through statements prepared once when
// the dialect prepares.
type pooled struct{ s *Store }

func (p pooled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s := p.s
	if !s.d.prepare {
		return s.read.QueryContext(ctx, query, args...)
	}
	s.stmtMu.Lock()
	st, ok := s.stmts[query]
	if !ok {
		var err error
		if st, err = s.read.PrepareContext(ctx, query); err != nil {
			s.stmtMu.Unlock()
			return nil, err
		}
		if s.stmts == nil {
			s.stmts = make(map[string]*sql.Stmt)
		}
		s.stmts[query] = st
	}
	s.stmtMu.Unlock()
	return st.QueryContext(ctx, args...)
}

func get(ctx context.Context, q queryer, d dialect, ns, coll, key string) ([]byte, bool, error) {
	rows, err := q.QueryContext(ctx, getSQL, ns, coll, d.key(key))
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", coll, key, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, false, fmt.Errorf("get %s/%s: %w", coll, key, err)
		}
		return nil, false, nil
	}
	var doc []byte
	if err := rows.Scan(&doc); err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", coll, key, err)
	}
	return d.docOf(doc), true, rows.Close()
}

// getManyChunk bounds the keys of one GetMany query.
const getManyChunk = 512

// getMany reads the documents of keys, getManyChunk at a time.
func getMany(ctx context.Context, q queryer, d dialect, ns, coll string, keys []string, fn func(string, []byte) error) error {
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), getManyChunk)]
		keys = keys[len(chunk):]
		stored := chunk
		if d.encodeKey != nil {
			stored = make([]string, len(chunk))
			for i, k := range chunk {
				stored[i] = d.encodeKey(k)
			}
		}
		arg, ok := d.keys(stored)
		if !ok {
			for _, k := range chunk {
				doc, found, err := get(ctx, q, d, ns, coll, k)
				if err != nil {
					return err
				}
				if found {
					if err := fn(k, doc); err != nil {
						return err
					}
				}
			}
			continue
		}
		if err := getChunk(ctx, q, d, ns, coll, arg, fn); err != nil {
			return fmt.Errorf("get %d documents of %s: %w", len(chunk), coll, err)
		}
	}
	return nil
}

// getChunk runs one GetMany query; the rows are read before fn runs, so
// that fn may use the transaction.
func getChunk(ctx context.Context, q queryer, d dialect, ns, coll string, arg any, fn func(string, []byte) error) error {
	rows, err := q.QueryContext(ctx, d.getMany, ns, coll, arg)
	if err != nil {
		return err
	}
	type row struct {
		key string
		doc []byte
	}
	var found []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.doc); err != nil {
			rows.Close()
			return err
		}
		found = append(found, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, r := range found {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(d.keyOf(r.key), d.docOf(r.doc)); err != nil {
			return err
		}
	}
	return nil
}

// reader reads a namespace outside any transaction.
type reader struct {
	s  *Store
	ns string
}

func (r reader) Get(ctx context.Context, coll, key string) ([]byte, bool, error) {
	doc, found, err := get(ctx, pooled{r.s}, r.s.d, r.ns, coll, key)
	return doc, found, r.s.d.outage(err)
}

// GetMany implements projections.DocMultiGetter: one query per 512 keys.
func (r reader) GetMany(ctx context.Context, coll string, keys []string, fn func(string, []byte) error) error {
	return r.s.d.outage(getMany(ctx, pooled{r.s}, r.s.d, r.ns, coll, dedupe(keys), fn))
}

// Scan streams one query: one statement sees one snapshot, so a scan never
// mixes two commits of the runner.
func (r reader) Scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	return r.s.d.outage(r.scan(ctx, coll, from, to, fn))
}

func (r reader) scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	d := r.s.d
	lo, hi, filter := d.bounds(d.key(from), d.key(to))
	var (
		rows *sql.Rows
		err  error
	)
	if hi == "" {
		rows, err = pooled{r.s}.QueryContext(ctx, scanSQL, r.ns, coll, lo)
	} else {
		rows, err = pooled{r.s}.QueryContext(ctx, scanToSQL, r.ns, coll, lo, hi)
	}
	if err != nil {
		return fmt.Errorf("scan %s [%q, %q): %w", coll, from, to, err)
	}
	defer rows.Close()
	for rows.Next() {
		// A request whose client left, or past its deadline, stops here:
		// the driver notices a cancelled context on its own schedule, and
		// fn may run long.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scan %s [%q, %q): %w", coll, from, to, err)
		}
		var (
			key string
			doc []byte
		)
		if err := rows.Scan(&key, &doc); err != nil {
			return fmt.Errorf("scan %s: %w", coll, err)
		}
		key = d.keyOf(key)
		if filter {
			if key < from {
				continue
			}
			if to != "" && key >= to {
				break
			}
		}
		if err := fn(key, d.docOf(doc)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan %s [%q, %q): %w", coll, from, to, err)
	}
	return nil
}

// docTx is one Update's transaction.
type docTx struct {
	s     *Store
	ns    string
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // closed with the transaction
}

// stmt returns the transaction's prepared statement for query.
func (t *docTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt)
	}
	t.stmts[query] = st
	return st, nil
}

func (t *docTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !t.s.d.prepare {
		return t.tx.QueryContext(ctx, query, args...)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *docTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !t.s.d.prepare {
		return t.tx.ExecContext(ctx, query, args...)
	}
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *docTx) Get(ctx context.Context, coll, key string) ([]byte, bool, error) {
	return get(ctx, t, t.s.d, t.ns, coll, key)
}

// GetMany implements projections.DocMultiGetter: one query per 512 keys.
func (t *docTx) GetMany(ctx context.Context, coll string, keys []string, fn func(string, []byte) error) error {
	return getMany(ctx, t, t.s.d, t.ns, coll, dedupe(keys), fn)
}

// dedupe returns keys without repeats, in their first order.
func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Scan reads pages and calls fn between them, with no query open: fn may
// use the transaction (a pgx connection runs one query at a time).
func (t *docTx) Scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	d := t.s.d
	lo, hi, filter := d.bounds(d.key(from), d.key(to))
	type row struct {
		key string
		doc []byte
	}
	page := make([]row, 0, scanPage)
	first := true
	for {
		var q string
		switch {
		case first && hi == "":
			q = firstPageSQL
		case first:
			q = firstPageToSQL
		case hi == "":
			q = pageSQL
		default:
			q = pageToSQL
		}
		args := []any{t.ns, coll, lo}
		if hi != "" {
			args = append(args, hi)
		}
		rows, err := t.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("scan %s [%q, %q): %w", coll, from, to, err)
		}
		page = page[:0]
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.key, &r.doc); err != nil {
				rows.Close()
				return fmt.Errorf("scan %s: %w", coll, err)
			}
			page = append(page, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("scan %s [%q, %q): %w", coll, from, to, err)
		}
		for _, r := range page {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("scan %s [%q, %q): %w", coll, from, to, err)
			}
			key := d.keyOf(r.key)
			if filter {
				if key < from {
					continue
				}
				if to != "" && key >= to {
					return nil
				}
			}
			if err := fn(key, d.docOf(r.doc)); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		lo, first = page[len(page)-1].key, false
	}
}

// Put implements projections.DocTx. Documents must be JSON. Within one
// call the last write of a key wins.
func (t *docTx) Put(ctx context.Context, docs []projections.Doc) error {
	ups, dels, err := split(docs)
	if err != nil {
		return err
	}
	if len(ups) == 0 && len(dels) == 0 {
		return nil
	}
	if err := t.s.d.put(ctx, t, ups, dels); err != nil {
		return fmt.Errorf("put %d documents in %s: %w", len(docs), t.ns, err)
	}
	return nil
}

type docKey struct{ coll, key string }

// split checks documents and sorts them into upserts and deletes, keeping
// each key's last write only: a multi-row upsert may touch a row once.
func split(docs []projections.Doc) (ups, dels []projections.Doc, err error) {
	last := make(map[docKey]int, len(docs))
	for i, d := range docs {
		if d.Value != nil && !json.Valid(d.Value) {
			return nil, nil, fmt.Errorf("put %s/%s: document is not JSON", d.Coll, d.Key)
		}
		last[docKey{d.Coll, d.Key}] = i
	}
	for i, d := range docs {
		if last[docKey{d.Coll, d.Key}] != i {
			continue
		}
		if d.Value == nil {
			dels = append(dels, d)
		} else {
			ups = append(ups, d)
		}
	}
	return ups, dels, nil
}

// SetCheckpoint implements projections.DocTx. It fails with
// ErrStaleCheckpoint unless pos is after the stored checkpoint.
func (t *docTx) SetCheckpoint(ctx context.Context, pos domain.Position) error {
	if pos.Tx > math.MaxInt64 || pos.Seq > math.MaxInt64 {
		return fmt.Errorf("checkpoint %s of %s: out of range", pos, t.ns)
	}
	res, err := t.ExecContext(ctx, `INSERT INTO rm_checkpoints (ns, tx, seq, updated_at) VALUES ($1, $2, $3, `+t.s.d.now+`)
ON CONFLICT (ns) DO UPDATE SET tx = excluded.tx, seq = excluded.seq, updated_at = excluded.updated_at
WHERE (rm_checkpoints.tx, rm_checkpoints.seq) < (excluded.tx, excluded.seq)`,
		t.ns, int64(pos.Tx), int64(pos.Seq))
	if err != nil {
		return fmt.Errorf("checkpoint %s of %s: %w", pos, t.ns, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("checkpoint %s of %s: %w", pos, t.ns, err)
	}
	if n == 0 {
		return fmt.Errorf("checkpoint %s of %s: %w", pos, t.ns, ErrStaleCheckpoint)
	}
	return nil
}
