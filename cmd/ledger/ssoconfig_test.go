package main

import (
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
	// OIDC and CAS providers are kept aside, not refused.
	c, err := readSSOFile(write("pending.yaml", "providers:\n  - {name: agents, protocol: oidc, label: Agents, oidc: {issuer: https://x/}}\n"))
	if err != nil || len(c.pending) != 1 || len(c.saml) != 0 {
		t.Fatalf("%+v %v", c, err)
	}
}
