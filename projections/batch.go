package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Batch is what a reducer reads and writes while applying a batch of
// events: a write-back cache over one read-model transaction. Documents are
// decoded once per batch, mutated in place by the reducers and encoded once
// when the batch commits, so a busy document (a day's counters) costs one
// read and one write per batch, not per event.
type Batch struct {
	tx      DocReader
	entries map[docKey]*entry
}

type docKey struct{ coll, key string }

type entry struct {
	value   any    // pointer to the decoded document; nil when absent
	raw     []byte // the stored document, preloaded and not decoded yet
	dirty   bool
	deleted bool
}

// NewBatch returns a batch over r (a DocTx when it will be flushed).
func NewBatch(r DocReader) *Batch {
	return &Batch{tx: r, entries: make(map[docKey]*entry)}
}

// Get returns the document at (coll, key) decoded as a *T, and whether it
// exists. The pointer may be mutated; call Put to keep the change.
func Get[T any](ctx context.Context, b *Batch, coll, key string) (*T, bool, error) {
	k := docKey{coll, key}
	if e, ok := b.entries[k]; ok {
		if e.raw != nil {
			v, err := decodeRaw[T](e)
			if err != nil {
				return nil, false, fmt.Errorf("decode %s/%s: %w", coll, key, err)
			}
			return v, true, nil
		}
		if e.value == nil {
			return new(T), false, nil
		}
		v, ok := e.value.(*T)
		if !ok {
			return nil, false, fmt.Errorf("document %s/%s holds %T, not %T", coll, key, e.value, v)
		}
		return v, true, nil
	}
	raw, ok, err := b.tx.Get(ctx, coll, key)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		b.entries[k] = &entry{}
		return new(T), false, nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, false, fmt.Errorf("decode %s/%s: %w", coll, key, err)
	}
	b.entries[k] = &entry{value: v}
	return v, true, nil
}

// Peek returns the document at (coll, key) if the batch holds it (written,
// or preloaded), without reading the store: a Prefetcher uses it to name
// documents found through others. The pointer must not be mutated.
func Peek[T any](b *Batch, coll, key string) (*T, bool) {
	e, ok := b.entries[docKey{coll, key}]
	if !ok || (e.raw == nil && e.value == nil) {
		return nil, false
	}
	if e.raw != nil {
		v, err := decodeRaw[T](e)
		return v, err == nil // Get reports the error
	}
	v, ok := e.value.(*T)
	return v, ok
}

// decodeRaw decodes a preloaded document into the entry's value.
func decodeRaw[T any](e *entry) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(e.raw, v); err != nil {
		return nil, err
	}
	e.value, e.raw = v, nil
	return v, nil
}

// Preload reads, in one request per collection where the transaction can
// (DocMultiGetter), the documents of keys (collection -> keys) that the
// batch has not read or written yet, so that the Gets that follow need no
// round trip; documents that do not exist are remembered as absent. The
// documents are decoded when first got. Without DocMultiGetter it does
// nothing: each Get reads its document.
//
// It returns how many documents it looked for.
func (b *Batch) Preload(ctx context.Context, keys map[string][]string) (int, error) {
	mg, ok := b.tx.(DocMultiGetter)
	if !ok {
		return 0, nil
	}
	asked := 0
	colls := make([]string, 0, len(keys))
	for coll := range keys {
		colls = append(colls, coll)
	}
	slices.Sort(colls)
	for _, coll := range colls {
		var missing []string
		for _, k := range keys[coll] {
			dk := docKey{coll, k}
			if _, ok := b.entries[dk]; !ok {
				b.entries[dk] = &entry{}
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			continue
		}
		asked += len(missing)
		if err := mg.GetMany(ctx, coll, missing, func(key string, doc []byte) error {
			e, ok := b.entries[docKey{coll, key}]
			if !ok || e.dirty || e.value != nil {
				return fmt.Errorf("preload %s: document %q was not asked for", coll, key)
			}
			e.raw = doc
			return nil
		}); err != nil {
			for _, k := range missing {
				delete(b.entries, docKey{coll, k})
			}
			return asked, fmt.Errorf("preload %s: %w", coll, err)
		}
	}
	return asked, nil
}

// Put records v (a pointer) as the document at (coll, key).
func (b *Batch) Put(coll, key string, v any) {
	b.entries[docKey{coll, key}] = &entry{value: v, dirty: true}
}

// Delete removes the document at (coll, key).
func (b *Batch) Delete(coll, key string) {
	b.entries[docKey{coll, key}] = &entry{dirty: true, deleted: true}
}

// Counts is a document of named counters.
type Counts map[string]int64

// Add adds delta to counter name of the Counts document at (coll, key).
func (b *Batch) Add(ctx context.Context, coll, key, name string, delta int64) error {
	c, _, err := Get[Counts](ctx, b, coll, key)
	if err != nil {
		return err
	}
	if *c == nil {
		*c = Counts{}
	}
	(*c)[name] += delta
	b.Put(coll, key, c)
	return nil
}

// Changes encodes the documents written, in a stable order.
func (b *Batch) Changes() ([]Doc, error) {
	var out []Doc
	for k, e := range b.entries {
		if !e.dirty {
			continue
		}
		d := Doc{Coll: k.coll, Key: k.key}
		if !e.deleted {
			raw, err := json.Marshal(e.value)
			if err != nil {
				return nil, fmt.Errorf("encode %s/%s: %w", k.coll, k.key, err)
			}
			d.Value = raw
		}
		out = append(out, d)
	}
	SortDocs(out)
	return out, nil
}

// SortDocs sorts documents by collection, then key: the order a batch
// writes them in.
func SortDocs(docs []Doc) {
	slices.SortFunc(docs, func(a, b Doc) int {
		if c := strings.Compare(a.Coll, b.Coll); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}
