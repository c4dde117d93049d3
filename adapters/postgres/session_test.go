package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Every connection of the store plans each statement for its parameters
// and never in parallel, whatever the server's defaults.
func TestSessionDefaults(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	ctx := context.Background()
	for name, want := range map[string]string{
		"plan_cache_mode":                 "force_custom_plan",
		"max_parallel_workers_per_gather": "0",
	} {
		// More connections than one: each is set up on its own.
		for range 3 {
			conn, err := s.pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Release()
			var got string
			if err := conn.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s = %q on a store connection, want %q", name, got, want)
			}
		}
	}
}

// A connection string that sets one of them keeps its own value.
func TestSessionDefaultsKeepTheConnectionString(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig("postgres://u@localhost/db?max_parallel_workers_per_gather=2")
	if err != nil {
		t.Fatal(err)
	}
	SessionDefaults(cfg)
	if got := cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"]; got != "2" {
		t.Errorf("max_parallel_workers_per_gather = %q, want the connection string's 2", got)
	}
	if got := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; got != "force_custom_plan" {
		t.Errorf("plan_cache_mode = %q, want force_custom_plan", got)
	}
}
