package api

import (
	"net/http"
	"testing"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func TestAlertsAndLetterCandidates(t *testing.T) {
	w := newWorld(t)
	cpe := tokenOf(asCPE)
	base := "/api/v1/establishments/" + w.UAI
	alerts := mustDecode[[]projections.AlertEntry](t, do(t, w.srv, request{method: "GET", path: base + "/alerts?open=true", token: cpe}))
	if len(alerts) != 1 || alerts[0].Alert != w.Alert || alerts[0].StudentName != "Léa" || alerts[0].Handled {
		t.Fatalf("open alerts: %+v", alerts)
	}
	mustProblem(t, do(t, w.srv, request{method: "GET", path: base + "/alerts?open=maybe", token: cpe}), http.StatusBadRequest, "invalid-query-parameter")
	mustProblem(t, do(t, w.srv, request{method: "POST", path: "/api/v1/alerts/" + w.Alert.String() + "/handling", token: cpe,
		body: domain.HandleAlert{Action: "shrug"}}), http.StatusBadRequest, "invalid-input")

	got := mustDecode[[]projections.LetterCandidate](t, do(t, w.srv, request{method: "GET",
		path: base + "/letter-candidates?from=2006-03-01&to=2006-03-31", token: cpe}))
	if len(got) != 1 || got[0].StudentName != "Léa" || got[0].HalfDays != 1 || len(got[0].Absences) != 1 ||
		got[0].Absences[0].Subject != "Mathématiques" || len(got[0].Guardians) != 1 {
		t.Fatalf("candidates: %+v", got)
	}
	for _, q := range []string{"from=2006-03-31&to=2006-03-01", "from=2006-03-01", "from=2005-01-01&to=2006-03-01",
		"from=2006-03-01&to=2006-03-31&threshold=0"} {
		r := do(t, w.srv, request{method: "GET", path: base + "/letter-candidates?" + q, token: cpe})
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, r.status)
		}
	}
}
