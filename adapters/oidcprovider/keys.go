package oidcprovider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// skew is the clock difference allowed between the ledger and services:
// a retired key stays published that much longer.
const skew = time.Minute

// Keys are the keys that sign ID tokens (ES256), kept in the database and
// shared by the nodes. The first key signs at once. Every RotateEvery a
// node makes the next one (one node only: a generation is made once); it
// is published at once and signs PublishAhead later, so that services
// that cache the keys know it before they see a token it signed. A key
// that no longer signs stays published until the tokens it signed have
// expired (the ID token lifetime, and a minute), then is deleted.
type Keys struct {
	store        *Store
	now          func() time.Time
	rotateEvery  time.Duration
	publishAhead time.Duration
	retain       time.Duration

	mu     sync.Mutex
	parsed map[string]*ecdsa.PrivateKey
}

func newKeys(cfg *Config) *Keys {
	return &Keys{
		store: cfg.Store, now: cfg.Now, rotateEvery: cfg.RotateEvery, publishAhead: cfg.PublishAhead,
		retain: cfg.IDTokenLifetime + skew, parsed: map[string]*ecdsa.PrivateKey{},
	}
}

// Rotate makes the next key now, whatever the schedule (an operator's
// `ledger oidc rotate-keys`, a key thought exposed): it is published at
// once and signs PublishAhead later. It returns the new key's id.
func (k *Keys) Rotate(ctx context.Context) (string, error) {
	rows, err := k.store.keys(ctx)
	if err != nil {
		return "", err
	}
	next := int64(1)
	if len(rows) > 0 {
		next = rows[len(rows)-1].generation + 1
	}
	now := k.now()
	if err := k.add(ctx, next, now, now.Add(k.publishAhead), rows); err != nil {
		return "", err
	}
	rows, err = k.store.keys(ctx)
	if err != nil {
		return "", err
	}
	return rows[len(rows)-1].id, nil
}

// add makes the key of generation gen, and forgets the keys that are no
// longer published.
func (k *Keys) add(ctx context.Context, gen int64, now, signsFrom time.Time, rows []keyRow) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("make signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("make signing key: %w", err)
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	row := keyRow{
		id: hex.EncodeToString(id[:]), generation: gen, algorithm: string(jose.ES256), der: der,
		created: now, signsFrom: signsFrom,
	}
	_, _, drop := k.choose(rows, now)
	return k.store.addKey(ctx, row, drop)
}

// current returns the key that signs now and the keys published now,
// making the first key, or the next one when it is due.
func (k *Keys) current(ctx context.Context) (keyRow, []keyRow, error) {
	rows, err := k.store.keys(ctx)
	if err != nil {
		return keyRow{}, nil, err
	}
	now := k.now()
	switch {
	case len(rows) == 0:
		err = k.add(ctx, 1, now, now, nil)
	case !now.Before(rows[len(rows)-1].created.Add(k.rotateEvery)):
		err = k.add(ctx, rows[len(rows)-1].generation+1, now, now.Add(k.publishAhead), rows)
	default:
		signing, published, drop := k.choose(rows, now)
		if drop > rows[0].generation {
			// Best effort: a key kept too long is only published too long.
			_ = k.store.dropKeys(ctx, drop)
		}
		return signing, published, nil
	}
	if err != nil {
		return keyRow{}, nil, err
	}
	if rows, err = k.store.keys(ctx); err != nil {
		return keyRow{}, nil, err
	}
	signing, published, _ := k.choose(rows, now)
	return signing, published, nil
}

// choose returns, among rows (oldest first), the key that signs at now,
// those published, and the first generation still published.
func (k *Keys) choose(rows []keyRow, now time.Time) (signing keyRow, published []keyRow, drop int64) {
	if len(rows) == 0 {
		return keyRow{}, nil, 0
	}
	signing = rows[0]
	for _, r := range rows {
		if !r.signsFrom.After(now) {
			signing = r
		}
	}
	drop = rows[len(rows)-1].generation
	for i, r := range rows {
		retired := i+1 < len(rows) && !rows[i+1].signsFrom.After(now) && !now.Before(rows[i+1].signsFrom.Add(k.retain))
		if retired {
			continue
		}
		published = append(published, r)
		drop = min(drop, r.generation)
	}
	return signing, published, drop
}

func (k *Keys) private(r keyRow) (*ecdsa.PrivateKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.parsed[r.id]; ok {
		return p, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(r.der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", r.id, err)
	}
	p, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || r.algorithm != string(jose.ES256) {
		return nil, fmt.Errorf("signing key %s: not an ES256 key", r.id)
	}
	k.parsed[r.id] = p
	return p, nil
}

// signingKey returns the key that signs now, for op.
func (k *Keys) signingKey(ctx context.Context) (op.SigningKey, error) {
	r, _, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	p, err := k.private(r)
	if err != nil {
		return nil, err
	}
	return signingKey{id: r.id, key: p}, nil
}

// keySet returns the keys published now, for op.
func (k *Keys) keySet(ctx context.Context) ([]op.Key, error) {
	_, rows, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(rows))
	for _, r := range rows {
		p, err := k.private(r)
		if err != nil {
			return nil, err
		}
		out = append(out, publicKey{signingKey{id: r.id, key: p}})
	}
	return out, nil
}

type signingKey struct {
	id  string
	key *ecdsa.PrivateKey
}

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (s signingKey) Key() any                                    { return s.key }
func (s signingKey) ID() string                                  { return s.id }

type publicKey struct{ signingKey }

func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.key.PublicKey }

// RotateKeys makes the next signing key in store, outside a running
// provider (`ledger oidc rotate-keys`): it is published at once and signs
// after signsIn (0: at once, for a key thought exposed; services that
// cached the keys fetch them again on a key id they do not know). The
// keys it replaces stay published as the running nodes say.
func RotateKeys(ctx context.Context, store *Store, signsIn time.Duration) (string, error) {
	k := &Keys{
		store: store, now: time.Now, rotateEvery: DefaultRotateEvery, publishAhead: signsIn,
		retain: MaxTokenLifetime + skew, parsed: map[string]*ecdsa.PrivateKey{},
	}
	return k.Rotate(ctx)
}
