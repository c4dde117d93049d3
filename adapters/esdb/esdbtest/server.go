// Package esdbtest is a test double of EventStoreDB's gRPC protocol, not a
// server. It runs in process on a loopback listener, without TLS, and serves
// the subset of the protocol that EventStore-Client-Go/v4 needs for the
// ledger's adapter: the streams service (append with expected revisions and
// idempotency by event id, reads of a stream or of $all in both directions,
// server-side filters, catch-up subscriptions with checkpoints), server
// features, and gossip with a single leader so that esdb+discover:// works.
//
// It follows the server's documented and observable behaviour where the
// adapter depends on it (EventStore.Core's IndexWriter.CheckCommit for
// expected revisions and idempotency, AllReader and the catch-up subscription
// enumerators for positions) but keeps everything in memory, has no
// authentication, no deletes or tombstones, no links, no batch append, no
// persistent subscriptions and no projections. Passing against it says the
// adapter speaks the protocol as understood here; only a run against a real
// server (LEDGER_TEST_ESDB) says the understanding is right.
package esdbtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gossipapi "github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	featuresapi "github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	streamsapi "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// Layout says how the double gives positions to the events of one append.
type Layout int

const (
	// PerEvent is what a server writes for a gRPC append (log v2, 20.6 on):
	// every event is its own committed prepare record, so its commit and
	// prepare positions are both its log position.
	PerEvent Layout = iota
	// Transaction lays an append out as an explicit transaction: prepares
	// at increasing positions, then one commit record whose position all
	// the events share as commit position (the TCP-era layout). It checks
	// that nothing assumes commit == prepare.
	Transaction
)

// Option configures a Server.
type Option func(*Server)

// WithLayout chooses how appends are laid out in the log (PerEvent unless
// set).
func WithLayout(l Layout) Option { return func(s *Server) { s.layout = l } }

// WithLegacySubscriptions makes catch-up subscriptions behave like servers
// before 23.10: no CaughtUp message; a filtered subscription sends a
// checkpoint when it reaches the end of the log instead.
func WithLegacySubscriptions() Option { return func(s *Server) { s.legacy = true } }

// WithAddress listens on addr instead of a free loopback port (to restart a
// double where a client expects it).
func WithAddress(addr string) Option { return func(s *Server) { s.listen = addr } }

// Server is the double. Start one with Start.
type Server struct {
	layout Layout
	legacy bool
	listen string

	grpc *grpc.Server
	addr string
	host string
	port uint32

	mu      sync.Mutex
	log     []*record
	streams map[string][]int // stream -> indexes into log, by revision
	ids     map[uuid.UUID]int
	next    uint64        // log position of the next record
	wake    chan struct{} // closed and replaced on every append
	subs    []*subscription
}

// subscription is the state of an open subscription; Server.mu guards it.
type subscription struct {
	next int // index in the log of the next record to consider
	sent int // events sent
}

// Subscription is what the double has done for one open subscription.
type Subscription struct {
	// Sent counts the events sent: those the subscription's filter kept.
	Sent int
	// CaughtUp tells that every record of the log has been considered
	// (sent or filtered out) and the subscription waits for more.
	CaughtUp bool
}

// Subscriptions describes the subscriptions open now, oldest first: a test
// learns from it that a reader is subscribed, and what reached it, without
// waiting on the clock.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Subscription, len(s.subs))
	for i, sub := range s.subs {
		out[i] = Subscription{Sent: sub.sent, CaughtUp: sub.next == len(s.log)}
	}
	return out
}

type record struct {
	id       uuid.UUID
	stream   string
	revision uint64
	commit   uint64
	prepare  uint64
	typ      string
	content  string
	created  int64 // .NET ticks (100 ns) since the Unix epoch, as the server sends
	data     []byte
	meta     []byte
}

// Start starts a double and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Listen(opts...)
	if err != nil {
		t.Fatalf("esdbtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Listen starts a double; Stop stops it.
func Listen(opts ...Option) (*Server, error) {
	s := &Server{
		listen:  "127.0.0.1:0",
		streams: make(map[string][]int),
		ids:     make(map[uuid.UUID]int),
		next:    4096, // a real log starts with an epoch and system records
		wake:    make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	lis, err := net.Listen("tcp", s.listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	tcp := lis.Addr().(*net.TCPAddr)
	s.addr, s.host, s.port = tcp.String(), tcp.IP.String(), uint32(tcp.Port)

	// A real log holds system events; the adapter's filter must skip them.
	s.mu.Lock()
	s.write("$stats-"+s.addr, []proposed{{id: uuid.New(), typ: "$statsCollected", content: "application/json", data: []byte(`{"proc-cpu":0.5}`)}})
	s.mu.Unlock()

	// The client pings every 10 s; grpc's default policy would hang up.
	s.grpc = grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}))
	streamsapi.RegisterStreamsServer(s.grpc, &streamsService{s: s})
	featuresapi.RegisterServerFeaturesServer(s.grpc, &featuresService{s: s})
	gossipapi.RegisterGossipServer(s.grpc, &gossipService{s: s})
	go func() { _ = s.grpc.Serve(lis) }()
	return s, nil
}

// Addr is the host:port the double listens on.
func (s *Server) Addr() string { return s.addr }

// ConnString is a single-node connection string to the double.
func (s *Server) ConnString() string { return "esdb://" + s.addr + "?tls=false" }

// DiscoverConnString is a cluster connection string (gossip) to the double.
func (s *Server) DiscoverConnString() string { return "esdb+discover://" + s.addr + "?tls=false" }

// Stop closes every connection and stops serving.
func (s *Server) Stop() { s.grpc.Stop() }

// Append writes events to a stream as another application would, without
// any check: for tests that need foreign or system events in the log.
func (s *Server) Append(stream, eventType string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.write(stream, []proposed{{id: uuid.New(), typ: eventType, content: "application/json", data: data}})
}

type proposed struct {
	id      uuid.UUID
	typ     string
	content string
	data    []byte
	meta    []byte
}

// write appends to the log; s.mu is held.
func (s *Server) write(stream string, events []proposed) (last *record) {
	now := time.Now().UnixNano() / 100
	rev := uint64(len(s.streams[stream]))
	var batch []*record
	for _, e := range events {
		r := &record{id: e.id, stream: stream, revision: rev, typ: e.typ, content: e.content, created: now, data: e.data, meta: e.meta}
		r.prepare = s.next
		r.commit = s.next
		// Roughly a prepare record's size on disk, so positions look real.
		s.next += uint64(80 + len(stream) + len(e.typ) + len(e.data) + len(e.meta))
		rev++
		batch = append(batch, r)
	}
	if s.layout == Transaction {
		for _, r := range batch {
			r.commit = s.next
		}
		s.next += 40 // the commit record
	}
	for _, r := range batch {
		s.ids[r.id] = len(s.log)
		s.streams[stream] = append(s.streams[stream], len(s.log))
		s.log = append(s.log, r)
	}
	close(s.wake)
	s.wake = make(chan struct{})
	return batch[len(batch)-1]
}

// --- streams service ---------------------------------------------------------

type streamsService struct {
	streamsapi.UnimplementedStreamsServer
	s *Server
}

// expectation is an append's expected revision in the server's own terms:
// -1 no stream, -2 any, -4 stream exists, or a revision.
type expectation int64

const (
	expectNoStream     expectation = -1
	expectAny          expectation = -2
	expectStreamExists expectation = -4
)

func (st *streamsService) Append(srv streamsapi.Streams_AppendServer) error {
	head, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := head.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "append: the first message must carry options")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	if stream == "" {
		return status.Error(codes.InvalidArgument, "append: no stream")
	}
	var exp expectation
	switch o := opts.ExpectedStreamRevision.(type) {
	case *streamsapi.AppendReq_Options_Any:
		exp = expectAny
	case *streamsapi.AppendReq_Options_NoStream:
		exp = expectNoStream
	case *streamsapi.AppendReq_Options_StreamExists:
		exp = expectStreamExists
	case *streamsapi.AppendReq_Options_Revision:
		exp = expectation(o.Revision)
	default:
		return status.Error(codes.InvalidArgument, "append: no expected revision")
	}
	var events []proposed
	for {
		req, err := srv.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		m := req.GetProposedMessage()
		if m == nil {
			return status.Error(codes.InvalidArgument, "append: options sent twice")
		}
		id, err := parseUUID(m.GetId())
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "append: event id: %v", err)
		}
		typ := m.GetMetadata()["type"]
		if typ == "" {
			return status.Error(codes.InvalidArgument, "append: event without type")
		}
		events = append(events, proposed{id: id, typ: typ, content: m.GetMetadata()["content-type"], data: m.GetData(), meta: m.GetCustomMetadata()})
	}
	return srv.SendAndClose(st.s.append(stream, exp, events))
}

// append decides as EventStore.Core's IndexWriter.CheckCommit does.
func (s *Server) append(stream string, exp expectation, events []proposed) *streamsapi.AppendResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.streams[stream]
	cur := int64(len(idx)) - 1 // last revision, -1 for no stream

	if exp == expectStreamExists && cur < 0 {
		return wrongVersion(exp, cur)
	}
	switch {
	case exp == expectAny || exp == expectStreamExists:
		// Best effort: the server looks the ids up in a bounded cache of
		// recently committed events (never evicted here). It checks the
		// stream but neither order nor contiguity.
		var last *record
		for i, e := range events {
			at, ok := s.ids[e.id]
			if !ok || s.log[at].stream != stream {
				if i == 0 {
					last = nil
					break
				}
				return wrongVersion(exp, cur) // corrupted idempotency
			}
			last = s.log[at]
		}
		if last != nil {
			return success(last)
		}
	case int64(exp) < cur:
		// Deterministic: the events after the expected revision are read
		// from the index and compared by id.
		if len(events) == 0 {
			return wrongVersion(exp, cur)
		}
		var last *record
		for i, e := range events {
			n := int64(exp) + 1 + int64(i)
			if n > cur || s.log[idx[n]].id != e.id {
				return wrongVersion(exp, cur) // first: conflict; later: corrupted idempotency
			}
			last = s.log[idx[n]]
		}
		return success(last)
	case int64(exp) > cur:
		return wrongVersion(exp, cur)
	}
	// exp == cur (or any, not a retry): write, without looking at the ids.
	if len(events) == 0 {
		return &streamsapi.AppendResp{Result: &streamsapi.AppendResp_Success_{Success: &streamsapi.AppendResp_Success{
			CurrentRevisionOption: &streamsapi.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
			PositionOption:        &streamsapi.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}}}
	}
	return success(s.write(stream, events))
}

func success(last *record) *streamsapi.AppendResp {
	return &streamsapi.AppendResp{Result: &streamsapi.AppendResp_Success_{Success: &streamsapi.AppendResp_Success{
		CurrentRevisionOption: &streamsapi.AppendResp_Success_CurrentRevision{CurrentRevision: last.revision},
		PositionOption: &streamsapi.AppendResp_Success_Position{Position: &streamsapi.AppendResp_Position{
			CommitPosition: last.commit, PreparePosition: last.prepare,
		}},
	}}}
}

func wrongVersion(exp expectation, cur int64) *streamsapi.AppendResp {
	w := &streamsapi.AppendResp_WrongExpectedVersion{}
	if cur < 0 {
		w.CurrentRevisionOption = &streamsapi.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streamsapi.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streamsapi.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
		w.CurrentRevisionOption_20_6_0 = &streamsapi.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(cur)}
	}
	switch exp {
	case expectAny:
		w.ExpectedRevisionOption = &streamsapi.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streamsapi.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case expectStreamExists:
		w.ExpectedRevisionOption = &streamsapi.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streamsapi.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case expectNoStream:
		w.ExpectedRevisionOption = &streamsapi.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &streamsapi.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(exp)}
		w.ExpectedRevisionOption_20_6_0 = &streamsapi.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: uint64(exp)}
	}
	return &streamsapi.AppendResp{Result: &streamsapi.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

func (st *streamsService) Read(req *streamsapi.ReadReq, srv streamsapi.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "read: no options")
	}
	f, err := compileFilter(o.GetFilter())
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "read: filter: %v", err)
	}
	r := reader{s: st.s, srv: srv, asString: o.GetUuidOption().GetString_() != nil, filter: f}
	backwards := o.GetReadDirection() == streamsapi.ReadReq_Options_Backwards
	switch so := o.StreamOption.(type) {
	case *streamsapi.ReadReq_Options_Stream:
		stream := string(so.Stream.GetStreamIdentifier().GetStreamName())
		if o.GetSubscription() != nil {
			return r.subscribeStream(stream, so.Stream)
		}
		return r.readStream(stream, so.Stream, backwards, o.GetCount())
	case *streamsapi.ReadReq_Options_All:
		if o.GetSubscription() != nil {
			return r.subscribeAll(so.All, o.GetFilter())
		}
		return r.readAll(so.All, backwards, o.GetCount())
	default:
		return status.Error(codes.InvalidArgument, "read: neither a stream nor $all")
	}
}

type reader struct {
	s        *Server
	srv      streamsapi.Streams_ReadServer
	asString bool
	filter   func(*record) bool
}

func (r *reader) readStream(stream string, so *streamsapi.ReadReq_Options_StreamOptions, backwards bool, count uint64) error {
	r.s.mu.Lock()
	idx := r.s.streams[stream]
	recs := make([]*record, len(idx))
	for i, at := range idx {
		recs[i] = r.s.log[at]
	}
	r.s.mu.Unlock()
	if len(recs) == 0 {
		return r.srv.Send(&streamsapi.ReadResp{Content: &streamsapi.ReadResp_StreamNotFound_{StreamNotFound: &streamsapi.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)},
		}}})
	}
	last := uint64(len(recs) - 1)
	var out []*record
	if !backwards {
		from := uint64(0)
		switch so.RevisionOption.(type) {
		case *streamsapi.ReadReq_Options_StreamOptions_End:
			from = last + 1
		case *streamsapi.ReadReq_Options_StreamOptions_Revision:
			from = so.GetRevision()
		}
		for rev := from; rev <= last && uint64(len(out)) < count; rev++ {
			out = append(out, recs[rev])
		}
	} else {
		from := int64(last)
		switch so.RevisionOption.(type) {
		case *streamsapi.ReadReq_Options_StreamOptions_Start:
			from = 0
		case *streamsapi.ReadReq_Options_StreamOptions_Revision:
			from = min(int64(so.GetRevision()), int64(last))
		}
		for rev := from; rev >= 0 && uint64(len(out)) < count; rev-- {
			out = append(out, recs[rev])
		}
	}
	for _, rec := range out {
		if err := r.sendEvent(rec); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) readAll(ao *streamsapi.ReadReq_Options_AllOptions, backwards bool, count uint64) error {
	r.s.mu.Lock()
	log := r.s.log[:len(r.s.log):len(r.s.log)]
	r.s.mu.Unlock()
	var out []*record
	keep := func(rec *record) bool { return r.filter == nil || r.filter(rec) }
	if !backwards {
		// Forwards from a position is inclusive (AllReader: ">= pos").
		var from pos
		switch ao.AllOption.(type) {
		case *streamsapi.ReadReq_Options_AllOptions_End:
			return nil
		case *streamsapi.ReadReq_Options_AllOptions_Position:
			from = pos{ao.GetPosition().GetCommitPosition(), ao.GetPosition().GetPreparePosition()}
		}
		for _, rec := range log {
			if uint64(len(out)) >= count {
				break
			}
			if !rec.pos().less(from) && keep(rec) {
				out = append(out, rec)
			}
		}
	} else {
		// Backwards from a position is exclusive.
		before := pos{^uint64(0), ^uint64(0)}
		switch ao.AllOption.(type) {
		case *streamsapi.ReadReq_Options_AllOptions_Start:
			return nil
		case *streamsapi.ReadReq_Options_AllOptions_Position:
			before = pos{ao.GetPosition().GetCommitPosition(), ao.GetPosition().GetPreparePosition()}
		}
		for i := len(log) - 1; i >= 0 && uint64(len(out)) < count; i-- {
			if log[i].pos().less(before) && keep(log[i]) {
				out = append(out, log[i])
			}
		}
	}
	for _, rec := range out {
		if err := r.sendEvent(rec); err != nil {
			return err
		}
	}
	return nil
}

// subscribeAll serves a catch-up subscription to $all: events after the
// start position (exclusive, as the server's catch-up enumerator skips
// "position <= start"), then live ones as they are appended.
func (r *reader) subscribeAll(ao *streamsapi.ReadReq_Options_AllOptions, fo *streamsapi.ReadReq_Options_FilterOptions) error {
	r.s.mu.Lock()
	next := 0
	switch ao.AllOption.(type) {
	case *streamsapi.ReadReq_Options_AllOptions_End:
		next = len(r.s.log)
	case *streamsapi.ReadReq_Options_AllOptions_Position:
		after := pos{ao.GetPosition().GetCommitPosition(), ao.GetPosition().GetPreparePosition()}
		for next < len(r.s.log) && !after.less(r.s.log[next].pos()) {
			next++
		}
	}
	r.s.mu.Unlock()
	// The server checkpoints a filtered subscription every
	// window * multiplier events it considered.
	interval := 0
	if fo != nil {
		window := int(fo.GetMax())
		if window == 0 {
			window = 32
		}
		interval = window * max(1, int(fo.GetCheckpointIntervalMultiplier()))
	}
	return r.subscribe(next, interval, func(rec *record) bool { return r.filter == nil || r.filter(rec) })
}

// subscribeStream serves a catch-up subscription to one stream: events
// after the start revision (exclusive), then live ones.
func (r *reader) subscribeStream(stream string, so *streamsapi.ReadReq_Options_StreamOptions) error {
	r.s.mu.Lock()
	next := 0
	switch so.RevisionOption.(type) {
	case *streamsapi.ReadReq_Options_StreamOptions_End:
		next = len(r.s.log)
	case *streamsapi.ReadReq_Options_StreamOptions_Revision:
		if idx := r.s.streams[stream]; so.GetRevision() < uint64(len(idx)) {
			next = idx[so.GetRevision()] + 1
		} else {
			next = len(r.s.log)
		}
	}
	r.s.mu.Unlock()
	return r.subscribe(next, 0, func(rec *record) bool { return rec.stream == stream })
}

func (r *reader) subscribe(next, interval int, keep func(*record) bool) error {
	ctx := r.srv.Context()
	err := r.srv.Send(&streamsapi.ReadResp{Content: &streamsapi.ReadResp_Confirmation{Confirmation: &streamsapi.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}})
	if err != nil {
		return err
	}
	sub := &subscription{next: next}
	r.s.mu.Lock()
	r.s.subs = append(r.s.subs, sub)
	r.s.mu.Unlock()
	defer func() {
		r.s.mu.Lock()
		defer r.s.mu.Unlock()
		r.s.subs = slices.DeleteFunc(r.s.subs, func(o *subscription) bool { return o == sub })
	}()
	considered, caughtUp := 0, false
	for {
		r.s.mu.Lock()
		batch := r.s.log[next:len(r.s.log):len(r.s.log)]
		wake := r.s.wake
		r.s.mu.Unlock()
		sent := 0
		for _, rec := range batch {
			if keep(rec) {
				if err := r.sendEvent(rec); err != nil {
					return err
				}
				sent++
			}
			if considered++; interval > 0 && considered%interval == 0 {
				if err := r.sendCheckpoint(rec.pos()); err != nil {
					return err
				}
			}
		}
		next += len(batch)
		r.s.mu.Lock()
		sub.next, sub.sent = next, sub.sent+sent
		r.s.mu.Unlock()
		if !caughtUp {
			caughtUp = true
			var err error
			switch {
			case !r.s.legacy:
				err = r.srv.Send(&streamsapi.ReadResp{Content: &streamsapi.ReadResp_CaughtUp_{CaughtUp: &streamsapi.ReadResp_CaughtUp{}}})
			case interval > 0:
				r.s.mu.Lock()
				end := r.s.log[len(r.s.log)-1].pos()
				r.s.mu.Unlock()
				err = r.sendCheckpoint(end)
			}
			if err != nil {
				return err
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func (r *reader) sendCheckpoint(p pos) error {
	return r.srv.Send(&streamsapi.ReadResp{Content: &streamsapi.ReadResp_Checkpoint_{Checkpoint: &streamsapi.ReadResp_Checkpoint{
		CommitPosition: p.commit, PreparePosition: p.prepare,
	}}})
}

func (r *reader) sendEvent(rec *record) error {
	id := &shared.UUID{}
	if r.asString {
		id.Value = &shared.UUID_String_{String_: rec.id.String()}
	} else {
		most, least := splitUUID(rec.id)
		id.Value = &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}
	}
	ev := &streamsapi.ReadResp_ReadEvent_RecordedEvent{
		Id:               id,
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(rec.stream)},
		StreamRevision:   rec.revision,
		PreparePosition:  rec.prepare,
		CommitPosition:   rec.commit,
		Metadata: map[string]string{
			"type":         rec.typ,
			"content-type": rec.content,
			"created":      strconv.FormatInt(rec.created, 10),
		},
		CustomMetadata: rec.meta,
		Data:           rec.data,
	}
	return r.srv.Send(&streamsapi.ReadResp{Content: &streamsapi.ReadResp_Event{Event: &streamsapi.ReadResp_ReadEvent{
		Event:    ev,
		Position: &streamsapi.ReadResp_ReadEvent_CommitPosition{CommitPosition: rec.commit},
	}}})
}

// compileFilter turns a server-side filter into a predicate (nil: no filter).
func compileFilter(fo *streamsapi.ReadReq_Options_FilterOptions) (func(*record) bool, error) {
	if fo == nil {
		return nil, nil
	}
	expr, field := fo.GetStreamIdentifier(), func(r *record) string { return r.stream }
	if expr == nil {
		expr, field = fo.GetEventType(), func(r *record) string { return r.typ }
	}
	if expr == nil {
		return nil, fmt.Errorf("neither a stream nor an event type expression")
	}
	if re := expr.GetRegex(); re != "" {
		rx, err := regexp.Compile(re)
		if err != nil {
			return nil, err
		}
		return func(r *record) bool { return rx.MatchString(field(r)) }, nil
	}
	prefixes := expr.GetPrefix()
	return func(r *record) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(field(r), p) {
				return true
			}
		}
		return false
	}, nil
}

// --- positions and ids -------------------------------------------------------

type pos struct{ commit, prepare uint64 }

func (r *record) pos() pos { return pos{r.commit, r.prepare} }

func (p pos) less(q pos) bool {
	if p.commit != q.commit {
		return p.commit < q.commit
	}
	return p.prepare < q.prepare
}

func parseUUID(id *shared.UUID) (uuid.UUID, error) {
	if s := id.GetStructured(); s != nil {
		var u uuid.UUID
		for i := 0; i < 8; i++ {
			u[i] = byte(uint64(s.MostSignificantBits) >> (56 - 8*i))
			u[8+i] = byte(uint64(s.LeastSignificantBits) >> (56 - 8*i))
		}
		return u, nil
	}
	if id.GetString_() != "" {
		return uuid.Parse(id.GetString_())
	}
	return uuid.Nil, fmt.Errorf("missing")
}

func splitUUID(u uuid.UUID) (most, least int64) {
	var m, l uint64
	for i := 0; i < 8; i++ {
		m = m<<8 | uint64(u[i])
		l = l<<8 | uint64(u[8+i])
	}
	return int64(m), int64(l)
}

// --- server features and gossip ----------------------------------------------

type featuresService struct {
	featuresapi.UnimplementedServerFeaturesServer
	s *Server
}

func (f *featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*featuresapi.SupportedMethods, error) {
	version := "24.10.0"
	if f.s.legacy {
		version = "22.10.0"
	}
	const svc = "event_store.client.streams.streams"
	return &featuresapi.SupportedMethods{
		EventStoreServerVersion: version,
		Methods:                 []*featuresapi.SupportedMethod{{MethodName: "read", ServiceName: svc}, {MethodName: "append", ServiceName: svc}},
	}, nil
}

type gossipService struct {
	gossipapi.UnimplementedGossipServer
	s *Server
}

// Read reports a one-node cluster whose leader is the double itself.
func (g *gossipService) Read(context.Context, *shared.Empty) (*gossipapi.ClusterInfo, error) {
	most, least := splitUUID(uuid.NewSHA1(uuid.NameSpaceURL, []byte(g.s.addr)))
	return &gossipapi.ClusterInfo{Members: []*gossipapi.MemberInfo{{
		InstanceId:   &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossipapi.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossipapi.EndPoint{Address: g.s.host, Port: g.s.port},
	}}}, nil
}
