// Package bustest gives tests the transports of adapters/bus.
//
// NATS: the server in LEDGER_TEST_NATS (a nats:// URL), by default
// nats://127.0.0.1:4222, with JetStream enabled (nats-server -js). When no
// server answers the test is skipped, unless CI=true, where it fails.
// Postgres: see adapters/postgres/pgtest.
package bustest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
)

// EnvNATS names the variable that points the tests at a NATS server.
const EnvNATS = "LEDGER_TEST_NATS"

// MustNATS returns the URL of a NATS server with JetStream, or skips (fails
// on CI).
func MustNATS(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvNATS)
	if url == "" {
		url = bus.DefaultNATSURL
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second), nats.MaxReconnects(0))
	if err == nil {
		defer nc.Close()
		var js nats.JetStreamContext
		if js, err = nc.JetStream(); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, err = js.AccountInfo(nats.Context(ctx))
		}
	}
	if err != nil {
		msg := "bustest: no NATS server with JetStream at " + url + " (" + err.Error() + "); start one with `nats-server -js` or set " + EnvNATS + " to its nats:// URL"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return url
}

// Topic returns a topic of its own for one test ("ledger.test-…"), so that
// tests sharing a server do not see each other's messages.
func Topic(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "ledger.test-" + hex.EncodeToString(b[:])
}

// Deployment returns a deployment name of its own for one test
// ("test-…"), so that tests sharing a server have streams and tables of
// their own.
func Deployment(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b[:])
}

// Transport is one of the bus's transports, for tests.
type Transport struct {
	Name string
	// Nodes prepares the transport for test t (a database of its own for
	// Postgres) and returns a function that opens the bus of one more node,
	// closed when t ends.
	Nodes func(t testing.TB) (node func() *bus.Bus)
	// Deployments prepares one server for test t that several deployments
	// share (one NATS server; one bus database on Postgres, as when
	// deployments give the same --bus-postgres) and returns a function
	// that opens the bus of one more node of a deployment on it.
	Deployments func(t testing.TB) (node func(deployment string) *bus.Bus)
}

// Transports lists the three transports. GoChannel is in-process: its
// nodes share one bus, and so do its deployments, each bus only naming
// its own (a stand-in for a transport that would not keep deployments
// apart: what remains is the hubs' check). The others skip without a
// server (see above).
func Transports() []Transport {
	return []Transport{
		{Name: bus.GoChannel, Nodes: func(t testing.TB) func() *bus.Bus {
			shared := MustOpen(t, bus.Config{Kind: bus.GoChannel})
			return func() *bus.Bus { return shared }
		}, Deployments: func(t testing.TB) func(string) *bus.Bus {
			shared := MustOpen(t, bus.Config{Kind: bus.GoChannel})
			return func(deployment string) *bus.Bus {
				return &bus.Bus{Kind: bus.GoChannel, Deployment: deployment, Node: shared.Node, Publisher: shared.Publisher, Subscriber: shared.Subscriber}
			}
		}},
		{Name: bus.Postgres, Nodes: func(t testing.TB) func() *bus.Bus {
			dsn := pgtest.MustDatabase(t)
			return func() *bus.Bus {
				return MustOpen(t, bus.Config{Kind: bus.Postgres, PostgresDSN: dsn, PollInterval: 20 * time.Millisecond})
			}
		}, Deployments: func(t testing.TB) func(string) *bus.Bus {
			dsn := pgtest.MustDatabase(t)
			return func(deployment string) *bus.Bus {
				return MustOpen(t, bus.Config{Kind: bus.Postgres, Deployment: deployment, PostgresDSN: dsn, PollInterval: 20 * time.Millisecond})
			}
		}},
		{Name: bus.NATS, Nodes: func(t testing.TB) func() *bus.Bus {
			url := MustNATS(t)
			return func() *bus.Bus { return MustOpen(t, bus.Config{Kind: bus.NATS, NATSURL: url}) }
		}, Deployments: func(t testing.TB) func(string) *bus.Bus {
			url := MustNATS(t)
			streams := map[string]bool{}
			return func(deployment string) *bus.Bus {
				cfg := bus.Config{Kind: bus.NATS, Deployment: deployment, NATSURL: url}
				if err := cfg.Validate(); err != nil {
					t.Fatal(err)
				}
				if !streams[cfg.NATSStream] {
					// Registered before the first node opens: removed once
					// every node of the deployment has closed.
					streams[cfg.NATSStream] = true
					t.Cleanup(func() { deleteStream(t, url, cfg.NATSStream) })
				}
				return MustOpen(t, cfg)
			}
		}},
	}
}

// deleteStream removes a test's stream from the shared server.
func deleteStream(t testing.TB, url, stream string) {
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second), nats.MaxReconnects(0))
	if err != nil {
		t.Errorf("bustest: delete stream %s: %v", stream, err)
		return
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err == nil {
		err = js.DeleteStream(stream)
	}
	if err != nil && !errors.Is(err, nats.ErrStreamNotFound) {
		t.Errorf("bustest: delete stream %s: %v", stream, err)
	}
}

// MustOpen opens a bus closed when the test ends.
func MustOpen(t testing.TB, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bus: %v", err)
		}
	})
	return b
}
