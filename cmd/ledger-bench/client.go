package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// apiClient calls the JSON API of a ledger server.
type apiClient struct {
	base string
	hc   *http.Client
}

func newAPIClient(base string, conns int) *apiClient {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
	}
	return &apiClient{base: base, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// call sends a JSON request with a bearer token and decodes a 2xx answer
// into out. It returns the status, and the body of an error.
func (c *apiClient) call(ctx context.Context, method, path, token string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// signIn gets a bearer token (POST /api/v1/tokens).
func (c *apiClient) signIn(ctx context.Context, login, password string) (string, error) {
	var tok struct {
		Token string `json:"token"`
	}
	_, err := c.call(ctx, "POST", "/api/v1/tokens", "", map[string]string{"login": login, "password": password}, &tok)
	return tok.Token, err
}

// liveDialer opens websockets with small buffers: ten thousand of them
// live in the load generator.
var liveDialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 512}

// dialLive opens /api/v1/live as the bearer of token.
func dialLive(ctx context.Context, base, token string) (*websocket.Conn, error) {
	return dialLiveAfter(ctx, base, token, "")
}

// dialLiveAfter opens /api/v1/live as the bearer of token, resuming after
// the position after when it is not empty (?after=).
func dialLiveAfter(ctx context.Context, base, token, after string) (*websocket.Conn, error) {
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/live"
	if after != "" {
		u += "?after=" + url.QueryEscape(after)
	}
	ws, resp, err := liveDialer.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return nil, fmt.Errorf("dial live: %w: %d %s", err, resp.StatusCode, bytes.TrimSpace(b))
		}
		return nil, fmt.Errorf("dial live: %w", err)
	}
	return ws, nil
}

// liveFrame is the part of a live message the benchmark reads.
type liveFrame struct {
	Position string          `json:"position"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
}
