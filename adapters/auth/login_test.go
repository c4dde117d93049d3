package auth_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
)

// TestLoginOf: an account's login as it was set; none for an account
// without credentials.
func TestLoginOf(t *testing.T) {
	forEachStore(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.open(t, auth.Config{})
		jean := uuid.New()
		MustSetPassword(t, s, jean, "Jean.Dupont", "correct horse battery")
		if login, ok, err := s.LoginOf(ctx, jean); err != nil || !ok || login != "Jean.Dupont" {
			t.Fatalf("LoginOf = %q, %v, %v", login, ok, err)
		}
		if login, ok, err := s.LoginOf(ctx, uuid.New()); err != nil || ok || login != "" {
			t.Fatalf("LoginOf an account without credentials = %q, %v, %v", login, ok, err)
		}
	})
}
