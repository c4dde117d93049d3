package webpush_test

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
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/notify/webpush"
)

// browser is a push subscription's private half, as a browser holds it.
type browser struct {
	key  *ecdh.PrivateKey
	auth []byte
}

func newBrowser(t *testing.T) browser {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	if _, err := rand.Read(auth); err != nil {
		t.Fatal(err)
	}
	return browser{key: key, auth: auth}
}

// subscription is what the browser hands the server, for endpoint.
func (b browser) subscription(endpoint string) webpush.Subscription {
	return webpush.Subscription{
		Endpoint: endpoint,
		P256DH:   base64.RawURLEncoding.EncodeToString(b.key.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(b.auth),
	}
}

// received is one request as the push service checked it.
type received struct {
	Path   string
	Header http.Header
	Claims vapidClaims
	// Plaintext is the decrypted body.
	Plaintext []byte
	// Err is the first check that failed, nil when all passed.
	Err error
}

type vapidClaims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub"`
}

// answer is what the push service replies.
type answer struct {
	Status int
	Header map[string]string
	Body   string
}

// pushService is a push service on a local TLS server. It checks every
// request for real, the VAPID header against the server's public key and
// the body by decrypting it with the browser's keys, and answers as told.
type pushService struct {
	srv       *httptest.Server
	browser   browser
	vapidKey  string // the server's public key, base64url
	requests  chan received
	mu        sync.Mutex
	answer    answer
	closeOnce sync.Once
}

func newPushService(t *testing.T, b browser, vapidPublic string) *pushService {
	t.Helper()
	p := &pushService{
		browser:  b,
		vapidKey: vapidPublic,
		requests: make(chan received, 16),
		answer:   answer{Status: http.StatusCreated, Header: map[string]string{"Location": "/m/1"}},
	}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.close)
	return p
}

func (p *pushService) close() { p.closeOnce.Do(p.srv.Close) }

func (p *pushService) endpoint() string { return p.srv.URL + "/push/sub-1" }

func (p *pushService) answerWith(a answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = a
}

func (p *pushService) serve(w http.ResponseWriter, r *http.Request) {
	rec := received{Path: r.URL.Path, Header: r.Header.Clone()}
	rec.Err = p.check(r, &rec)
	p.requests <- rec
	p.mu.Lock()
	a := p.answer
	p.mu.Unlock()
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, a.Body)
}

func (p *pushService) check(r *http.Request, rec *received) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("method %s", r.Method)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return fmt.Errorf("Content-Encoding %q", ce)
	}
	claims, err := verifyVAPID(r.Header.Get("Authorization"), p.vapidKey)
	if err != nil {
		return fmt.Errorf("VAPID: %w", err)
	}
	rec.Claims = claims
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(body) > 4096 {
		return fmt.Errorf("body of %d bytes, more than a push service must accept", len(body))
	}
	rec.Plaintext, err = decrypt(body, p.browser.key, p.browser.auth)
	if err != nil {
		return fmt.Errorf("decrypt: %w", err)
	}
	return nil
}

// next returns the next request the push service received.
func (p *pushService) next(t *testing.T) received {
	t.Helper()
	select {
	case rec := <-p.requests:
		return rec
	default:
		t.Fatal("the push service received no request")
		return received{}
	}
}

// none fails when the push service received a request.
func (p *pushService) none(t *testing.T) {
	t.Helper()
	select {
	case rec := <-p.requests:
		t.Fatalf("the push service received a request: %s", rec.Path)
	default:
	}
}

// verifyVAPID checks an Authorization header of RFC 8292: "vapid t=<JWT>,
// k=<public key>", k the expected key and the JWT's ES256 signature made by
// it. It returns the JWT's claims.
func verifyVAPID(header, wantKey string) (vapidClaims, error) {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return vapidClaims{}, fmt.Errorf("scheme of %q", header)
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return vapidClaims{}, fmt.Errorf("parameter %q", part)
		}
		params[k] = v
	}
	if params["k"] != wantKey {
		return vapidClaims{}, fmt.Errorf("k=%q, want the server's key %q", params["k"], wantKey)
	}
	keyBytes, err := base64.RawURLEncoding.DecodeString(params["k"])
	if err != nil {
		return vapidClaims{}, fmt.Errorf("k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), keyBytes)
	if err != nil {
		return vapidClaims{}, fmt.Errorf("k: %w", err)
	}
	parts := strings.Split(params["t"], ".")
	if len(parts) != 3 {
		return vapidClaims{}, fmt.Errorf("JWT of %d parts", len(parts))
	}
	var head struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := decodeSegment(parts[0], &head); err != nil {
		return vapidClaims{}, fmt.Errorf("JWT header: %w", err)
	}
	if head.Alg != "ES256" {
		return vapidClaims{}, fmt.Errorf("JWT alg %q", head.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return vapidClaims{}, fmt.Errorf("JWT signature of %d bytes (%v)", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return vapidClaims{}, errors.New("JWT signature does not verify with k")
	}
	var claims vapidClaims
	if err := decodeSegment(parts[1], &claims); err != nil {
		return vapidClaims{}, fmt.Errorf("JWT claims: %w", err)
	}
	return claims, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// decrypt opens an aes128gcm body (RFC 8188) encrypted for a Web Push
// subscription (RFC 8291) with the subscription's private key and auth
// secret.
func decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("body of %d bytes", len(body))
	}
	salt := body[:16]
	rs := int(binary.BigEndian.Uint32(body[16:20]))
	idlen := int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("key id of %d bytes", idlen)
	}
	if rs < 18 {
		return nil, fmt.Errorf("record size %d", rs)
	}
	asPublic, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, fmt.Errorf("sender's key: %w", err)
	}
	shared, err := ua.ECDH(asPublic)
	if err != nil {
		return nil, err
	}
	keyInfo := "WebPush: info\x00" + string(ua.PublicKey().Bytes()) + string(asPublic.Bytes())
	ikm, err := hkdf.Key(sha256.New, shared, auth, keyInfo, 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	baseNonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
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
	rest := body[21+idlen:]
	if len(rest) == 0 {
		return nil, errors.New("no record")
	}
	var plain []byte
	for seq := uint64(0); len(rest) > 0; seq++ {
		n := min(rs, len(rest))
		record := rest[:n]
		rest = rest[n:]
		nonce := bytes.Clone(baseNonce)
		var s [8]byte
		binary.BigEndian.PutUint64(s[:], seq)
		for i := range s {
			nonce[4+i] ^= s[i]
		}
		opened, err := gcm.Open(nil, nonce, record, nil)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", seq, err)
		}
		// Strip the padding: zeros after a delimiter, 2 on the last
		// record, 1 on the others.
		end := len(opened) - 1
		for end >= 0 && opened[end] == 0 {
			end--
		}
		if end < 0 {
			return nil, fmt.Errorf("record %d has no delimiter", seq)
		}
		last := len(rest) == 0
		if want := map[bool]byte{true: 2, false: 1}[last]; opened[end] != want {
			return nil, fmt.Errorf("record %d delimiter %d, want %d", seq, opened[end], want)
		}
		plain = append(plain, opened[:end]...)
	}
	return plain, nil
}

// checkClaims checks the JWT's claims for a push service at aud and the
// contact, the expiry in the next 24 hours.
func checkClaims(t *testing.T, c vapidClaims, aud, contact string) {
	t.Helper()
	if c.Aud != aud {
		t.Errorf("aud %q, want %q", c.Aud, aud)
	}
	if c.Sub != contact {
		t.Errorf("sub %q, want %q", c.Sub, contact)
	}
	now := time.Now()
	exp := time.Unix(c.Exp, 0)
	if !exp.After(now) || exp.After(now.Add(24*time.Hour)) {
		t.Errorf("exp %s, want within 24 h of %s", exp, now)
	}
}
