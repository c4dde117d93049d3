package projector

import (
	"context"
	"slices"
	"strings"

	"github.com/schoollife/ledger/projections"
)

// docKey names a document of the namespace.
type docKey struct{ coll, key string }

// pending reads a namespace as it will be once a batch still committing
// has committed: that batch's documents first, then the namespace as
// committed below them. CatchUp applies the next batch through it while
// the previous one commits, so that applying and writing overlap.
type pending struct {
	base   projections.DocReader
	docs   map[docKey][]byte // the committing batch's; nil: deleted
	sorted []projections.Doc // the same, sorted as projections.SortDocs sorts, for Scan
}

// newPending returns a reader of base with docs (sorted by projections.SortDocs, as
// projections.Batch.Changes returns them) written over it.
func newPending(base projections.DocReader, docs []projections.Doc) *pending {
	p := &pending{base: base, docs: make(map[docKey][]byte, len(docs)), sorted: docs}
	for _, d := range docs {
		p.docs[docKey{d.Coll, d.Key}] = d.Value
	}
	return p
}

func (p *pending) Get(ctx context.Context, coll, key string) ([]byte, bool, error) {
	if v, ok := p.docs[docKey{coll, key}]; ok {
		return v, v != nil, nil
	}
	return p.base.Get(ctx, coll, key)
}

// GetMany implements projections.DocMultiGetter, reading from base in one request
// what the committing batch does not hold when base can, one Get per key
// when it cannot.
func (p *pending) GetMany(ctx context.Context, coll string, keys []string, fn func(string, []byte) error) error {
	seen := make(map[string]bool, len(keys))
	var rest []string
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		v, ok := p.docs[docKey{coll, k}]
		switch {
		case !ok:
			rest = append(rest, k)
		case v != nil:
			if err := fn(k, v); err != nil {
				return err
			}
		}
	}
	if len(rest) == 0 {
		return nil
	}
	if mg, ok := p.base.(projections.DocMultiGetter); ok {
		return mg.GetMany(ctx, coll, rest, fn)
	}
	for _, k := range rest {
		v, ok, err := p.base.Get(ctx, coll, k)
		if err != nil {
			return err
		}
		if ok {
			if err := fn(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Scan merges the committing batch's documents of [from, to) into base's,
// in key order.
func (p *pending) Scan(ctx context.Context, coll, from, to string, fn func(string, []byte) error) error {
	cmp := func(d projections.Doc, k docKey) int {
		if c := strings.Compare(d.Coll, k.coll); c != 0 {
			return c
		}
		return strings.Compare(d.Key, k.key)
	}
	lo, _ := slices.BinarySearchFunc(p.sorted, docKey{coll, from}, cmp)
	over := p.sorted[lo:]
	inRange := func(d projections.Doc) bool { return d.Coll == coll && (to == "" || d.Key < to) }
	// emit gives fn the batch's documents with keys before key (all when
	// last), skipping deletions.
	emit := func(key string, last bool) error {
		for len(over) > 0 && inRange(over[0]) && (last || over[0].Key < key) {
			d := over[0]
			over = over[1:]
			if d.Value != nil {
				if err := fn(d.Key, d.Value); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := p.base.Scan(ctx, coll, from, to, func(key string, doc []byte) error {
		if err := emit(key, false); err != nil {
			return err
		}
		if _, ok := p.docs[docKey{coll, key}]; ok {
			return nil // the batch's version, given by emit in its turn
		}
		return fn(key, doc)
	}); err != nil {
		return err
	}
	return emit("", true)
}
