package delivery_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/notify/webpush"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sqlite"
)

// mustStores returns, for each dialect, a function opening two handles on
// one fresh database: two nodes.
func mustStores() map[string]func(t *testing.T) [2]*delivery.Store {
	ctx := context.Background()
	return map[string]func(t *testing.T) [2]*delivery.Store{
		"sqlite": func(t *testing.T) (out [2]*delivery.Store) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			for i := range out {
				s, err := sqlite.Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				out[i] = delivery.NewSQLiteStore(s.DB(), s.WithTx)
			}
			return out
		},
		"postgres": func(t *testing.T) (out [2]*delivery.Store) {
			dsn := pgtest.MustDatabase(t)
			for i := range out {
				s, err := postgres.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				if err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				out[i] = delivery.NewPostgresStore(s.Pool())
				t.Cleanup(func() { _ = out[i].Close() })
			}
			return out
		},
	}
}

var t0 = time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)

func newDelivery(ch delivery.Channel, due time.Time) delivery.Delivery {
	return delivery.Delivery{
		Key:       delivery.Key{Notification: uuid.New(), Channel: ch, Recipient: uuid.New()},
		EventType: "absence.recorded.v1", Category: "absences", Due: due,
		Data: []byte(`{"title":"Léa absente"}`),
	}
}

// TestDeliveriesOnce: a delivery planned twice exists once; two nodes
// claiming at once never get the same one; a lease that ends gives the
// delivery to another node, and the first one's late outcome is refused.
func TestDeliveriesOnce(t *testing.T) {
	ctx := context.Background()
	for name, open := range mustStores() {
		t.Run(name, func(t *testing.T) {
			nodes := open(t)
			a, b := nodes[0], nodes[1]
			var ds []delivery.Delivery
			for range 40 {
				ds = append(ds, newDelivery(delivery.Email, t0))
			}
			if n, err := a.Enqueue(ctx, "plan", "p1", ds, t0); err != nil || n != 40 {
				t.Fatalf("enqueue: %d %v", n, err)
			}
			if n, err := b.Enqueue(ctx, "plan", "p2", ds[:10], t0); err != nil || n != 0 {
				t.Fatalf("enqueue again: %d %v", n, err)
			}
			if c, err := a.Cursor(ctx, "plan"); err != nil || c != "p2" {
				t.Fatalf("cursor %q %v", c, err)
			}
			// Nothing is due before its time.
			if got, err := a.Claim(ctx, "early", t0.Add(-time.Second), time.Minute, 100); err != nil || len(got) != 0 {
				t.Fatalf("claimed %d early: %v", len(got), err)
			}
			var (
				mu      sync.Mutex
				claimed = map[delivery.Key]int{}
				wg      sync.WaitGroup
			)
			for i := range 8 {
				node := nodes[i%2]
				wg.Go(func() {
					for {
						owner := "n" + string(rune('a'+i))
						got, err := node.Claim(ctx, owner, t0, time.Minute, 3)
						if err != nil {
							t.Error(err)
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, d := range got {
							claimed[d.Key]++
							if ok, err := node.Finish(ctx, owner, d.Key, delivery.Sent, "", t0); err != nil || !ok {
								t.Errorf("finish: %v %v", ok, err)
							}
							if d.Attempts != 1 || string(d.Data) != `{"title":"Léa absente"}` {
								t.Errorf("claimed %+v", d)
							}
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(claimed) != 40 {
				t.Fatalf("%d claimed", len(claimed))
			}
			for k, n := range claimed {
				if n != 1 {
					t.Fatalf("%v claimed %d times", k, n)
				}
			}

			// A node that dies holding a lease: another claims once it ends.
			d := newDelivery(delivery.Push, t0)
			if _, err := a.Enqueue(ctx, "", "", []delivery.Delivery{d}, t0); err != nil {
				t.Fatal(err)
			}
			if got, err := a.Claim(ctx, "dead-node", t0, time.Minute, 10); err != nil || len(got) != 1 {
				t.Fatalf("claim: %v %v", got, err)
			}
			if got, err := b.Claim(ctx, "b", t0.Add(59*time.Second), time.Minute, 10); err != nil || len(got) != 0 {
				t.Fatalf("claimed under a lease: %v %v", got, err)
			}
			got, err := b.Claim(ctx, "b", t0.Add(time.Minute), time.Minute, 10)
			if err != nil || len(got) != 1 || got[0].Attempts != 2 {
				t.Fatalf("claim after the lease: %+v %v", got, err)
			}
			if ok, err := a.Finish(ctx, "dead-node", d.Key, delivery.Sent, "", t0); err != nil || ok {
				t.Fatalf("a lost lease finished: %v %v", ok, err)
			}
			if ok, err := b.Finish(ctx, "b", d.Key, delivery.Sent, "", t0.Add(time.Minute)); err != nil || !ok {
				t.Fatalf("finish: %v %v", ok, err)
			}
			if ok, err := b.Finish(ctx, "b", d.Key, delivery.Sent, "", t0.Add(time.Minute)); err != nil || ok {
				t.Fatalf("finished twice: %v %v", ok, err)
			}
			sent, ok, err := a.Get(ctx, d.Key)
			if err != nil || !ok || sent.State != delivery.Sent || string(sent.Data) != "{}" {
				t.Fatalf("sent: %+v %v %v (its text stays)", sent, ok, err)
			}
		})
	}
}

// TestRetryDeadResendRecord: a retry waits for its time; a dead letter is
// listed and resent; outcomes are recorded in batches chosen once.
func TestRetryDeadResendRecord(t *testing.T) {
	ctx := context.Background()
	for name, open := range mustStores() {
		t.Run(name, func(t *testing.T) {
			s := open(t)[0]
			d := newDelivery(delivery.SMS, t0)
			if _, err := s.Enqueue(ctx, "", "", []delivery.Delivery{d}, t0); err != nil {
				t.Fatal(err)
			}
			mustClaim(t, s, t0, 1)
			if ok, err := s.Retry(ctx, "w", d.Key, t0.Add(time.Minute), "503", t0); err != nil || !ok {
				t.Fatalf("retry: %v %v", ok, err)
			}
			mustClaim(t, s, t0.Add(59*time.Second), 0)
			mustClaim(t, s, t0.Add(time.Minute), 1)
			if ok, err := s.Finish(ctx, "w", d.Key, delivery.Dead, "gateway answered 503", t0.Add(time.Minute)); err != nil || !ok {
				t.Fatalf("dead: %v %v", ok, err)
			}
			dead, err := s.List(ctx, delivery.Dead, 10)
			if err != nil || len(dead) != 1 || dead[0].LastError != "gateway answered 503" || dead[0].Attempts != 2 ||
				string(dead[0].Data) != `{"title":"Léa absente"}` {
				t.Fatalf("dead letters: %+v %v", dead, err)
			}
			// Its outcome is chosen into a batch; asked again (a crash before
			// recording), the same batch comes back.
			batch, got, err := s.Unrecorded(ctx, "b1", 100)
			if err != nil || batch != "b1" || len(got) != 1 {
				t.Fatalf("unrecorded: %s %v %v", batch, got, err)
			}
			batch, got, err = s.Unrecorded(ctx, "b2", 100)
			if err != nil || batch != "b1" || len(got) != 1 {
				t.Fatalf("unrecorded again: %s %v %v", batch, got, err)
			}
			if err := s.MarkRecorded(ctx, "b1"); err != nil {
				t.Fatal(err)
			}
			if _, got, err := s.Unrecorded(ctx, "b3", 100); err != nil || len(got) != 0 {
				t.Fatalf("recorded twice: %v %v", got, err)
			}
			// The office resends it: pending again, attempts afresh.
			if ok, err := s.Resend(ctx, d.Key, t0.Add(time.Hour)); err != nil || !ok {
				t.Fatalf("resend: %v %v", ok, err)
			}
			if ok, err := s.Resend(ctx, d.Key, t0.Add(time.Hour)); err != nil || ok {
				t.Fatalf("resent a pending delivery: %v %v", ok, err)
			}
			re := mustClaim(t, s, t0.Add(time.Hour), 1)
			if re[0].Attempts != 1 {
				t.Fatalf("resent: %+v", re[0])
			}
			if ok, err := s.Finish(ctx, "w", d.Key, delivery.Sent, "", t0.Add(time.Hour)); err != nil || !ok {
				t.Fatal(ok, err)
			}
			if _, got, err := s.Unrecorded(ctx, "b4", 100); err != nil || len(got) != 1 || got[0].State != delivery.Sent {
				t.Fatalf("resent outcome: %v %v", got, err)
			}
		})
	}
}

func mustClaim(t *testing.T, s *delivery.Store, now time.Time, want int) []delivery.Delivery {
	t.Helper()
	got, err := s.Claim(context.Background(), "w", now, time.Minute, 10)
	if err != nil || len(got) != want {
		t.Fatalf("claimed %d at %s, want %d: %v", len(got), now, want, err)
	}
	return got
}

func mustSubscription(t *testing.T, endpoint string) webpush.Subscription {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return webpush.Subscription{
		Endpoint: endpoint,
		P256DH:   base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(auth),
	}
}

func TestSubscriptionsAndContacts(t *testing.T) {
	ctx := context.Background()
	for name, open := range mustStores() {
		t.Run(name, func(t *testing.T) {
			s := open(t)[0]
			parent, other := uuid.New(), uuid.New()
			if err := s.Subscribe(ctx, parent, webpush.Subscription{Endpoint: "http://push.example/x", P256DH: "x", Auth: "y"}, t0); err == nil {
				t.Fatal("an invalid subscription was kept")
			}
			phone, laptop := mustSubscription(t, "https://push.example/phone"), mustSubscription(t, "https://push.example/laptop")
			for i, sub := range []webpush.Subscription{phone, laptop} {
				if err := s.Subscribe(ctx, parent, sub, t0.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			subs, err := s.Subscriptions(ctx, parent)
			if err != nil || len(subs) != 2 || subs[0] != laptop {
				t.Fatalf("subscriptions %v %v", subs, err)
			}
			if ok, err := s.Unsubscribe(ctx, other, phone.Endpoint); err != nil || ok {
				t.Fatalf("another account unsubscribed it: %v %v", ok, err)
			}
			if err := s.DropEndpoint(ctx, phone.Endpoint); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.Unsubscribe(ctx, parent, laptop.Endpoint); err != nil || !ok {
				t.Fatalf("unsubscribe: %v %v", ok, err)
			}
			if subs, err := s.Subscriptions(ctx, parent); err != nil || len(subs) != 0 {
				t.Fatalf("left %v %v", subs, err)
			}
			for i := range delivery.MaxSubscriptions + 2 {
				if err := s.Subscribe(ctx, parent, mustSubscription(t, "https://push.example/"+uuid.NewString()), t0.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			if subs, err := s.Subscriptions(ctx, parent); err != nil || len(subs) != delivery.MaxSubscriptions {
				t.Fatalf("%d subscriptions kept: %v", len(subs), err)
			}
			if err := s.SetContact(ctx, parent, delivery.Email, "parent@example.fr", t0); err != nil {
				t.Fatal(err)
			}
			if a, err := s.Contact(ctx, parent, delivery.Email); err != nil || a != "parent@example.fr" {
				t.Fatalf("contact %q %v", a, err)
			}
			if err := s.Forget(ctx, parent); err != nil {
				t.Fatal(err)
			}
			if a, err := s.Contact(ctx, parent, delivery.Email); err != nil || a != "" {
				t.Fatalf("contact after erasure %q %v", a, err)
			}
		})
	}
}
