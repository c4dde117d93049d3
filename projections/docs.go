package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/schoollife/ledger/domain"
)

// Read models are documents: JSON values keyed by (namespace, collection,
// key). A namespace is one generation of one projection ("studentfile.v1@2"),
// so that a projection can be rebuilt beside its live generation and
// swapped in. Keys are ordered strings: reducers choose keys so that the
// queries are range scans ("uai|2006-03-14|...").

// Doc is one document write: Value nil deletes it.
type Doc struct {
	Coll  string
	Key   string
	Value []byte
}

// DocReader reads the documents of one namespace.
type DocReader interface {
	// Get returns the document, or ok false.
	Get(ctx context.Context, coll, key string) (doc []byte, ok bool, err error)
	// Scan calls fn for each document of coll with from <= key < to, in key
	// order; an empty to means no upper bound. fn returning an error stops
	// the scan with that error.
	Scan(ctx context.Context, coll, from, to string, fn func(key string, doc []byte) error) error
}

// DocMultiGetter is a DocReader that reads many documents of a collection
// in one request. Batch.Preload uses it when the transaction has it, so
// that a batch of events costs one read per collection, not one per event
// (on Postgres, a round trip each).
type DocMultiGetter interface {
	// GetMany calls fn for each of keys that has a document, in any
	// order, once each.
	GetMany(ctx context.Context, coll string, keys []string, fn func(key string, doc []byte) error) error
}

// DocTx is one read-model transaction of one namespace: documents and the
// checkpoint commit together or not at all.
type DocTx interface {
	DocReader
	// Put writes documents (Value nil deletes).
	Put(ctx context.Context, docs []Doc) error
	// SetCheckpoint records the last event applied.
	SetCheckpoint(ctx context.Context, pos domain.Position) error
}

// DocStore keeps read models. adapters/readstore implements it on SQLite
// and Postgres; MemoryDocs in memory.
type DocStore interface {
	// Update runs fn in one transaction on namespace ns.
	Update(ctx context.Context, ns string, fn func(tx DocTx) error) error
	// Reader reads namespace ns outside any transaction.
	Reader(ns string) DocReader
	// Checkpoint returns the last position applied to ns (domain.Start if
	// none).
	Checkpoint(ctx context.Context, ns string) (domain.Position, error)
}

// Namespace names a generation of a projection.
func Namespace(projection string, generation int) string {
	return fmt.Sprintf("%s@%d", projection, generation)
}

// GetJSON reads a document into v.
func GetJSON(ctx context.Context, r DocReader, coll, key string, v any) (bool, error) {
	raw, ok, err := r.Get(ctx, coll, key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", coll, key, err)
	}
	return true, nil
}

// ScanJSON decodes each document of a range into a new T.
func ScanJSON[T any](ctx context.Context, r DocReader, coll, from, to string, fn func(key string, v T) error) error {
	return r.Scan(ctx, coll, from, to, func(key string, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode %s/%s: %w", coll, key, err)
		}
		return fn(key, v)
	})
}

// instantEnd is the exclusive end of a range of keys "prefix" followed by
// an instant in layout: t's key, or the end of the prefix past year 9999,
// whose key would sort before every four-digit year.
func instantEnd(prefix string, t time.Time, layout string) string {
	if t.Year() > 9999 {
		return PrefixEnd(prefix)
	}
	return prefix + t.Format(layout)
}

// PrefixEnd returns the smallest key greater than every key starting with
// prefix, for Scan(prefix, PrefixEnd(prefix)).
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}
