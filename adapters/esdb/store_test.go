package esdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	esdbc "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/esdb"
	"github.com/schoollife/ledger/adapters/esdb/esdbtest"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// quiet keeps the client library's log lines out of test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// onDouble is a storetest factory over a fresh test double per case.
func onDouble(opts ...esdbtest.Option) storetest.Factory {
	return func(t *testing.T) func(t *testing.T) storetest.Store {
		srv := esdbtest.Start(t, opts...)
		return func(t *testing.T) storetest.Store { return MustOpen(t, srv.ConnString()) }
	}
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, onDouble())
}

// Commit positions shared by the events of one append, as in an explicit
// transaction: nothing may assume commit == prepare.
func TestContractTransactionLayout(t *testing.T) {
	t.Parallel()
	storetest.Run(t, onDouble(esdbtest.WithLayout(esdbtest.Transaction)))
}

// Servers before 23.10 end a catch-up with a checkpoint, not CaughtUp.
func TestContractLegacySubscriptions(t *testing.T) {
	t.Parallel()
	storetest.Run(t, onDouble(esdbtest.WithLegacySubscriptions()))
}

// TestContractServer runs the suite against a real EventStoreDB or
// KurrentDB. Streams get random names, so a server in use is fine.
func TestContractServer(t *testing.T) {
	t.Parallel()
	conn := os.Getenv("LEDGER_TEST_ESDB")
	if conn == "" {
		t.Skip("set LEDGER_TEST_ESDB=esdb://localhost:2113?tls=false to run the contract suite against a real EventStoreDB/KurrentDB")
	}
	storetest.Run(t, func(t *testing.T) func(t *testing.T) storetest.Store {
		return func(t *testing.T) storetest.Store { return MustOpen(t, conn) }
	})
}

// MustOpen opens a store on conn, quietly.
func MustOpen(t *testing.T, conn string, opts ...esdb.Option) *esdb.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := esdb.Open(ctx, conn, append([]esdb.Option{esdb.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatalf("open %s: %v", conn, err)
	}
	return s
}

// mustClient is the raw client, to look at what the server stores.
func mustClient(t *testing.T, conn string) *esdbc.Client {
	t.Helper()
	cfg, err := esdbc.ParseConnectionString(conn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdbc.NoopLogging()
	c, err := esdbc.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustAppend(t *testing.T, s *esdb.Store, stream string, expected domain.ExpectedVersion, events []domain.Envelope) domain.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, events)
	if err != nil {
		t.Fatalf("append to %s expecting %s: %v", stream, expected, err)
	}
	return res
}

func TestVersionConflictIsTheDomainError(t *testing.T) {
	t.Parallel()
	srv := esdbtest.Start(t)
	s := MustOpen(t, srv.ConnString())
	defer s.Close()
	stream := storetest.NewStream("conflict")
	mustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(1))

	for _, exp := range []domain.ExpectedVersion{domain.NoStream(), domain.Exact(2), domain.Exact(7)} {
		_, err := s.Append(context.Background(), stream, exp, storetest.NewEvents(1))
		if !errors.Is(err, domain.ErrVersionConflict) {
			t.Fatalf("expecting %s on a stream at 1: %v, want ErrVersionConflict", exp, err)
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeConflict {
			t.Fatalf("expecting %s: %v is not a domain conflict", exp, err)
		}
		if !strings.Contains(err.Error(), stream) {
			t.Errorf("conflict %q does not name the stream", err)
		}
	}
}

// Without the id cache, retries rely on the server's own checks and on the
// look at the stream's tail after a wrong expected version.
func TestRetryWithoutIDCache(t *testing.T) {
	t.Parallel()
	srv := esdbtest.Start(t)
	s := MustOpen(t, srv.ConnString(), esdb.WithIDCache(0))
	defer s.Close()
	stream := storetest.NewStream("retry")
	ab := storetest.NewEvents(2)
	r1 := mustAppend(t, s, stream, domain.NoStream(), ab)

	// Same expected revision: the server recognises the ids.
	if got := mustAppend(t, s, stream, domain.NoStream(), ab); got != r1 {
		t.Fatalf("retry expecting no stream: %+v, want %+v", got, r1)
	}
	// Another expected version: a conflict for the server; the events are
	// the stream's tail, so it is the original result.
	if got := mustAppend(t, s, stream, domain.Exact(1), ab); got != r1 {
		t.Fatalf("retry expecting 1: %+v, want %+v", got, r1)
	}
	// Part of the batch at the tail: a duplicate, not a conflict.
	_, err := s.Append(context.Background(), stream, domain.Exact(1), append(ab[1:], storetest.NewEvents(1)...))
	if !errors.Is(err, domain.ErrDuplicateEvent) {
		t.Fatalf("batch starting with the stored tail: %v, want ErrDuplicateEvent", err)
	}
	if n := len(mustRead(t, s, stream)); n != 2 {
		t.Fatalf("stream holds %d events, want 2", n)
	}
}

func mustRead(t *testing.T, s *esdb.Store, stream string) []domain.Record {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestInvalidAppends(t *testing.T) {
	t.Parallel()
	srv := esdbtest.Start(t)
	s := MustOpen(t, srv.ConnString())
	defer s.Close()
	notJSON := storetest.NewEvents(1)
	notJSON[0].Data = []byte("absent")
	for _, tc := range []struct {
		name   string
		stream string
		events []domain.Envelope
	}{
		{"ForeignStream", "lesson-" + uuid.NewString(), storetest.NewEvents(1)},
		{"NoEvents", storetest.NewStream("none"), nil},
		{"NotJSON", storetest.NewStream("json"), notJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tc.stream, domain.NoStream(), tc.events)
			if !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("append: %v, want ErrInvalid", err)
			}
			if recs := mustRead(t, s, tc.stream); len(recs) != 0 {
				t.Fatalf("refused append stored %d events", len(recs))
			}
		})
	}
}

// The JSON metadata the server stores carries the ledger's fields and
// EventStoreDB's own correlation keys; event id, type and content type are
// the server's own.
func TestMetadataAsStored(t *testing.T) {
	t.Parallel()
	srv := esdbtest.Start(t)
	s := MustOpen(t, srv.ConnString())
	defer s.Close()
	stream := storetest.NewStream("meta")
	md := domain.Metadata{
		Actor:         uuid.New(),
		Profile:       domain.ProfileTeacher,
		Establishment: "0750001A",
		CorrelationID: uuid.New(),
		CausationID:   uuid.New(),
		Command:       "lesson.roll-call",
		Time:          time.Date(2007, 3, 14, 9, 26, 53, 123456000, time.UTC),
	}
	env := domain.Envelope{ID: uuid.New(), Type: "absence.recorded.v1", Data: []byte(`{"student":"x"}`), Metadata: md}
	mustAppend(t, s, stream, domain.NoStream(), []domain.Envelope{env})

	rs, err := mustClient(t, srv.ConnString()).ReadStream(context.Background(), stream, esdbc.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	got := ev.Event
	if got.EventID != env.ID || got.EventType != env.Type || got.ContentType != "application/json" {
		t.Fatalf("stored as id %s type %s content %s, want %s %s application/json", got.EventID, got.EventType, got.ContentType, env.ID, env.Type)
	}
	var fields map[string]any
	if err := json.Unmarshal(got.UserMetadata, &fields); err != nil {
		t.Fatalf("stored metadata %s is not JSON: %v", got.UserMetadata, err)
	}
	want := map[string]any{
		"actor":          md.Actor.String(),
		"profile":        string(md.Profile),
		"establishment":  md.Establishment,
		"correlation_id": md.CorrelationID.String(),
		"causation_id":   md.CausationID.String(),
		"command":        md.Command,
		"time":           "2007-03-14T09:26:53.123456Z",
		"$correlationId": md.CorrelationID.String(),
		"$causationId":   md.CausationID.String(),
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("metadata %q = %v, want %v (all: %s)", k, fields[k], v, got.UserMetadata)
		}
	}
}

// Positions are EventStoreDB's (commit, prepare) pairs, the same from an
// append, a stream read and $all, in the order of $all, and they survive
// the round trip through their text form (how the projector checkpoints).
func TestPositions(t *testing.T) {
	t.Parallel()
	for _, layout := range []struct {
		name string
		l    esdbtest.Layout
	}{{"PerEvent", esdbtest.PerEvent}, {"Transaction", esdbtest.Transaction}} {
		t.Run(layout.name, func(t *testing.T) {
			srv := esdbtest.Start(t, esdbtest.WithLayout(layout.l))
			s := MustOpen(t, srv.ConnString())
			defer s.Close()
			stream := storetest.NewStream("pos")
			res := mustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(3))
			srv.Append("other-app-1", "Other", []byte(`{}`))
			res2 := mustAppend(t, s, stream, domain.Exact(3), storetest.NewEvents(1))

			recs := mustRead(t, s, stream)
			if recs[2].Position != res.Position || recs[3].Position != res2.Position {
				t.Fatalf("stream read at %v, %v; appends said %v, %v", recs[2].Position, recs[3].Position, res.Position, res2.Position)
			}
			all, err := s.ReadAll(context.Background(), domain.Start, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 4 {
				t.Fatalf("$all read %d ledger events, want 4 (foreign and system events filtered out)", len(all))
			}
			for i, r := range all {
				if r.ID != recs[i].ID || r.Position != recs[i].Position {
					t.Fatalf("$all[%d] is %s at %v, stream read %s at %v", i, r.ID, r.Position, recs[i].ID, recs[i].Position)
				}
				if i > 0 && !all[i-1].Position.Less(r.Position) {
					t.Fatalf("$all out of order: %v then %v", all[i-1].Position, r.Position)
				}
				if r.Position.Tx == 0 || r.Position.Seq == 0 {
					t.Fatalf("position %v lacks its commit or prepare part", r.Position)
				}
			}
			if layout.l == esdbtest.Transaction && (all[0].Position.Tx != all[1].Position.Tx || all[0].Position.Seq >= all[1].Position.Seq) {
				t.Fatalf("one append's events at %v and %v: want one commit position, increasing prepare positions", all[0].Position, all[1].Position)
			}
			for i, r := range all[:3] {
				text, err := r.Position.MarshalText()
				if err != nil {
					t.Fatal(err)
				}
				var back domain.Position
				if err := back.UnmarshalText(text); err != nil || back != r.Position {
					t.Fatalf("position %v read back from %q as %v (%v)", r.Position, text, back, err)
				}
				next, err := s.ReadAll(context.Background(), back, 1)
				if err != nil {
					t.Fatal(err)
				}
				if len(next) != 1 || next[0].ID != all[i+1].ID {
					t.Fatalf("ReadAll after %s: %v, want %s", text, storetest.IDs(next), all[i+1].ID)
				}
			}
		})
	}
}

// Wait is woken by the ledger's events only: the filter is the server's.
// Its cap is an hour here, so it returns only when an event wakes it.
func TestWaitIgnoresForeignStreams(t *testing.T) {
	t.Parallel()
	srv := esdbtest.Start(t)
	s := MustOpen(t, srv.ConnString(), esdb.WithWaitCap(time.Hour))
	defer s.Close()
	stream := storetest.NewStream("wait")
	head := mustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(1)).Position

	woken := make(chan error, 1)
	go func() { woken <- s.Wait(context.Background(), head) }()
	mustSubscriptionCaughtUp(t, srv, woken)
	srv.Append("$stats-127.0.0.1:2113", "$statsCollected", []byte(`{}`))
	srv.Append("billing-42", "InvoiceSent", []byte(`{}`))
	// The server has considered the foreign events: none reached the waiter.
	if sub := mustSubscriptionCaughtUp(t, srv, woken); sub.Sent != 0 {
		t.Fatalf("the server sent %d foreign events to the waiter", sub.Sent)
	}
	if recs, err := s.ReadAll(context.Background(), head, 10); err != nil || len(recs) != 0 {
		t.Fatalf("ReadAll after the head: %d events, %v; want none", len(recs), err)
	}

	// An event of the ledger wakes it.
	next := mustAppend(t, s, stream, domain.Exact(1), storetest.NewEvents(1)).Position
	select {
	case err := <-woken:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("an event of the ledger did not wake Wait within a minute")
	}
	if recs, err := s.ReadAll(context.Background(), head, 10); err != nil || len(recs) != 1 || recs[0].Position != next {
		t.Fatalf("ReadAll after the head: %d events, %v; want the ledger's one", len(recs), err)
	}
}

// mustSubscriptionCaughtUp waits until the double has one subscription
// open and has considered every record of its log for it, failing if the
// waiter behind woken returns meanwhile.
func mustSubscriptionCaughtUp(t *testing.T, srv *esdbtest.Server, woken <-chan error) esdbtest.Subscription {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-woken:
			t.Fatalf("Wait returned (%v) with no event of the ledger after the head", err)
		default:
		}
		subs := srv.Subscriptions()
		if len(subs) > 1 {
			t.Fatalf("%d subscriptions open, want 1", len(subs))
		}
		if len(subs) == 1 && subs[0].CaughtUp {
			return subs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no subscription caught up within a minute: %+v", subs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	srv := esdbtest.Start(t)
	t.Run("Discover", func(t *testing.T) {
		s := MustOpen(t, srv.DiscoverConnString())
		defer s.Close()
		stream := storetest.NewStream("discover")
		mustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(2))
		if n := len(mustRead(t, s, stream)); n != 2 {
			t.Fatalf("read %d events, want 2", n)
		}
	})
	t.Run("BadString", func(t *testing.T) {
		_, err := esdb.Open(context.Background(), "postgres://admin:s3cret@host/db", esdb.WithLogger(quiet))
		if !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("open with a postgres URL: %v, want ErrInvalid", err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error %q shows the password", err)
		}
	})
	t.Run("NoServer", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s, err := esdb.Open(ctx, "esdb://admin:s3cret@127.0.0.1:1?tls=false&maxDiscoverAttempts=2", esdb.WithLogger(quiet))
		if err == nil {
			s.Close()
			t.Fatal("open with no server answering: no error")
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("error %q shows the password", err)
		}
	})
}

// The client library gives up on a connection for good when it cannot
// rediscover the server; the store replaces it, and works again once the
// server is back.
func TestReconnect(t *testing.T) {
	srv := esdbtest.Start(t)
	var logs syncBuffer
	s := MustOpen(t, srv.ConnString()+"&maxDiscoverAttempts=2&discoveryInterval=10", esdb.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	defer s.Close()
	stream := storetest.NewStream("reconnect")
	mustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(1))

	addr := srv.Addr()
	srv.Stop()
	// Appends report failures to the library, which rediscovers, fails
	// and closes its client.
	for i := 0; i < 4; i++ {
		_, err := s.Append(context.Background(), stream, domain.NoStream(), storetest.NewEvents(1))
		t.Logf("down: %v", err)
		if err == nil {
			t.Fatal("append with the server down: no error")
		}
	}
	esdbtest.Start(t, esdbtest.WithAddress(addr))
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := s.Append(context.Background(), stream, domain.NoStream(), storetest.NewEvents(1))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store does not recover once the server is back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if recs := mustRead(t, s, stream); len(recs) != 1 {
		t.Fatalf("new server holds %d events, want 1", len(recs))
	}
	if !strings.Contains(logs.String(), "new client") {
		t.Fatalf("the library's client was not replaced; log:\n%s", logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
