package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/notify/sms"
)

// gateway is a local operator API that records what it receives and
// answers the status it is told to.
type gateway struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies []string
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got = append(g.got, r)
	g.bodies = append(g.bodies, string(b))
	w.WriteHeader(g.status)
	_, _ = io.WriteString(w, `{"error":"refused"}`)
}

func mustGateway(t *testing.T, cfg sms.GatewayConfig) (*sms.Gateway, *gateway) {
	t.Helper()
	g := &gateway{status: http.StatusCreated}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL + "/send"
	s, err := sms.NewGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, g
}

const text = "Léa absente — 08:00 Mathématiques \"salle\" & co"

func TestGatewayJSON(t *testing.T) {
	s, g := mustGateway(t, sms.GatewayConfig{
		Payload:    `{"to":"{{to}}","message":"{{text}}","ref":"{{id}}","sender":"COLLEGE"}`,
		AuthHeader: "Authorization", AuthValue: "Bearer s3cret",
	})
	out, err := s.Send(context.Background(), sms.Message{To: "+33612345678", Text: text, ID: "d-1"})
	if err != nil || out.Status != sms.Sent || out.Code != http.StatusCreated {
		t.Fatalf("send: %+v %v", out, err)
	}
	r := g.got[0]
	if r.Method != http.MethodPost || r.URL.Path != "/send" || r.Header.Get("Authorization") != "Bearer s3cret" ||
		r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Idempotency-Key") != "d-1" {
		t.Fatalf("request: %s %s %v", r.Method, r.URL, r.Header)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(g.bodies[0]), &body); err != nil {
		t.Fatalf("body %q: %v", g.bodies[0], err)
	}
	want := map[string]string{"to": "+33612345678", "message": text, "ref": "d-1", "sender": "COLLEGE"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%s] = %q, want %q", k, body[k], v)
		}
	}
}

func TestGatewayForm(t *testing.T) {
	s, g := mustGateway(t, sms.GatewayConfig{Method: "put", Format: sms.FormatForm, Payload: "to={{to}}&text={{text}}&from=COLLEGE"})
	if _, err := s.Send(context.Background(), sms.Message{To: "+33612345678", Text: text}); err != nil {
		t.Fatal(err)
	}
	if g.got[0].Method != http.MethodPut || g.got[0].Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("request: %s %v", g.got[0].Method, g.got[0].Header)
	}
	v, err := url.ParseQuery(g.bodies[0])
	if err != nil || v.Get("to") != "+33612345678" || v.Get("text") != text || v.Get("from") != "COLLEGE" {
		t.Fatalf("form %q: %v %v", g.bodies[0], v, err)
	}
}

func TestGatewayOutcomes(t *testing.T) {
	for _, tc := range []struct {
		code int
		want sms.Status
	}{
		{200, sms.Sent}, {202, sms.Sent},
		{429, sms.Retryable}, {500, sms.Retryable}, {503, sms.Retryable},
		{400, sms.Permanent}, {401, sms.Permanent}, {404, sms.Permanent}, {302, sms.Permanent},
	} {
		s, g := mustGateway(t, sms.GatewayConfig{Payload: `{"to":"{{to}}","text":"{{text}}"}`})
		g.status = tc.code
		out, err := s.Send(context.Background(), sms.Message{To: "+33612345678", Text: "x"})
		if out.Status != tc.want || out.Code != tc.code || (err == nil) != (tc.want == sms.Sent) {
			t.Errorf("%d: %+v %v, want %v", tc.code, out, err, tc.want)
		}
		if tc.want != sms.Sent && out.Detail != `{"error":"refused"}` {
			t.Errorf("%d: detail %q", tc.code, out.Detail)
		}
	}
}

func TestGatewayUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	s, err := sms.NewGateway(sms.GatewayConfig{URL: addr, Payload: `{"to":"{{to}}","text":"{{text}}"}`})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Send(context.Background(), sms.Message{To: "+33612345678", Text: "x"})
	if err == nil || out.Status != sms.Retryable {
		t.Fatalf("%+v %v", out, err)
	}
	// A timeout is retryable too: the server answers once the test ends.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	s, err = sms.NewGateway(sms.GatewayConfig{URL: slow.URL, Payload: `{"to":"{{to}}","text":"{{text}}"}`, Timeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.Send(context.Background(), sms.Message{To: "+33612345678", Text: "x"}); err == nil || out.Status != sms.Retryable {
		t.Fatalf("timeout: %+v %v", out, err)
	}
}

func TestGatewayConfig(t *testing.T) {
	for _, cfg := range []sms.GatewayConfig{
		{},
		{URL: "ftp://x", Payload: `{"to":"{{to}}","text":"{{text}}"}`},
		{URL: "https://x", Payload: `{"to":"{{to}}"}`},
		{URL: "https://x", Payload: `{"to":{{to}},"text":"{{text}}"}`},
		{URL: "https://x", Payload: `{"to":"{{to}}","text":"{{text}}"}`, Method: "GET"},
		{URL: "https://x", Payload: `{"to":"{{to}}","text":"{{text}}"}`, Format: "xml"},
		{URL: "https://x", Payload: `{"to":"{{to}}","text":"{{text}}"}`, AuthHeader: "Authorization"},
		{URL: "https://x", Payload: `{"to":"{{to}}","text":"{{text}}"}`, AuthHeader: "X-Key", AuthValue: "a\r\nX-Evil: 1"},
	} {
		if _, err := sms.NewGateway(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestInvalidMessagesAreNotSent(t *testing.T) {
	s, g := mustGateway(t, sms.GatewayConfig{Payload: `{"to":"{{to}}","text":"{{text}}"}`})
	for _, m := range []sms.Message{
		{To: "0612345678", Text: "x"},
		{To: "+0612345678", Text: "x"},
		{To: "+33 6 12 34 56 78", Text: "x"},
		{To: "+33612345678", Text: ""},
		{To: "+33612345678", Text: "a\x00b"},
		{To: "+33612345678", Text: "a\u202eb"},
		{To: "+33612345678", Text: "\xff"},
		{To: "+33612345678", Text: strings.Repeat("é", sms.MaxText+1)},
	} {
		out, err := s.Send(context.Background(), m)
		if !errors.Is(err, sms.ErrInvalidMessage) || out.Status != sms.Permanent {
			t.Errorf("%+q: %+v %v", m, out, err)
		}
	}
	if len(g.got) != 0 {
		t.Fatalf("%d invalid messages reached the gateway", len(g.got))
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sms.jsonl")
	at := time.Date(2026, 12, 7, 7, 1, 0, 0, time.UTC)
	f := sms.NewFile(path, func() time.Time { return at })
	for _, txt := range []string{"Léa absente — 08:00 Mathématiques", "deux\nlignes"} {
		if out, err := f.Send(context.Background(), sms.Message{To: "+33612345678", Text: txt, ID: "k"}); err != nil || out.Status != sms.Sent {
			t.Fatalf("%+v %v", out, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), b)
	}
	var l struct {
		Time time.Time `json:"time"`
		To   string    `json:"to"`
		ID   string    `json:"id"`
		Text string    `json:"text"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &l); err != nil || l.Text != "deux\nlignes" || l.To != "+33612345678" || !l.Time.Equal(at) || l.ID != "k" {
		t.Fatalf("%q: %+v %v", lines[1], l, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	if _, err := f.Send(context.Background(), sms.Message{To: "nope", Text: "x"}); !errors.Is(err, sms.ErrInvalidMessage) {
		t.Fatal(err)
	}
}
