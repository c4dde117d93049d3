package tests

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus/bustest"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/projections"
)

var runningRE = regexp.MustCompile(`msg="running projection" projection=(\S+)`)

// TestTwoNodes runs two `ledger serve` processes on one Postgres database,
// with the NATS bus and with the Postgres bus: an absence recorded through
// node A reaches a parent's socket on node B; each projection runs on one
// node only; killing node A loses nothing.
func TestTwoNodes(t *testing.T) {
	for _, kind := range []string{"nats", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			dsn := pgtest.MustDatabase(t)
			if !strings.HasPrefix(dsn, "postgres") {
				t.Skipf("the test server's DSN %q is not a URL; set LEDGER_TEST_POSTGRES=postgres://... to run this test", dsn)
			}
			env := []string{"LEDGER_STORE=" + dsn, "LEDGER_BUS=" + kind}
			if kind == "nats" {
				env = append(env, "LEDGER_NATS_URL="+bustest.MustNATS(t))
			}
			a := MustServe(t, append(env, "LEDGER_NODE=node-a"), "--demo")
			parentOnA := MustSignIn(t, a.URL, "parent.durand") // the demo is in place
			b := MustServe(t, append(env, "LEDGER_NODE=node-b"))

			lea := parentOnA.me.Children[0].Account
			parent := MustSignIn(t, b.URL, "parent.durand")
			live := parent.MustLive("")
			teacherOnA := MustSignIn(t, a.URL, "prof.martin")
			first := rollCall(t, teacherOnA, lea, "16:00", "16:55")
			waitLive(t, live, "absence.recorded.v1", lea, 15*time.Second)

			// Each projection runs on exactly one of the two nodes.
			eventually(t, 15*time.Second, "every projection runs on one node", func() bool {
				running := map[string]int{}
				for _, log := range []string{a.Log(), b.Log()} {
					for _, m := range runningRE.FindAllStringSubmatch(log, -1) {
						running[m[1]]++
					}
				}
				for name, n := range running {
					if n != 1 {
						t.Fatalf("projection %s runs on %d nodes", name, n)
					}
				}
				// Node A serves the demo, whose notifications are on:
				// the delivery plan runs beside the read models.
				want := len(projections.Reducers(time.UTC)) + 1
				if _, ok := running[projections.NewNotifyPlan().Name()]; !ok {
					return false
				}
				return len(running) == want
			})

			// Kill node A without warning; node B takes over and loses nothing.
			if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-a.done
			teacher := MustSignIn(t, b.URL, "prof.martin")
			second := rollCall(t, teacher, lea, "17:00", "17:55")
			waitLive(t, live, "absence.recorded.v1", lea, 15*time.Second)
			eventually(t, 30*time.Second, "node B's read models hold both absences", func() bool {
				var file struct {
					Absences []struct {
						Lesson uuid.UUID `json:"lesson"`
					} `json:"absences"`
				}
				parent.MustCall("GET", fmt.Sprintf("/api/v1/students/%s/file", lea), nil, &file, http.StatusOK)
				seen := map[uuid.UUID]bool{}
				for _, x := range file.Absences {
					seen[x.Lesson] = true
				}
				return seen[first] && seen[second]
			})
			if !strings.Contains(b.Log(), `msg="running projection"`) {
				t.Fatalf("node B never ran a projection:\n%s", b.Log())
			}
		})
	}
}
