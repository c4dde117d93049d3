package projections

// Lists that grow with the ledger's life (mailboxes, feeds, histories,
// calendars, directories) are read a page at a time, so that no query
// holds more than a page in memory whatever the list's length. A page ends
// with the cursor of the next one: the key (or sort key) of its last item,
// opaque to clients.

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// Page asks for one page of a list.
type Page struct {
	// After is the cursor a previous page gave (List.Next); empty for the
	// first page.
	After string
	// Limit is the most items of the page; 0 or less reads every item
	// (callers inside the ledger whose lists the directory bounds, never a
	// request's).
	Limit int
}

// List is one page of a list.
type List[T any] struct {
	Items []T
	// Next is the cursor of the following page, empty on the last.
	Next string
}

// maxCursor bounds a cursor's length: keys and sort keys are ids, dates
// and names of at most a few hundred bytes.
const maxCursor = 2048

func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c string) (string, error) {
	if len(c) > maxCursor {
		return "", domain.Errorf(domain.ErrInvalid, "cursor of %d characters", len(c))
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", domain.Errorf(domain.ErrInvalid, "cursor %q is not one a page gave", c)
	}
	return string(b), nil
}

// ValidCursor reports whether c may be a cursor a page gave (its form
// only: a page reads from wherever a well-formed cursor points, within its
// own list).
func ValidCursor(c string) bool {
	_, err := decodeCursor(c)
	return err == nil
}

// errPageFull ends a scan early once a page is full.
var errPageFull = errors.New("stop scan")

// scanPage reads one page of the documents of coll in [lo, hi), all keyed
// under prefix, in key order, keeping those keep accepts (nil: all): at
// most p.Limit of them after the cursor p.After. Its cursors are keys
// without the prefix.
func scanPage[T any](ctx context.Context, r DocReader, coll, prefix, lo, hi string, p Page, keep func(T) bool) (List[T], error) {
	out := List[T]{Items: []T{}}
	if p.After != "" {
		after, err := decodeCursor(p.After)
		if err != nil {
			return out, err
		}
		// The smallest key after it.
		if start := prefix + after + "\x00"; start > lo {
			lo = start
		}
	}
	var last string
	err := ScanJSON(ctx, r, coll, lo, hi, func(key string, v T) error {
		if keep != nil && !keep(v) {
			return nil
		}
		if p.Limit > 0 && len(out.Items) == p.Limit {
			out.Next = encodeCursor(strings.TrimPrefix(last, prefix))
			return errPageFull
		}
		out.Items = append(out.Items, v)
		last = key
		return nil
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	return out, err
}

// sorted keeps one page of a list read in another order than its sort
// order: the first p.Limit items by sort key after the cursor, holding at
// most p.Limit+1 of them whatever the list's length. Sort keys are unique.
type sorted[T any] struct {
	limit    int
	after    string
	hasAfter bool
	keys     []string
	items    []T
}

func newSorted[T any](p Page) (*sorted[T], error) {
	s := &sorted[T]{limit: p.Limit}
	if p.After != "" {
		after, err := decodeCursor(p.After)
		if err != nil {
			return nil, err
		}
		s.after, s.hasAfter = after, true
	}
	return s, nil
}

// add offers an item with its sort key.
func (s *sorted[T]) add(key string, v T) {
	if s.hasAfter && key <= s.after {
		return
	}
	i, _ := slices.BinarySearch(s.keys, key)
	if s.limit > 0 && i > s.limit {
		return // after a whole page and the one that tells there is more
	}
	s.keys, s.items = slices.Insert(s.keys, i, key), slices.Insert(s.items, i, v)
	if s.limit > 0 && len(s.keys) > s.limit+1 {
		s.keys, s.items = s.keys[:s.limit+1], s.items[:s.limit+1]
	}
}

// list returns the page.
func (s *sorted[T]) list() List[T] {
	out := List[T]{Items: s.items}
	if s.limit > 0 && len(s.items) > s.limit {
		out.Items, out.Next = s.items[:s.limit], encodeCursor(s.keys[s.limit-1])
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out
}
