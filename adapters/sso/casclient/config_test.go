package casclient_test

import (
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/schoollife/ledger/adapters/sso/casclient"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := func() casclient.Config {
		return casclient.Config{BaseURL: "https://ent.example.fr", Providers: []casclient.Provider{{
			Name: "cas-academie", CAS: casclient.Settings{URL: "https://cas.ac-exemple.fr/cas"},
		}}}
	}
	if err := valid().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*casclient.Config){
		"http base":   func(c *casclient.Config) { c.BaseURL = "http://ent.example.fr" },
		"no provider": func(c *casclient.Config) { c.Providers = nil },
		"bad name":    func(c *casclient.Config) { c.Providers[0].Name = "" },
		"twice":       func(c *casclient.Config) { c.Providers = append(c.Providers, c.Providers[0]) },
		"http server": func(c *casclient.Config) { c.Providers[0].CAS.URL = "http://cas.ac-exemple.fr/cas" },
		"no server":   func(c *casclient.Config) { c.Providers[0].CAS.URL = "" },
		"version 1":   func(c *casclient.Config) { c.Providers[0].CAS.Version = 1 },
	} {
		c := valid()
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := casclient.New(valid(), nil); err == nil {
		t.Error("no completer accepted")
	}
}

func TestFileShape(t *testing.T) {
	t.Parallel()
	const y = `
base_url: https://ent.example.fr
providers:
  - name: cas-academie
    protocol: cas
    label: "Personnel de l'académie"
    cas:
      url: https://cas.ac-exemple.fr/cas
      version: 2
      renew: true
`
	var c casclient.Config
	if err := yaml.Unmarshal([]byte(y), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil || c.Providers[0].CAS.Version != 2 || !c.Providers[0].CAS.Renew || c.Providers[0].CAS.URL != "https://cas.ac-exemple.fr/cas" {
		t.Errorf("decoded %+v (%v)", c, err)
	}
	if got := casclient.ServiceURL("https://ent.example.fr", "cas-academie"); got != "https://ent.example.fr/sso/cas/cas-academie/callback" {
		t.Errorf("service URL %s", got)
	}
}
