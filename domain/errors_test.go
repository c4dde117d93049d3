package domain_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestOutage: an outage is found as its kind and as its cause, by code
// and by type; its message names the kind for the logs; other errors are
// no outage.
func TestOutage(t *testing.T) {
	t.Parallel()
	for _, kind := range []*domain.Error{domain.ErrUnavailable, domain.ErrStoreFull} {
		err := fmt.Errorf("append x: %w", domain.Outage(kind, io.ErrUnexpectedEOF))
		var de *domain.Error
		switch {
		case !errors.Is(err, kind) || !errors.Is(err, io.ErrUnexpectedEOF):
			t.Errorf("%v: not found as %s and its cause", err, kind.Type)
		case !domain.IsUnavailable(err) || domain.CodeOf(err) != domain.CodeUnavailable:
			t.Errorf("%v: code %q", err, domain.CodeOf(err))
		case !errors.As(err, &de) || de.Type != kind.Type || de.Detail != "":
			t.Errorf("%v: as %+v", err, de)
		}
	}
	if errors.Is(domain.ErrStoreFull, domain.ErrUnavailable) {
		t.Error("a full store is the same error as an unreachable one")
	}
	if got := domain.Outage(domain.ErrStoreFull, errors.New("disk full")).Error(); got != "store full: disk full" {
		t.Errorf("message %q", got)
	}
	for _, err := range []error{nil, io.EOF, domain.ErrNotFound, domain.Errorf(domain.ErrVersionConflict, "x")} {
		if domain.IsUnavailable(err) {
			t.Errorf("%v is an outage", err)
		}
	}
}
