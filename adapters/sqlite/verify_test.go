package sqlite_test

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/domain"
)

// sealedLog is a history of four streams, interleaved: two seals over its
// first 14 events, then two events not sealed yet.
//
//	position  1-2  3-5  6-7  8-10  | seal 1 | 11-12 13-14 | seal 2 | 15-16
//	stream    a    b    c    a              c     d                d
//	versions  1-2  1-3  1-2  3-5            3-4   1-2              3-4
type sealedLog struct {
	a, b, c, d string
}

func mustSealedLog(t *testing.T, s *sqlite.Store) sealedLog {
	t.Helper()
	l := sealedLog{a: storetest.NewStream("a"), b: storetest.NewStream("b"), c: storetest.NewStream("c"), d: storetest.NewStream("d")}
	storetest.MustAppend(t, s, l.a, domain.NoStream(), storetest.NewEvents(2))
	storetest.MustAppend(t, s, l.b, domain.NoStream(), storetest.NewEvents(3))
	storetest.MustAppend(t, s, l.c, domain.NoStream(), storetest.NewEvents(2))
	storetest.MustAppend(t, s, l.a, domain.Exact(2), storetest.NewEvents(3))
	mustSeal(t, s, 1, 10)
	storetest.MustAppend(t, s, l.c, domain.Exact(2), storetest.NewEvents(2))
	storetest.MustAppend(t, s, l.d, domain.NoStream(), storetest.NewEvents(2))
	mustSeal(t, s, 2, 4)
	storetest.MustAppend(t, s, l.d, domain.Exact(2), storetest.NewEvents(2))
	return l
}

func mustSeal(t *testing.T, s *sqlite.Store, seq, count uint64) tamper.Seal {
	t.Helper()
	seal, ok, err := s.Seal(context.Background())
	if err != nil || !ok {
		t.Fatalf("Seal: ok %v, %v", ok, err)
	}
	if seal.Seq != seq || seal.Count != count || len(seal.Hash) != 32 {
		t.Fatalf("seal %+v, want seq %d over %d events", seal, seq, count)
	}
	return seal
}

func mustVerify(t *testing.T, s *sqlite.Store) tamper.VerifyReport {
	t.Helper()
	r, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

// mustTamperDB opens the store's file behind its back, as an intruder with
// the file would.
func mustTamperDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestVerifyIntact(t *testing.T) {
	t.Parallel()
	s, _ := MustOpenTemp(t)
	if r := mustVerify(t, s); !r.OK() || r.Events != 0 || r.Seals != 0 {
		t.Fatalf("empty store: %+v", r)
	}
	if _, ok, err := s.Seal(context.Background()); ok || err != nil {
		t.Fatalf("sealing an empty log: ok %v, %v", ok, err)
	}
	mustSealedLog(t, s)
	r := mustVerify(t, s)
	if !r.OK() || r.Events != 16 || r.Streams != 4 || r.Seals != 2 || r.Sealed != 14 || r.LastSeal == nil || r.LastSeal.UpTo.Seq != 14 {
		t.Fatalf("intact log: %+v", r)
	}
	seal := mustSeal(t, s, 3, 2)
	if seal.UpTo.Seq != 16 {
		t.Fatalf("third seal up to %s, want 16", seal.UpTo)
	}
	if _, ok, err := s.Seal(context.Background()); ok || err != nil {
		t.Fatalf("sealing again with nothing new: ok %v, %v", ok, err)
	}
	if r := mustVerify(t, s); !r.OK() || r.Sealed != 16 || r.Seals != 3 {
		t.Fatalf("after a third seal: %+v", r)
	}
}

// TestVerifyCatchesTampering tampers with the tables directly, one way per
// case, and checks the first problem reported names it.
func TestVerifyCatchesTampering(t *testing.T) {
	t.Parallel()
	type want struct {
		kind    tamper.TamperKind
		stream  func(sealedLog) string
		version uint64
		seal    uint64
		detail  string
	}
	a := func(l sealedLog) string { return l.a }
	b := func(l sealedLog) string { return l.b }
	c := func(l sealedLog) string { return l.c }
	d := func(l sealedLog) string { return l.d }
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB, l sealedLog)
		want   want
	}{
		{"data edited", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE events SET data = '{"n":1,"note":"absence justifiée"}' WHERE stream = ? AND version = 2`, l.a)
		}, want{kind: tamper.TamperEdited, stream: a, version: 2, detail: "do not match its hash"}},
		{"metadata edited", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE events SET metadata = replace(metadata, '"profile":"personnel"', '"profile":"teacher"') WHERE stream = ? AND version = 1`, l.b)
		}, want{kind: tamper.TamperEdited, stream: b, version: 1}},
		{"last event edited", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE events SET type = 'storetest.other.v1' WHERE stream = ? AND version = 4`, l.d)
		}, want{kind: tamper.TamperEdited, stream: d, version: 4}},
		{"type edited after a seal", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE events SET type = 'storetest.other.v1' WHERE stream = ? AND version = 3`, l.c)
		}, want{kind: tamper.TamperEdited, stream: c, version: 3}},
		{"one event deleted", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `DELETE FROM events WHERE stream = ? AND version = 3`, l.a)
		}, want{kind: tamper.TamperMissing, stream: a, version: 3}},
		{"last event deleted", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `DELETE FROM events WHERE stream = ? AND version = 4`, l.c)
		}, want{kind: tamper.TamperMissing, stream: c, version: 4, detail: "head says version 4"}},
		{"event deleted and versions renumbered", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `DELETE FROM events WHERE stream = ? AND version = 3`, l.a)
			mustExec(t, db, `UPDATE events SET version = version - 1 WHERE stream = ? AND version > 3`, l.a)
			mustExec(t, db, `UPDATE streams SET version = 4 WHERE stream = ?`, l.a)
		}, want{kind: tamper.TamperMissing, stream: a, version: 3, detail: "renumbered"}},
		{"forged event with a valid-looking version", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash)
				SELECT ?, stream, 6, type, '{"n":5,"note":"forged"}', metadata, recorded_at, hash FROM events WHERE stream = ? AND version = 5`,
				uuid.NewString(), l.a)
		}, want{kind: tamper.TamperInserted, stream: a, version: 6, detail: "beyond the stream's head"}},
		{"forged event with a well-computed hash", func(t *testing.T, db *sql.DB, l sealedLog) {
			var prev, meta []byte
			if err := db.QueryRow(`SELECT hash, metadata FROM events WHERE stream = ? AND version = 3`, l.b).Scan(&prev, &meta); err != nil {
				t.Fatal(err)
			}
			id, data := uuid.New(), []byte(`{"n":3}`)
			h := domain.ChainHash(prev, id, l.b, 4, storetest.EventType, data, meta)
			mustExec(t, db, `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash) VALUES (?, ?, 4, ?, ?, ?, '2006-03-14T08:00:00Z', ?)`,
				id.String(), l.b, storetest.EventType, string(data), string(meta), h)
		}, want{kind: tamper.TamperInserted, stream: b, version: 4, detail: "beyond the stream's head"}},
		{"forged event inserted in the middle, later versions renumbered", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE events SET version = version + 100 WHERE stream = ? AND version >= 2`, l.b)
			mustExec(t, db, `UPDATE events SET version = version - 99 WHERE stream = ? AND version > 100`, l.b)
			mustExec(t, db, `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash)
				SELECT ?, stream, 2, type, '{"n":9}', metadata, recorded_at, randomblob(32) FROM events WHERE stream = ? AND version = 1`,
				uuid.NewString(), l.b)
			mustExec(t, db, `UPDATE streams SET version = 4 WHERE stream = ?`, l.b)
		}, want{kind: tamper.TamperInserted, stream: b, version: 2, detail: "not part of the chain"}},
		{"two events swapped versions", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE events SET version = 1000 WHERE stream = ? AND version = 2`, l.a)
			mustExec(t, db, `UPDATE events SET version = 2 WHERE stream = ? AND version = 3`, l.a)
			mustExec(t, db, `UPDATE events SET version = 3 WHERE stream = ? AND version = 1000`, l.a)
		}, want{kind: tamper.TamperReordered, stream: a, version: 2, detail: "swapped"}},
		{"two events swapped positions in a stream", func(t *testing.T, db *sql.DB, l sealedLog) {
			// b's versions 1 and 2 are at positions 3 and 4.
			mustExec(t, db, `UPDATE events SET position = -3 WHERE position = 3`)
			mustExec(t, db, `UPDATE events SET position = 3 WHERE position = 4`)
			mustExec(t, db, `UPDATE events SET position = 4 WHERE position = -3`)
		}, want{kind: tamper.TamperReordered, stream: b, version: 2, detail: "before version 1"}},
		{"events of two streams swapped in the global order", func(t *testing.T, db *sql.DB, l sealedLog) {
			// b's last event (position 5) and c's first (6) trade places:
			// each stream stays in order, the global log does not.
			mustExec(t, db, `UPDATE events SET position = -5 WHERE position = 5`)
			mustExec(t, db, `UPDATE events SET position = 5 WHERE position = 6`)
			mustExec(t, db, `UPDATE events SET position = 6 WHERE position = -5`)
		}, want{kind: tamper.TamperSeal, seal: 1, detail: "moved in the global order"}},
		{"whole stream and its head deleted after a seal", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `DELETE FROM events WHERE stream = ?`, l.b)
			mustExec(t, db, `DELETE FROM streams WHERE stream = ?`, l.b)
		}, want{kind: tamper.TamperSeal, seal: 1, detail: "events deleted"}},
		{"whole stream deleted, head left", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `DELETE FROM events WHERE stream = ?`, l.d)
		}, want{kind: tamper.TamperMissing, stream: d, version: 1, detail: "whole stream"}},
		{"head deleted", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `DELETE FROM streams WHERE stream = ?`, l.c)
		}, want{kind: tamper.TamperHead, stream: c, version: 4}},
		{"hash rewritten", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE events SET hash = randomblob(32) WHERE stream = ? AND version = 1`, l.c)
		}, want{kind: tamper.TamperEdited, stream: c, version: 1}},
		{"seal deleted", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `DELETE FROM seals WHERE seq = 1`)
		}, want{kind: tamper.TamperSeal, seal: 1, detail: "missing"}},
		{"seal edited", func(t *testing.T, db *sql.DB, l sealedLog) {
			mustExec(t, db, `UPDATE seals SET count = 9 WHERE seq = 2`)
		}, want{kind: tamper.TamperSeal, seal: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, path := MustOpenTemp(t)
			l := mustSealedLog(t, s)
			if r := mustVerify(t, s); !r.OK() {
				t.Fatalf("before tampering: %+v", r.Problems)
			}
			tt.tamper(t, mustTamperDB(t, path), l)
			r := mustVerify(t, s)
			p := r.First()
			if p == nil {
				t.Fatalf("tampering not caught: %+v", r)
			}
			w := tt.want
			if p.Kind != w.kind || (w.stream != nil && p.Stream != w.stream(l)) || p.Version != w.version || p.Seal != w.seal ||
				!strings.Contains(p.String(), w.detail) {
				t.Fatalf("first problem: %s\nwant kind %s version %d seal %d mentioning %q (all: %v)", p, w.kind, w.version, w.seal, w.detail, r.Problems)
			}
			t.Logf("caught: %s", p)
		})
	}
}
