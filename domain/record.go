package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event is a typed payload. EventType returns its stable, versioned wire name
// (for example "absence.recorded.v1"), never derived from the Go type name.
type Event interface {
	EventType() string
}

// Metadata travels with every stored event.
type Metadata struct {
	Actor         uuid.UUID `json:"actor"`
	Profile       Profile   `json:"profile"`
	Establishment string    `json:"establishment,omitempty"`
	CorrelationID uuid.UUID `json:"correlation_id"`
	CausationID   uuid.UUID `json:"causation_id"`
	Command       string    `json:"command"`
	Time          time.Time `json:"time"`
	// Request is the fingerprint of the request that recorded the event,
	// set when it carried an idempotency key: a later request with the
	// same key is a replay only if its fingerprint matches. It lives in
	// the log, so the check holds on every node and across restarts.
	Request string `json:"request,omitempty"`
}

// Envelope is an event ready to be appended: its id (the idempotency key of
// the append), wire type, encoded payload and metadata.
type Envelope struct {
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata Metadata
}

// Record is an event as stored: the envelope plus its place in its stream
// (Version, 1-based) and in the global log (Position).
type Record struct {
	ID       uuid.UUID
	Stream   string
	Version  uint64
	Position Position
	Type     string
	Data     []byte
	Metadata Metadata
}

// Position orders the global log. Positions compare by (Tx, Seq). On
// Postgres Tx is the writing transaction id (xid8) and Seq the row's
// sequence; on SQLite Tx is 0; on EventStoreDB they are the commit and
// prepare positions.
type Position struct {
	Tx  uint64 `json:"tx"`
	Seq uint64 `json:"seq"`
}

// Start is the position before the first event.
var Start = Position{}

// Less reports whether p comes before q in the global log.
func (p Position) Less(q Position) bool {
	if p.Tx != q.Tx {
		return p.Tx < q.Tx
	}
	return p.Seq < q.Seq
}

// IsZero reports whether p is the start of the log.
func (p Position) IsZero() bool { return p == Position{} }

// String renders a position as "SEQ" when Tx is 0 and "TX.SEQ" otherwise.
func (p Position) String() string {
	if p.Tx == 0 {
		return strconv.FormatUint(p.Seq, 10)
	}
	return strconv.FormatUint(p.Tx, 10) + "." + strconv.FormatUint(p.Seq, 10)
}

// ParsePosition reads what String writes.
func ParsePosition(s string) (Position, error) {
	tx, seq, found := strings.Cut(s, ".")
	if !found {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return Position{}, fmt.Errorf("parse position %q: %w", s, err)
		}
		return Position{Seq: n}, nil
	}
	t, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("parse position %q: %w", s, err)
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("parse position %q: %w", s, err)
	}
	return Position{Tx: t, Seq: n}, nil
}

// MarshalText lets positions appear as strings in JSON and URLs.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ExpectedVersion states what the writer believes the stream's version is.
type ExpectedVersion struct {
	kind    expectKind
	version uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExact
)

// AnyVersion appends whatever the stream's version.
func AnyVersion() ExpectedVersion { return ExpectedVersion{kind: expectAny} }

// NoStream appends only if the stream has no event yet.
func NoStream() ExpectedVersion { return ExpectedVersion{kind: expectNoStream} }

// Exact appends only if the stream's version (its number of events) is v.
// Exact(0) is the same as NoStream.
func Exact(v uint64) ExpectedVersion {
	if v == 0 {
		return NoStream()
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// IsAny reports whether no check is asked.
func (e ExpectedVersion) IsAny() bool { return e.kind == expectAny }

// Version returns the exact version expected (0 for NoStream) and whether a
// check is asked at all.
func (e ExpectedVersion) Version() (uint64, bool) {
	switch e.kind {
	case expectNoStream:
		return 0, true
	case expectExact:
		return e.version, true
	default:
		return 0, false
	}
}

// Matches reports whether a stream at version current satisfies e.
func (e ExpectedVersion) Matches(current uint64) bool {
	v, check := e.Version()
	return !check || v == current
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no-stream"
	case expectExact:
		return strconv.FormatUint(e.version, 10)
	default:
		return "any"
	}
}

// AppendResult tells where an append landed.
type AppendResult struct {
	// Version is the stream's version after the append.
	Version uint64
	// Position is the global position of the last event appended.
	Position Position
}
