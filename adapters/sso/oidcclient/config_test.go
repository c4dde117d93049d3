package oidcclient_test

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/schoollife/ledger/adapters/sso/oidcclient"
)

func validConfig() oidcclient.Config {
	return oidcclient.Config{BaseURL: "https://ent.example.fr", Providers: []oidcclient.Provider{{
		Name: "academie", OIDC: oidcclient.Settings{Issuer: "https://auth.ac-exemple.fr/realms/agents", ClientID: "ent", ClientSecretEnv: "LEDGER_OIDC_SECRET"},
	}}}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := validConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*oidcclient.Config){
		"http base":         func(c *oidcclient.Config) { c.BaseURL = "http://ent.example.fr" },
		"no provider":       func(c *oidcclient.Config) { c.Providers = nil },
		"bad name":          func(c *oidcclient.Config) { c.Providers[0].Name = "Académie/1" },
		"twice":             func(c *oidcclient.Config) { c.Providers = append(c.Providers, c.Providers[0]) },
		"http issuer":       func(c *oidcclient.Config) { c.Providers[0].OIDC.Issuer = "http://auth.example.fr" },
		"issuer with query": func(c *oidcclient.Config) { c.Providers[0].OIDC.Issuer = "https://auth.example.fr/?x=1" },
		"no client id":      func(c *oidcclient.Config) { c.Providers[0].OIDC.ClientID = "" },
		"no secret":         func(c *oidcclient.Config) { c.Providers[0].OIDC.ClientSecretEnv = "" },
		"two secrets":       func(c *oidcclient.Config) { c.Providers[0].OIDC.ClientSecretFile = "/run/secret" },
		"scope with space":  func(c *oidcclient.Config) { c.Providers[0].OIDC.Scopes = []string{"openid email"} },
		"empty claim":       func(c *oidcclient.Config) { c.Providers[0].OIDC.Claims = []string{""} },
	} {
		c := validConfig()
		c.Providers = append([]oidcclient.Provider(nil), c.Providers...)
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	getenv := func(v string) string {
		if v == "LEDGER_OIDC_SECRET" {
			return "from-env"
		}
		return ""
	}
	if _, err := oidcclient.New(validConfig(), &recorder{}, oidcclient.WithGetenv(getenv)); err != nil {
		t.Fatalf("secret from the environment: %v", err)
	}
	unset := validConfig()
	unset.Providers[0].OIDC.ClientSecretEnv = "LEDGER_UNSET"
	if _, err := oidcclient.New(unset, &recorder{}, oidcclient.WithGetenv(getenv)); err == nil || !strings.Contains(err.Error(), "LEDGER_UNSET") {
		t.Errorf("unset variable: %v", err)
	}
	missing := validConfig()
	missing.Providers[0].OIDC.ClientSecretEnv, missing.Providers[0].OIDC.ClientSecretFile = "", "/nonexistent/secret"
	if _, err := oidcclient.New(missing, &recorder{}); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := oidcclient.New(validConfig(), nil, oidcclient.WithGetenv(getenv)); err == nil {
		t.Error("no completer accepted")
	}
	if _, err := oidcclient.New(validConfig(), &recorder{}, oidcclient.WithGetenv(getenv), oidcclient.WithStateKey([]byte("short"))); err == nil {
		t.Error("short state key accepted")
	}
}

// The entries of the single sign-on file decode as they are.
func TestFileShape(t *testing.T) {
	t.Parallel()
	const y = `
base_url: https://ent.example.fr
providers:
  - name: academie
    protocol: oidc
    label: "Personnel de l'Éducation nationale"
    profiles: [teacher]
    oidc:
      issuer: https://auth.ac-exemple.fr/realms/agents
      client_id: ent
      client_secret_file: /run/secrets/oidc
      scopes: [profile, email]
      claims: [email, preferred_username]
      userinfo: true
`
	var fromYAML oidcclient.Config
	if err := yaml.Unmarshal([]byte(y), &fromYAML); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON oidcclient.Config
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, c := range []oidcclient.Config{fromYAML, fromJSON} {
		p := c.Providers[0]
		if err := c.Validate(); err != nil || p.Name != "academie" || p.OIDC.ClientID != "ent" || !p.OIDC.UserInfo ||
			p.OIDC.ClientSecretFile != "/run/secrets/oidc" || len(p.OIDC.Claims) != 2 || len(p.OIDC.Scopes) != 2 {
			t.Errorf("decoded %+v (%v)", c, err)
		}
	}
	if got := oidcclient.RedirectURL("https://ent.example.fr/", "academie"); got != "https://ent.example.fr/sso/oidc/academie/callback" {
		t.Errorf("redirect URL %s", got)
	}
}
