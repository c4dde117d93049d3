package readstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/projections"
)

// DefaultPingEvery is how often the connection holding advisory locks is
// checked.
const DefaultPingEvery = time.Second

// lockClass is the first key of the two-key advisory locks that elect
// runners (the second is hashtext(name)). Two-key locks never collide with
// the one-bigint-key locks that adapters/postgres takes.
const lockClass int32 = 0x6c72 // "lr": ledger runners

// NewPostgres returns a store on pool, which it shares (with the event
// store: adapters/postgres exposes Pool). Close leaves the pool open; call
// it, or release every lock, before closing the pool, which waits for the
// connection that holds them.
func NewPostgres(pool *pgxpool.Pool, opts ...Option) *Store {
	o := collect(opts)
	db, write := postgres.SQLDB(pool)
	return &Store{
		d: dialect{
			put:    pgPut,
			bounds: pgBounds,
			now:    `now()`,
			// One primary-key lookup per key, whatever the statistics
			// say: with `key = ANY($3)` and rm_docs never analysed (no
			// autovacuum), the planner read every document of the
			// collection for each batch (a bitmap scan on ns and coll).
			// LIMIT keeps the lateral subquery from being pulled up into
			// a join the planner could hash.
			getMany: `SELECT d.key, d.doc FROM unnest($3::text[]) AS k (key)
CROSS JOIN LATERAL (SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key = k.key LIMIT 1) AS d`,
			keys:      func(keys []string) (any, bool) { return keys, true },
			encodeKey: pgEncodeKey,
			decodeKey: pgDecodeKey,
			decodeDoc: pgDecodeDoc,
			outage:    postgres.Classify,
		},
		read:    db,
		write:   write,
		locker:  &advisoryLocker{pool: pool, every: o.ping},
		closeDB: db.Close,
	}
}

const (
	// One statement per batch, whatever its size: arrays of the columns.
	pgUpsert = `INSERT INTO rm_docs (ns, coll, key, doc)
SELECT $1, u.coll, u.key, u.doc FROM unnest($2::text[], $3::text[], $4::jsonb[]) AS u (coll, key, doc)
ON CONFLICT (ns, coll, key) DO UPDATE SET doc = excluded.doc`
	// The rows are found by one primary-key lookup per key (a lateral
	// subquery with LIMIT, which the planner cannot turn into a join of
	// its choice) and deleted by their ctid: joining rm_docs to the keys
	// let a planner without statistics read the whole namespace.
	pgDelete = `DELETE FROM rm_docs WHERE ctid = ANY (ARRAY(
  SELECT d.ctid FROM unnest($2::text[], $3::text[]) AS u (coll, key)
  CROSS JOIN LATERAL (SELECT ctid FROM rm_docs WHERE ns = $1 AND coll = u.coll AND key = u.key LIMIT 1) AS d))`
)

func pgPut(ctx context.Context, t *docTx, ups, dels []projections.Doc) error {
	if len(ups) > 0 {
		colls, keys := make([]string, len(ups)), make([]string, len(ups))
		docs := make([][]byte, len(ups))
		for i, d := range ups {
			colls[i], keys[i], docs[i] = d.Coll, pgEncodeKey(d.Key), pgEncodeDoc(d.Value)
		}
		if _, err := t.ExecContext(ctx, pgUpsert, t.ns, colls, keys, docs); err != nil {
			return err
		}
	}
	if len(dels) > 0 {
		colls, keys := make([]string, len(dels)), make([]string, len(dels))
		for i, d := range dels {
			colls[i], keys[i] = d.Coll, pgEncodeKey(d.Key)
		}
		if _, err := t.ExecContext(ctx, pgDelete, t.ns, colls, keys); err != nil {
			return err
		}
	}
	return nil
}

// pgBounds makes a scan range of encoded keys (pgEncodeKey) fit Postgres
// text, which holds valid UTF-8 without NUL: keys are such strings, but
// bounds from
// projections.PrefixEnd may not be ("¿" ends in 0xBF, its PrefixEnd in
// 0xC0). A bound is cut before its first invalid byte; the lower one is then
// no greater than before and the upper one is raised past every string with
// the same valid prefix, and the rows are filtered against the range asked.
func pgBounds(from, to string) (lo, hi string, filter bool) {
	lo, hi = from, to
	if i := invalidAt(from); i >= 0 {
		lo, filter = from[:i], true
	}
	if i := invalidAt(to); i >= 0 {
		hi, filter = prefixEndUTF8(to[:i]), true
		if hi == "" {
			// No valid string is above: scan to the end, filtering.
			return lo, "", true
		}
	}
	return lo, hi, filter
}

// invalidAt returns the index of the first byte of s that is NUL or not
// part of valid UTF-8, or -1.
func invalidAt(s string) int {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return -1
	}
	for i, r := range s {
		if r == 0 || (r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError))) {
			return i
		}
	}
	return -1
}

// prefixEndUTF8 returns a valid string greater than every string starting
// with the valid string p ("" if there is none): UTF-8 byte order is code
// point order, so bumping the last code point that can be bumped will do.
func prefixEndUTF8(p string) string {
	rs := []rune(p)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i] + 1
		if r >= 0xD800 && r <= 0xDFFF { // surrogates are not encodable
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			rs[i] = r
			return string(rs[:i+1])
		}
	}
	return ""
}

// advisoryLocker holds Postgres session advisory locks on one connection
// taken from the pool while any lock is held, whatever their number (one
// connection per projection could take the whole pool). If the connection
// fails, or this process dies, its session ends and Postgres frees the
// locks: the contexts of the locks held here end, and another node may
// take them.
type advisoryLocker struct {
	pool  *pgxpool.Pool
	every time.Duration

	mu     sync.Mutex // guards the fields below and the session's use
	sess   *session
	closed bool
}

type session struct {
	ctx  context.Context // for the session's own queries: never cancelled
	conn *pgxpool.Conn
	held map[string]*hold // names locked in this session
	stop chan struct{}    // stops the pinger
}

type hold struct{ cancel context.CancelFunc }

// queryTimeout bounds a lock query: pg_try_advisory_lock never waits.
const queryTimeout = 10 * time.Second

// TryAcquire implements projector.Locker. A name held in this process is
// not free: session locks are reentrant, so this is checked here.
func (l *advisoryLocker) TryAcquire(ctx context.Context, name string) (context.Context, func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, false, errClosed
	}
	if l.sess != nil && l.sess.held[name] != nil {
		return nil, nil, false, nil
	}
	if l.sess == nil {
		conn, err := l.pool.Acquire(ctx)
		if err != nil {
			return nil, nil, false, fmt.Errorf("lock %s: %w", name, err)
		}
		l.sess = &session{ctx: context.WithoutCancel(ctx), conn: conn, held: make(map[string]*hold), stop: make(chan struct{})}
		go l.ping(l.sess)
	}
	s := l.sess
	// Not under ctx: pgx closes a connection whose query is cancelled,
	// which would end the other locks of the session.
	qctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
	var ok bool
	err := s.conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockClass, name).Scan(&ok)
	cancel()
	if err != nil {
		l.end(s, true)
		return nil, nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		if len(s.held) == 0 {
			l.end(s, false)
		}
		return nil, nil, false, nil
	}
	held, cancelHeld := context.WithCancel(ctx)
	h := &hold{cancel: cancelHeld}
	s.held[name] = h
	return held, sync.OnceFunc(func() { l.release(s, name, h) }), true, nil
}

func (l *advisoryLocker) release(s *session, name string, h *hold) {
	h.cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess != s || s.held[name] != h {
		return // the session has ended, and the lock with it
	}
	delete(s.held, name)
	ctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
	defer cancel()
	var ok bool
	if err := s.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockClass, name).Scan(&ok); err != nil || !ok {
		l.end(s, true)
		return
	}
	if len(s.held) == 0 {
		l.end(s, false)
	}
}

// ping checks the session's connection until the session ends.
func (l *advisoryLocker) ping(s *session) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		if l.sess != s {
			l.mu.Unlock()
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, max(l.every, 5*time.Second))
		if err := s.conn.Ping(ctx); err != nil {
			l.end(s, true)
		}
		cancel()
		l.mu.Unlock()
	}
}

// end ends the session: the contexts of its locks end and the connection
// goes back to the pool, or is closed if it may still hold locks (the
// pool does not reset sessions). The caller holds l.mu.
func (l *advisoryLocker) end(s *session, broken bool) {
	close(s.stop)
	for _, h := range s.held {
		h.cancel()
	}
	if !broken && len(s.held) > 0 {
		ctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
		_, err := s.conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`)
		cancel()
		broken = err != nil
	}
	if broken {
		ctx, cancel := context.WithTimeout(s.ctx, queryTimeout)
		_ = s.conn.Conn().Close(ctx) // a closed connection leaves the pool
		cancel()
	}
	s.conn.Release()
	s.held = nil
	l.sess = nil
}

// Close releases the locks still held; TryAcquire fails afterwards.
func (l *advisoryLocker) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.sess != nil {
		l.end(l.sess, false)
	}
	return nil
}
