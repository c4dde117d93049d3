package bus_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
)

// TestTransports runs one suite on every transport: each node receives
// every message published after it subscribed, once, in order.
func TestTransports(t *testing.T) {
	t.Parallel()
	for _, tr := range bustest.Transports() {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("FanOutInOrder", func(t *testing.T) { t.Parallel(); testFanOutInOrder(t, tr.Nodes(t)) })
			t.Run("StartsAtHead", func(t *testing.T) { t.Parallel(); testStartsAtHead(t, tr.Nodes(t)) })
		})
	}
}

// testFanOutInOrder: two nodes subscribe; a third publishes 60 messages in
// batches; both nodes receive all of them in order.
func testFanOutInOrder(t *testing.T, node func() *bus.Bus) {
	topic := bustest.Topic(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b, pub := node(), node(), node()
	chA := mustSubscribe(ctx, t, a, topic)
	chB := mustSubscribe(ctx, t, b, topic)
	// Read both nodes while publishing: GoChannel's Publish waits for every
	// subscriber's ack.
	const n = 60
	got := map[string]chan []*message.Message{"a": receiveAsync(ctx, t, chA, n), "b": receiveAsync(ctx, t, chB, n)}
	for i := 0; i < n; i += 6 {
		var batch []*message.Message
		for j := i; j < i+6; j++ {
			batch = append(batch, testMessage(topic, j))
		}
		if err := pub.Publisher.Publish(topic, batch...); err != nil {
			t.Fatal(err)
		}
	}
	for name := range got {
		msgs := <-got[name]
		if len(msgs) != n {
			t.Fatalf("node %s got %d of %d messages", name, len(msgs), n)
		}
		for i, m := range msgs {
			if want := testMessage(topic, i); m.UUID != want.UUID || string(m.Payload) != string(want.Payload) {
				t.Fatalf("node %s: message %d is %s %s, want %s %s", name, i, m.UUID, m.Payload, want.UUID, want.Payload)
			}
		}
	}
	// Nothing was delivered twice: the next message each node receives is
	// the one published next (the bus keeps the order), whatever the time
	// it takes.
	next := map[string]chan []*message.Message{"a": receiveAsync(ctx, t, chA, 1), "b": receiveAsync(ctx, t, chB, 1)}
	if err := pub.Publisher.Publish(topic, testMessage(topic, n)); err != nil {
		t.Fatal(err)
	}
	for name, ch := range next {
		msgs := <-ch
		if len(msgs) != 1 {
			t.Fatalf("node %s got nothing after the %d messages", name, n)
		}
		if want := testMessage(topic, n); msgs[0].UUID != want.UUID {
			t.Fatalf("node %s: after the %d messages got %s %s, want %s", name, n, msgs[0].UUID, msgs[0].Payload, want.Payload)
		}
	}
}

// testStartsAtHead: a node that subscribes after messages were published
// does not receive them (the bus is live; history is in the log).
func testStartsAtHead(t *testing.T, node func() *bus.Bus) {
	topic := bustest.Topic(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub := node()
	// The early node makes the topic exist (tables, stream) before the
	// history is written, and keeps reading: GoChannel's Publish waits for
	// it.
	early := pump(ctx, mustSubscribe(ctx, t, node(), topic))
	for i := range 3 {
		if err := pub.Publisher.Publish(topic, testMessage(topic, i)); err != nil {
			t.Fatal(err)
		}
	}
	receive(ctx, t, early, 3)
	late := pump(ctx, mustSubscribe(ctx, t, node(), topic))
	if err := pub.Publisher.Publish(topic, testMessage(topic, 3)); err != nil {
		t.Fatal(err)
	}
	got := receive(ctx, t, late, 1)
	if got[0].UUID != testMessage(topic, 3).UUID {
		t.Fatalf("late subscriber first got %s, want only what came after it subscribed (%s)", got[0].Payload, testMessage(topic, 3).Payload)
	}
	receive(ctx, t, early, 1)
}

// pump acks what ch delivers and passes it on through a buffer, so that
// the publisher never waits for the test.
func pump(ctx context.Context, ch <-chan *message.Message) <-chan *message.Message {
	out := make(chan *message.Message, 1000)
	go func() {
		defer close(out)
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					return
				}
				m.Ack()
				out <- m
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// testMessage is the i-th message of a test on topic. Its UUID is unique to
// the topic: NATS drops a UUID it has seen within its duplicate window.
func testMessage(topic string, i int) *message.Message {
	id := uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "%s/%d", topic, i))
	return message.NewMessage(id.String(), fmt.Appendf(nil, `{"n":%d}`, i))
}

func mustSubscribe(ctx context.Context, t *testing.T, b *bus.Bus, topic string) <-chan *message.Message {
	t.Helper()
	ch, err := b.Subscriber.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// receiveAsync takes n messages in the background, acking each; it sends
// what it got when done or when ctx ends.
func receiveAsync(ctx context.Context, t *testing.T, ch <-chan *message.Message, n int) chan []*message.Message {
	out := make(chan []*message.Message, 1)
	go func() {
		var got []*message.Message
		defer func() { out <- got }()
		for len(got) < n {
			select {
			case m, ok := <-ch:
				if !ok {
					return
				}
				m.Ack()
				got = append(got, m)
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// receive takes n messages, acking each.
func receive(ctx context.Context, t *testing.T, ch <-chan *message.Message, n int) []*message.Message {
	t.Helper()
	var got []*message.Message
	for len(got) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed after %d of %d messages", len(got), n)
			}
			m.Ack()
			got = append(got, m)
		case <-ctx.Done():
			var ps []string
			for _, m := range got {
				ps = append(ps, string(m.Payload))
			}
			t.Fatalf("got %d of %d messages (%s)", len(got), n, strings.Join(ps, " "))
		}
	}
	return got
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     bus.Config
		kind    string
		dsn     string
		wantErr string
	}{
		{name: "default", kind: bus.GoChannel},
		{name: "postgres explicit", cfg: bus.Config{Kind: bus.Postgres, PostgresDSN: "postgres://u@h/bus"}, kind: bus.Postgres, dsn: "postgres://u@h/bus"},
		{name: "postgres without database", cfg: bus.Config{Kind: bus.Postgres}, wantErr: "PostgresDSN"},
		{name: "unknown", cfg: bus.Config{Kind: "kafka"}, wantErr: "not gochannel, postgres or nats"},
		{name: "nats", cfg: bus.Config{Kind: bus.NATS}, kind: bus.NATS},
		{name: "nats deployment", cfg: bus.Config{Kind: bus.NATS, Deployment: "prod"}, kind: bus.NATS},
		{name: "deployment with a control character", cfg: bus.Config{Deployment: "a\nb"}, wantErr: "printable"},
		{name: "deployment too long", cfg: bus.Config{Deployment: strings.Repeat("x", 201)}, wantErr: "200 bytes"},
		{name: "deployment not UTF-8", cfg: bus.Config{Deployment: "\xff"}, wantErr: "printable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.cfg
			err := c.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != tt.kind || c.PostgresDSN != tt.dsn || c.Node == "" || c.NATSURL != bus.DefaultNATSURL {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

// TestDeploymentsApart: two deployments share one NATS server, or one bus
// database, and publish on the same topic; each deployment's nodes
// receive only their own messages.
func TestDeploymentsApart(t *testing.T) {
	t.Parallel()
	for _, tr := range bustest.Transports() {
		if tr.Name == bus.GoChannel {
			continue // in-process: its "deployments" share one bus on purpose
		}
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			node := tr.Deployments(t)
			names := []string{bustest.Deployment(t), bustest.Deployment(t)}
			subs := map[string]<-chan *message.Message{}
			pubs := map[string]*bus.Bus{}
			for _, d := range names {
				subs[d] = pump(ctx, mustSubscribe(ctx, t, node(d), "ledger.events"))
				pubs[d] = node(d)
			}
			// Interleaved, as two live deployments write.
			const n = 10
			for i := range n {
				for _, d := range names {
					if err := pubs[d].Publisher.Publish("ledger.events", testMessage(d, i)); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, d := range names {
				got := receive(ctx, t, subs[d], n)
				for i, m := range got {
					if want := testMessage(d, i); m.UUID != want.UUID {
						t.Fatalf("deployment %s: message %d is %s %s, want its own %s", d, i, m.UUID, m.Payload, want.UUID)
					}
				}
			}
			// Nothing of the other deployment is queued behind: the next
			// message each receives is its own next one.
			for _, d := range names {
				if err := pubs[d].Publisher.Publish("ledger.events", testMessage(d, n)); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range names {
				if m := receive(ctx, t, subs[d], 1)[0]; m.UUID != testMessage(d, n).UUID {
					t.Fatalf("deployment %s received %s %s, not its own", d, m.UUID, m.Payload)
				}
			}
		})
	}
}

// TestPostgresPoolParameters: the store URL may carry the pool's
// parameters (README); the bus's plain connections must not send them to
// the server as settings.
func TestPostgresPoolParameters(t *testing.T) {
	t.Parallel()
	dsn, err := url.Parse(pgtest.MustDatabase(t))
	if err != nil || (dsn.Scheme != "postgres" && dsn.Scheme != "postgresql") {
		t.Skipf("the test server's DSN is not a URL (%v)", err)
	}
	q := dsn.Query()
	q.Set("pool_max_conns", "4")
	q.Set("pool_min_conns", "1")
	dsn.RawQuery = q.Encode()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.Postgres, Deployment: bustest.Deployment(t), PostgresDSN: dsn.String(), PollInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ch := pump(ctx, mustSubscribe(ctx, t, b, "ledger.events"))
	if err := b.Publisher.Publish("ledger.events", testMessage(dsn.Path, 0)); err != nil {
		t.Fatal(err)
	}
	receive(ctx, t, ch, 1)
}

func TestNamespace(t *testing.T) {
	t.Parallel()
	if ns := (bus.Config{}).Namespace(); ns != "" {
		t.Fatalf("no deployment: namespace %q, want none", ns)
	}
	token := regexp.MustCompile(`^([a-z0-9][a-z0-9_]{0,11}_)?[0-9a-f]{8}$`)
	seen := map[string]string{}
	for _, d := range []string{
		"prod", "Prod", "lycee_a", "Lycée-A", "lycee-a", "lycee.a", "ledger-7716564549726849171",
		"ledger-7716564549726849172", "école", "☃", strings.Repeat("x", 200), "a b", "pg:ledger@77165",
	} {
		ns := (bus.Config{Deployment: d}).Namespace()
		if !token.MatchString(ns) {
			t.Errorf("deployment %q: namespace %q is not a short token of [a-z0-9_]", d, ns)
		}
		if again := (bus.Config{Deployment: d}).Namespace(); again != ns {
			t.Errorf("deployment %q: namespace %q then %q", d, ns, again)
		}
		if other, ok := seen[ns]; ok {
			t.Errorf("deployments %q and %q share namespace %q", other, d, ns)
		}
		seen[ns] = d
		c := bus.Config{Kind: bus.NATS, Deployment: d}
		if err := c.Validate(); err != nil {
			t.Errorf("deployment %q: %v", d, err)
		}
		if c.NATSStream != "LEDGER_"+ns {
			t.Errorf("deployment %q: stream %q, want LEDGER_%s", d, c.NATSStream, ns)
		}
	}
	if ns := (bus.Config{Deployment: "Lycée Jean-Moulin"}).Namespace(); !strings.HasPrefix(ns, "lyc_e_jean_m") {
		t.Errorf("namespace %q does not start with the name's letters", ns)
	}
}
