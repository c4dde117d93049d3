package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

// demoPassword is the password of every account `ledger serve --demo`
// creates (cmd/ledger/demo.go).
const demoPassword = "demo-ledger-2007"

// client calls the JSON API as one signed-in account.
type client struct {
	t     *testing.T
	base  string
	token string
	me    account
}

// account is the part of GET /api/v1/me the tests read.
type account struct {
	ID            uuid.UUID `json:"id"`
	Profile       string    `json:"profile"`
	Establishment string    `json:"establishment"`
	Children      []struct {
		Account uuid.UUID `json:"account"`
	} `json:"children"`
	Groups []struct {
		Group uuid.UUID `json:"group"`
		Name  string    `json:"name"`
		Role  string    `json:"role"`
	} `json:"groups"`
}

// MustSignIn signs login in with a bearer token, retrying while the
// directory projection catches up after start-up (generously: with -race
// on a busy machine that can take a while; a server that is gone fails the
// first call that cannot connect).
func MustSignIn(t *testing.T, base, login string) *client {
	t.Helper()
	c := &client{t: t, base: base}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var tok struct {
			Token string `json:"token"`
		}
		status, body := c.call("POST", "/api/v1/tokens", map[string]string{"login": login, "password": demoPassword}, &tok)
		if status == http.StatusCreated {
			c.token = tok.Token
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sign in %s: %d %s", login, status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.MustCall("GET", "/api/v1/me", nil, &c.me, http.StatusOK)
	return c
}

// call sends a request and decodes a JSON answer into out (when not nil).
func (c *client) call(method, path string, in, out any) (int, string) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, string(raw)
}

// MustCall is call that fails the test on another status than want.
func (c *client) MustCall(method, path string, in, out any, want int) string {
	c.t.Helper()
	status, body := c.call(method, path, in, out)
	if status != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, status, body, want)
	}
	return body
}

// eventually polls check until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// liveMessage is one event received on /api/v1/live.
type liveMessage struct {
	Position string          `json:"position"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	received time.Time
}

// MustLive opens the live socket of c and returns its messages.
func (c *client) MustLive(after string) <-chan liveMessage {
	c.t.Helper()
	u := "ws" + strings.TrimPrefix(c.base, "http") + "/api/v1/live"
	if after != "" {
		u += "?after=" + after
	}
	conn, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Authorization": {"Bearer " + c.token}})
	if err != nil {
		c.t.Fatalf("dial live: %v (%v)", err, resp)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(func() {
		cancel()
		conn.Close()
	})
	out := make(chan liveMessage, 1024)
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m liveMessage
			if json.Unmarshal(raw, &m) == nil {
				m.received = time.Now()
				out <- m
			}
		}
	}()
	return out
}

// waitLive returns the first message of type typ whose data mentions id.
func waitLive(t *testing.T, msgs <-chan liveMessage, typ string, id uuid.UUID, within time.Duration) liveMessage {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("live socket closed before %s for %s", typ, id)
			}
			if m.Type == typ && strings.Contains(string(m.Data), id.String()) {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s for %s on the live socket within %s", typ, id, within)
		}
	}
}
