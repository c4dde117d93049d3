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

// Prefix starts every value sealed with a person key:
// "enc:v1:SUBJECT:BASE64URL(NONCE|CIPHERTEXT)".
const Prefix = "enc:v1:"

// PrefixScoped starts every value sealed with a scoped key (a category of
// data for a school year, one record): "enc:v2:KEY:BASE64URL(NONCE|CIPHERTEXT)",
// KEY the key's id (Ref.ID).
const PrefixScoped = "enc:v2:"

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
// (AES-256-GCM; the additional data binds the event type, the field's path,
// the subject and, for a scoped key, its scope) and opens them. It
// implements commands.Sealer and domain.Opener, and keeps the keys it read
// for a while (WithTTL), by key id.
type Cipher struct {
	keys    Store
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time
	// loc is where school years begin (the period of category keys).
	loc *time.Location

	// plans holds the personal fields of each current wire name, and of
	// each retired one (those of the type it upcasts to).
	plans map[string][]field

	mu    sync.Mutex
	cache map[uuid.UUID]cached
	// bySubject lists the scoped keys cached for each subject (a person
	// key's id is its subject's), so that an erasure read in the log
	// forgets them without scanning the cache; it may name keys forgotten
	// since.
	bySubject map[uuid.UUID][]uuid.UUID
}

type cached struct {
	key []byte // nil: destroyed (for good: never expires)
	at  time.Time
	// ref is what the key covers (evictions by subject or period).
	ref Ref
}

// Option configures a Cipher.
type Option func(*Cipher)

// WithTTL sets how long a key read is kept (DefaultTTL); 0 keeps none.
func WithTTL(d time.Duration) Option { return func(c *Cipher) { c.ttl = d } }

// WithClock sets the clock of the cache (time.Now), which also dates what
// is sealed without a time in its metadata.
func WithClock(now func() time.Time) Option { return func(c *Cipher) { c.now = now } }

// WithLocation sets where school years begin (domain.Paris()).
func WithLocation(loc *time.Location) Option { return func(c *Cipher) { c.loc = loc } }

// New returns a cipher over keys for the event types of reg. It fails when
// a personal field of a type names no valid subject.
func New(keys Store, reg *domain.Registry, opts ...Option) (*Cipher, error) {
	c := &Cipher{keys: keys, ttl: DefaultTTL, timeout: DefaultTimeout, now: time.Now, loc: domain.Paris(),
		plans: make(map[string][]field), cache: make(map[uuid.UUID]cached), bySubject: make(map[uuid.UUID][]uuid.UUID)}
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
	return c.rewrite(md, e, func(t target, plain string) (string, error) {
		return c.sealTarget(ctx, t, plain)
	})
}

// Reseal returns e, an event decoded without opening (as stored), with
// each personal string that is in clear sealed with its key, as Seal
// does, except that a value about a person whose key is destroyed is
// written as Placeholder: the copy of a store written before sealing
// (`ledger privacy reseal`) is where such values can at last be removed. A
// value sealed already stays as it is, once checked that it opens with
// the keys of this cipher (the keys travel with the data); one that does
// not open is ErrSealed. changed tells whether a value was rewritten.
func (c *Cipher) Reseal(ctx context.Context, md domain.Metadata, e domain.Event) (out domain.Event, changed bool, err error) {
	out, err = c.rewrite(md, e, func(t target, value string) (string, error) {
		switch {
		case strings.HasPrefix(value, Prefix):
			if _, err := c.open(ctx, t.typ, t.path, value); err != nil {
				return "", err
			}
			return value, nil
		case strings.HasPrefix(value, PrefixScoped):
			if _, err := c.openScoped(ctx, t.typ, t.path, value); err != nil {
				return "", err
			}
			return value, nil
		}
		changed = true
		sealed, err := c.sealTarget(ctx, t, value)
		if errors.Is(err, domain.ErrSubjectErased) {
			return Placeholder, nil
		}
		return sealed, err
	})
	return out, changed, err
}

// Mask returns e, an event as read (opened), with each personal value
// about a person whose key is destroyed, or who never had one, replaced
// by Placeholder: what a re-sealed copy reads where its source held the
// value in clear about an erased person. The key looked up is the one the
// value is sealed with: the person's own, or a scoped one (erasing a
// person destroys every key of theirs, and none is created after).
func (c *Cipher) Mask(ctx context.Context, md domain.Metadata, e domain.Event) (domain.Event, error) {
	return c.rewrite(md, e, func(t target, value string) (string, error) {
		var ok bool
		var err error
		if t.ref == nil {
			_, ok, err = c.lookup(ctx, t.subject)
		} else {
			_, _, ok, err = c.lookupScoped(ctx, t.ref.ID)
		}
		switch {
		case err != nil:
			return "", err
		case !ok:
			return Placeholder, nil
		}
		return value, nil
	})
}

// Subjects returns the accounts whose own keys seal the personal strings
// of e in clear (each once): what Prepare gets ready before a batch is
// sealed. Scoped keys are created as they are first used.
func (c *Cipher) Subjects(md domain.Metadata, e domain.Event) []uuid.UUID {
	var out []uuid.UUID
	_, _ = c.rewrite(md, e, func(t target, value string) (string, error) {
		if t.ref == nil && !strings.HasPrefix(value, Prefix) && !slices.Contains(out, t.subject) {
			out = append(out, t.subject)
		}
		return value, nil
	})
	return out
}

// target is the key a personal value is sealed with: its subject's own
// (ref nil) or a scoped one.
type target struct {
	typ, path string
	subject   uuid.UUID
	ref       *Ref
}

// sealTarget encrypts one value with its target's key.
func (c *Cipher) sealTarget(ctx context.Context, t target, plain string) (string, error) {
	if t.ref == nil {
		return c.seal(ctx, t.typ, t.path, t.subject, plain)
	}
	return c.sealScoped(ctx, t.typ, t.path, *t.ref, plain)
}

// rewrite returns a copy of e whose non-empty personal strings are
// replaced by what fn returns for them; e itself is unchanged.
func (c *Cipher) rewrite(md domain.Metadata, e domain.Event, fn func(t target, value string) (string, error)) (domain.Event, error) {
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
	var (
		last      Ref // the scoped key of the last field sealed with one
		lastScope tagScope
		have      bool
	)
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
		t := target{typ: typ, path: f.path, subject: subject}
		if f.scope.kind != ScopePerson {
			// The fields of one event mostly share their key.
			if !have || f.scope != lastScope || subject != last.Subject {
				if last, err = c.refOf(v, f.scope, subject, md); err != nil {
					return nil, fmt.Errorf("seal %s: %w", typ, err)
				}
				lastScope, have = f.scope, true
			}
			ref := last
			t.ref = &ref
		}
		out, err := fn(t, value)
		if err != nil {
			return nil, err
		}
		fv.SetString(out)
	}
	return v.Interface().(domain.Event), nil
}

// refOf returns the scoped key a field of the event v is sealed with: a
// category key of the establishment and school year of the event (its
// metadata), or the key of the record the tag names.
func (c *Cipher) refOf(v reflect.Value, ts tagScope, subject uuid.UUID, md domain.Metadata) (Ref, error) {
	switch ts.kind {
	case ScopeCategory:
		at := md.Time
		if at.IsZero() {
			at = c.now()
		}
		return RefOf(subject, Scope{Kind: ScopeCategory, Category: ts.category,
			Establishment: md.Establishment, Period: domain.PeriodOf(at, c.loc)}), nil
	case ScopeRecord:
		record := v.FieldByName(ts.record).Interface().(uuid.UUID)
		if record == uuid.Nil {
			return Ref{}, fmt.Errorf("personal data of %s: no record in %s", v.Type().Name(), ts.record)
		}
		return RecordRef(subject, ts.category, record), nil
	}
	return Ref{}, fmt.Errorf("personal data of %s: scope %q", v.Type().Name(), ts.kind)
}

// sealScoped encrypts one value with a scoped key.
func (c *Cipher) sealScoped(ctx context.Context, typ, path string, ref Ref, plain string) (string, error) {
	key, err := c.scopedKey(ctx, ref)
	if errors.Is(err, ErrDestroyed) {
		if ref.Scope.Kind == ScopeRecord {
			return "", domain.Errorf(domain.ErrSubjectErased, "%s %s of account %s was effaced", ref.Scope.Category, ref.Scope.Record, ref.Subject)
		}
		return "", domain.Errorf(domain.ErrSubjectErased, "account %s (%s %s)", ref.Subject, ref.Scope.Category, ref.Scope.Period)
	}
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", typ, err)
	}
	out, err := encrypt(key, plain, additionalScoped(typ, path, ref))
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", typ, err)
	}
	return PrefixScoped + ref.ID.String() + ":" + out, nil
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
	out, err := encrypt(key, plain, additional(typ, path, subject))
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", typ, err)
	}
	return Prefix + subject.String() + ":" + out, nil
}

// encrypt seals plain with key: base64url(nonce|ciphertext).
func encrypt(key []byte, plain string, ad []byte) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), ad)), nil
}

// Open implements domain.Opener: it returns data with each sealed personal
// value opened, or Placeholder when its key was destroyed; data itself
// when it holds no sealed value (as events written before sealing, or
// without personal data). A value that does not open is ErrSealed: the
// event is not read. Only the personal fields of typ are opened: a text
// elsewhere that merely looks sealed is left as it is.
//
// Reading an erasure event (privacy.subject_erased.v1) drops the erased
// person's keys from the cache, an effacement (sanction.effaced.v1) the
// sanction's, an expiry (privacy.retention_applied.v1) the period's: every
// node reads the log, so each forgets the keys as soon as it reads the
// event, and within the TTL anyway.
func (c *Cipher) Open(typ string, data []byte) ([]byte, error) {
	c.forgetOn(typ, data)
	fields := c.plans[typ]
	if len(fields) == 0 || !bytes.Contains(data, []byte(`"enc:v`)) {
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
		if !ok {
			continue
		}
		var plain string
		var err error
		switch {
		case strings.HasPrefix(s, Prefix):
			plain, err = c.open(ctx, typ, f.path, s)
		case strings.HasPrefix(s, PrefixScoped):
			plain, err = c.openScoped(ctx, typ, f.path, s)
		default:
			continue
		}
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

// forgetOn drops from the cache the keys an event destroys.
func (c *Cipher) forgetOn(typ string, data []byte) {
	switch typ {
	case domain.SubjectErased{}.EventType():
		var e domain.SubjectErased
		if err := json.Unmarshal(data, &e); err == nil {
			c.Evict(e.Subject)
		}
	case domain.SanctionEffaced{}.EventType():
		var e domain.SanctionEffaced
		if err := json.Unmarshal(data, &e); err == nil {
			c.mu.Lock()
			delete(c.cache, sanctionRef(e.Student, e.Sanction).ID)
			c.mu.Unlock()
		}
	case domain.RetentionApplied{}.EventType():
		var e domain.RetentionApplied
		if err := json.Unmarshal(data, &e); err == nil {
			p := PeriodKeys{Establishment: e.Establishment, Category: string(e.Category), Period: e.Period}
			c.forget(func(r Ref) bool { return inPeriod(r, p) })
		}
	}
}

// sanctionRef is the key of a sanction's texts (`record=Sanction`).
func sanctionRef(student, sanction uuid.UUID) Ref {
	return RecordRef(student, domain.RecordSanction, sanction)
}

// inPeriod reports whether r is a category key of p.
func inPeriod(r Ref, p PeriodKeys) bool {
	s := r.Scope
	return s.Kind == ScopeCategory && s.Establishment == p.Establishment && s.Category == p.Category && s.Period == p.Period
}

// openScoped decrypts one value sealed with a scoped key.
func (c *Cipher) openScoped(ctx context.Context, typ, path, sealed string) (string, error) {
	rest := strings.TrimPrefix(sealed, PrefixScoped)
	id, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("open %s %s: %w: no key", typ, path, ErrSealed)
	}
	kid, err := uuid.Parse(id)
	if err != nil {
		return "", fmt.Errorf("open %s %s: %w: key: %v", typ, path, ErrSealed, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("open %s %s: %w: %v", typ, path, ErrSealed, err)
	}
	ref, key, ok, err := c.lookupScoped(ctx, kid)
	switch {
	case err != nil:
		return "", fmt.Errorf("open %s %s: %w", typ, path, err)
	case !ok:
		return Placeholder, nil
	}
	return decrypt(key, raw, additionalScoped(typ, path, ref), typ, path)
}

// decrypt opens nonce|ciphertext with key.
func decrypt(key, raw, ad []byte, typ, path string) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("open %s %s: %w: too short", typ, path, ErrSealed)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], ad)
	if err != nil {
		return "", fmt.Errorf("open %s %s: %w", typ, path, ErrSealed)
	}
	return string(plain), nil
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
	return decrypt(key, raw, additional(typ, path, subject), typ, path)
}

// Destroy destroys every key of subject (person and scoped ones), and
// forgets them.
func (c *Cipher) Destroy(ctx context.Context, subject uuid.UUID) error {
	if err := c.keys.Destroy(ctx, subject); err != nil {
		return err
	}
	c.Evict(subject)
	c.mu.Lock()
	c.put(cached{at: c.now(), ref: RefOf(subject, Scope{Kind: ScopePerson})})
	c.mu.Unlock()
	return nil
}

// DestroyRecord destroys the key of one record of subject (a sanction's:
// kind "sanction"), and forgets it. It implements commands.RecordShredder.
func (c *Cipher) DestroyRecord(ctx context.Context, subject uuid.UUID, kind string, record uuid.UUID) error {
	ref := RecordRef(subject, kind, record)
	if err := c.keys.DestroyScoped(ctx, ref); err != nil {
		return err
	}
	c.mu.Lock()
	c.put(cached{at: c.now(), ref: ref})
	c.mu.Unlock()
	return nil
}

// LivePeriods counts the category keys not destroyed, by establishment,
// category and school year (retention).
func (c *Cipher) LivePeriods(ctx context.Context) ([]PeriodKeys, error) {
	return c.keys.LivePeriods(ctx)
}

// DestroyPeriod destroys the category keys of one establishment, category
// and school year, forgets them, and returns how many it destroyed.
func (c *Cipher) DestroyPeriod(ctx context.Context, p PeriodKeys) (int, error) {
	n, err := c.keys.DestroyPeriod(ctx, p)
	if err != nil {
		return 0, err
	}
	c.forget(func(r Ref) bool { return inPeriod(r, p) })
	return n, nil
}

// Evict forgets every key of subject: the next use reads the store.
func (c *Cipher) Evict(subject uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, subject)
	for _, id := range c.bySubject[subject] {
		delete(c.cache, id)
	}
	delete(c.bySubject, subject)
}

// put keeps an entry, by its key's id; c.mu is held.
func (c *Cipher) put(e cached) {
	if len(c.cache) >= maxCached {
		clear(c.cache)
		clear(c.bySubject)
	}
	id := e.ref.ID
	if _, known := c.cache[id]; !known && id != e.ref.Subject {
		c.bySubject[e.ref.Subject] = append(c.bySubject[e.ref.Subject], id)
	}
	c.cache[id] = e
}

// forget drops the cached keys that match, scanning the cache (an expiry:
// rare).
func (c *Cipher) forget(match func(Ref) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.cache {
		if match(e.ref) {
			delete(c.cache, id)
		}
	}
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
		c.remember(RefOf(s, Scope{Kind: ScopePerson}), keys[s]) // absent: destroyed
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
	ref := RefOf(subject, Scope{Kind: ScopePerson})
	k, err := c.keys.Key(ctx, subject)
	switch {
	case errors.Is(err, ErrDestroyed):
		c.remember(ref, nil)
		return nil, err
	case err != nil:
		return nil, err
	}
	c.remember(ref, k)
	return k, nil
}

// scopedKey returns the scoped key to seal with, creating it.
func (c *Cipher) scopedKey(ctx context.Context, ref Ref) ([]byte, error) {
	if k, ok, hit := c.cached(ref.ID); hit {
		if !ok {
			return nil, ErrDestroyed
		}
		return k, nil
	}
	k, err := c.keys.ScopedKey(ctx, ref)
	switch {
	case errors.Is(err, ErrDestroyed):
		c.remember(ref, nil)
		return nil, err
	case err != nil:
		return nil, err
	}
	c.remember(ref, k)
	return k, nil
}

// lookupScoped returns the scoped key to open with and what it covers,
// false once destroyed.
func (c *Cipher) lookupScoped(ctx context.Context, id uuid.UUID) (Ref, []byte, bool, error) {
	c.mu.Lock()
	e, found := c.cache[id]
	c.mu.Unlock()
	if found && e.key == nil {
		return e.ref, nil, false, nil
	}
	if k, ok, hit := c.cached(id); hit && ok {
		return e.ref, k, true, nil
	}
	ref, k, ok, err := c.keys.LookupScoped(ctx, id)
	if err != nil {
		return Ref{}, nil, false, err
	}
	if ok {
		c.remember(ref, k)
	}
	return ref, k, ok, nil
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
		c.remember(RefOf(subject, Scope{Kind: ScopePerson}), k)
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

// remember keeps a key read (nil: destroyed), by its id.
func (c *Cipher) remember(ref Ref, key []byte) {
	if key != nil && c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(cached{key: key, at: c.now(), ref: ref})
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

// additionalScoped is the additional data of a value sealed with a scoped
// key: its event type, its place, its subject and the key's scope.
func additionalScoped(typ, path string, ref Ref) []byte {
	return []byte(typ + "\x00" + path + "\x00" + ref.Subject.String() + "\x00" + ref.Scope.String())
}
