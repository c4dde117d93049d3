package web

import (
	"errors"
	"testing"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/projections"
)

// nopAuth stands for Auth and Accounts; its methods are never called
// here.
type nopAuth struct {
	Auth
	Accounts
}

// TestSessionsConfigValidate refuses incomplete configurations.
func TestSessionsConfigValidate(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("sentinel")
	good := SessionsConfig{
		Auth: nopAuth{}, Accounts: nopAuth{}, Connections: &commands.Handlers{},
		AuthErrors: AuthErrors{BadCredentials: sentinel, RateLimited: sentinel, Unauthenticated: sentinel},
	}
	for name, edit := range map[string]func(c *SessionsConfig){
		"no auth":        func(c *SessionsConfig) { c.Auth = nil },
		"no auth errors": func(c *SessionsConfig) { c.AuthErrors.RateLimited = nil },
		"no accounts":    func(c *SessionsConfig) { c.Accounts = nil },
		"no connections": func(c *SessionsConfig) { c.Connections = nil },
	} {
		c := good
		edit(&c)
		if _, err := NewSessions(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c := good
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Now == nil || c.Logger == nil {
		t.Errorf("defaults not filled: %+v", c)
	}
}

var (
	_ Accounts    = (*projections.Queries)(nil)
	_ Connections = (*commands.Handlers)(nil)
	_ Directory   = (*projections.Queries)(nil)
)
