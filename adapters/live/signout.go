package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// A sign-out is not an event of the log, yet the sockets opened with the
// session may be on any node. It travels as a control message on the
// events topic itself: every hub already reads that topic, on every
// transport, so no node needs a second subscription (a second table to
// poll on the Postgres bus). Events and control messages are told apart by
// ControlMetadata; a hub that knows no control message drops it as an
// undecodable event.

// ControlMetadata is the message metadata that marks a control message;
// its value is the kind.
const ControlMetadata = "ledger_control"

// controlSessionEnded: a session was signed out.
const controlSessionEnded = "session.ended"

// sessionEnded is the payload of a controlSessionEnded message.
type sessionEnded struct {
	Session string `json:"session"`
}

// SignOuts tells every node's hub that a session ended, so that the
// sockets opened with it close (CloseSessionEnded).
type SignOuts struct {
	Publisher message.Publisher
	// Topic defaults to Topic: the hubs' topic.
	Topic string
	// Deployment is stamped on the message, as the forwarder stamps
	// events: the hubs drop what is not of their deployment.
	Deployment string
}

// SignedOut publishes the end of session (Viewer.Session of the sockets to
// close).
func (s SignOuts) SignedOut(ctx context.Context, session string) error {
	if session == "" {
		return errors.New("live: sign-out of no session")
	}
	b, err := json.Marshal(sessionEnded{Session: session})
	if err != nil {
		return err
	}
	m := message.NewMessage(watermill.NewUUID(), b)
	m.Metadata.Set(ControlMetadata, controlSessionEnded)
	stamp(m, s.Deployment)
	m.SetContext(ctx)
	if err := s.Publisher.Publish(or(s.Topic, Topic), m); err != nil {
		return fmt.Errorf("live: publish sign-out: %w", err)
	}
	return nil
}
