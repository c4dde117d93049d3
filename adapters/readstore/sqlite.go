package readstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/projections"
)

// Defaults of the SQLite leases, the locks of databases without a file
// and of platforms without flock(2) (see WithLease).
const (
	DefaultLease      = 10 * time.Second
	DefaultLeaseRenew = 2 * time.Second
)

// NewSQLite returns a store on a SQLite database: read runs queries (a
// pool, read-only is fine), write runs fn in a write transaction and
// commits it if fn returns nil. With adapters/sqlite, pass the event
// store's DB and WithTx: read models then live in the events' file and
// their writes are serialized with appends. Close the read store (it
// releases its locks) before the event store.
//
// Its locks are flock(2) locks on files in the directory DATABASE.locks
// beside the database file (sqliteLocker): the kernel releases them when
// their process dies, so another process takes over at once. A database
// without a file (in memory), or a platform without flock, uses leases in
// the database instead.
func NewSQLite(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error, opts ...Option) (*Store, error) {
	o := collect(opts)
	if o.lease <= 0 || o.renew <= 0 || 2*o.renew > o.lease {
		return nil, fmt.Errorf("readstore: lease %s must be at least twice its renewal period %s", o.lease, o.renew)
	}
	return &Store{
		d: dialect{
			put:     sqlitePut,
			bounds:  func(from, to string) (string, string, bool) { return from, to, false },
			now:     `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
			prepare: true,
			getMany: `SELECT key, doc FROM rm_docs WHERE ns = $1 AND coll = $2 AND key IN (SELECT value FROM json_each($3))`,
			keys:    sqliteKeys,
			outage:  sqlite.Classify,
		},
		read:   read,
		write:  write,
		locker: newSQLiteLocker(read, func() locker { return newLeaseLocker(write, o.lease, o.renew) }),
	}, nil
}

// OpenSQLite opens (creating it if needed) a SQLite file for read models
// alone, for an event store elsewhere (EventStoreDB). The file is migrated
// like an event store's (its event tables stay empty). Commits use
// synchronous=NORMAL: a power loss may lose the last batches, but never
// separates documents from their checkpoint, so the runner replays them.
// Close closes the file.
func OpenSQLite(ctx context.Context, path string, opts ...Option) (*Store, error) {
	db, err := sqlite.Open(ctx, path, sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		return nil, fmt.Errorf("open read models: %w", err)
	}
	s, err := NewSQLite(db.DB(), db.WithTx, opts...)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.closeDB = db.Close
	return s, nil
}

const (
	sqliteUpsert = `INSERT INTO rm_docs (ns, coll, key, doc) VALUES ($1, $2, $3, $4)
ON CONFLICT (ns, coll, key) DO UPDATE SET doc = excluded.doc`
	sqliteDelete = `DELETE FROM rm_docs WHERE ns = $1 AND coll = $2 AND key = $3`
)

// sqliteKeys binds keys as one JSON array, which json_each expands: JSON
// holds valid UTF-8 only, so other keys are read one by one.
func sqliteKeys(keys []string) (any, bool) {
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return nil, false
		}
	}
	raw, err := json.Marshal(keys)
	if err != nil {
		return nil, false
	}
	return string(raw), true
}

// sqliteChunk is how many documents one upsert statement writes.
const sqliteChunk = 64

// sqliteUpserts[n] upserts n documents.
var sqliteUpserts = func() []string {
	out := make([]string, sqliteChunk+1)
	for n := 1; n <= sqliteChunk; n++ {
		var b strings.Builder
		b.WriteString(`INSERT INTO rm_docs (ns, coll, key, doc) VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($1, $%d, $%d, $%d)", 2+3*i, 3+3*i, 4+3*i)
		}
		b.WriteString(` ON CONFLICT (ns, coll, key) DO UPDATE SET doc = excluded.doc`)
		out[n] = b.String()
	}
	return out
}()

// sqlitePut writes up to sqliteChunk documents per statement, prepared once
// per transaction.
func sqlitePut(ctx context.Context, t *docTx, ups, dels []projections.Doc) error {
	args := make([]any, 0, 1+3*sqliteChunk)
	for len(ups) > 0 {
		n := min(len(ups), sqliteChunk)
		args = append(args[:0], t.ns)
		for _, d := range ups[:n] {
			// A string binds as TEXT; bytes would bind as a BLOB, which
			// SQLite's JSON functions take for its binary JSONB format.
			args = append(args, d.Coll, d.Key, string(d.Value))
		}
		if _, err := t.ExecContext(ctx, sqliteUpserts[n], args...); err != nil {
			return err
		}
		ups = ups[n:]
	}
	for _, d := range dels {
		if _, err := t.ExecContext(ctx, sqliteDelete, t.ns, d.Coll, d.Key); err != nil {
			return err
		}
	}
	return nil
}
