package domain_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestServicePatterns: the pattern syntax refuses what could match
// another site, and a prefix matches only below itself, on its host.
func TestServicePatterns(t *testing.T) {
	for _, bad := range []string{
		"", " https://a.example/", "https://", "https://*", "*", "https://a.example*", "https://a.example.fr*",
		"http://a.example/", "ftp://a.example/", "javascript:alert(1)", "//a.example/", "https://user@a.example/",
		"https://a.example/#x", "https://*.a.example/", "https://a.example/*/x", "https://a.example/a b",
		"https://a.example/../*", "HTTPS://a.example/", "https://A.example/", "https:a.example/",
	} {
		if _, err := domain.ParseServicePattern(bad); !errors.Is(err, domain.ErrUnsafeServiceURL) {
			t.Errorf("%q: %v, want refused", bad, err)
		}
	}
	cases := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"https://pronote.example.fr/cas/*",
			[]string{"https://pronote.example.fr/cas/", "https://pronote.example.fr/cas/login?x=1"},
			[]string{"https://pronote.example.fr/ca", "https://pronote.example.fr/cas", "https://pronote.example.fr.evil.example/cas/",
				"https://pronote.example.fr/cas/../admin", "https://pronote.example.fr/cas/%2e%2e/admin", "http://pronote.example.fr/cas/",
				"https://pronote.example.fr/cas/\\evil"}},
		{"https://moodle.example.fr/*",
			[]string{"https://moodle.example.fr/", "https://moodle.example.fr/login/index.php"},
			[]string{"https://moodle.example.fr", "https://moodle.example.fr@evil.example/", "https://moodle.example.fr.evil.example/"}},
		{"https://grr.example.fr/login.php",
			[]string{"https://grr.example.fr/login.php"},
			[]string{"https://grr.example.fr/login.php?x", "https://grr.example.fr/login.php/", "https://grr.example.fr/"}},
		{"http://127.0.0.1:8081/app/*", []string{"http://127.0.0.1:8081/app/x"}, []string{"http://127.0.0.1:8082/app/x"}},
	}
	for _, c := range cases {
		p, err := domain.ParseServicePattern(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if p.String() != c.pattern {
			t.Errorf("%s written back as %s", c.pattern, p)
		}
		for _, u := range c.match {
			if !p.Match(u) {
				t.Errorf("%s does not match %s", c.pattern, u)
			}
		}
		for _, u := range c.miss {
			if p.Match(u) {
				t.Errorf("%s matches %s", c.pattern, u)
			}
		}
	}
}

// oidc turns the command into a confidential OpenID Connect client's,
// then applies edit.
func oidc(edit func(c *domain.RegisterService)) func(c *domain.RegisterService) {
	return func(c *domain.RegisterService) {
		_, hash := domain.NewClientSecret()
		c.Kind, c.ClientID, c.SecretHash = domain.ServiceOIDC, c.Service.String(), hash
		c.URLs = []string{"https://pronote.example.fr/oidc/cb", "http://127.0.0.1:8080/cb"}
		c.PostLogoutURIs = []string{"https://pronote.example.fr/"}
		if edit != nil {
			edit(c)
		}
	}
}

// TestRegisterService: administrators of the establishment register,
// with safe patterns and known attributes; a removed service is gone.
func TestRegisterService(t *testing.T) {
	est := &domain.Establishment{Exists: true, UAI: "0131234A"}
	admin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0131234A"}
	cmd := domain.RegisterService{
		Service: uuid.New(), Establishment: "0131234A", Name: " Pronote ", Kind: domain.ServiceCAS,
		URLs: []string{"https://pronote.example.fr/cas/*", "https://pronote.example.fr/cas/*"}, Attributes: []string{domain.AttrLogin},
	}
	tests := []struct {
		name  string
		actor domain.Actor
		edit  func(c *domain.RegisterService)
		want  error
	}{
		{"admin", admin, nil, nil},
		{"another establishment's admin", domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0139999Z"}, nil, domain.ErrForbidden},
		{"head", domain.Actor{Account: uuid.New(), Profile: domain.ProfilePersonnel, Function: domain.FunctionHead, Establishment: "0131234A"}, nil, domain.ErrForbidden},
		{"unsafe URL", admin, func(c *domain.RegisterService) { c.URLs = []string{"https://*"} }, domain.ErrUnsafeServiceURL},
		{"no URL", admin, func(c *domain.RegisterService) { c.URLs = nil }, domain.ErrInvalid},
		{"unknown attribute", admin, func(c *domain.RegisterService) { c.Attributes = []string{"password"} }, domain.ErrInvalid},
		{"unknown kind", admin, func(c *domain.RegisterService) { c.Kind = "saml" }, domain.ErrInvalid},
		{"oidc prefix", admin, func(c *domain.RegisterService) { c.Kind, c.ClientID = domain.ServiceOIDC, "moodle" }, domain.ErrUnsafeServiceURL},
		{"no name", admin, func(c *domain.RegisterService) { c.Name = "  " }, domain.ErrInvalid},
		{"oidc confidential", admin, oidc(nil), nil},
		{"oidc public", admin, oidc(func(c *domain.RegisterService) { c.Public, c.SecretHash = true, "" }), nil},
		{"oidc public with a secret", admin, oidc(func(c *domain.RegisterService) { c.Public = true }), domain.ErrInvalid},
		{"oidc confidential without secret", admin, oidc(func(c *domain.RegisterService) { c.SecretHash = "" }), domain.ErrInvalid},
		{"oidc malformed hash", admin, oidc(func(c *domain.RegisterService) { c.SecretHash = "s3cret" }), domain.ErrInvalid},
		{"oidc client id not the service's", admin, oidc(func(c *domain.RegisterService) { c.ClientID = "moodle" }), domain.ErrInvalid},
		{"oidc http off the loopback", admin, oidc(func(c *domain.RegisterService) { c.URLs = []string{"http://grr.example.fr/cb"} }), domain.ErrUnsafeServiceURL},
		{"oidc logout prefix", admin, oidc(func(c *domain.RegisterService) { c.PostLogoutURIs = []string{"https://grr.example.fr/*"} }), domain.ErrUnsafeServiceURL},
		{"oidc single logout", admin, oidc(func(c *domain.RegisterService) { c.SingleLogout = true }), domain.ErrInvalid},
		{"cas with a secret", admin, func(c *domain.RegisterService) { _, c.SecretHash = domain.NewClientSecret() }, domain.ErrInvalid},
		{"cas public", admin, func(c *domain.RegisterService) { c.Public = true }, domain.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cmd
			if tc.edit != nil {
				tc.edit(&c)
			}
			var s domain.Service
			events, err := s.Register(tc.actor, est, c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			e := events[0].(domain.ServiceRegistered)
			if e.Name != "Pronote" || len(e.URLs) != 1 && e.Kind == domain.ServiceCAS || e.ClientID != c.ClientID || e.SecretHash != c.SecretHash {
				t.Fatalf("registered %+v", e)
			}
			s.Apply(e)
			if _, err := s.Register(admin, est, c); !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("registered twice: %v", err)
			}
			out, err := s.Unregister(admin, c.Service)
			if err != nil {
				t.Fatal(err)
			}
			s.Apply(out[0])
			if _, err := s.Unregister(admin, c.Service); !errors.Is(err, domain.ErrUnknownService) {
				t.Fatalf("removed twice: %v", err)
			}
			acc := &domain.Account{Exists: true, ID: uuid.New(), Profile: domain.ProfileStudent}
			if _, err := acc.RecordAccess(&s, domain.RecordServiceAccess{Service: c.Service, Protocol: domain.AccessCAS3}); !errors.Is(err, domain.ErrUnknownService) {
				t.Fatalf("access to a removed service: %v", err)
			}
		})
	}
}

// TestNewClientSecret: each secret is another, long, and its hash has
// the shape the registry checks.
func TestNewClientSecret(t *testing.T) {
	a, ha := domain.NewClientSecret()
	b, hb := domain.NewClientSecret()
	if a == b || ha == hb || len(a) < 43 || !domain.ValidSecretHash(ha) || domain.HashClientSecret(a) != ha {
		t.Fatalf("secrets %q %q, hashes %q %q", a, b, ha, hb)
	}
	if domain.ValidSecretHash(a) || domain.ValidSecretHash("sha256:short") {
		t.Fatal("a malformed hash is taken")
	}
}
