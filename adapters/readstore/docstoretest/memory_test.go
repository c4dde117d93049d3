package docstoretest_test

import (
	"testing"

	"github.com/schoollife/ledger/adapters/readstore/docstoretest"
	"github.com/schoollife/ledger/projections"
)

// The in-memory store is the reference: the SQL stores must behave the same.
func TestMemoryDocs(t *testing.T) {
	docstoretest.Run(t, func(*testing.T) docstoretest.Store { return projections.NewMemoryDocs() })
}
