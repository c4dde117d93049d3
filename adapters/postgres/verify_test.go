package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/domain"
)

// sealedLog is a history of four streams, interleaved, each append its own
// transaction: two seals over its first 14 events, then two events not
// sealed yet.
//
//	event   1-2  3-5  6-7  8-10  | seal 1 | 11-12 13-14 | seal 2 | 15-16
//	stream  a    b    c    a              c     d                d
//	version 1-2  1-3  1-2  3-5            3-4   1-2              3-4
type sealedLog struct {
	a, b, c, d string
}

func mustSealedLog(t *testing.T, s *Store) sealedLog {
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

// mustSettle waits until every event stored is final, below the oldest
// running transaction of the whole server: Seal takes no other, and tests
// of other packages may hold transactions open on the same server.
func mustSettle(t *testing.T, s *Store) {
	t.Helper()
	var pending int
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := s.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM events WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot())`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%d events still behind a running transaction after 30 s", pending)
		case <-tick.C:
		}
	}
}

// mustSeal seals what is stored (once it is final) and checks the seal.
func mustSeal(t *testing.T, s *Store, seq, count uint64) tamper.Seal {
	t.Helper()
	mustSettle(t, s)
	return mustSealNow(t, s, seq, count)
}

func mustSealNow(t *testing.T, s *Store, seq, count uint64) tamper.Seal {
	t.Helper()
	seal, ok, err := s.Seal(context.Background())
	if err != nil || !ok {
		t.Fatalf("Seal: ok %v, %v", ok, err)
	}
	if seal.Seq != seq || seal.Count != count || len(seal.Hash) != 32 || seal.CreatedAt.IsZero() {
		t.Fatalf("seal %+v, want seq %d over %d events", seal, seq, count)
	}
	return seal
}

func mustVerify(t *testing.T, s *Store) tamper.VerifyReport {
	t.Helper()
	r, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func mustExec(t *testing.T, s *Store, query string, args ...any) {
	t.Helper()
	if _, err := s.pool.Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// mustSwapPositions makes the events at (stream1, version1) and (stream2,
// version2) trade their global positions (tx_id, seq).
func mustSwapPositions(t *testing.T, s *Store, stream1 string, version1 int, stream2 string, version2 int) {
	t.Helper()
	pos := func(stream string, version int) (string, int64) {
		var (
			tx  string
			seq int64
		)
		if err := s.pool.QueryRow(context.Background(), `SELECT tx_id::text, seq FROM events WHERE stream = $1 AND version = $2`, stream, version).Scan(&tx, &seq); err != nil {
			t.Fatal(err)
		}
		return tx, seq
	}
	tx1, seq1 := pos(stream1, version1)
	tx2, seq2 := pos(stream2, version2)
	mustExec(t, s, `UPDATE events SET seq = -1 WHERE seq = $1`, seq1)
	mustExec(t, s, `UPDATE events SET tx_id = $1::text::xid8, seq = $2 WHERE seq = $3`, tx1, seq1, seq2)
	mustExec(t, s, `UPDATE events SET tx_id = $1::text::xid8, seq = $2 WHERE seq = -1`, tx2, seq2)
}

func TestVerifyIntact(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	if r := mustVerify(t, s); !r.OK() || r.Events != 0 || r.Seals != 0 {
		t.Fatalf("empty store: %+v", r)
	}
	if _, ok, err := s.Seal(context.Background()); ok || err != nil {
		t.Fatalf("sealing an empty log: ok %v, %v", ok, err)
	}
	mustSealedLog(t, s)
	r := mustVerify(t, s)
	if !r.OK() || r.Events != 16 || r.Streams != 4 || r.Seals != 2 || r.Sealed != 14 || r.LastSeal == nil || r.LastSeal.UpTo.Tx == 0 {
		t.Fatalf("intact log: %+v", r)
	}
	mustSeal(t, s, 3, 2)
	if _, ok, err := s.Seal(context.Background()); ok || err != nil {
		t.Fatalf("sealing again with nothing new: ok %v, %v", ok, err)
	}
	if r := mustVerify(t, s); !r.OK() || r.Sealed != 16 || r.Seals != 3 {
		t.Fatalf("after a third seal: %+v", r)
	}
}

// TestSealSkipsRunningTransactions: an append still open holds back the
// seal, as it holds back ReadAll, so that it cannot later commit inside a
// sealed range.
func TestSealSkipsRunningTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustStore(t)
	storetest.MustAppend(t, s, storetest.NewStream("before"), domain.NoStream(), storetest.NewEvents(2))
	mustSettle(t, s)
	tx, _, err := s.beginAppend(ctx, storetest.NewStream("held"), domain.NoStream(), storetest.NewEvents(1))
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustAppend(t, s, storetest.NewStream("after"), domain.NoStream(), storetest.NewEvents(3))
	mustSealNow(t, s, 1, 2)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	mustSeal(t, s, 2, 4)
	if r := mustVerify(t, s); !r.OK() || r.Sealed != 6 {
		t.Fatalf("after the held append committed: %+v", r)
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
		tamper func(t *testing.T, s *Store, l sealedLog)
		want   want
	}{
		{"data edited", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE events SET data = '{"n":1,"note":"absence justifiée"}' WHERE stream = $1 AND version = 2`, l.a)
		}, want{kind: tamper.TamperEdited, stream: a, version: 2, detail: "do not match its hash"}},
		{"data reformatted, same JSON value", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE events SET data = (data::jsonb)::json WHERE stream = $1 AND version = 1`, l.a)
		}, want{kind: tamper.TamperEdited, stream: a, version: 1}},
		{"metadata edited", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE events SET metadata = replace(metadata::text, '"profile":"personnel"', '"profile":"teacher"')::json WHERE stream = $1 AND version = 1`, l.b)
		}, want{kind: tamper.TamperEdited, stream: b, version: 1}},
		{"last event edited", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE events SET type = 'storetest.other.v1' WHERE stream = $1 AND version = 4`, l.d)
		}, want{kind: tamper.TamperEdited, stream: d, version: 4}},
		{"one event deleted", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `DELETE FROM events WHERE stream = $1 AND version = 3`, l.a)
		}, want{kind: tamper.TamperMissing, stream: a, version: 3}},
		{"last event deleted", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `DELETE FROM events WHERE stream = $1 AND version = 4`, l.c)
		}, want{kind: tamper.TamperMissing, stream: c, version: 4, detail: "head says version 4"}},
		{"event deleted and versions renumbered", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `DELETE FROM events WHERE stream = $1 AND version = 3`, l.a)
			mustExec(t, s, `UPDATE events SET version = version - 1 WHERE stream = $1 AND version > 3`, l.a)
			mustExec(t, s, `UPDATE streams SET version = 4 WHERE stream = $1`, l.a)
		}, want{kind: tamper.TamperMissing, stream: a, version: 3, detail: "renumbered"}},
		{"forged event with a valid-looking version", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash)
				SELECT $1, stream, 6, type, '{"n":5,"note":"forged"}', metadata, recorded_at, hash FROM events WHERE stream = $2 AND version = 5`,
				uuid.New(), l.a)
		}, want{kind: tamper.TamperInserted, stream: a, version: 6, detail: "beyond the stream's head"}},
		{"forged event with a well-computed hash", func(t *testing.T, s *Store, l sealedLog) {
			var (
				prev []byte
				meta string
			)
			if err := s.pool.QueryRow(context.Background(), `SELECT hash, metadata::text FROM events WHERE stream = $1 AND version = 3`, l.b).Scan(&prev, &meta); err != nil {
				t.Fatal(err)
			}
			id, data := uuid.New(), `{"n":3}`
			h := domain.ChainHash(prev, id, l.b, 4, storetest.EventType, []byte(data), []byte(meta))
			mustExec(t, s, `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash) VALUES ($1, $2, 4, $3, $4::text::json, $5::text::json, now(), $6)`,
				id, l.b, storetest.EventType, data, meta, h)
		}, want{kind: tamper.TamperInserted, stream: b, version: 4, detail: "beyond the stream's head"}},
		{"forged event inserted in the middle, later versions renumbered", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE events SET version = version + 100 WHERE stream = $1 AND version >= 2`, l.b)
			mustExec(t, s, `UPDATE events SET version = version - 99 WHERE stream = $1 AND version > 100`, l.b)
			mustExec(t, s, `INSERT INTO events (id, stream, version, type, data, metadata, recorded_at, hash)
				SELECT $1, stream, 2, type, '{"n":9}', metadata, recorded_at, sha256(random()::text::bytea) FROM events WHERE stream = $2 AND version = 1`,
				uuid.New(), l.b)
			mustExec(t, s, `UPDATE streams SET version = 4 WHERE stream = $1`, l.b)
		}, want{kind: tamper.TamperInserted, stream: b, version: 2, detail: "not part of the chain"}},
		{"two events swapped versions", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE events SET version = 1000 WHERE stream = $1 AND version = 2`, l.a)
			mustExec(t, s, `UPDATE events SET version = 2 WHERE stream = $1 AND version = 3`, l.a)
			mustExec(t, s, `UPDATE events SET version = 3 WHERE stream = $1 AND version = 1000`, l.a)
		}, want{kind: tamper.TamperReordered, stream: a, version: 2, detail: "swapped"}},
		{"two events swapped positions in a stream", func(t *testing.T, s *Store, l sealedLog) {
			mustSwapPositions(t, s, l.b, 1, l.b, 2)
		}, want{kind: tamper.TamperReordered, stream: b, version: 2, detail: "before version 1"}},
		{"events of two streams swapped in the global order", func(t *testing.T, s *Store, l sealedLog) {
			// b's last event and c's first trade places: each stream stays
			// in order, the global log does not.
			mustSwapPositions(t, s, l.b, 3, l.c, 1)
		}, want{kind: tamper.TamperSeal, seal: 1, detail: "moved in the global order"}},
		{"whole stream and its head deleted after a seal", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `DELETE FROM events WHERE stream = $1`, l.b)
			mustExec(t, s, `DELETE FROM streams WHERE stream = $1`, l.b)
		}, want{kind: tamper.TamperSeal, seal: 1, detail: "events deleted"}},
		{"whole stream deleted, head left", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `DELETE FROM events WHERE stream = $1`, l.d)
		}, want{kind: tamper.TamperMissing, stream: d, version: 1, detail: "whole stream"}},
		{"head deleted", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `DELETE FROM streams WHERE stream = $1`, l.c)
		}, want{kind: tamper.TamperHead, stream: c, version: 4}},
		{"head moved back", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE streams SET version = 4, hash = (SELECT hash FROM events WHERE stream = $1 AND version = 4) WHERE stream = $1`, l.a)
		}, want{kind: tamper.TamperInserted, stream: a, version: 5}},
		{"hash rewritten", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE events SET hash = sha256(hash) WHERE stream = $1 AND version = 1`, l.c)
		}, want{kind: tamper.TamperEdited, stream: c, version: 1}},
		{"seal deleted", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `DELETE FROM seals WHERE seq = 1`)
		}, want{kind: tamper.TamperSeal, seal: 1, detail: "missing"}},
		{"seal edited", func(t *testing.T, s *Store, l sealedLog) {
			mustExec(t, s, `UPDATE seals SET hash = sha256(hash) WHERE seq = 2`)
		}, want{kind: tamper.TamperSeal, seal: 2, detail: "do not hash to the seal"}},
	}
	dsn := pgtest.MustDatabase(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpen(t, dsn)
			t.Cleanup(func() { s.Close() })
			mustExec(t, s, `TRUNCATE events, streams, seals`)
			l := mustSealedLog(t, s)
			if r := mustVerify(t, s); !r.OK() {
				t.Fatalf("before tampering: %v", r.Problems)
			}
			tt.tamper(t, s, l)
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
