package bus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/schoollife/ledger/adapters/postgres/pgdsn"
)

// openPostgres opens a pgx-backed *sql.DB of its own on the ledger's
// database. A topic "ledger.events" is the table
// watermill_NAMESPACE_events (watermill_ledger_events without a
// deployment); watermill_offsets_NAMESPACE_events holds one row per
// consumer group, that is per node ("live-NODE"), so that each node reads
// every row.
func (b *Bus) openPostgres(ctx context.Context, cfg Config, wl watermill.LoggerAdapter, logger *slog.Logger) error {
	// The ledger's URLs may carry the pool's parameters (pool_max_conns):
	// this plain connection must not send them to the server as settings.
	cc, err := pgdsn.ConnConfig(cfg.PostgresDSN)
	if err != nil {
		return fmt.Errorf("bus: postgres DSN: %w", err)
	}
	db := stdlib.OpenDB(*cc)
	// One connection polls (in a transaction while it hands messages over),
	// one publishes, one prunes.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	b.onClose(db.Close)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		return fmt.Errorf("bus: postgres: %w", err)
	}

	tables := pgTables{namespace: cfg.Namespace()}
	schema := wsql.DefaultPostgreSQLSchema{GenerateMessagesTableName: tables.messages}
	offsets := headOffsets{wsql.DefaultPostgreSQLOffsetsAdapter{GenerateMessagesOffsetsTableName: tables.offsets}}
	conn := wsql.BeginnerFromStdSQL(db)
	pub, err := wsql.NewPublisher(conn, wsql.PublisherConfig{SchemaAdapter: schema, AutoInitializeSchema: true}, wl)
	if err != nil {
		return fmt.Errorf("bus: postgres publisher: %w", err)
	}
	b.Publisher = pub
	sub, err := wsql.NewSubscriber(conn, wsql.SubscriberConfig{
		ConsumerGroup:    "live-" + cfg.Node,
		PollInterval:     cfg.PollInterval,
		SchemaAdapter:    schema,
		OffsetsAdapter:   offsets,
		InitializeSchema: true,
	}, wl)
	if err != nil {
		return fmt.Errorf("bus: postgres subscriber: %w", err)
	}
	ps := &pgSubscriber{Subscriber: sub, tables: tables}
	b.Subscriber = ps

	pruneCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ps.prune(pruneCtx, db, cfg.Retention, logger)
	}()
	b.onClose(pub.Close)
	b.onClose(func() error { stop(); <-done; return nil })
	b.onClose(sub.Close)
	return nil
}

// pgTables names the tables of a topic. Without a deployment, topic
// "ledger.events" is watermill_ledger_events; with one, the namespace
// stands for "ledger": watermill_NAMESPACE_events, so that deployments
// sharing a bus database have tables of their own, and the names stay
// within Postgres's 63 bytes.
type pgTables struct{ namespace string }

func (t pgTables) suffix(topic string) string {
	if t.namespace == "" {
		return pgTableSuffix(topic)
	}
	return t.namespace + "_" + pgTableSuffix(strings.TrimPrefix(topic, "ledger."))
}

func (t pgTables) messages(topic string) string { return `"watermill_` + t.suffix(topic) + `"` }
func (t pgTables) offsets(topic string) string  { return `"watermill_offsets_` + t.suffix(topic) + `"` }

// pgTableSuffix turns a topic into the part of a table name after the
// prefix: "ledger.events" -> "ledger_events".
func pgTableSuffix(topic string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, topic)
}

// headOffsets starts a consumer group at the head of the topic each time it
// subscribes (the default starts a new group at the first row ever
// written): the bus is a live channel and history is read from the log.
// "Head" is the oldest transaction still running: every row of an older
// transaction is skipped, every row of it or a newer one is delivered, so
// that no message committed after the subscription is lost.
type headOffsets struct {
	wsql.DefaultPostgreSQLOffsetsAdapter
}

func (a headOffsets) BeforeSubscribingQueries(params wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return []wsql.Query{{
		Query: `INSERT INTO ` + a.MessagesOffsetsTable(params.Topic) + ` (consumer_group, offset_acked, last_processed_transaction_id)
			VALUES ($1, 9223372036854775807, ((pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text)::xid8)
			ON CONFLICT (consumer_group) DO UPDATE SET
				offset_acked = excluded.offset_acked,
				last_processed_transaction_id = excluded.last_processed_transaction_id`,
		Args: []any{params.ConsumerGroup},
	}}, nil
}

var _ message.Subscriber = (*pgSubscriber)(nil)

// pgSubscriber remembers the topics subscribed to, for pruning.
type pgSubscriber struct {
	*wsql.Subscriber
	tables pgTables
	topics sync.Map // topic -> struct{}
}

func (s *pgSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	ch, err := s.Subscriber.Subscribe(ctx, topic)
	if err == nil {
		s.topics.Store(topic, struct{}{})
	}
	return ch, err
}

// prune deletes the rows older than retention of the topics subscribed to,
// every tenth of the retention (at most every five minutes). Every node
// prunes; the deletes are idempotent. A consumer that had not read a
// pruned row yet simply goes on with the next one.
func (s *pgSubscriber) prune(ctx context.Context, db *sql.DB, retention time.Duration, logger *slog.Logger) {
	every := min(retention/10, 5*time.Minute)
	every = max(every, time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.topics.Range(func(k, _ any) bool {
			topic := k.(string)
			_, err := db.ExecContext(ctx, `DELETE FROM `+s.tables.messages(topic)+` WHERE created_at < LOCALTIMESTAMP - make_interval(secs => $1)`, retention.Seconds())
			var pgErr *pgconn.PgError
			if err != nil && ctx.Err() == nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P01") {
				logger.WarnContext(ctx, "bus: prune", "topic", topic, "err", err)
			}
			return true
		})
	}
}
