package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Payload formats of a gateway's request body.
const (
	FormatJSON = "json"
	FormatForm = "form"
)

// DefaultTimeout bounds one request when GatewayConfig.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// GatewayConfig describes an operator's HTTP API. The payload is a
// template in which {{to}}, {{text}} and {{id}} stand for the number, the
// text and the message's id:
//
//	json: {"to":"{{to}}","message":"{{text}}","ref":"{{id}}"}
//	      (each placeholder inside a JSON string; values are escaped)
//	form: to={{to}}&text={{text}}&sender=COLLEGE
//	      (each value URL-encoded)
type GatewayConfig struct {
	URL     string
	Method  string // POST (the default) or PUT
	Format  string // FormatJSON (the default) or FormatForm
	Payload string
	// AuthHeader and AuthValue are sent with every request (typically
	// "Authorization" and "Bearer …", the value read from the
	// environment, never from a flag).
	AuthHeader string
	AuthValue  string
	Timeout    time.Duration
	// Client overrides the HTTP client (tests).
	Client *http.Client
}

// Validate reports every problem of the configuration at once.
func (c GatewayConfig) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("sms gateway: URL is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("sms gateway: URL: %w", err))
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		errs = append(errs, fmt.Errorf("sms gateway: URL %q is not an http(s) address", c.URL))
	}
	switch strings.ToUpper(c.Method) {
	case "", http.MethodPost, http.MethodPut:
	default:
		errs = append(errs, fmt.Errorf("sms gateway: method %q, want POST or PUT", c.Method))
	}
	if !strings.Contains(c.Payload, "{{to}}") || !strings.Contains(c.Payload, "{{text}}") {
		errs = append(errs, errors.New("sms gateway: the payload template must hold {{to}} and {{text}}"))
	}
	switch c.Format {
	case "", FormatJSON:
		if b := render(c.Payload, jsonEscape, "+33600000000", "x", "id"); !json.Valid(b) {
			errs = append(errs, errors.New("sms gateway: the JSON payload template is not JSON once filled in"))
		}
	case FormatForm:
		if _, err := url.ParseQuery(c.Payload); err != nil {
			errs = append(errs, fmt.Errorf("sms gateway: form payload template: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("sms gateway: format %q, want json or form", c.Format))
	}
	if (c.AuthHeader == "") != (c.AuthValue == "") {
		errs = append(errs, errors.New("sms gateway: the authorization header needs both a name and a value"))
	}
	if strings.ContainsAny(c.AuthValue, "\r\n") || strings.ContainsAny(c.AuthHeader, "\r\n: ") {
		errs = append(errs, errors.New("sms gateway: the authorization header holds a forbidden character"))
	}
	return errors.Join(errs...)
}

// Gateway sends text messages through an operator's HTTP API.
type Gateway struct {
	cfg    GatewayConfig
	client *http.Client
}

// NewGateway checks cfg and returns a gateway.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	cfg.Method = strings.ToUpper(cfg.Method)
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Gateway{cfg: cfg, client: client}, nil
}

// Send hands m to the gateway. 2xx is Sent; 429, 5xx, a transport failure
// or a timeout Retryable; any other answer (a 4xx, a redirect) Permanent,
// as is an invalid message, which is never sent. The error is nil exactly
// when the message was sent.
func (g *Gateway) Send(ctx context.Context, m Message) (Outcome, error) {
	if err := m.Validate(); err != nil {
		return Outcome{Status: Permanent}, err
	}
	var body []byte
	ctype := "application/json"
	if g.cfg.Format == FormatForm {
		ctype = "application/x-www-form-urlencoded"
		body = render(g.cfg.Payload, url.QueryEscape, m.To, m.Text, m.ID)
	} else {
		body = render(g.cfg.Payload, jsonEscape, m.To, m.Text, m.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, g.cfg.Method, g.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return Outcome{Status: Permanent}, fmt.Errorf("sms gateway: %w", err)
	}
	req.Header.Set("Content-Type", ctype)
	if g.cfg.AuthHeader != "" {
		req.Header.Set(g.cfg.AuthHeader, g.cfg.AuthValue)
	}
	if m.ID != "" {
		req.Header.Set("Idempotency-Key", m.ID)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return Outcome{Status: Retryable}, fmt.Errorf("sms gateway: %w", err)
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	out := Outcome{Code: resp.StatusCode}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		out.Status = Sent
		return out, nil
	case c == http.StatusTooManyRequests || c >= 500:
		out.Status = Retryable
	default:
		out.Status = Permanent
	}
	out.Detail = strings.ToValidUTF8(string(detail), "?")
	return out, fmt.Errorf("sms gateway: answered %d", resp.StatusCode)
}

// render fills the template's placeholders with the escaped values.
func render(tpl string, esc func(string) string, to, text, id string) []byte {
	r := strings.NewReplacer("{{to}}", esc(to), "{{text}}", esc(text), "{{id}}", esc(id))
	return []byte(r.Replace(tpl))
}

// jsonEscape returns s escaped for the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b[1 : len(b)-1])
}
