package tests

// Families reached outside the portal, through the real binary: a real
// SMTP server in the process receives the French absence e-mail, and a
// local push service that checks the VAPID signature and decrypts the
// payload receives the push; each outcome is on the student's history;
// a restart sends nothing twice.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/schoollife/ledger/adapters/notify/webpush"
)

// relay is an SMTP server that keeps what it receives.
type relay struct {
	mu   sync.Mutex
	mail []*mail.Message
	port int
}

func newRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }))
	s.Domain = "relay.test"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		s.Close()
		l.Close()
		<-done
	})
	return r
}

type relaySession struct{ r *relay }

func (s *relaySession) Reset()                               {}
func (s *relaySession) Logout() error                        { return nil }
func (s *relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *relaySession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	m.Body = bytes.NewReader(body)
	s.r.mu.Lock()
	s.r.mail = append(s.r.mail, m)
	s.r.mu.Unlock()
	return nil
}

// subjects returns the decoded subjects of the messages sent to addr.
func (r *relay) subjects(addr string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	dec := new(mime.WordDecoder)
	for _, m := range r.mail {
		if !strings.Contains(m.Header.Get("To"), addr) {
			continue
		}
		s, err := dec.DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			s = m.Header.Get("Subject")
		}
		out = append(out, s)
	}
	return out
}

// pushService is a push service on a local TLS server: it verifies the
// VAPID signature with the server's public key and decrypts each message
// with the browser's keys.
type pushService struct {
	srv   *httptest.Server
	key   *ecdh.PrivateKey
	auth  []byte
	vapid string
	mu    sync.Mutex
	got   []pushed
}

type pushed struct {
	Title, Body, URL, Tag string
	Err                   error
}

func newPushService(t *testing.T, vapidPublic string) *pushService {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &pushService{key: key, auth: make([]byte, 16), vapid: vapidPublic}
	_, _ = rand.Read(p.auth)
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var got pushed
		body, _ := io.ReadAll(r.Body)
		if err := verifyVAPID(r.Header.Get("Authorization"), p.vapid); err != nil {
			got.Err = err
		} else if plain, err := decryptPush(body, p.key, p.auth); err != nil {
			got.Err = err
		} else if err := json.Unmarshal(plain, &got); err != nil {
			got.Err = err
		}
		p.mu.Lock()
		p.got = append(p.got, got)
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pushService) received() []pushed {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pushed(nil), p.got...)
}

// certFile writes the push service's certificate where the binary will
// trust it (SSL_CERT_FILE).
func (p *pushService) certFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "push-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// subscription is the browser's PushSubscription.toJSON().
func (p *pushService) subscription() map[string]any {
	return map[string]any{
		"endpoint": p.srv.URL + "/push/parent",
		"keys": map[string]string{
			"p256dh": base64.RawURLEncoding.EncodeToString(p.key.PublicKey().Bytes()),
			"auth":   base64.RawURLEncoding.EncodeToString(p.auth),
		},
	}
}

func TestFamilyReachedByEmailAndPush(t *testing.T) {
	public, private, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	smtpRelay := newRelay(t)
	push := newPushService(t, public)
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	env := []string{"SSL_CERT_FILE=" + push.certFile(t), "LEDGER_VAPID_PRIVATE_KEY=" + private}
	args := []string{"--demo", "--store", store, "--notify-outbox", t.TempDir(),
		"--vapid-public-key", public, "--notify-contact", "mailto:vie-scolaire@example.fr",
		"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(smtpRelay.port), "--smtp-tls", "none",
		"--smtp-from", "vie-scolaire@example.fr", "--portal-url", "https://ent.example.fr"}
	s := MustServe(t, env, args...)

	parent := MustSignIn(t, s.URL, "parent.durand")
	lea := parent.me.Children[0].Account
	var prefs struct {
		Preferences map[string]any `json:"preferences"`
		Key         string         `json:"vapid_public_key"`
	}
	parent.MustCall("GET", "/api/v1/notification-preferences", nil, &prefs, http.StatusOK)
	if prefs.Key != public {
		t.Fatalf("the API hands out the key %q, want %q", prefs.Key, public)
	}
	parent.MustCall("PUT", "/api/v1/notification-preferences", map[string]any{
		"preferences": prefs.Preferences, "email": "famille.durand@example.fr",
	}, nil, http.StatusOK)
	parent.MustCall("POST", "/api/v1/push-subscriptions", push.subscription(), nil, http.StatusCreated)

	teacher := MustSignIn(t, s.URL, "prof.martin")
	sent := time.Now()
	rollCall(t, teacher, lea, "07:10", "07:55")
	wantBody := "07:10 Mathématiques"
	eventually(t, 30*time.Second, "the e-mail and the push reach the family", func() bool {
		return count(smtpRelay.subjects("famille.durand@example.fr"), wantBody) == 1 && countPushes(push.received(), wantBody) == 1
	})
	t.Logf("the e-mail and the push reached the family within %s of the roll call", time.Since(sent).Round(time.Millisecond))
	for _, p := range push.received() {
		if p.Err != nil {
			t.Fatalf("the push service refused a message: %v", p.Err)
		}
	}
	var absence pushed
	for _, p := range push.received() {
		if p.Body == wantBody {
			absence = p
		}
	}
	link, err := url.Parse(absence.URL)
	if err != nil || !strings.HasPrefix(absence.Title, "Absence de ") || !strings.HasPrefix(link.Path, "/n/") ||
		!strings.Contains(link.Query().Get("next"), "/absences/") || !strings.HasSuffix(link.Query().Get("next"), "/reason") {
		t.Fatalf("the push says %+v", absence)
	}
	t.Logf("push: %s — %s (%s); e-mail: %q", absence.Title, absence.Body, absence.URL, smtpRelay.subjects("famille.durand@example.fr"))

	// The outcomes are on Léa's history, for the inspector.
	inspector := MustSignIn(t, s.URL, "inspecteur.blanc")
	eventually(t, 30*time.Second, "the outcomes are on the student's history", func() bool {
		var history []struct {
			Type string `json:"type"`
		}
		inspector.MustCall("GET", fmt.Sprintf("/api/v1/history/%s", lea), nil, &history, http.StatusOK)
		n := 0
		for _, h := range history {
			if h.Type == "notification.sent.v1" {
				n++
			}
		}
		return n >= 2
	})

	// Restarted, the process sends nothing twice: a second absence
	// arrives, the first is not sent again.
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, s.Log())
	}
	s = MustServe(t, env, args...)
	teacher = MustSignIn(t, s.URL, "prof.martin")
	rollCall(t, teacher, lea, "08:05", "08:55")
	eventually(t, 30*time.Second, "the second absence reaches the family", func() bool {
		return count(smtpRelay.subjects("famille.durand@example.fr"), "08:05 Mathématiques") == 1 &&
			countPushes(push.received(), "08:05 Mathématiques") == 1
	})
	if n, p := count(smtpRelay.subjects("famille.durand@example.fr"), wantBody), countPushes(push.received(), wantBody); n != 1 || p != 1 {
		t.Fatalf("after a restart the first absence was e-mailed %d times and pushed %d times", n, p)
	}
}

func count(subjects []string, part string) int {
	n := 0
	for _, s := range subjects {
		if strings.Contains(s, part) {
			n++
		}
	}
	return n
}

func countPushes(ps []pushed, body string) int {
	n := 0
	for _, p := range ps {
		if p.Body == body {
			n++
		}
	}
	return n
}

// verifyVAPID checks an Authorization header of RFC 8292, "vapid t=JWT,
// k=KEY": k is the server's key and the JWT's ES256 signature is its.
func verifyVAPID(header, wantKey string) error {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return fmt.Errorf("scheme of %q", header)
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = v
	}
	if params["k"] != wantKey {
		return fmt.Errorf("k=%q, want %q", params["k"], wantKey)
	}
	keyBytes, err := base64.RawURLEncoding.DecodeString(params["k"])
	if err != nil {
		return err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), keyBytes)
	if err != nil {
		return err
	}
	parts := strings.Split(params["t"], ".")
	if len(parts) != 3 {
		return fmt.Errorf("JWT of %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("JWT signature of %d bytes", len(sig))
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("the JWT's signature does not verify with k")
	}
	return nil
}

// decryptPush opens an aes128gcm body (RFC 8188, RFC 8291) with the
// subscription's private key and auth secret (one record).
func decryptPush(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21+65 {
		return nil, fmt.Errorf("body of %d bytes", len(body))
	}
	salt, idlen := body[:16], int(body[20])
	_ = binary.BigEndian.Uint32(body[16:20])
	as, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	shared, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	ikm, err := hkdf.Key(sha256.New, shared, auth, "WebPush: info\x00"+string(ua.PublicKey().Bytes())+string(as.Bytes()), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	opened, err := gcm.Open(nil, nonce, body[21+idlen:], nil)
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexByte(bytes.TrimRight(opened, "\x00"), 2)
	if end < 0 {
		return nil, errors.New("no padding delimiter")
	}
	return opened[:end], nil
}
