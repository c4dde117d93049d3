package sso_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
)

// TestStateSecret: the key of sign-in cookies is made once and read the
// same by every handle on the database, even when several ask at once.
func TestStateSecret(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			keys := make([][]byte, 8)
			var wg sync.WaitGroup
			errs := make([]error, len(keys))
			for i := range keys {
				wg.Add(1)
				go func() {
					defer wg.Done()
					keys[i], errs[i] = s.StateSecret(ctx)
				}()
			}
			wg.Wait()
			for i, k := range keys {
				mustNil(t, errs[i])
				if len(k) != 32 || !bytes.Equal(k, keys[0]) {
					t.Fatalf("key %d: %x, first %x", i, k, keys[0])
				}
			}
			if bytes.Equal(keys[0], make([]byte, 32)) {
				t.Fatal("zero key")
			}
			again, err := s.StateSecret(ctx)
			mustNil(t, err)
			if !bytes.Equal(again, keys[0]) {
				t.Fatal("the key changed between two reads")
			}
		})
	}
}
