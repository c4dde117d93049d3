package tests

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// rollCall records the roll call of the demo class today at slot, with
// student absent, and returns the lesson id.
func rollCall(t *testing.T, teacher *client, student uuid.UUID, start, end string) uuid.UUID {
	t.Helper()
	var class uuid.UUID
	for _, g := range teacher.me.Groups {
		if g.Name == "4e B" {
			class = g.Group
		}
	}
	if class == uuid.Nil {
		t.Fatalf("the demo teacher has no class 4e B: %+v", teacher.me.Groups)
	}
	today := time.Now().In(paris(t)).Format(time.DateOnly)
	var res struct {
		ID uuid.UUID `json:"id"`
	}
	teacher.MustCall("POST", "/api/v1/rollcalls", map[string]any{
		"group": class, "date": today, "slot": map[string]string{"start": start, "end": end},
		"subject": "Mathématiques", "absent": []uuid.UUID{student},
	}, &res, http.StatusCreated)
	return res.ID
}

func paris(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestAbsenceFromRollCallToInspector follows one absence through the real
// binary: recorded by a teacher, pushed to the parent's open socket,
// explained by the parent, accepted by the CPE, shown justified in the
// file, read in its history by an inspector, and counted, anonymously, in
// the evaluator's indicators.
func TestAbsenceFromRollCallToInspector(t *testing.T) {
	s := MustServe(t, nil, "--demo", "--store", "sqlite:"+filepath.Join(t.TempDir(), "ledger.db"))
	parent := MustSignIn(t, s.URL, "parent.durand")
	if len(parent.me.Children) != 1 {
		t.Fatalf("the demo parent has children %+v", parent.me.Children)
	}
	lea := parent.me.Children[0].Account
	live := parent.MustLive("")

	teacher := MustSignIn(t, s.URL, "prof.martin")
	sent := time.Now()
	lesson := rollCall(t, teacher, lea, "15:00", "15:55")
	got := waitLive(t, live, "absence.recorded.v1", lea, 10*time.Second)
	t.Logf("absence reached the parent's socket %s after the roll call was sent", got.received.Sub(sent))

	parent.MustCall("POST", fmt.Sprintf("/api/v1/lessons/%s/absences/%s/reason", lesson, lea),
		map[string]string{"reason": "Rendez-vous chez le médecin"}, nil, http.StatusOK)
	cpe := MustSignIn(t, s.URL, "cpe.roche")
	cpe.MustCall("POST", fmt.Sprintf("/api/v1/lessons/%s/absences/%s/justification", lesson, lea),
		map[string]any{"accept": true, "reason_code": "rdv-medical", "comment": "certificat"}, nil, http.StatusOK)

	eventually(t, 10*time.Second, "the absence shows justified in the file", func() bool {
		var file struct {
			Absences []struct {
				Lesson uuid.UUID `json:"lesson"`
				State  string    `json:"state"`
			} `json:"absences"`
		}
		parent.MustCall("GET", fmt.Sprintf("/api/v1/students/%s/file", lea), nil, &file, http.StatusOK)
		for _, a := range file.Absences {
			if a.Lesson == lesson && a.State == "justified" {
				return true
			}
		}
		return false
	})

	inspector := MustSignIn(t, s.URL, "inspecteur.blanc")
	eventually(t, 10*time.Second, "the inspector reads the absence's history", func() bool {
		var history []struct {
			Type    string    `json:"type"`
			Actor   uuid.UUID `json:"actor"`
			Command string    `json:"command"`
		}
		inspector.MustCall("GET", fmt.Sprintf("/api/v1/history/%s", lea), nil, &history, http.StatusOK)
		by := map[string]uuid.UUID{}
		for _, h := range history {
			by[h.Type] = h.Actor
		}
		return by["absence.recorded.v1"] == teacher.me.ID && by["absence.reason_declared.v1"] == parent.me.ID &&
			by["absence.justification_accepted.v1"] == cpe.me.ID
	})
	// Read-only: the inspector records nothing.
	if status, _ := inspector.call("POST", "/api/v1/rollcalls", map[string]any{}, nil); status != http.StatusForbidden && status != http.StatusBadRequest {
		t.Errorf("an inspector's command got %d", status)
	}

	evaluator := MustSignIn(t, s.URL, "evaluateur.noel")
	today := time.Now().In(paris(t))
	path := fmt.Sprintf("/api/v1/indicators?from=%s&to=%s&by=establishment", today.AddDate(0, 0, -30).Format(time.DateOnly), today.Format(time.DateOnly))
	var body string
	eventually(t, 10*time.Second, "the indicators count the absences", func() bool {
		var rows []struct {
			Absences int `json:"absences"`
		}
		body = evaluator.MustCall("GET", path, nil, &rows, http.StatusOK)
		return len(rows) == 1 && rows[0].Absences >= 3 // two in the demo's history, one here
	})
	uuidRE := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	if id := uuidRE.FindString(body); id != "" {
		t.Errorf("the indicators hold an id %s: %s", id, body)
	}
	for _, name := range []string{"Durand", "Léa", "Martin", "Roche"} {
		if strings.Contains(body, name) {
			t.Errorf("the indicators hold a name %q: %s", name, body)
		}
	}
	if status, _ := evaluator.call("GET", fmt.Sprintf("/api/v1/students/%s/file", lea), nil, nil); status != http.StatusForbidden {
		t.Errorf("an evaluator read a student file: %d", status)
	}
}
