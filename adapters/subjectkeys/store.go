package subjectkeys

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// KeySize is the size of a subject's key: AES-256.
const KeySize = 32

// ErrDestroyed is the error of Key for a subject whose key was destroyed:
// nothing personal about an erased person may be written again.
var ErrDestroyed = errors.New("subject key destroyed")

// Store keeps one key per subject.
type Store interface {
	// Key returns the key of subject, creating it (KeySize random bytes)
	// when it has none; ErrDestroyed once it was destroyed.
	Key(ctx context.Context, subject uuid.UUID) ([]byte, error)
	// Lookup returns the key of subject; ok is false once it was
	// destroyed, or when it never had one.
	Lookup(ctx context.Context, subject uuid.UUID) (key []byte, ok bool, err error)
	// Destroy destroys the key of subject for good, keeping that it was
	// destroyed and when. Destroying a destroyed key, or that of a subject
	// with none, is no error (and the subject then never gets one).
	Destroy(ctx context.Context, subject uuid.UUID) error
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
	mu   sync.Mutex
	keys map[uuid.UUID]memoryKey
	now  func() time.Time
}

type memoryKey struct {
	key       []byte // nil once destroyed
	destroyed time.Time
}

// NewMemory returns an empty store in memory.
func NewMemory() *Memory {
	return &Memory{keys: make(map[uuid.UUID]memoryKey), now: time.Now}
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
	if k, ok := m.keys[subject]; ok && k.key == nil {
		return nil
	}
	m.keys[subject] = memoryKey{destroyed: m.now()}
	return nil
}

// Destroyed reports when the key of subject was destroyed (tests).
func (m *Memory) Destroyed(subject uuid.UUID) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[subject]
	return k.destroyed, ok && k.key == nil
}
