package subjectkeys

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// KeySize is the size of a subject's key: AES-256.
const KeySize = 32

// ErrDestroyed is the error of Key for a subject whose key was destroyed:
// nothing personal about an erased person may be written again.
var ErrDestroyed = errors.New("subject key destroyed")

// Store keeps the keys of subjects: one person key each (names), and
// scoped keys (a category of data for a school year, one record).
type Store interface {
	// Key returns the person key of subject, creating it (KeySize random
	// bytes) when it has none; ErrDestroyed once it was destroyed.
	Key(ctx context.Context, subject uuid.UUID) ([]byte, error)
	// Lookup returns the person key of subject; ok is false once it was
	// destroyed, or when it never had one.
	Lookup(ctx context.Context, subject uuid.UUID) (key []byte, ok bool, err error)
	// Destroy destroys every key of subject, its person key and its
	// scoped keys, for good, keeping that they were destroyed and when.
	// Destroying a destroyed key, or that of a subject with none, is no
	// error (and the subject then never gets one, of any scope).
	Destroy(ctx context.Context, subject uuid.UUID) error

	// ScopedKey returns the scoped key ref names, creating it;
	// ErrDestroyed once it, or its subject's person key, was destroyed.
	ScopedKey(ctx context.Context, ref Ref) ([]byte, error)
	// LookupScoped returns the scoped key of id and what it covers; ok is
	// false once it was destroyed, or when there is none.
	LookupScoped(ctx context.Context, id uuid.UUID) (ref Ref, key []byte, ok bool, err error)
	// DestroyScoped destroys the scoped key ref names, keeping that it was
	// destroyed and when; a key never created is recorded destroyed, so
	// that it never is.
	DestroyScoped(ctx context.Context, ref Ref) error
	// LivePeriods counts the category keys not destroyed, by
	// establishment, category and period.
	LivePeriods(ctx context.Context) ([]PeriodKeys, error)
	// DestroyPeriod destroys the category keys of p's establishment,
	// category and period, and returns how many it destroyed.
	DestroyPeriod(ctx context.Context, p PeriodKeys) (int, error)
}

// newKey returns KeySize random bytes.
func newKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("new subject key: %w", err)
	}
	return k, nil
}

// Memory is a Store in memory, for tests.
type Memory struct {
	mu     sync.Mutex
	keys   map[uuid.UUID]memoryKey
	scoped map[uuid.UUID]memoryScoped
	now    func() time.Time
}

type memoryKey struct {
	key       []byte // nil once destroyed
	destroyed time.Time
}

type memoryScoped struct {
	ref Ref
	memoryKey
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store in memory.
func NewMemory() *Memory {
	return &Memory{keys: make(map[uuid.UUID]memoryKey), scoped: make(map[uuid.UUID]memoryScoped), now: time.Now}
}

// Key implements Store.
func (m *Memory) Key(_ context.Context, subject uuid.UUID) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[subject]
	switch {
	case ok && k.key == nil:
		return nil, ErrDestroyed
	case ok:
		return k.key, nil
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	m.keys[subject] = memoryKey{key: key}
	return key, nil
}

// Lookup implements Store.
func (m *Memory) Lookup(_ context.Context, subject uuid.UUID) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.keys[subject]
	return k.key, k.key != nil, nil
}

// Destroy implements Store.
func (m *Memory) Destroy(_ context.Context, subject uuid.UUID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for id, k := range m.scoped {
		if k.ref.Subject == subject && k.key != nil {
			m.scoped[id] = memoryScoped{ref: k.ref, memoryKey: memoryKey{destroyed: now}}
		}
	}
	if k, ok := m.keys[subject]; ok && k.key == nil {
		return nil
	}
	m.keys[subject] = memoryKey{destroyed: now}
	return nil
}

// ScopedKey implements Store.
func (m *Memory) ScopedKey(_ context.Context, ref Ref) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.scoped[ref.ID]; ok {
		if k.key == nil {
			return nil, ErrDestroyed
		}
		return k.key, nil
	}
	if k, ok := m.keys[ref.Subject]; ok && k.key == nil {
		return nil, ErrDestroyed
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	m.scoped[ref.ID] = memoryScoped{ref: ref, memoryKey: memoryKey{key: key}}
	return key, nil
}

// LookupScoped implements Store.
func (m *Memory) LookupScoped(_ context.Context, id uuid.UUID) (Ref, []byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.scoped[id]
	return k.ref, k.key, k.key != nil, nil
}

// DestroyScoped implements Store.
func (m *Memory) DestroyScoped(_ context.Context, ref Ref) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.scoped[ref.ID]; ok && k.key == nil {
		return nil
	}
	m.scoped[ref.ID] = memoryScoped{ref: ref, memoryKey: memoryKey{destroyed: m.now()}}
	return nil
}

// LivePeriods implements Store.
func (m *Memory) LivePeriods(context.Context) ([]PeriodKeys, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	counts := map[PeriodKeys]int{}
	for _, k := range m.scoped {
		if k.key != nil && k.ref.Scope.Kind == ScopeCategory {
			counts[PeriodKeys{Establishment: k.ref.Scope.Establishment, Category: k.ref.Scope.Category, Period: k.ref.Scope.Period}]++
		}
	}
	out := make([]PeriodKeys, 0, len(counts))
	for p, n := range counts {
		p.Keys = n
		out = append(out, p)
	}
	sortPeriods(out)
	return out, nil
}

// DestroyPeriod implements Store.
func (m *Memory) DestroyPeriod(_ context.Context, p PeriodKeys) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, k := range m.scoped {
		s := k.ref.Scope
		if k.key != nil && s.Kind == ScopeCategory && s.Establishment == p.Establishment && s.Category == p.Category && s.Period == p.Period {
			m.scoped[id] = memoryScoped{ref: k.ref, memoryKey: memoryKey{destroyed: m.now()}}
			n++
		}
	}
	return n, nil
}

// Destroyed reports when the person key of subject was destroyed (tests).
func (m *Memory) Destroyed(subject uuid.UUID) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[subject]
	return k.destroyed, ok && k.key == nil
}

// sortPeriods orders periods by establishment, category and period.
func sortPeriods(ps []PeriodKeys) {
	slices.SortFunc(ps, func(a, b PeriodKeys) int {
		return cmp.Or(cmp.Compare(a.Establishment, b.Establishment), cmp.Compare(a.Category, b.Category), cmp.Compare(a.Period, b.Period))
	})
}
