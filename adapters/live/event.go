// Package live delivers committed events to the people allowed to see them,
// the moment they are recorded.
//
// The path: the Forwarder (one elected process) reads the log in order and
// publishes each event to the Watermill topic "ledger.events"; each node's
// Hub subscribes and fans the events out to its websockets (Handler, at
// /api/v1/live), each filtered for its viewer. A client that reconnects with
// ?after=POSITION first gets what it missed, read from the log.
//
// Delivery to the bus is at least once (a forwarder that takes over
// re-publishes what its predecessor had not checkpointed); the hub drops
// any event at or before the last position it delivered, so sockets see
// each event once, in log order.
//
// Open sockets follow the directory (follow.go) and their session
// (signout.go, deadline.go): a link, a membership or an account changed
// re-filters or closes them, on every node.
//
// Wiring, in cmd: open the bus (adapters/bus), start Hub.Run (with the
// directory and its ProjectionProgress) and wait for Hub.Ready, start
// Forwarder.Run (every node runs one; the elected one forwards), mount
// NewHandler at GET /api/v1/live outside any middleware that hides
// http.Hijacker (http.TimeoutHandler does), and tell SignOuts of each
// sign-out. On shutdown, cancel their context before closing the bus.
package live

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Topic is the Watermill topic of committed events.
const Topic = "ledger.events"

// DeploymentMetadata is the message metadata that names the deployment a
// message belongs to. The forwarder and SignOuts stamp it; a hub drops,
// and logs, a message that does not carry its own deployment. The bus
// already keeps deployments apart (adapters/bus names its subjects and
// tables after the deployment); the stamp is the hub's own check, so that
// a stream or table shared by mistake can never put one deployment's
// events on another's sockets, nor make a hub drop its own events as
// repeats (positions of two logs interleave).
const DeploymentMetadata = "ledger_deployment"

// stamp marks m as a message of deployment (none: left unmarked, as a
// hub without a deployment expects).
func stamp(m *message.Message, deployment string) {
	if deployment != "" {
		m.Metadata.Set(DeploymentMetadata, deployment)
	}
}

// Event is a committed event as the bus carries it: the stored record,
// without its correlation metadata, and the subjects it concerns
// (domain.Subjects), so that hubs filter without decoding the payload.
type Event struct {
	Position      domain.Position `json:"position"`
	ID            uuid.UUID       `json:"id"`
	Stream        string          `json:"stream"`
	Version       uint64          `json:"version"`
	Type          string          `json:"type"`
	Time          time.Time       `json:"time"`
	Establishment string          `json:"establishment,omitempty"`
	Actor         uuid.UUID       `json:"actor"`
	Data          json.RawMessage `json:"data"`
	Subjects      []uuid.UUID     `json:"subjects,omitempty"`
}

// NewEvent decodes a record to find its subjects. An event stored under a
// retired wire name goes out under its current name and shape (the
// registry's upcaster): sockets, and the hub's filters, know those only.
func NewEvent(reg *domain.Registry, rec domain.Record) (Event, error) {
	e, err := reg.DecodeRecord(rec)
	if err != nil {
		return Event{}, err
	}
	typ, data := rec.Type, rec.Data
	if e.EventType() != rec.Type {
		if typ, data, err = reg.Encode(e); err != nil {
			return Event{}, fmt.Errorf("%s@%d: %w", rec.Stream, rec.Version, err)
		}
	}
	return Event{
		Position: rec.Position, ID: rec.ID, Stream: rec.Stream, Version: rec.Version,
		Type: typ, Time: rec.Metadata.Time.UTC(), Establishment: rec.Metadata.Establishment,
		Actor: rec.Metadata.Actor, Data: json.RawMessage(data), Subjects: domain.Subjects(e),
	}, nil
}

// Message encodes the event for the bus. The message UUID is the event id:
// NATS JetStream drops a re-publication it has seen within its duplicate
// window.
func (e Event) Message() (*message.Message, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.Position, err)
	}
	return message.NewMessage(e.ID.String(), b), nil
}

// DecodeEvent reads what Message writes.
func DecodeEvent(payload []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(payload, &e); err != nil {
		return Event{}, fmt.Errorf("decode bus event: %w", err)
	}
	if e.Type == "" || e.Position.IsZero() {
		return Event{}, fmt.Errorf("decode bus event: no type or position")
	}
	return e, nil
}

// Frame is what a socket receives for one event.
type Frame struct {
	// Position is the event's place in the log: reconnect with
	// ?after=POSITION to get what came after it.
	Position      domain.Position `json:"position"`
	ID            uuid.UUID       `json:"id"`
	Type          string          `json:"type"`
	Time          time.Time       `json:"time"`
	Establishment string          `json:"establishment,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// open replaces e's payload with its personal fields opened (in clear, or
// erased) by reg, for the sockets: the bus carries it as stored.
func (e *Event) open(reg *domain.Registry) error {
	data, err := reg.Open(e.Type, e.Data)
	if err != nil {
		return err
	}
	e.Data = data
	return nil
}

// frame returns the frame of e with payload data.
func (e *Event) frame(data json.RawMessage) Frame {
	return Frame{Position: e.Position, ID: e.ID, Type: e.Type, Time: e.Time, Establishment: e.Establishment, Data: data}
}
