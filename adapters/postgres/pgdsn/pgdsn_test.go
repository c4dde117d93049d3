package pgdsn_test

import (
	"testing"

	"github.com/schoollife/ledger/adapters/postgres/pgdsn"
)

// TestConnConfig: the pool's parameters are no server settings; the
// connection's own parameters and the server settings are kept.
func TestConnConfig(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://u@h:5433/db?sslmode=disable&pool_max_conns=4&pool_min_conns=1&pool_max_conn_lifetime=1h&pool_max_conn_idle_time=5m&pool_health_check_period=30s&application_name=ledger&search_path=s",
		"host=h port=5433 user=u dbname=db sslmode=disable pool_max_conns=4 pool_min_conns=1 application_name=ledger search_path=s",
	} {
		cc, err := pgdsn.ConnConfig(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		for name := range cc.RuntimeParams {
			if len(name) > 5 && name[:5] == "pool_" {
				t.Errorf("%s: %s would be sent to the server", dsn, name)
			}
		}
		if cc.RuntimeParams["application_name"] != "ledger" || cc.RuntimeParams["search_path"] != "s" {
			t.Errorf("%s: server settings %v, want application_name and search_path kept", dsn, cc.RuntimeParams)
		}
		if cc.Host != "h" || cc.Port != 5433 || cc.User != "u" || cc.Database != "db" {
			t.Errorf("%s: connects to %s@%s:%d/%s", dsn, cc.User, cc.Host, cc.Port, cc.Database)
		}
	}
	if _, err := pgdsn.ConnConfig("postgres://u@h/db?pool_max_conns=many"); err == nil {
		t.Error("a pool parameter that does not parse was accepted")
	}
}
