package subjectkeys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Prefix starts every sealed value in a payload:
// "enc:v1:SUBJECT:BASE64URL(NONCE|CIPHERTEXT)".
const Prefix = "enc:v1:"

// Placeholder is what a value reads as once its subject's key is destroyed:
// the portal and the API show it as it is.
const Placeholder = "[donnée effacée]"

// Defaults of a Cipher.
const (
	// DefaultTTL bounds how long a node keeps a key it read: a node that
	// has not yet read the erasure event from the log stops reading an
	// erased person's data within it.
	DefaultTTL = time.Minute
	// DefaultTimeout bounds a key's lookup while a payload is opened
	// (Open has no context of its own).
	DefaultTimeout = 10 * time.Second
	// maxCached bounds the keys kept: beyond, the cache starts over.
	maxCached = 100_000
)

// ErrSealed is the error of a sealed value that does not open: its bytes
// were changed, or moved to another field, event type or subject.
var ErrSealed = errors.New("sealed value does not open")

// Cipher seals the personal fields of events with their subjects' keys
// (AES-256-GCM; the additional data binds the event type, the field's path
// and the subject) and opens them. It implements commands.Sealer and
// domain.Opener, and keeps the keys it read for a while (WithTTL).
type Cipher struct {
	keys    Store
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	// plans holds the personal fields of each current wire name, and of
	// each retired one (those of the type it upcasts to).
	plans map[string][]field

	mu    sync.Mutex
	cache map[uuid.UUID]cached
}

type cached struct {
	key []byte // nil: destroyed (for good: never expires)
	at  time.Time
}

// Option configures a Cipher.
type Option func(*Cipher)

// WithTTL sets how long a key read is kept (DefaultTTL); 0 keeps none.
func WithTTL(d time.Duration) Option { return func(c *Cipher) { c.ttl = d } }

// WithClock sets the clock of the cache (time.Now).
func WithClock(now func() time.Time) Option { return func(c *Cipher) { c.now = now } }

// New returns a cipher over keys for the event types of reg. It fails when
// a personal field of a type names no valid subject.
func New(keys Store, reg *domain.Registry, opts ...Option) (*Cipher, error) {
	c := &Cipher{keys: keys, ttl: DefaultTTL, timeout: DefaultTimeout, now: time.Now,
		plans: make(map[string][]field), cache: make(map[uuid.UUID]cached)}
	for _, o := range opts {
		o(c)
	}
	for _, typ := range reg.Names() {
		cur, _ := reg.Current(typ)
		e, err := reg.Decode(cur, []byte("{}"))
		if err != nil {
			return nil, fmt.Errorf("subject keys: %w", err)
		}
		p, err := plan(reflect.TypeOf(e))
		if err != nil {
			return nil, fmt.Errorf("subject keys: %s: %w", typ, err)
		}
		c.plans[typ] = p
	}
	return c, nil
}

// Seal returns e with each of its personal strings sealed with its
// subject's key (empty strings stay empty); e itself is unchanged. Sealing
// for an erased subject is refused (domain.ErrSubjectErased).
func (c *Cipher) Seal(ctx context.Context, md domain.Metadata, e domain.Event) (domain.Event, error) {
	return c.rewrite(md, e, func(typ, path string, subject uuid.UUID, plain string) (string, error) {
		return c.seal(ctx, typ, path, subject, plain)
	})
}

// Reseal returns e, an event decoded without opening (as stored), with
// each personal string that is in clear sealed with its subject's key, as
// Seal does, except that a value about a person whose key is destroyed is
// written as Placeholder: the copy of a store written before sealing
// (`ledger privacy reseal`) is where such values can at last be removed. A
// value sealed already stays as it is, once checked that it opens with
// the keys of this cipher (the keys travel with the data); one that does
// not open is ErrSealed. changed tells whether a value was rewritten.
func (c *Cipher) Reseal(ctx context.Context, md domain.Metadata, e domain.Event) (out domain.Event, changed bool, err error) {
	out, err = c.rewrite(md, e, func(typ, path string, subject uuid.UUID, value string) (string, error) {
		if strings.HasPrefix(value, Prefix) {
			if _, err := c.open(ctx, typ, path, value); err != nil {
				return "", err
			}
			return value, nil
		}
		changed = true
		sealed, err := c.seal(ctx, typ, path, subject, value)
		if errors.Is(err, domain.ErrSubjectErased) {
			return Placeholder, nil
		}
		return sealed, err
	})
	return out, changed, err
}

// rewrite returns a copy of e whose non-empty personal strings are
// replaced by what fn returns for them; e itself is unchanged.
func (c *Cipher) rewrite(md domain.Metadata, e domain.Event, fn func(typ, path string, subject uuid.UUID, value string) (string, error)) (domain.Event, error) {
	typ := e.EventType()
	fields, ok := c.plans[typ]
	if !ok {
		return nil, fmt.Errorf("seal: unknown event type %q", typ)
	}
	if len(fields) == 0 {
		return e, nil
	}
	src := reflect.ValueOf(e)
	v := reflect.New(src.Type()).Elem()
	v.Set(src)
	copied := map[int]bool{} // pointers to structs already copied
	for _, f := range fields {
		fv := v.FieldByIndex(f.index)
		if f.inner != nil {
			if fv.IsNil() {
				continue
			}
			if !copied[f.index[0]] {
				cp := reflect.New(fv.Type().Elem())
				cp.Elem().Set(fv.Elem())
				fv.Set(cp)
				copied[f.index[0]] = true
			}
			fv = fv.Elem().FieldByIndex(f.inner)
		}
		value := fv.String()
		if value == "" {
			continue
		}
		subject, err := subjectOf(v, f.subject, md)
		if err != nil {
			return nil, fmt.Errorf("seal %s: %w", typ, err)
		}
		out, err := fn(typ, f.path, subject, value)
		if err != nil {
			return nil, err
		}
		fv.SetString(out)
	}
	return v.Interface().(domain.Event), nil
}

// Mask returns e, an event as read (opened), with each personal value
// about a person whose key is destroyed, or who never had one, replaced
// by Placeholder: what a re-sealed copy reads where its source held the
// value in clear about an erased person.
func (c *Cipher) Mask(ctx context.Context, md domain.Metadata, e domain.Event) (domain.Event, error) {
	return c.rewrite(md, e, func(_, _ string, subject uuid.UUID, value string) (string, error) {
		_, ok, err := c.lookup(ctx, subject)
		switch {
		case err != nil:
			return "", err
		case !ok:
			return Placeholder, nil
		}
		return value, nil
	})
}

// Subjects returns the accounts whose keys seal the personal strings of e
// (each once): what Prepare gets ready before a batch is sealed.
func (c *Cipher) Subjects(md domain.Metadata, e domain.Event) []uuid.UUID {
	var out []uuid.UUID
	_, _ = c.rewrite(md, e, func(_, _ string, subject uuid.UUID, value string) (string, error) {
		if !strings.HasPrefix(value, Prefix) && !slices.Contains(out, subject) {
			out = append(out, subject)
		}
		return value, nil
	})
	return out
}

// seal encrypts one value.
func (c *Cipher) seal(ctx context.Context, typ, path string, subject uuid.UUID, plain string) (string, error) {
	key, err := c.key(ctx, subject)
	if errors.Is(err, ErrDestroyed) {
		return "", domain.Errorf(domain.ErrSubjectErased, "account %s", subject)
	}
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", typ, err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal %s: %w", typ, err)
	}
	out := aead.Seal(nonce, nonce, []byte(plain), additional(typ, path, subject))
	return Prefix + subject.String() + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open implements domain.Opener: it returns data with each sealed personal
// value opened, or Placeholder when its key was destroyed; data itself
// when it holds no sealed value (as events written before sealing, or
// without personal data). A value that does not open is ErrSealed: the
// event is not read. Only the personal fields of typ are opened: a text
// elsewhere that merely looks sealed is left as it is.
//
// Reading an erasure event (privacy.subject_erased.v1) drops the erased
// person's key from the cache: every node reads the log, so each forgets
// the key as soon as it reads the erasure, and within the TTL anyway.
func (c *Cipher) Open(typ string, data []byte) ([]byte, error) {
	if typ == (domain.SubjectErased{}).EventType() {
		var e domain.SubjectErased
		if err := json.Unmarshal(data, &e); err == nil {
			c.Evict(e.Subject)
		}
	}
	fields := c.plans[typ]
	if len(fields) == 0 || !bytes.Contains(data, []byte(`"`+Prefix)) {
		return data, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("open %s: %w", typ, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	changed := false
	for _, f := range fields {
		obj, name := doc, f.path
		if head, rest, nested := strings.Cut(f.path, "."); nested {
			obj, _ = doc[head].(map[string]any)
			name = rest
		}
		s, ok := obj[name].(string)
		if !ok || !strings.HasPrefix(s, Prefix) {
			continue
		}
		plain, err := c.open(ctx, typ, f.path, s)
		if err != nil {
			return nil, err
		}
		obj[name] = plain
		changed = true
	}
	if !changed {
		return data, nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", typ, err)
	}
	return out, nil
}

// open decrypts one sealed value.
func (c *Cipher) open(ctx context.Context, typ, path, sealed string) (string, error) {
	rest := strings.TrimPrefix(sealed, Prefix)
	id, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("open %s %s: %w: no subject", typ, path, ErrSealed)
	}
	subject, err := uuid.Parse(id)
	if err != nil {
		return "", fmt.Errorf("open %s %s: %w: subject: %v", typ, path, ErrSealed, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("open %s %s: %w: %v", typ, path, ErrSealed, err)
	}
	key, ok, err := c.lookup(ctx, subject)
	switch {
	case err != nil:
		return "", fmt.Errorf("open %s %s: %w", typ, path, err)
	case !ok:
		return Placeholder, nil
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("open %s %s: %w: too short", typ, path, ErrSealed)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], additional(typ, path, subject))
	if err != nil {
		return "", fmt.Errorf("open %s %s: %w", typ, path, ErrSealed)
	}
	return string(plain), nil
}

// Destroy destroys the key of subject, and forgets it.
func (c *Cipher) Destroy(ctx context.Context, subject uuid.UUID) error {
	if err := c.keys.Destroy(ctx, subject); err != nil {
		return err
	}
	c.mu.Lock()
	c.cache[subject] = cached{at: c.now()}
	c.mu.Unlock()
	return nil
}

// Evict forgets the key of subject: the next use reads the store.
func (c *Cipher) Evict(subject uuid.UUID) {
	c.mu.Lock()
	delete(c.cache, subject)
	c.mu.Unlock()
}

// bulkStore is a Store that creates many keys at once (SQL).
type bulkStore interface {
	Keys(ctx context.Context, subjects []uuid.UUID) (map[uuid.UUID][]byte, error)
}

// Prepare reads, and creates, the keys of subjects about to be sealed for,
// in bulk when the store can (a directory import opens thousands of
// accounts: one transaction for many keys instead of one each), and keeps
// them for the TTL. It implements commands.SubjectPreparer.
func (c *Cipher) Prepare(ctx context.Context, subjects []uuid.UUID) error {
	bulk, ok := c.keys.(bulkStore)
	if !ok || c.ttl <= 0 {
		return nil
	}
	var missing []uuid.UUID
	for _, s := range subjects {
		if _, _, hit := c.cached(s); !hit {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	keys, err := bulk.Keys(ctx, missing)
	if err != nil {
		return err
	}
	for _, s := range missing {
		c.remember(s, keys[s]) // absent: destroyed
	}
	return nil
}

// key returns the key to seal with, creating it.
func (c *Cipher) key(ctx context.Context, subject uuid.UUID) ([]byte, error) {
	if k, ok, hit := c.cached(subject); hit {
		if !ok {
			return nil, ErrDestroyed
		}
		return k, nil
	}
	k, err := c.keys.Key(ctx, subject)
	switch {
	case errors.Is(err, ErrDestroyed):
		c.remember(subject, nil)
		return nil, err
	case err != nil:
		return nil, err
	}
	c.remember(subject, k)
	return k, nil
}

// lookup returns the key to open with, false once destroyed.
func (c *Cipher) lookup(ctx context.Context, subject uuid.UUID) ([]byte, bool, error) {
	if k, ok, hit := c.cached(subject); hit {
		return k, ok, nil
	}
	k, ok, err := c.keys.Lookup(ctx, subject)
	if err != nil {
		return nil, false, err
	}
	if ok {
		c.remember(subject, k)
	}
	return k, ok, nil
}

// cached returns the key kept for subject: hit is false when none is kept
// or it expired; ok is false for a key known destroyed.
func (c *Cipher) cached(subject uuid.UUID) (key []byte, ok, hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.cache[subject]
	switch {
	case !found:
		return nil, false, false
	case e.key == nil:
		return nil, false, true
	case c.now().Sub(e.at) >= c.ttl:
		delete(c.cache, subject)
		return nil, false, false
	}
	return e.key, true, true
}

// remember keeps a key read (nil: destroyed).
func (c *Cipher) remember(subject uuid.UUID, key []byte) {
	if key != nil && c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxCached {
		clear(c.cache)
	}
	c.cache[subject] = cached{key: key, at: c.now()}
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("subject key: %w", err)
	}
	return cipher.NewGCM(block)
}

// additional is the additional data of a sealed value: it binds the value
// to its event type, its place in the payload and its subject.
func additional(typ, path string, subject uuid.UUID) []byte {
	return []byte(typ + "\x00" + path + "\x00" + subject.String())
}
