package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// TestResealThroughput measures `ledger privacy reseal` on a large store
// written in clear: LEDGER_RESEAL_EVENTS events (say 100000), a third of
// them with personal fields (messages, punishments), on SQLite, or on
// Postgres when LEDGER_RESEAL_POSTGRES names two databases' DSNs separated
// by a space (source, then an empty destination). It logs events per
// second (docs/privacy.md).
func TestResealThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LEDGER_RESEAL_EVENTS"))
	if n <= 0 {
		t.Skip("set LEDGER_RESEAL_EVENTS=100000 to measure the re-sealed copy of that many events")
	}
	ctx := context.Background()
	from, to := sqliteStore(t).spec, sqliteStore(t).spec
	if pg := os.Getenv("LEDGER_RESEAL_POSTGRES"); pg != "" {
		if _, err := fmt.Sscan(pg, &from, &to); err != nil {
			t.Fatalf("LEDGER_RESEAL_POSTGRES: %v", err)
		}
	}
	began := time.Now()
	writeClear(t, from, n)
	t.Logf("source: %d events written in clear in %s", n, time.Since(began).Round(time.Millisecond))

	var out bytes.Buffer
	cfg := Config{LogLevel: "info", LogFormat: "text"}
	rs := resealer{cfg: &cfg, log: slog.New(slog.DiscardHandler), batch: 2000, stdout: &out, stderr: io.Discard}
	began = time.Now()
	rep, err := rs.run(ctx, from, to)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	took := time.Since(began)
	t.Logf("%s", out.String())
	if rep.Compared != n || !rep.Verify.OK() {
		t.Fatalf("compared %d of %d, verify %+v", rep.Compared, n, rep.Verify)
	}
	t.Logf("the whole command (verify and seal the source, copy, check, seal and verify the copy): %s, %.0f events/s", took.Round(time.Millisecond), float64(n)/took.Seconds())
}

// writeClear appends n events to store as a ledger that did not seal:
// accounts opened with their names, then messages, punishments and
// connections in turn.
func writeClear(t *testing.T, spec string, n int) {
	t.Helper()
	ctx := context.Background()
	store, err := openStore(ctx, spec, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	batcher := store.(interface {
		AppendBatch(ctx context.Context, appends []commands.StreamAppend) ([]domain.AppendResult, error)
	})
	reg := domain.NewRegistry()
	const accounts = 1000
	ids := make([]uuid.UUID, accounts)
	for i := range ids {
		ids[i] = uuid.New()
	}
	versions := map[string]uint64{}
	at := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	var batch []commands.StreamAppend
	add := func(stream string, e domain.Event) {
		typ, data, err := reg.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		v := versions[stream]
		versions[stream] = v + 1
		at = at.Add(time.Second)
		batch = append(batch, commands.StreamAppend{Stream: stream, Expected: domain.Exact(v), Events: []domain.Envelope{{
			ID: uuid.New(), Type: typ, Data: data,
			Metadata: domain.Metadata{Profile: domain.ProfileSystem, Establishment: DemoUAI, CorrelationID: uuid.New(), Command: "Bench", Time: at},
		}}})
		if len(batch) == 2000 {
			if _, err := batcher.AppendBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for i := range n {
		a := ids[i%accounts]
		switch {
		case i < accounts:
			add(domain.AccountStream(a), domain.AccountOpened{Account: a, Establishment: DemoUAI, Profile: domain.ProfileStudent,
				DisplayName: fmt.Sprintf("Élève %d Nom%d", i, i)})
		case i%3 == 0:
			msg := uuid.New()
			add(domain.MessageStream(msg), domain.MessageSent{Message: msg, From: a, ToAccounts: []uuid.UUID{ids[(i+1)%accounts]},
				Subject: fmt.Sprintf("Sujet %d", i), Body: fmt.Sprintf("Bonjour, voici le message numéro %d au sujet de la sortie.", i)})
		case i%3 == 1:
			add(domain.DisciplineStream(a), domain.PunishmentGiven{Punishment: uuid.New(), Student: a, Kind: domain.PunishmentDetention,
				Date: domain.DateOf(at), Reason: fmt.Sprintf("Bavardages répétés en cours, le %d", i)})
		default:
			add(domain.ConnectionsStream(a), domain.UserConnected{Account: a, Profile: domain.ProfileStudent, Establishment: DemoUAI, Method: domain.SignInPassword})
		}
	}
	if len(batch) > 0 {
		if _, err := batcher.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
}
