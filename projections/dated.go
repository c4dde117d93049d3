package projections

// A dated object (a student's file, a group's cahier de textes) holds
// lists over a period. A period whose lists would hold more than
// MaxDatedItems entries each is answered up to the last whole day that
// fits, the same for every list: the object's To says where it stops and
// Next where the rest begins. A day is never split, so the page holds at
// least its first day.

import (
	"context"
	"errors"

	"github.com/schoollife/ledger/domain"
)

// MaxDatedItems bounds each list of a dated object: a school year of
// lessons fits.
const MaxDatedItems = 2000

// datedCut is the common cut of an object's lists: the first day left out
// (zero: none).
type datedCut struct{ day domain.Date }

// bound moves the cut back to day when that is earlier.
func (c *datedCut) bound(day domain.Date) {
	if !day.IsZero() && (c.day.IsZero() || day.Before(c.day)) {
		c.day = day
	}
}

// hi returns the upper bound of a scan whose keys are owner|date...: the
// cut's when it is below hi.
func (c *datedCut) hi(owner, hi string) string {
	if c.day.IsZero() {
		return hi
	}
	if h := owner + "|" + c.day.String(); hi == "" || h < hi {
		return h
	}
	return hi
}

// scanDated reads the documents of coll in [lo, hi) into *out, in key
// (date) order, and moves the cut back to the first day past
// MaxDatedItems entries, when the list has more: never its first day.
func scanDated[T any](ctx context.Context, r DocReader, coll, lo, hi string, day func(*T) domain.Date, cut *datedCut, out *[]T) error {
	var stop domain.Date
	err := ScanJSON(ctx, r, coll, lo, hi, func(_ string, v T) error {
		if d := day(&v); len(*out) >= MaxDatedItems && d.After(day(&(*out)[0])) {
			stop = d
			return errPageFull
		}
		*out = append(*out, v)
		return nil
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	cut.bound(stop)
	return err
}

// trimDated drops the entries of list dated at or after the cut.
func trimDated[T any](list []T, cut datedCut, day func(*T) domain.Date) []T {
	if cut.day.IsZero() {
		return list
	}
	for i := range list {
		if !day(&list[i]).Before(cut.day) {
			return list[:i]
		}
	}
	return list
}
