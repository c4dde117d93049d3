// Package esdb keeps the ledger's event log in EventStoreDB or KurrentDB,
// through EventStore-Client-Go/v4 (gRPC). Read models live elsewhere
// (Postgres or SQLite); the projector reads the log with ReadAll and Wait and
// checkpoints the positions they return in its own store.
//
// Streams keep the ledger's names ("ledger.lesson-<uuid>"): they all start
// with domain.StreamPrefix, which is the server-side filter of every read of
// $all, so system streams and other applications' streams never reach the
// ledger. Versions are 1-based, EventStoreDB revisions 0-based: version v is
// revision v-1. Positions are EventStoreDB's: Tx is the commit position, Seq
// the prepare position. See docs/eventstoredb.md for what the server
// guarantees and what the adapter adds.
package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	esdbc "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

var (
	_ commands.EventStore = (*Store)(nil)
	_ projections.Log     = (*Store)(nil)
)

// Store is the event store on EventStoreDB. It is safe for concurrent use;
// Close it when every call has returned.
type Store struct {
	cfg  esdbc.Configuration
	log  *slog.Logger
	ids  *idCache
	wait time.Duration

	mu     sync.Mutex
	client *esdbc.Client
	closed bool
}

// Option configures a Store.
type Option func(*Store)

// WithLogger sends the client library's own log lines, at debug level, to l
// (slog.Default() otherwise). They are chatty: every Wait that times out
// drops a subscription, which the library reports as an error.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// WithIDCache sets how many event ids the store remembers (with their
// stream) to answer duplicates across streams; see Append. 65,536 unless
// set; 0 turns the check off.
func WithIDCache(n int) Option { return func(s *Store) { s.ids = newIDCache(n) } }

// Open connects to the server of connString: "esdb://host:2113?tls=false"
// for one node, "esdb+discover://host:2113" for a cluster (gossip), with
// "user:password@" when the server authenticates. It fails unless the
// server answers a read of $all, which the projector needs.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	cfg, err := esdbc.ParseConnectionString(connString)
	if err != nil {
		// The client's message may quote the string, password included.
		return nil, domain.Errorf(domain.ErrInvalid, "eventstoredb connection string: not esdb://host:port?... or esdb+discover://...")
	}
	s := &Store{log: slog.Default(), ids: newIDCache(1 << 16), wait: time.Second}
	for _, o := range opts {
		o(s)
	}
	cfg.Logger = func(level esdbc.LogLevel, format string, args ...any) {
		s.log.Debug(fmt.Sprintf(format, args...), "component", "eventstoredb-client", "client_level", level)
	}
	s.cfg = *cfg
	if s.client, err = esdbc.NewClient(&s.cfg); err != nil {
		return nil, fmt.Errorf("eventstoredb client: %w", err)
	}
	if _, err := s.tail(ctx); err != nil {
		_ = s.client.Close()
		return nil, fmt.Errorf("eventstoredb %s: %w", redact(cfg), Classify(err))
	}
	return s, nil
}

// redact names the server without credentials.
func redact(cfg *esdbc.Configuration) string {
	if cfg.Address != "" {
		return cfg.Address
	}
	hosts := make([]string, len(cfg.GossipSeeds))
	for i, e := range cfg.GossipSeeds {
		hosts[i] = e.String()
	}
	return strings.Join(hosts, ",")
}

// Close closes the connection.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.client.Close()
}

// conn returns the client. The library closes a client for good when it
// fails to rediscover a node after losing its connection; conn replaces
// such a client so that the store recovers when the server is back.
func (s *Store) conn() (*esdbc.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("eventstoredb store is closed")
	}
	return s.client, nil
}

// failed inspects the error a call on c returned.
func (s *Store) failed(c *esdbc.Client, err error) {
	var e *esdbc.Error
	if !errors.As(err, &e) || e.Code() != esdbc.ErrorCodeConnectionClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != c {
		return
	}
	fresh, nerr := esdbc.NewClient(&s.cfg)
	if nerr != nil {
		return
	}
	// Not c.Close(): its connection is gone and its goroutine has ended,
	// and closing it could panic a call still trying to reach it.
	s.client = fresh
	s.log.Info("eventstoredb connection lost for good; reconnecting with a new client")
}

// Append implements commands.EventStore.
//
// EventStoreDB decides expected revisions and, for a repeated append with
// the same expected revision, idempotency by event id. Append adds what the
// port promises beyond that: a retry whose expected version no longer
// matches returns the original result when the events are at the stream's
// tail; a batch whose ids are partly stored, or stored in another order, is
// refused with domain.ErrDuplicateEvent; so is an id stored in another
// stream, as far as this store has seen it (EventStoreDB does not keep ids
// unique across streams: see WithIDCache and docs/eventstoredb.md). An
// outage is marked (Classify), as it is by every read.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	res, err := s.append(ctx, stream, expected, events)
	return res, Classify(err)
}

func (s *Store) append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error) {
	if len(events) == 0 {
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "append to %s: no events", stream)
	}
	if !strings.HasPrefix(stream, domain.StreamPrefix) {
		// Its events would never be read back from $all.
		return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "append to %s: not a ledger stream (%q...)", stream, domain.StreamPrefix)
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		if e.ID == uuid.Nil {
			return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "append to %s: event without id", stream)
		}
		if !json.Valid(e.Data) {
			// Stored as application/json, which the server does not check
			// but its UI and projections rely on.
			return domain.AppendResult{}, domain.Errorf(domain.ErrInvalid, "append to %s: event %s: data is not JSON", stream, e.ID)
		}
		if seen[e.ID] {
			return domain.AppendResult{}, domain.Errorf(domain.ErrDuplicateEvent, "event %s twice in one append to %s", e.ID, stream)
		}
		seen[e.ID] = true
	}

	// Ids already seen: decide from the stream as stored, not from the
	// server's checks, which ignore order and accept an expected revision
	// equal to the current one without looking at ids.
	known := false
	for _, e := range events {
		if at, ok := s.ids.get(e.ID); ok {
			if at != stream {
				return domain.AppendResult{}, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s is in %s", stream, e.ID, at)
			}
			known = true
		}
	}
	if known {
		recs, err := s.ReadStream(ctx, stream, 0)
		if err != nil {
			return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
		}
		if res, done, err := replayed(stream, recs, events); done || err != nil {
			return res, err
		}
	}

	data := make([]esdbc.EventData, len(events))
	for i, e := range events {
		md, err := encodeMetadata(e.Metadata)
		if err != nil {
			return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
		}
		data[i] = esdbc.EventData{EventID: e.ID, EventType: e.Type, ContentType: esdbc.ContentTypeJson, Data: e.Data, Metadata: md}
	}
	c, err := s.conn()
	if err != nil {
		return domain.AppendResult{}, err
	}
	wr, err := c.AppendToStream(ctx, stream, esdbc.AppendToStreamOptions{ExpectedRevision: revision(expected)}, data...)
	if err != nil {
		var e *esdbc.Error
		if errors.As(err, &e) && e.Code() == esdbc.ErrorCodeWrongExpectedVersion {
			return s.conflict(ctx, stream, expected, events, e)
		}
		s.failed(c, err)
		return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	res := domain.AppendResult{Version: wr.NextExpectedVersion + 1, Position: position(wr.CommitPosition, wr.PreparePosition)}
	if res.Position.IsZero() {
		// An idempotent write on some servers comes back without a position.
		if res.Position, err = s.positionOf(ctx, stream, wr.NextExpectedVersion); err != nil {
			return domain.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
		}
	}
	for _, e := range events {
		s.ids.put(e.ID, stream)
	}
	return res, nil
}

// conflict answers a wrong expected version: the original result when the
// events are already the stream's last ones (a retry whose first attempt
// was applied), a duplicate when some of them are there, else a conflict.
func (s *Store) conflict(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope, cause error) (domain.AppendResult, error) {
	tail, err := s.readStream(ctx, stream, esdbc.ReadStreamOptions{Direction: esdbc.Backwards, From: esdbc.End{}}, uint64(len(events)))
	if err != nil {
		return domain.AppendResult{}, fmt.Errorf("append %s: after a version conflict: %w", stream, err)
	}
	slices.Reverse(tail)
	if res, done, err := replayed(stream, tail, events); done || err != nil {
		return res, err
	}
	return domain.AppendResult{}, domain.Errorf(domain.ErrVersionConflict, "%s: expected %s: %v", stream, expected, cause)
}

// replayed reports whether events are stored, in order and contiguous, in
// recs (records of stream in version order), and returns the original
// result if so. Some of them stored but not that way is a duplicate.
func replayed(stream string, recs []domain.Record, events []domain.Envelope) (domain.AppendResult, bool, error) {
	at := make(map[uuid.UUID]int, len(recs))
	for i, r := range recs {
		at[r.ID] = i
	}
	first, ok := at[events[0].ID]
	if !ok {
		for _, e := range events[1:] {
			if _, ok := at[e.ID]; ok {
				return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: event %s is stored already", stream, e.ID)
			}
		}
		return domain.AppendResult{}, false, nil
	}
	if first+len(events) > len(recs) {
		return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events partly stored already", stream)
	}
	for i, e := range events {
		if recs[first+i].ID != e.ID {
			return domain.AppendResult{}, false, domain.Errorf(domain.ErrDuplicateEvent, "append to %s: events stored already in another order", stream)
		}
	}
	last := recs[first+len(events)-1]
	return domain.AppendResult{Version: last.Version, Position: last.Position}, true, nil
}

// revision maps an expected version to the client's expected revision.
func revision(expected domain.ExpectedVersion) esdbc.ExpectedRevision {
	v, check := expected.Version()
	switch {
	case !check:
		return esdbc.Any{}
	case v == 0:
		return esdbc.NoStream{}
	default:
		return esdbc.Revision(v - 1)
	}
}

// positionOf returns the position of the event at revision rev of stream.
func (s *Store) positionOf(ctx context.Context, stream string, rev uint64) (domain.Position, error) {
	recs, err := s.readStream(ctx, stream, esdbc.ReadStreamOptions{Direction: esdbc.Forwards, From: esdbc.Revision(rev)}, 1)
	if err != nil {
		return domain.Position{}, err
	}
	if len(recs) == 0 {
		return domain.Position{}, fmt.Errorf("event %d of %s is not readable", rev, stream)
	}
	return recs[0].Position, nil
}

// ReadStream implements commands.EventStore: the events of versions above
// from, that is of revisions from on.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error) {
	recs, err := s.readStream(ctx, stream, esdbc.ReadStreamOptions{Direction: esdbc.Forwards, From: esdbc.Revision(from)}, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, Classify(err))
	}
	return recs, nil
}

// readStream reads stream; a stream that does not exist has no events.
func (s *Store) readStream(ctx context.Context, stream string, opts esdbc.ReadStreamOptions, count uint64) ([]domain.Record, error) {
	c, err := s.conn()
	if err != nil {
		return nil, err
	}
	rs, err := c.ReadStream(ctx, stream, opts, count)
	if err != nil {
		s.failed(c, err)
		return nil, err
	}
	defer rs.Close()
	var out []domain.Record
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var e *esdbc.Error
			if errors.As(err, &e) && e.Code() == esdbc.ErrorCodeResourceNotFound {
				return nil, nil
			}
			if err := done(ctx); err != nil {
				return nil, err
			}
			s.failed(c, err)
			return nil, err
		}
		r, err := s.record(ev.Event)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}

// record converts a recorded event and remembers its id.
func (s *Store) record(ev *esdbc.RecordedEvent) (domain.Record, error) {
	md, err := decodeMetadata(ev.UserMetadata)
	if err != nil {
		return domain.Record{}, fmt.Errorf("event %s of %s: %w", ev.EventID, ev.StreamID, err)
	}
	if md.Time.IsZero() {
		// Appended without a time: the server's clock is the event's.
		md.Time = ev.CreatedDate
	}
	s.ids.put(ev.EventID, ev.StreamID)
	return domain.Record{
		ID:       ev.EventID,
		Stream:   ev.StreamID,
		Version:  ev.EventNumber + 1,
		Position: position(ev.Position.Commit, ev.Position.Prepare),
		Type:     ev.EventType,
		Data:     ev.Data,
		Metadata: md,
	}, nil
}

// position converts EventStoreDB's (commit, prepare) pair. Servers before
// 2022 send "no position" (all ones) for events read from a stream rather
// than from $all; that reads as the zero position, unknown.
func position(commit, prepare uint64) domain.Position {
	if commit == math.MaxUint64 || prepare == math.MaxUint64 {
		return domain.Position{}
	}
	return domain.Position{Tx: commit, Seq: prepare}
}
