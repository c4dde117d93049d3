package webpush_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/notify/webpush"
)

// newKeys generates and loads a VAPID key pair.
func newKeys(t *testing.T) webpush.VAPIDKeys {
	t.Helper()
	public, private, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := webpush.LoadVAPIDKeys(public, private)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// fixture is a sender, a browser and its push service.
type fixture struct {
	sender  *webpush.Sender
	browser browser
	push    *pushService
	sub     webpush.Subscription
}

func newFixture(t *testing.T, contact string, now func() time.Time) fixture {
	t.Helper()
	keys := newKeys(t)
	b := newBrowser(t)
	push := newPushService(t, b, keys.Public)
	sender, err := webpush.NewSender(webpush.Config{
		Keys: keys, Contact: contact, Transport: push.srv.Client().Transport, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{sender: sender, browser: b, push: push, sub: b.subscription(push.endpoint())}
}

func TestSendDeliversAnEncryptedSignedNotification(t *testing.T) {
	for _, contact := range []string{"mailto:vie-scolaire@college-exemple.fr", "https://ent.college-exemple.fr/contact"} {
		t.Run(contact, func(t *testing.T) {
			f := newFixture(t, contact, nil)
			n := webpush.Notification{
				Title: "Léa absente",
				Body:  "08:00 Mathématiques",
				URL:   "/absences?eleve=lea#lundi",
				Tag:   "absence:lea",
			}
			payload, err := n.Encode()
			if err != nil {
				t.Fatal(err)
			}
			opts := webpush.Options{TTL: 4*time.Hour + 500*time.Millisecond, Urgency: webpush.UrgencyHigh, Topic: "absence-lea"}
			out, err := f.sender.Send(context.Background(), f.sub, payload, opts)
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != webpush.Sent || out.Status != http.StatusCreated || out.Location != "/m/1" {
				t.Errorf("outcome %+v, want sent, 201, /m/1", out)
			}
			rec := f.push.next(t)
			if rec.Err != nil {
				t.Fatal(rec.Err)
			}
			if rec.Path != "/push/sub-1" {
				t.Errorf("path %q", rec.Path)
			}
			checkClaims(t, rec.Claims, f.push.srv.URL, contact)
			for header, want := range map[string]string{"TTL": "14400", "Urgency": "high", "Topic": "absence-lea"} {
				if got := rec.Header.Get(header); got != want {
					t.Errorf("%s: %q, want %q", header, got, want)
				}
			}
			if !bytes.Equal(rec.Plaintext, payload) {
				t.Fatalf("decrypted %q, sent %q", rec.Plaintext, payload)
			}
			var got webpush.Notification
			if err := json.Unmarshal(rec.Plaintext, &got); err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Errorf("notification %+v, want %+v", got, n)
			}
			f.push.none(t)
		})
	}
}

func TestSendOmitsUnsetUrgencyAndTopic(t *testing.T) {
	f := newFixture(t, "mailto:vie-scolaire@college-exemple.fr", nil)
	if _, err := f.sender.Send(context.Background(), f.sub, []byte(`{}`), webpush.Options{}); err != nil {
		t.Fatal(err)
	}
	rec := f.push.next(t)
	if rec.Err != nil {
		t.Fatal(rec.Err)
	}
	if rec.Header.Get("TTL") != "0" {
		t.Errorf("TTL %q, want 0", rec.Header.Get("TTL"))
	}
	for _, h := range []string{"Urgency", "Topic"} {
		if v, ok := rec.Header[h]; ok {
			t.Errorf("%s sent: %q", h, v)
		}
	}
}

func TestSendPayloadBound(t *testing.T) {
	f := newFixture(t, "mailto:vie-scolaire@college-exemple.fr", nil)
	largest := bytes.Repeat([]byte("é"), webpush.MaxPayloadSize/2)
	largest = append(largest, make([]byte, webpush.MaxPayloadSize-len(largest))...)
	largest[len(largest)-1] = 'x' // The last byte is not a padding zero.
	out, err := f.sender.Send(context.Background(), f.sub, largest, webpush.Options{})
	if err != nil || out.Result != webpush.Sent {
		t.Fatalf("largest payload: %+v, %v", out, err)
	}
	rec := f.push.next(t)
	if rec.Err != nil {
		t.Fatal(rec.Err)
	}
	if !bytes.Equal(rec.Plaintext, largest) {
		t.Fatalf("decrypted %d bytes, sent %d", len(rec.Plaintext), len(largest))
	}

	out, err = f.sender.Send(context.Background(), f.sub, make([]byte, webpush.MaxPayloadSize+1), webpush.Options{})
	if !errors.Is(err, webpush.ErrPayloadTooLarge) || out.Result != webpush.TooLarge {
		t.Errorf("one byte over: %+v, %v; want too-large, ErrPayloadTooLarge", out, err)
	}
	f.push.none(t)
}

func TestSendOutcomes(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tests := []struct {
		name      string
		answer    answer
		want      webpush.Result
		wantRetry time.Duration
		detail    string
	}{
		{name: "201 created", answer: answer{Status: 201}, want: webpush.Sent},
		{name: "404 not found", answer: answer{Status: 404}, want: webpush.Gone},
		{name: "410 gone", answer: answer{Status: 410, Body: "unsubscribed"}, want: webpush.Gone, detail: "unsubscribed"},
		{name: "413 too large", answer: answer{Status: 413}, want: webpush.TooLarge},
		{name: "429 retry after seconds", answer: answer{Status: 429, Header: map[string]string{"Retry-After": "120"}}, want: webpush.Retryable, wantRetry: 2 * time.Minute},
		{name: "429 retry after a date", answer: answer{Status: 429, Header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}}, want: webpush.Retryable, wantRetry: 90 * time.Second},
		{name: "429 retry after a past date", answer: answer{Status: 429, Header: map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}}, want: webpush.Retryable},
		{name: "429 malformed retry after", answer: answer{Status: 429, Header: map[string]string{"Retry-After": "soon"}}, want: webpush.Retryable},
		{name: "429 huge retry after", answer: answer{Status: 429, Header: map[string]string{"Retry-After": "99999999999"}}, want: webpush.Retryable, wantRetry: webpush.MaxTTL},
		{name: "500 without retry after", answer: answer{Status: 500}, want: webpush.Retryable},
		{name: "503 retry after", answer: answer{Status: 503, Header: map[string]string{"Retry-After": "30"}}, want: webpush.Retryable, wantRetry: 30 * time.Second},
		{name: "400 bad request", answer: answer{Status: 400, Body: `{"reason":"BadJwtToken"}`}, want: webpush.Permanent, detail: `{"reason":"BadJwtToken"}`},
		{name: "403 other keys", answer: answer{Status: 403}, want: webpush.Permanent},
		{name: "301 redirect", answer: answer{Status: 301, Header: map[string]string{"Location": "/elsewhere"}}, want: webpush.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "mailto:vie-scolaire@college-exemple.fr", clock)
			f.push.answerWith(tt.answer)
			out, err := f.sender.Send(context.Background(), f.sub, []byte(`{"title":"x","url":"/"}`), webpush.Options{TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != tt.want || out.Status != tt.answer.Status || out.RetryAfter != tt.wantRetry || out.Detail != tt.detail {
				t.Errorf("outcome %+v, want %s, status %d, retry after %s, detail %q", out, tt.want, tt.answer.Status, tt.wantRetry, tt.detail)
			}
			// The push service got a valid message whatever it answered.
			if rec := f.push.next(t); rec.Err != nil {
				t.Error(rec.Err)
			}
		})
	}
}

func TestSendKeepsOnlyTheStartOfAnAnswer(t *testing.T) {
	f := newFixture(t, "mailto:vie-scolaire@college-exemple.fr", nil)
	// 255 ASCII bytes, then a two-byte character the limit cuts in two.
	f.push.answerWith(answer{Status: 400, Body: strings.Repeat("a", 255) + "é" + strings.Repeat("b", 5000)})
	out, err := f.sender.Send(context.Background(), f.sub, []byte(`{}`), webpush.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result != webpush.Permanent || out.Detail != strings.Repeat("a", 255) {
		t.Errorf("outcome %s, detail of %d bytes %q", out.Result, len(out.Detail), out.Detail)
	}
}

func TestSendWithoutAnAnswerIsRetryable(t *testing.T) {
	t.Run("push service down", func(t *testing.T) {
		f := newFixture(t, "mailto:vie-scolaire@college-exemple.fr", nil)
		f.push.close()
		out, err := f.sender.Send(context.Background(), f.sub, []byte(`{}`), webpush.Options{})
		if err == nil || out.Result != webpush.Retryable || out.Status != 0 {
			t.Errorf("outcome %+v, %v; want retryable with an error", out, err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		f := newFixture(t, "mailto:vie-scolaire@college-exemple.fr", nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out, err := f.sender.Send(ctx, f.sub, []byte(`{}`), webpush.Options{})
		if !errors.Is(err, context.Canceled) || out.Result != webpush.Retryable {
			t.Errorf("outcome %+v, %v; want retryable, context.Canceled", out, err)
		}
		f.push.none(t)
	})
}

func TestSendRefusesBadInput(t *testing.T) {
	f := newFixture(t, "mailto:vie-scolaire@college-exemple.fr", nil)
	good := f.sub
	tests := []struct {
		name    string
		sub     func(s *webpush.Subscription)
		opts    webpush.Options
		want    webpush.Result
		wantErr error
	}{
		{name: "http endpoint", sub: func(s *webpush.Subscription) { s.Endpoint = strings.Replace(s.Endpoint, "https:", "http:", 1) }, want: webpush.Gone, wantErr: webpush.ErrInvalidSubscription},
		{name: "relative endpoint", sub: func(s *webpush.Subscription) { s.Endpoint = "/push/sub-1" }, want: webpush.Gone, wantErr: webpush.ErrInvalidSubscription},
		{name: "p256dh not base64", sub: func(s *webpush.Subscription) { s.P256DH = "***" }, want: webpush.Gone, wantErr: webpush.ErrInvalidSubscription},
		{name: "p256dh not a point", sub: func(s *webpush.Subscription) { s.P256DH = "BA" + strings.Repeat("A", 85) }, want: webpush.Gone, wantErr: webpush.ErrInvalidSubscription},
		{name: "auth of 8 bytes", sub: func(s *webpush.Subscription) { s.Auth = "AAAAAAAAAAA" }, want: webpush.Gone, wantErr: webpush.ErrInvalidSubscription},
		{name: "auth empty", sub: func(s *webpush.Subscription) { s.Auth = "" }, want: webpush.Gone, wantErr: webpush.ErrInvalidSubscription},
		{name: "negative TTL", opts: webpush.Options{TTL: -time.Second}, want: webpush.Permanent, wantErr: webpush.ErrInvalidOptions},
		{name: "TTL over four weeks", opts: webpush.Options{TTL: webpush.MaxTTL + time.Second}, want: webpush.Permanent, wantErr: webpush.ErrInvalidOptions},
		{name: "unknown urgency", opts: webpush.Options{Urgency: "urgent"}, want: webpush.Permanent, wantErr: webpush.ErrInvalidOptions},
		{name: "topic too long", opts: webpush.Options{Topic: strings.Repeat("a", 33)}, want: webpush.Permanent, wantErr: webpush.ErrInvalidOptions},
		{name: "topic with a space", opts: webpush.Options{Topic: "a b"}, want: webpush.Permanent, wantErr: webpush.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := good
			if tt.sub != nil {
				tt.sub(&sub)
			}
			out, err := f.sender.Send(context.Background(), sub, []byte(`{}`), tt.opts)
			if !errors.Is(err, tt.wantErr) || out.Result != tt.want {
				t.Errorf("outcome %+v, %v; want %s, %v", out, err, tt.want, tt.wantErr)
			}
			f.push.none(t)
		})
	}
}

func TestNewSenderChecksTheContact(t *testing.T) {
	keys := newKeys(t)
	for _, tt := range []struct {
		contact string
		ok      bool
	}{
		{"mailto:vie-scolaire@college-exemple.fr", true},
		{"https://ent.college-exemple.fr/contact", true},
		{"vie-scolaire@college-exemple.fr", false},
		{"mailto:", false},
		{"mailto:Vie scolaire <vie-scolaire@college-exemple.fr>", false},
		{"http://ent.college-exemple.fr", false},
		{"https://", false},
		{"", false},
	} {
		_, err := webpush.NewSender(webpush.Config{Keys: keys, Contact: tt.contact})
		if (err == nil) != tt.ok {
			t.Errorf("contact %q: error %v, want ok %v", tt.contact, err, tt.ok)
		}
	}
	if _, err := webpush.NewSender(webpush.Config{Contact: "mailto:a@b.fr"}); !errors.Is(err, webpush.ErrInvalidKey) {
		t.Errorf("no keys: %v, want ErrInvalidKey", err)
	}
}
