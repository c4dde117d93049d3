// Package bus opens the Watermill publisher and subscriber that carry the
// ledger's committed events from the one forwarder to every node's hub
// (adapters/live). The transport is chosen by Config.Kind:
//
//   - gochannel (default): in-process channels, for one `ledger serve`.
//   - postgres: watermill-sql on the ledger's Postgres database. A topic is
//     a table; each node reads it as its own consumer group ("live-NODE"),
//     so every node receives every message (fan-out). A node's group starts
//     at the head of the table when it subscribes, and rows older than the
//     retention are pruned.
//   - nats: NATS JetStream through watermill-nats. Every topic "ledger.*"
//     is captured by one stream (LEDGER, kept for the retention); each node
//     subscribes with its own ephemeral consumer, no durable name and no
//     queue group, delivering only new messages: every node receives every
//     message.
//
// The bus is a live channel, not a store: the log is. A node that was away
// does not replay the bus; its clients catch up from the log
// (/api/v1/live?after=).
package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Transports.
const (
	GoChannel = "gochannel"
	Postgres  = "postgres"
	NATS      = "nats"
)

// Defaults.
const (
	DefaultNATSURL      = "nats://127.0.0.1:4222"
	DefaultNATSStream   = "LEDGER"
	DefaultRetention    = time.Hour
	DefaultPollInterval = 250 * time.Millisecond
)

// Config chooses and configures the transport. The program fills it from
// its own configuration; this package reads no environment.
type Config struct {
	// Kind is gochannel, postgres or nats (default gochannel).
	Kind string
	// PostgresDSN is the database of the postgres bus.
	PostgresDSN string
	// NATSURL is the NATS server of the nats bus (default
	// DefaultNATSURL).
	NATSURL string
	// NATSStream names the JetStream stream that keeps the topics
	// "ledger.>" (default LEDGER).
	NATSStream string
	// Node names this process among the nodes sharing the bus; it must be
	// unique among the running nodes (default host-pid-random).
	Node string
	// Retention is how long the bus keeps a message (default 1h): the NATS
	// stream's max age, the Postgres pruning age.
	Retention time.Duration
	// PollInterval is how often the postgres bus polls when idle (default
	// 250 ms): the latency of a live update across nodes.
	PollInterval time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Kind == "" {
		c.Kind = GoChannel
	}
	if c.NATSURL == "" {
		c.NATSURL = DefaultNATSURL
	}
	if c.NATSStream == "" {
		c.NATSStream = DefaultNATSStream
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Node == "" {
		c.Node = defaultNode()
	}
	switch {
	case c.Kind != GoChannel && c.Kind != Postgres && c.Kind != NATS:
		return fmt.Errorf("bus: kind %q is not gochannel, postgres or nats", c.Kind)
	case c.Kind == Postgres && c.PostgresDSN == "":
		return errors.New("bus: the postgres bus needs a database (PostgresDSN)")
	case c.Retention < 0 || c.PollInterval < 0:
		return errors.New("bus: retention and poll interval must be positive")
	case strings.ContainsAny(c.NATSStream, ". *>"):
		return fmt.Errorf("bus: NATS stream name %q may not contain '.', ' ', '*' or '>'", c.NATSStream)
	}
	return nil
}

// defaultNode is unique per process: two nodes on one host differ by pid,
// a restarted process by the random part.
func defaultNode() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Bus is one node's connection to the transport.
type Bus struct {
	// Kind is the transport.
	Kind string
	// Node is this node's name on the bus.
	Node       string
	Publisher  message.Publisher
	Subscriber message.Subscriber
	closers    []func() error
}

// Open connects to the configured transport. Every node calls it; each
// subscription it makes receives every message published after it started.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	wl := watermill.NewSlogLogger(logger.With("bus", cfg.Kind))
	b := &Bus{Kind: cfg.Kind, Node: cfg.Node}
	var err error
	switch cfg.Kind {
	case GoChannel:
		err = b.openGoChannel(wl)
	case Postgres:
		err = b.openPostgres(ctx, cfg, wl, logger)
	case NATS:
		err = b.openNATS(ctx, cfg, wl)
	}
	if err != nil {
		return nil, errors.Join(err, b.Close())
	}
	return b, nil
}

// Close closes the subscriber, then the publisher, then the connections.
func (b *Bus) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	b.closers = nil
	return errors.Join(errs...)
}

func (b *Bus) onClose(f func() error) { b.closers = append(b.closers, f) }
