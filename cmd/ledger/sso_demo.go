package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	csaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	"golang.org/x/crypto/bcrypt"

	"github.com/schoollife/ledger/adapters/sso"
	ssosaml "github.com/schoollife/ledger/adapters/sso/saml"
	"github.com/schoollife/ledger/domain"
)

// The demo's identity provider: `serve --demo` without --sso signs people
// in through an identity provider of its own, in the same process, at
// /demo-idp/, whose users are the demo's accounts (password DemoPassword):
// the parent and the student as ÉduConnect asserts them (FrEduVecteur),
// the staff as an académie's provider does (ENTPersonJointure). Its keys
// and the service provider's are made at each start.

// demoIdPPath is where the demo's identity provider is served.
const demoIdPPath = "/demo-idp"

// demoIdPLabel is the demo provider on the sign-in page.
const demoIdPLabel = "Fournisseur d'identité de démonstration (ÉduConnect, agents)"

// demoExternalID is the directory id of a demo account: what the demo's
// provider asserts as ENTPersonJointure.
func demoExternalID(login string) string { return "demo-" + login }

// demoStudentID is the id in the school's software of the i-th demo
// student: what the demo's provider asserts in FrEduVecteur.
func demoStudentIDInSchool(i int) string { return fmt.Sprintf("DEMO%04d", i+1) }

// idpUser is a user of an in-process identity provider and the attributes
// it asserts of them.
type idpUser struct {
	login, given, family string
	attrs                map[string][]string
}

// demoIdPUsers are the demo's people at its identity provider.
func demoIdPUsers() []idpUser {
	var out []idpUser
	for _, a := range demoStaff {
		if a.profile == domain.ProfileRelative {
			continue
		}
		out = append(out, idpUser{login: a.login, family: a.name, attrs: map[string][]string{sso.AttrPersonJointure: {demoExternalID(a.login)}}})
	}
	lea := demoStudentIDInSchool(0)
	out = append(out,
		idpUser{login: "parent.durand", given: "Claire", family: "DURAND", attrs: map[string][]string{
			sso.AttrVector: {"2|DURAND|Claire|" + lea + "|" + DemoUAI}}},
		idpUser{login: "lea.durand", given: "Léa", family: "DURAND", attrs: map[string][]string{
			sso.AttrVector: {"4|DURAND|Léa|" + lea + "|" + DemoUAI}}},
	)
	return out
}

// demoIdP is the demo's identity provider and the service provider's key.
type demoIdP struct {
	idpKey, spKey   *rsa.PrivateKey
	idpCert, spCert *x509.Certificate
	srv             *samlidp.Server
	metadata        []byte
}

func newDemoIdP() (*demoIdP, error) {
	d := &demoIdP{}
	var err error
	if d.idpKey, d.idpCert, err = selfSigned("Fournisseur d'identité de démonstration"); err != nil {
		return nil, err
	}
	if d.spKey, d.spCert, err = selfSigned("ledger (démonstration)"); err != nil {
		return nil, err
	}
	return d, nil
}

// selfSigned makes an RSA key and a certificate of it for ten years.
func selfSigned(cn string) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// config is the demo's single sign-on configuration: its provider (once
// started) and the service provider's key.
func (d *demoIdP) config() *ssoConfig {
	p := ssoProvider{
		Name: "demo", Protocol: sso.ProtocolSAML, Label: demoIdPLabel,
		Profiles: []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel},
		Match:    sso.MatchRules{ExternalID: sso.AttrPersonJointure, Vector: sso.AttrVector},
		// The HTTP-POST binding: the request's signature is in the XML,
		// which the demo provider's login form posts back.
		SAML: &ssosaml.IdPConfig{Metadata: d.metadata, Binding: "post"},
	}
	return &ssoConfig{key: d.spKey, cert: d.spCert, saml: []ssoProvider{p}, all: []ssoProvider{p}}
}

// start builds the identity provider under base's /demo-idp.
func (d *demoIdP) start(base *url.URL) error {
	u := *base
	u.Path = demoIdPPath
	srv, err := newIdPServer(u, d.idpKey, d.idpCert, demoIdPUsers(), DemoPassword, demoLoginForm)
	if err != nil {
		return err
	}
	d.srv = srv
	md, err := xml.Marshal(srv.IDP.Metadata())
	if err != nil {
		return err
	}
	d.metadata = md
	return nil
}

func (d *demoIdP) handler() http.Handler { return d.srv }

// register tells the identity provider of the service provider.
func (d *demoIdP) register(svc *ssosaml.Service) error {
	return registerSP(d.srv, svc.Metadata())
}

// registerSP registers a service provider's metadata with an in-process
// identity provider.
func registerSP(srv *samlidp.Server, md *csaml.EntityDescriptor) error {
	body, err := xml.Marshal(md)
	if err != nil {
		return err
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/services/ledger", bytes.NewReader(body)))
	if rec.Code/100 != 2 {
		return fmt.Errorf("register the service provider: %d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return nil
}

// newIdPServer returns an identity provider at u whose users all have
// password; form is its login page (nil: the library's).
func newIdPServer(u url.URL, key *rsa.PrivateKey, cert *x509.Certificate, users []idpUser, password string, form *template.Template) (*samlidp.Server, error) {
	store := &samlidp.MemoryStore{}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	attrs := map[string]map[string][]string{}
	for _, us := range users {
		err := store.Put("/users/"+us.login, samlidp.User{
			Name: us.login, HashedPassword: hash, Email: us.login + "@idp.invalid",
			GivenName: us.given, Surname: us.family, CommonName: strings.TrimSpace(us.given + " " + us.family),
		})
		if err != nil {
			return nil, err
		}
		attrs[us.login] = us.attrs
	}
	srv, err := samlidp.New(samlidp.Options{URL: u, Key: key, Certificate: cert, Store: store, LoginFormTemplate: form})
	if err != nil {
		return nil, err
	}
	srv.IDP.SessionProvider = attributeSessions{Server: srv, attrs: attrs}
	return srv, nil
}

// attributeSessions adds the attributes of a user to their sessions; the
// rest of the server's sessions (which services took part in them, for
// single logout) is the server's.
type attributeSessions struct {
	*samlidp.Server
	attrs map[string]map[string][]string
}

func (a attributeSessions) GetSession(w http.ResponseWriter, r *http.Request, req *csaml.IdpAuthnRequest) *csaml.Session {
	s := a.Server.GetSession(w, r, req)
	if s == nil {
		return nil
	}
	c := *s
	c.CustomAttributes = nil
	for name, vals := range a.attrs[s.UserName] {
		at := csaml.Attribute{Name: name, FriendlyName: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}
		for _, v := range vals {
			at.Values = append(at.Values, csaml.AttributeValue{Type: "xs:string", Value: v})
		}
		c.CustomAttributes = append(c.CustomAttributes, at)
	}
	return &c
}

// demoLoginForm is the demo identity provider's page, in French, labelled
// as what it is.
var demoLoginForm = template.Must(template.New("demo-idp").Parse(`<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Fournisseur d'identité de démonstration</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto">
<h1>Fournisseur d'identité de démonstration</h1>
<p>Ce fournisseur remplace ÉduConnect et le portail des agents pour essayer la connexion unique.
Comptes : parent.durand, lea.durand, prof.martin, cpe.roche, principale.aubert ; mot de passe : celui de la démonstration.</p>
{{with .Toast}}<p role="alert">Identifiant ou mot de passe incorrect.</p>{{end}}
<form method="post" action="{{.URL}}">
<p><label for="user">Identifiant</label> <input id="user" name="user" autocomplete="username" required></p>
<p><label for="password">Mot de passe</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}">
<input type="hidden" name="RelayState" value="{{.RelayState}}">
<p><button type="submit">Se connecter</button></p>
</form></body></html>
`))
