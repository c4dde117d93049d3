package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestServicesCommand: `ledger services` registers a CAS service, lists it
// once the read models hold it, refuses an unsafe pattern and removes it.
func TestServicesCommand(t *testing.T) {
	store := MustLedgerFile(t)
	run := func(args ...string) (int, string, string) {
		code, out, errOut, _ := exit(t, nil, nil, append(args, "--store", store)...)
		return code, out, errOut
	}
	code, out, errOut := run("services", "register", "--establishment", testUAI, "--name", "Pronote",
		"--url", "https://pronote.example.fr/cas/*", "--attribute", "ENTPersonLogin", "--single-logout")
	m := regexp.MustCompile(`service (\S+) registered for ` + testUAI).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("register: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := run("services", "register", "--establishment", testUAI, "--name", "Tout", "--url", "https://*"); code == 0 || !strings.Contains(errOut, "unsafe-service-url") && !strings.Contains(errOut, "refused") {
		t.Fatalf("an unsafe pattern: %d %s %s", code, out, errOut)
	}
	for _, bad := range [][]string{
		{"--kind", "oidc", "--url", "https://grr.example.fr/cb"},                             // a client has redirect URIs
		{"--kind", "oidc", "--redirect-uri", "https://grr.example.fr/*"},                     // exact only
		{"--kind", "oidc", "--redirect-uri", "http://grr.example.fr/cb"},                     // http on the loopback only
		{"--kind", "cas", "--url", "https://grr.example.fr/", "--public"},                    // a CAS service has no client
		{"--kind", "saml", "--url", "https://grr.example.fr/"},                               // unknown kind
		{"--kind", "oidc", "--redirect-uri", "https://grr.example.fr/cb", "--single-logout"}, // CAS's
	} {
		args := append([]string{"services", "register", "--establishment", testUAI, "--name", "GRR"}, bad...)
		if code, out, _ := run(args...); code == 0 || strings.Contains(out, "client_secret") {
			t.Errorf("%v: registered: %s", bad, out)
		}
	}
	if code, _, errOut := run("rebuild"); code != 0 {
		t.Fatalf("rebuild: %s", errOut)
	}
	code, out, errOut = run("services", "list", "--establishment", testUAI)
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, m[1]+"\tcas\tPronote\thttps://pronote.example.fr/cas/*\tENTPersonLogin single-logout") {
		t.Fatalf("list: %d %q %s", code, out, errOut)
	}
	if code, out, errOut := run("services", "remove", "--service", m[1]); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := run("services", "remove", "--service", m[1]); code == 0 {
		t.Fatalf("removed twice: %s", errOut)
	}
}
