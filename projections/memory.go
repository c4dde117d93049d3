package projections

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/schoollife/ledger/domain"
)

// MemoryDocs keeps read models in memory: for replays that must not touch
// the stored read models (indicators recomputed from the log, a student
// file as of a past date) and for tests. It implements DocStore,
// GenerationStore and Locker (locks are held within the process).
type MemoryDocs struct {
	mu     sync.Mutex
	docs   map[string]map[string]map[string][]byte // ns -> coll -> key -> doc
	checks map[string]domain.Position
	gens   map[string]Generations
	locks  map[string]bool
}

// NewMemoryDocs returns an empty store.
func NewMemoryDocs() *MemoryDocs {
	return &MemoryDocs{
		docs:   make(map[string]map[string]map[string][]byte),
		checks: make(map[string]domain.Position),
		gens:   make(map[string]Generations),
		locks:  make(map[string]bool),
	}
}

var (
	_ DocStore        = (*MemoryDocs)(nil)
	_ GenerationStore = (*MemoryDocs)(nil)
)

type memReader struct {
	m  *MemoryDocs
	ns string
}

func (r memReader) Get(_ context.Context, coll, key string) ([]byte, bool, error) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	d, ok := r.m.docs[r.ns][coll][key]
	return d, ok, nil
}

// GetMany implements DocMultiGetter, so that tests on memory go through
// Batch.Preload as the SQL stores do.
func (r memReader) GetMany(_ context.Context, coll string, keys []string, fn func(string, []byte) error) error {
	r.m.mu.Lock()
	found := make(map[string][]byte, len(keys))
	for _, k := range keys {
		if d, ok := r.m.docs[r.ns][coll][k]; ok {
			found[k] = d
		}
	}
	r.m.mu.Unlock()
	for k, d := range found {
		if err := fn(k, d); err != nil {
			return err
		}
	}
	return nil
}

func (r memReader) Scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	r.m.mu.Lock()
	var keys []string
	for k := range r.m.docs[r.ns][coll] {
		if k >= from && (to == "" || k < to) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, strings.Compare)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = r.m.docs[r.ns][coll][k]
	}
	r.m.mu.Unlock()
	for i, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// memTx stages writes and applies them on commit.
type memTx struct {
	memReader
	staged []Doc
	check  *domain.Position
}

func (t *memTx) Put(_ context.Context, docs []Doc) error {
	t.staged = append(t.staged, docs...)
	return nil
}

func (t *memTx) SetCheckpoint(_ context.Context, pos domain.Position) error {
	t.check = &pos
	return nil
}

// Update implements DocStore: fn's writes apply only if it succeeds.
func (m *MemoryDocs) Update(ctx context.Context, ns string, fn func(DocTx) error) error {
	tx := &memTx{memReader: memReader{m: m, ns: ns}}
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range tx.staged {
		if m.docs[ns] == nil {
			m.docs[ns] = make(map[string]map[string][]byte)
		}
		if m.docs[ns][d.Coll] == nil {
			m.docs[ns][d.Coll] = make(map[string][]byte)
		}
		if d.Value == nil {
			delete(m.docs[ns][d.Coll], d.Key)
		} else {
			m.docs[ns][d.Coll][d.Key] = d.Value
		}
	}
	if tx.check != nil {
		m.checks[ns] = *tx.check
	}
	return nil
}

// Reader implements DocStore.
func (m *MemoryDocs) Reader(ns string) DocReader { return memReader{m: m, ns: ns} }

// Checkpoint implements DocStore.
func (m *MemoryDocs) Checkpoint(_ context.Context, ns string) (domain.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checks[ns], nil
}

// Generations implements GenerationStore.
func (m *MemoryDocs) Generations(_ context.Context, projection string) (Generations, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gens[projection], nil
}

// SetGenerations implements GenerationStore.
func (m *MemoryDocs) SetGenerations(_ context.Context, projection string, g Generations) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gens[projection] = g
	return nil
}

// DropNamespace implements GenerationStore.
func (m *MemoryDocs) DropNamespace(_ context.Context, ns string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.docs, ns)
	delete(m.checks, ns)
	return nil
}

// TryAcquire implements projector.Locker within the process.
func (m *MemoryDocs) TryAcquire(ctx context.Context, name string) (context.Context, func(), bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, nil, false, nil
	}
	m.locks[name] = true
	held, cancel := context.WithCancel(ctx)
	var once sync.Once
	release := func() {
		once.Do(func() {
			cancel()
			m.mu.Lock()
			delete(m.locks, name)
			m.mu.Unlock()
		})
	}
	return held, release, true, nil
}
