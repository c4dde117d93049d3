package memory_test

import (
	"testing"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func(t *testing.T) storetest.Store {
		// Close keeps the data, so reopening is handing back the same store.
		s := memory.New()
		return func(t *testing.T) storetest.Store { return s }
	})
}
