package commands_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// TestIdempotencyKeyNamesOneRequest: a key is a replay only for the very
// request that used it first (command, actor and fields); any other
// request with it is refused and appends nothing, whether it targets the
// same stream or another.
func TestIdempotencyKeyNamesOneRequest(t *testing.T) {
	const key = "one-act"
	message := func(w *world) domain.SendMessage {
		return domain.SendMessage{ToAccounts: []uuid.UUID{w.Teacher}, Subject: "Absence de Léa", Body: "Léa sera absente jeudi."}
	}
	tests := []struct {
		name string
		run  func(w *world) (commands.Result, error)
	}{
		{"same command, another body", func(w *world) (commands.Result, error) {
			m := message(w)
			m.Body = "Léa sera absente vendredi."
			return w.h.SendMessage(w.ctx, keyed(as(w.Relative), key), m)
		}},
		{"same command, another entity", func(w *world) (commands.Result, error) {
			m := message(w)
			m.Message = uuid.New()
			return w.h.SendMessage(w.ctx, keyed(as(w.Relative), key), m)
		}},
		{"same command and body, another actor", func(w *world) (commands.Result, error) {
			return w.h.SendMessage(w.ctx, keyed(as(w.OtherRelative), key), message(w))
		}},
		{"another command", func(w *world) (commands.Result, error) {
			return w.h.PublishArticle(w.ctx, keyed(as(w.CPE), key), domain.PublishArticle{Establishment: w.UAI, Title: "Sortie", Body: "Au musée"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			m := message(w)
			first, err := w.h.SendMessage(w.ctx, keyed(as(w.Relative), key), m)
			if err != nil {
				t.Fatal(err)
			}
			w.thenError(func() (commands.Result, error) { return tt.run(w) }, domain.ErrIdempotencyKey)
			// The first request still replays.
			again, err := w.h.SendMessage(w.ctx, keyed(as(w.Relative), key), m)
			if err != nil || !again.Replayed || again.ID != first.ID || again.Position != first.Position {
				t.Fatalf("replay after a refused reuse: %+v, %v; first %+v", again, err, first)
			}
		})
	}
}

// TestIdempotencyKeyOnTheSameStream: a roll call of the same lesson with
// the same key but other absentees meets the first roll call's events in
// the lesson's stream and is refused.
func TestIdempotencyKeyOnTheSameStream(t *testing.T) {
	w := newWorld(t)
	req := keyed(as(w.Teacher), "rollcall-6A-monday-8h")
	if _, err := w.h.RecordRollCall(w.ctx, req, rollCall(w, []uuid.UUID{w.Student})); err != nil {
		t.Fatal(err)
	}
	w.thenError(func() (commands.Result, error) {
		return w.h.RecordRollCall(w.ctx, req, rollCall(w, []uuid.UUID{w.Student2}))
	}, domain.ErrIdempotencyKey)
}

// TestIdempotencyFingerprintStored: the fingerprint is in the events'
// metadata, so that every node, after any restart, checks against it.
func TestIdempotencyFingerprintStored(t *testing.T) {
	w := newWorld(t)
	_, recs, err := w.when(func() (commands.Result, error) {
		return w.h.SendMessage(w.ctx, keyed(as(w.Relative), "k"), domain.SendMessage{ToAccounts: []uuid.UUID{w.Teacher}, Subject: "a", Body: "b"})
	})
	if err != nil || len(recs) == 0 {
		t.Fatalf("%v, %d events", err, len(recs))
	}
	if recs[0].Metadata.Request == "" {
		t.Fatalf("no fingerprint in %+v", recs[0].Metadata)
	}
	_, recs, err = w.when(func() (commands.Result, error) {
		return w.h.SendMessage(w.ctx, as(w.Relative), domain.SendMessage{ToAccounts: []uuid.UUID{w.Teacher}, Subject: "a", Body: "b"})
	})
	if err != nil || len(recs) == 0 || recs[0].Metadata.Request != "" {
		t.Fatalf("without a key: %v, %+v", err, recs)
	}
}

// TestIdempotencyKeyBeforeFingerprints: events recorded when event ids
// were derived from the actor and the key, without a fingerprint, still
// make a retry a replay.
func TestIdempotencyKeyBeforeFingerprints(t *testing.T) {
	w := newWorld(t)
	const key = "recorded-long-ago"
	id := domain.DeterministicID("entity", w.Relative.String(), key)
	typ, data, err := w.reg.Encode(domain.MessageSent{Message: id, From: w.Relative, ToAccounts: []uuid.UUID{w.Teacher}, Subject: "a", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	env := domain.Envelope{ID: domain.DeterministicID("event", w.Relative.String(), key, "0"), Type: typ, Data: data,
		Metadata: domain.Metadata{Actor: w.Relative, Profile: domain.ProfileRelative, Establishment: w.UAI, Command: commands.CmdSendMessage, Time: w.now}}
	if _, err := w.store.Append(w.ctx, domain.MessageStream(id), domain.Exact(0), []domain.Envelope{env}); err != nil {
		t.Fatal(err)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		res, err := w.h.SendMessage(w.ctx, keyed(as(w.Relative), key), domain.SendMessage{ToAccounts: []uuid.UUID{w.Teacher}, Subject: "a", Body: "b"})
		if err == nil && (!res.Replayed || res.ID != id || len(res.Events) != 1 || res.Events[0] != env.ID) {
			t.Errorf("replay: %+v", res)
		}
		return res, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("retry of an old request: %v, %d events appended", err, len(got))
	}
}

// keyed returns req with an idempotency key.
func keyed(req commands.Request, key string) commands.Request {
	req.IdempotencyKey = key
	return req
}
