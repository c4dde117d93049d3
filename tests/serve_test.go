package tests

import (
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/postgres/pgtest"
)

func TestServeHealthAndCleanShutdown(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "ledger.db") },
		"postgres": func(t *testing.T) string {
			dsn := pgtest.MustDatabase(t)
			if !strings.HasPrefix(dsn, "postgres") {
				t.Skipf("the test server's DSN %q is not a URL; set LEDGER_TEST_POSTGRES=postgres://... to run this test", dsn)
			}
			return dsn
		},
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			spec := store(t)
			if _, stderr, err := runLedger(t, nil, "migrate", "--store", spec); err != nil {
				t.Fatalf("ledger migrate: %v\n%s", err, stderr)
			}
			s := MustServe(t, []string{"LEDGER_STORE=" + spec})
			resp, err := http.Get(s.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
				t.Fatalf("GET /healthz: %d %s", resp.StatusCode, body)
			}
			if err := s.Stop(); err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, s.Log())
			}
			if !strings.Contains(s.Log(), "msg=stopped") {
				t.Fatalf("no clean stop in the log:\n%s", s.Log())
			}
		})
	}
}

func TestConfigIsValidated(t *testing.T) {
	cases := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"migrate", "--store", "mysql://x"}, nil, "is not sqlite:PATH, postgres://... or esdb://"},
		{[]string{"serve", "--log-level", "loud"}, nil, "log level"},
		{[]string{"migrate"}, []string{"LEDGER_STORE=sqlite:"}, "needs a path"},
		{[]string{"frobnicate"}, nil, "unknown command"},
		{[]string{"serve"}, []string{"LEDGER_SEAL_EVERY=often"}, "LEDGER_SEAL_EVERY"},
		{[]string{"serve", "--store", "esdb://localhost:2113?tls=false"}, nil, "needs --readmodels"},
	}
	for _, tc := range cases {
		_, stderr, err := runLedger(t, tc.env, tc.args...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Errorf("ledger %v: want a failure, got %v", tc.args, err)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("ledger %v: stderr %q does not say %q", tc.args, stderr, tc.want)
		}
	}
}
