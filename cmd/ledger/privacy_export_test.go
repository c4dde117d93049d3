package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// TestPrivacyExport: `ledger privacy export` writes a person's archive
// to a file, holding the events of the log about them, and records the
// export as the ledger's; its usage errors and an unknown person are
// refused with their exit codes.
func TestPrivacyExport(t *testing.T) {
	store := MustLedgerFile(t)
	ctx := context.Background()
	student := uuid.New()
	func() {
		es, err := sqlite.Open(ctx, strings.TrimPrefix(store, "sqlite:"))
		if err != nil {
			t.Fatal(err)
		}
		defer es.Close()
		h, err := commands.New(commands.Config{Store: es, Registry: domain.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.OpenAccount(ctx, commands.Request{System: true}, domain.OpenAccount{
			Account: student, Establishment: testUAI, Profile: domain.ProfileStudent, DisplayName: "Léa Martin",
		}); err != nil {
			t.Fatal(err)
		}
	}()
	env := map[string]string{"LEDGER_STORE": store}
	out := filepath.Join(t.TempDir(), "lea.json")
	code, _, stderr, _ := exit(t, env, nil, "privacy", "export", "--subject", student.String(), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Subject uuid.UUID `json:"subject"`
		Events  []struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	if a.Subject != student || len(a.Events) != 2 || a.Events[0].Type != "account.opened.v1" ||
		!strings.Contains(string(a.Events[0].Data), "Léa Martin") || a.Events[1].Type != "privacy.data_exported.v1" {
		t.Fatalf("archive:\n%s", b)
	}
	code, stdout, stderr, _ := exit(t, env, nil, "privacy", "export", "--subject", student.String(), "--format", "html")
	if code != 0 || !strings.Contains(stdout, `<html lang="fr">`) || !strings.Contains(stdout, "Export des données personnelles") {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"privacy", "export"}, 2, "--subject"},
		{[]string{"privacy", "export", "--subject", "léa"}, 2, "not an account id"},
		{[]string{"privacy", "export", "--subject", student.String(), "--format", "pdf"}, 2, "json or html"},
		{[]string{"privacy", "forget"}, 2, "unknown command"},
		{[]string{"privacy", "export", "--subject", uuid.NewString()}, 3, "unknown account"},
	} {
		code, _, stderr, _ := exit(t, env, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("%v: exit %d, %q", c.args, code, stderr)
		}
	}
}
