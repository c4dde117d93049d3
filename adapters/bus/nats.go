package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// natsRoot is the first token of every subject of a bus without a
// deployment: topics are "ledger.SOMETHING".
const natsRoot = "ledger"

// natsSubjectRoot is the first token of the deployment's subjects:
// "ledger-NAMESPACE". A token of its own, so that no deployment's stream
// overlaps another's, nor the stream LEDGER of a bus without a deployment
// (which captures "ledger.>"): JetStream refuses overlapping streams.
func natsSubjectRoot(cfg Config) string {
	if ns := cfg.Namespace(); ns != "" {
		return natsRoot + "-" + ns
	}
	return natsRoot
}

// natsSubject returns the subject of a topic on the bus of cfg:
// "ledger.events" is "ledger-NAMESPACE.events" (itself without a
// deployment).
func natsSubject(cfg Config) func(topic string) string {
	root := natsSubjectRoot(cfg)
	return func(topic string) string {
		if root == natsRoot {
			return topic
		}
		return root + "." + strings.TrimPrefix(topic, natsRoot+".")
	}
}

// The publisher and the subscriber take topics and use subjects.
// watermill-nats publishes on the topic itself (its SubjectCalculator
// serves subscriptions only), so both ends map topics here, the same way.
type (
	subjectPublisher struct {
		message.Publisher
		subject func(string) string
	}
	subjectSubscriber struct {
		message.Subscriber
		subject func(string) string
	}
)

func (p subjectPublisher) Publish(topic string, msgs ...*message.Message) error {
	return p.Publisher.Publish(p.subject(topic), msgs...)
}

func (s subjectSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.Subscriber.Subscribe(ctx, s.subject(topic))
}

// openNATS connects the publisher and the subscriber on connections of
// their own (each closes its own) and makes sure the stream exists.
//
// Fan-out: the subscriber has no durable name and no queue group, so each
// node's subscription is its own ephemeral JetStream consumer and receives
// every message; DeliverNew starts it at the head. The publisher waits for
// JetStream's ack of each message and sends the watermill UUID (the event
// id) as Nats-Msg-Id, so that a forwarder re-publishing after a takeover is
// deduplicated by the stream within its duplicate window.
func (b *Bus) openNATS(ctx context.Context, cfg Config, wl watermill.LoggerAdapter) error {
	connect := func(role string) (*nats.Conn, error) {
		nc, err := nats.Connect(cfg.NATSURL,
			nats.Name("ledger "+cfg.Node+" "+role),
			nats.MaxReconnects(-1),
			nats.ReconnectWait(time.Second),
			nats.Timeout(5*time.Second),
		)
		if err != nil {
			return nil, fmt.Errorf("bus: nats %s: %w", cfg.NATSURL, err)
		}
		return nc, nil
	}
	pc, err := connect("publisher")
	if err != nil {
		return err
	}
	if err := ensureStream(ctx, pc, cfg); err != nil {
		pc.Close()
		return err
	}
	pub, err := wnats.NewPublisherWithNatsConn(pc, wnats.PublisherPublishConfig{
		Marshaler:         &wnats.NATSMarshaler{},
		SubjectCalculator: wnats.DefaultSubjectCalculator,
		JetStream:         wnats.JetStreamConfig{TrackMsgId: true},
	}, wl)
	if err != nil {
		pc.Close()
		return fmt.Errorf("bus: nats publisher: %w", err)
	}
	b.Publisher = subjectPublisher{pub, natsSubject(cfg)}
	b.onClose(pub.Close)

	sc, err := connect("subscriber")
	if err != nil {
		return err
	}
	sub, err := wnats.NewSubscriberWithNatsConn(sc, wnats.SubscriberSubscriptionConfig{
		Unmarshaler:      &wnats.NATSMarshaler{},
		SubscribersCount: 1, // one consumer per node keeps the order
		CloseTimeout:     5 * time.Second,
		AckWaitTimeout:   30 * time.Second,
		SubscribeTimeout: 10 * time.Second,
		JetStream: wnats.JetStreamConfig{
			SubscribeOptions: []nats.SubOpt{nats.DeliverNew(), nats.AckExplicit()},
			AckAsync:         true,
		},
	}, wl)
	if err != nil {
		sc.Close()
		return fmt.Errorf("bus: nats subscriber: %w", err)
	}
	b.Subscriber = subjectSubscriber{sub, natsSubject(cfg)}
	b.onClose(sub.Close)
	return nil
}

// ensureStream creates the deployment's stream unless it exists. An existing
// stream is left as it is (an operator may have tuned it).
func ensureStream(ctx context.Context, nc *nats.Conn, cfg Config) error {
	js, err := nc.JetStream(nats.Context(ctx))
	if err != nil {
		return fmt.Errorf("bus: jetstream: %w", err)
	}
	_, err = js.StreamInfo(cfg.NATSStream, nats.Context(ctx))
	if err == nil {
		return nil
	}
	if !errors.Is(err, nats.ErrStreamNotFound) {
		return fmt.Errorf("bus: jetstream stream %s: %w", cfg.NATSStream, err)
	}
	_, err = js.AddStream(&nats.StreamConfig{
		Name:        cfg.NATSStream,
		Description: "ledger live updates (a channel, not a store: the log is the store)",
		Subjects:    []string{natsSubjectRoot(cfg) + ".>"},
		Retention:   nats.LimitsPolicy,
		MaxAge:      cfg.Retention,
		Storage:     nats.FileStorage,
		Discard:     nats.DiscardOld,
		Duplicates:  min(2*time.Minute, cfg.Retention),
	}, nats.Context(ctx))
	if err != nil && !errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("bus: jetstream create stream %s: %w", cfg.NATSStream, err)
	}
	return nil
}
