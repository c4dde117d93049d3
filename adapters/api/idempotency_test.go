package api

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestIdempotencyKeyReplay: the same command with the same key twice
// returns the same response, says it is a replay, and records one set of
// events.
func TestIdempotencyKeyReplay(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name, path string
		body       any
	}{
		{"roll call", "/api/v1/rollcalls", domain.RecordRollCall{
			Group: w.Class, Date: w.LessonDate, Slot: domain.Slot{Start: "09:00", End: "09:55"}, Subject: "Mathématiques",
			Absent: []uuid.UUID{w.Student2}, Late: []domain.Late{{Student: w.Accounts[asStudent], Minutes: 5}},
		}},
		// The message's id is derived from the key: a retry targets the
		// same stream.
		{"message with a server-made id", "/api/v1/messages", domain.SendMessage{
			ToAccounts: []uuid.UUID{w.Accounts[asRelative]}, Subject: "Rendez-vous", Body: "Mardi 17 h ?",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, store := w.fork(t)
			req := request{method: "POST", path: tt.path, body: tt.body, token: tokenOf(asTeacher),
				headers: map[string]string{headerIdempotencyKey: "retry-" + tt.name[:4]}}
			before := len(w.Records(store))
			first := do(t, srv, req)
			if first.status != http.StatusCreated {
				t.Fatalf("first: %d %s", first.status, first.body)
			}
			appended := len(w.Records(store)) - before
			if appended == 0 {
				t.Fatal("the first request appended nothing")
			}
			second := do(t, srv, req)
			if second.status != first.status || !bytes.Equal(second.body, first.body) {
				t.Errorf("replay differs:\n%d %s\n%d %s", first.status, first.body, second.status, second.body)
			}
			if first.header.Get(headerReplayed) != "" || second.header.Get(headerReplayed) != "true" {
				t.Errorf("Idempotent-Replayed: first %q, second %q", first.header.Get(headerReplayed), second.header.Get(headerReplayed))
			}
			if n := len(w.Records(store)) - before; n != appended {
				t.Errorf("the replay appended %d more events", n-appended)
			}
			res := mustDecode[map[string]any](t, second)
			if _, ok := res["replayed"]; ok {
				t.Errorf("the body tells a replay: %s", second.body)
			}
			if ev, _ := res["events"].([]any); len(ev) != appended {
				t.Errorf("events %v, %d appended", res["events"], appended)
			}
			// Without the key, the same request is a new act.
			req.headers = nil
			if tt.path == "/api/v1/messages" {
				if r := do(t, srv, req); r.status != http.StatusCreated || bytes.Equal(r.body, first.body) {
					t.Errorf("without a key: %d %s", r.status, r.body)
				}
			}
		})
	}
}

// TestIdempotencyKeyReusedForAnotherCommand: a key names one act; its
// reuse for another is 422, as the IETF Idempotency-Key draft says.
func TestIdempotencyKeyReusedForAnotherCommand(t *testing.T) {
	w := newWorld(t)
	srv, store := w.fork(t)
	key := map[string]string{headerIdempotencyKey: "k-1"}
	r := do(t, srv, request{method: "POST", path: "/api/v1/messages", token: tokenOf(asTeacher), headers: key,
		body: domain.SendMessage{ToAccounts: []uuid.UUID{w.Accounts[asCPE]}, Subject: "A", Body: "B"}})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	before := len(w.Records(store))
	r = do(t, srv, request{method: "POST", path: "/api/v1/news", token: tokenOf(asTeacher), headers: key,
		body: domain.PublishArticle{Establishment: w.UAI, Title: "A", Body: "B"}})
	mustProblem(t, r, http.StatusUnprocessableEntity, "idempotency-key-reused")
	if after := len(w.Records(store)); after != before {
		t.Errorf("appended %d events", after-before)
	}
}

// TestIdempotencyKeyReusedForAnotherRequest: the same key with another
// body, path or actor is 422 and records nothing; the first request still
// replays.
func TestIdempotencyKeyReusedForAnotherRequest(t *testing.T) {
	w := newWorld(t)
	key := map[string]string{headerIdempotencyKey: "k-2"}
	message := domain.SendMessage{ToAccounts: []uuid.UUID{w.Accounts[asCPE]}, Subject: "Rendez-vous", Body: "Mardi 17 h ?"}
	first := request{method: "POST", path: "/api/v1/messages", token: tokenOf(asTeacher), headers: key, body: message}
	other := message
	other.Body = "Jeudi 17 h ?"
	tests := []struct {
		name string
		req  request
	}{
		{"another body", request{method: "POST", path: "/api/v1/messages", token: tokenOf(asTeacher), headers: key, body: other}},
		{"another path", request{method: "POST", path: "/api/v1/messages/" + w.Message.String() + "/read", token: tokenOf(asTeacher), headers: key}},
		{"another actor", request{method: "POST", path: "/api/v1/messages", token: tokenOf(asCPE), headers: key,
			body: domain.SendMessage{ToAccounts: []uuid.UUID{w.Accounts[asTeacher]}, Subject: "Rendez-vous", Body: "Mardi 17 h ?"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, store := w.fork(t)
			r := do(t, srv, first)
			if r.status != http.StatusCreated {
				t.Fatalf("first: %d %s", r.status, r.body)
			}
			before := len(w.Records(store))
			mustProblem(t, do(t, srv, tt.req), http.StatusUnprocessableEntity, "idempotency-key-reused")
			if after := len(w.Records(store)); after != before {
				t.Errorf("appended %d events", after-before)
			}
			again := do(t, srv, first)
			if again.status != http.StatusCreated || !bytes.Equal(again.body, r.body) || again.header.Get(headerReplayed) != "true" {
				t.Errorf("the first request no longer replays: %d %s", again.status, again.body)
			}
		})
	}
}

// TestCorrelationID: a uuid in X-Correlation-ID correlates the events; any
// other value is ignored.
func TestCorrelationID(t *testing.T) {
	w := newWorld(t)
	srv, store := w.fork(t)
	corr := uuid.New()
	body := domain.SendMessage{ToAccounts: []uuid.UUID{w.Accounts[asCPE]}, Subject: "A", Body: "B"}
	r := do(t, srv, request{method: "POST", path: "/api/v1/messages", token: tokenOf(asTeacher), body: body,
		headers: map[string]string{headerCorrelationID: corr.String()}})
	if got := mustDecode[CommandResponse](t, r); got.CorrelationID != corr {
		t.Errorf("correlation %s, want %s", got.CorrelationID, corr)
	}
	recs := w.Records(store)
	if last := recs[len(recs)-1]; last.Metadata.CorrelationID != corr || last.Metadata.Actor != w.Accounts[asTeacher] {
		t.Errorf("metadata %+v", last.Metadata)
	}
	r = do(t, srv, request{method: "POST", path: "/api/v1/messages", token: tokenOf(asTeacher), body: body,
		headers: map[string]string{headerCorrelationID: "not-a-uuid"}})
	if got := mustDecode[CommandResponse](t, r); r.status != http.StatusCreated || got.CorrelationID == uuid.Nil {
		t.Errorf("%d %s", r.status, r.body)
	}
}
