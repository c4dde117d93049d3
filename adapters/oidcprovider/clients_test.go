package oidcprovider_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/oidcprovider"
)

// TestParseClients: the clients file gives registered clients, their
// claims all of them unless listed; a file with a wrong client is refused
// with the reasons.
func TestParseClients(t *testing.T) {
	hash := oidcprovider.HashSecret("s3cret")
	good := `{"clients": [
		{"client_id": "grr", "name": "GRR", "redirect_uris": ["https://grr.example.fr/cb"], "secret_hash": "` + hash + `"},
		{"client_id": "manuels", "redirect_uris": ["https://manuels.example.fr/cb"], "attributes": ["displayName"]}]}`
	cs, err := oidcprovider.ParseClients(strings.NewReader(good), false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	grr, err := cs.Client(ctx, "grr")
	if err != nil || grr.Public() || !slices.Equal(grr.Attributes, oidcprovider.AllClaims) {
		t.Fatalf("grr: %+v, %v", grr, err)
	}
	m, err := cs.Client(ctx, "manuels")
	if err != nil || !m.Public() || !slices.Equal(m.Attributes, []string{"displayName"}) {
		t.Fatalf("manuels: %+v, %v", m, err)
	}
	if _, err := cs.Client(ctx, "other"); !errors.Is(err, oidcprovider.ErrUnknownClient) {
		t.Fatalf("unknown client: %v", err)
	}
	for name, bad := range map[string]string{
		"http redirect":   `{"clients": [{"client_id": "a", "redirect_uris": ["http://a.example.fr/cb"]}]}`,
		"fragment":        `{"clients": [{"client_id": "a", "redirect_uris": ["https://a.example.fr/cb#x"]}]}`,
		"relative":        `{"clients": [{"client_id": "a", "redirect_uris": ["/cb"]}]}`,
		"no redirect":     `{"clients": [{"client_id": "a"}]}`,
		"plain secret":    `{"clients": [{"client_id": "a", "redirect_uris": ["https://a.example.fr/cb"], "secret_hash": "s3cret"}]}`,
		"unknown claim":   `{"clients": [{"client_id": "a", "redirect_uris": ["https://a.example.fr/cb"], "attributes": ["email"]}]}`,
		"twice":           `{"clients": [{"client_id": "a", "redirect_uris": ["https://a.example.fr/cb"]}, {"client_id": "a", "redirect_uris": ["https://a.example.fr/cb"]}]}`,
		"control in id":   `{"clients": [{"client_id": "a\u0000", "redirect_uris": ["https://a.example.fr/cb"]}]}`,
		"unknown field":   `{"clients": [{"client_id": "a", "secret": "x", "redirect_uris": ["https://a.example.fr/cb"]}]}`,
		"not JSON at all": `clients: []`,
	} {
		if _, err := oidcprovider.ParseClients(strings.NewReader(bad), false); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := oidcprovider.ParseClients(strings.NewReader(`{"clients": [{"client_id": "a", "redirect_uris": ["http://127.0.0.1:8081/cb"]}]}`), true); err != nil {
		t.Errorf("http allowed: %v", err)
	}
}
