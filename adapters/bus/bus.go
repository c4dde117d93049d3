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
//   - nats: NATS JetStream through watermill-nats. Every topic of the
//     deployment is captured by one stream, kept for the retention; each
//     node subscribes with its own ephemeral consumer, no durable name and
//     no queue group, delivering only new messages: every node receives
//     every message.
//
// Several deployments may share one NATS server or one bus database: the
// subjects, the stream and the tables are named after Config.Deployment
// (see Namespace), so that one deployment never receives another's
// messages.
//
// The bus is a live channel, not a store: the log is. A node that was away
// does not replay the bus; its clients catch up from the log
// (/api/v1/live?after=).
package bus

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	DefaultNATSURL = "nats://127.0.0.1:4222"
	// DefaultNATSStream is the stream of a bus without a deployment;
	// a deployment's is DefaultNATSStream_NAMESPACE.
	DefaultNATSStream   = "LEDGER"
	DefaultRetention    = time.Hour
	DefaultPollInterval = 250 * time.Millisecond
)

// Config chooses and configures the transport. The program fills it from
// its own configuration; this package reads no environment.
type Config struct {
	// Kind is gochannel, postgres or nats (default gochannel).
	Kind string
	// Deployment names the deployment the bus serves: every node of one
	// deployment gives the same name, two deployments different ones.
	// The NATS subjects and stream and the Postgres tables are derived
	// from it (Namespace). Empty keeps the fixed names every deployment
	// would share (subjects "ledger.>", stream LEDGER, tables
	// watermill_ledger_*): for tests and tools that run one deployment
	// alone; `ledger serve` always names one.
	Deployment string
	// PostgresDSN is the database of the postgres bus.
	PostgresDSN string
	// NATSURL is the NATS server of the nats bus (default
	// DefaultNATSURL).
	NATSURL string
	// NATSStream names the JetStream stream that keeps the deployment's
	// subjects (default LEDGER_NAMESPACE, LEDGER without a deployment).
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
		if ns := c.Namespace(); ns != "" {
			c.NATSStream += "_" + ns
		}
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
	case CheckDeployment(c.Deployment) != nil:
		return fmt.Errorf("bus: %w", CheckDeployment(c.Deployment))
	case strings.ContainsAny(c.NATSStream, ". *>"):
		return fmt.Errorf("bus: NATS stream name %q may not contain '.', ' ', '*' or '>'", c.NATSStream)
	}
	return nil
}

// maxDeployment bounds a deployment's name.
const maxDeployment = 200

// CheckDeployment checks a deployment's name: up to 200 bytes of
// printable UTF-8 (it appears in logs; Namespace makes it fit the bus's
// names).
func CheckDeployment(name string) error {
	if len(name) > maxDeployment || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return fmt.Errorf("deployment name %q is not up to %d bytes of printable UTF-8", name, maxDeployment)
	}
	return nil
}

// Namespace returns the token that Deployment puts in the bus's names
// (NATS subjects and stream, Postgres tables), or "" without a
// deployment: up to 12 of its letters and digits, lower-cased, for the
// operator who lists streams or tables, then 8 hex digits of its SHA-256.
// The hash keeps apart two names that differ only in characters a subject
// or a table name cannot hold ("Lycée-A" and "lycee_a"); the whole token
// is short enough for Postgres's 63-byte table names.
func (c Config) Namespace() string {
	if c.Deployment == "" {
		return ""
	}
	var prefix []byte
	for _, r := range strings.ToLower(c.Deployment) {
		if len(prefix) == 12 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			prefix = append(prefix, byte(r))
		case len(prefix) > 0 && prefix[len(prefix)-1] != '_':
			prefix = append(prefix, '_')
		}
	}
	sum := sha256.Sum256([]byte(c.Deployment))
	hash := hex.EncodeToString(sum[:4])
	if p := strings.Trim(string(prefix), "_"); p != "" {
		return p + "_" + hash
	}
	return hash
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
	// Deployment is the deployment the bus serves (Config.Deployment):
	// what the forwarder stamps on each message and each hub checks.
	Deployment string
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
	b := &Bus{Kind: cfg.Kind, Deployment: cfg.Deployment, Node: cfg.Node}
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
