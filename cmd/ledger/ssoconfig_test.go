package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSSOFileErrors: a configuration file's mistakes are all reported at
// once, each naming where it is.
func TestSSOFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"unknown field", "providers: []\nbase_uri: x\n", []string{"base_uri"}},
		{"bad entries", `base_url: ftp://x
providers:
  - name: EduConnect
    protocol: saml
    label: ""
    profiles: [eleve]
    saml: {metadata_file: a.xml, metadata_url: https://b/}
  - name: agents
    protocol: ldap
    label: Agents
`, []string{"base_url", "providers[0] (EduConnect): name", "label", `profile "eleve"`, "metadata_file or metadata_url", "match:", "providers[1] (agents): protocol", "saml_sp: key_file and cert_file"}},
		{"twice", `providers:
  - {name: a, protocol: oidc, label: A}
  - {name: a, protocol: cas, label: B}
`, []string{"name used twice"}},
		{"json", `{"providers": [{"name": "educonnect", "protocol": "saml", "label": "ÉduConnect", "match": {"vector": "FrEduVecteur"}, "saml": {"metadata_url": "https://x/md", "refresh": "10s"}}]}`,
			[]string{"refresh \"10s\"", "saml_sp"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readSSOFile(write(strings.ReplaceAll(c.name, " ", "-")+".yaml", c.text))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	// OpenID Connect and CAS providers are read with their blocks, in the
	// file's order.
	c, err := readSSOFile(write("upstream.yaml", `providers:
  - {name: agents, protocol: oidc, label: Agents, match: {external_id: ENTPersonJointure},
     oidc: {issuer: "https://x/", client_id: ent, client_secret_env: AGENTS}}
  - {name: cas-academie, protocol: cas, label: CAS, match: {external_id: ENTPersonJointure}, cas: {url: "https://cas.x/cas"}}
`))
	if err != nil || len(c.oidc) != 1 || len(c.cas) != 1 || len(c.all) != 2 || c.all[0].OIDC.ClientID != "ent" || c.all[1].CAS.URL != "https://cas.x/cas" {
		t.Fatalf("%+v %v", c, err)
	}
}

// TestSSOFileUpstreamErrors: OpenID Connect and CAS entries are checked
// when the file is read, before serve starts.
func TestSSOFileUpstreamErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, c := range []struct{ text, want string }{
		{"providers:\n  - {name: agents, protocol: oidc, label: A, match: {external_id: X}}\n", "an oidc section is required"},
		{"providers:\n  - {name: agents, protocol: oidc, label: A, match: {external_id: X}, oidc: {issuer: \"https://x/\"}}\n", "client_id"},
		{"providers:\n  - {name: agents, protocol: oidc, label: A, oidc: {issuer: \"https://x/\", client_id: e, client_secret_env: S}}\n", "match"},
		{"base_url: http://ent.example\nproviders:\n  - {name: agents, protocol: oidc, label: A, match: {external_id: X}, oidc: {issuer: \"https://x/\", client_id: e, client_secret_env: S}}\n", "https"},
		{"providers:\n  - {name: cas-a, protocol: cas, label: A, match: {external_id: X}, cas: {url: \"http://cas.example/cas\"}}\n", "https"},
		{"providers:\n  - {name: cas-a, protocol: cas, label: A, match: {external_id: X}, cas: {url: \"https://cas.example/cas\", version: 4}}\n", "version"},
		{"providers:\n  - {name: cas-a, protocol: cas, label: A, match: {external_id: X}}\n", "a cas section is required"},
	} {
		p := filepath.Join(dir, fmt.Sprintf("f%d.yaml", i))
		if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readSSOFile(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.text, err, c.want)
		}
	}
}
