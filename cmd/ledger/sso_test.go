package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	csaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	"github.com/google/uuid"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/sso"
)

// The SAML service provider through the real binary: `serve --demo --sso
// FILE` with an identity provider of the test (crewjam's samlidp) whose
// users are the demo's people, a browser played by an HTTP client with a
// cookie jar that follows the HTTP-POST binding's forms by hand. The tests
// do not run in parallel: each seeds the demo, which on a loaded machine
// under the race detector takes most of serve's start limit.

// testBase is the ledger's public address in the tests' configuration:
// the responses name it, and the client posts them to the node under test
// instead, as a load balancer would.
const testBase = "http://ent.test"

// mode changes what the test identity provider asserts.
type mode int32

const (
	modeNormal mode = iota
	modeWrongAudience
	modeExpired
)

// withoutEncryption is SP metadata without its encryption keys: an
// identity provider told of it sends assertions in the clear (still
// signed), which tests can read and spoil.
func withoutEncryption(md csaml.EntityDescriptor) csaml.EntityDescriptor {
	md.SPSSODescriptors = slices.Clone(md.SPSSODescriptors)
	for i := range md.SPSSODescriptors {
		d := &md.SPSSODescriptors[i]
		d.KeyDescriptors = slices.DeleteFunc(slices.Clone(d.KeyDescriptors), func(k csaml.KeyDescriptor) bool { return k.Use == "encryption" })
	}
	return md
}

// testIdP is an identity provider of the test.
type testIdP struct {
	// plain: the provider sends assertions unencrypted.
	plain bool
	srv   *samlidp.Server
	ts    *httptest.Server
	mode  atomic.Int32
	key   *rsa.PrivateKey
	cert  *x509.Certificate
}

// assertionMaker makes the default assertion, then spoils it as the mode
// says, before it is signed.
type assertionMaker struct{ idp *testIdP }

func (m assertionMaker) MakeAssertion(req *csaml.IdpAuthnRequest, s *csaml.Session) error {
	if err := (csaml.DefaultAssertionMaker{}).MakeAssertion(req, s); err != nil {
		return err
	}
	a := req.Assertion
	switch mode(m.idp.mode.Load()) {
	case modeWrongAudience:
		for i := range a.Conditions.AudienceRestrictions {
			a.Conditions.AudienceRestrictions[i].Audience = csaml.Audience{Value: "https://autre-ent.example/saml/metadata"}
		}
	case modeExpired:
		back := -2 * time.Hour
		a.IssueInstant = a.IssueInstant.Add(back)
		a.Conditions.NotBefore = a.Conditions.NotBefore.Add(back)
		a.Conditions.NotOnOrAfter = a.Conditions.NotOnOrAfter.Add(back)
		for i := range a.Subject.SubjectConfirmations {
			if d := a.Subject.SubjectConfirmations[i].SubjectConfirmationData; d != nil {
				d.NotOnOrAfter = d.NotOnOrAfter.Add(back)
			}
		}
		for i := range a.AuthnStatements {
			a.AuthnStatements[i].AuthnInstant = a.AuthnStatements[i].AuthnInstant.Add(back)
		}
	}
	return nil
}

// newTestIdP starts an identity provider whose users are the demo's
// people (demoIdPUsers), with its own key; users more may be added.
func newTestIdP(t *testing.T, more ...idpUser) *testIdP {
	t.Helper()
	idp := &testIdP{}
	var h atomic.Pointer[http.Handler]
	idp.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(idp.ts.Close)
	var err error
	if idp.key, idp.cert, err = selfSigned("idp " + t.Name()); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(idp.ts.URL)
	idp.srv, err = newIdPServer(*u, idp.key, idp.cert, append(demoIdPUsers(), more...), DemoPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	idp.srv.IDP.AssertionMaker = assertionMaker{idp: idp}
	var hh http.Handler = idp.srv
	h.Store(&hh)
	return idp
}

// impostor returns an identity provider at the same address (same entity
// id) but with a key of its own, serving at another port: what it signs,
// the ledger must refuse.
func (idp *testIdP) impostor(t *testing.T) *testIdP {
	t.Helper()
	other := &testIdP{}
	var err error
	if other.key, other.cert, err = selfSigned("impostor"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(idp.ts.URL)
	other.srv, err = newIdPServer(*u, other.key, other.cert, demoIdPUsers(), DemoPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	other.ts = httptest.NewServer(other.srv)
	t.Cleanup(other.ts.Close)
	return other
}

func (idp *testIdP) metadata(t *testing.T) []byte {
	t.Helper()
	md, err := xml.Marshal(idp.srv.IDP.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// writeSSOFile writes the SP's key pair and a configuration naming idp
// "educonnect", and returns the file.
func writeSSOFile(t *testing.T, idp *testIdP) string {
	t.Helper()
	dir := t.TempDir()
	key, cert, err := selfSigned("ledger " + t.Name())
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile := write("sp.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	certFile := write("sp.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	mdFile := write("idp.xml", idp.metadata(t))
	return write("sso.yaml", fmt.Appendf(nil, `base_url: %s
saml_sp:
  key_file: %s
  cert_file: %s
providers:
  - name: educonnect
    protocol: saml
    label: "Élève ou parent : ÉduConnect"
    profiles: [student, relative]
    match: {vector: FrEduVecteur, external_id: ENTPersonJointure}
    saml: {metadata_file: %s}
`, testBase, keyFile, certFile, mdFile))
}

// ssoNode is a ledger node under test.
type ssoNode struct {
	*served
	store string
}

// mustSSONode serves the demo with the configuration file on store.
func mustSSONode(t *testing.T, store, file string, idps ...*testIdP) ssoNode {
	t.Helper()
	s := MustServeMain(t, "--store", store, "--demo", "--sso", file)
	status, body := get(t, s.URL+"/saml/metadata")
	if status != http.StatusOK {
		t.Fatalf("/saml/metadata: %d %s", status, body)
	}
	var md csaml.EntityDescriptor
	if err := xml.Unmarshal([]byte(body), &md); err != nil {
		t.Fatal(err)
	}
	if md.EntityID != testBase+"/saml/metadata" {
		t.Fatalf("entity id %q", md.EntityID)
	}
	for _, idp := range idps {
		reg := md
		if idp.plain {
			reg = withoutEncryption(md)
		}
		if err := registerSP(idp.srv, &reg); err != nil {
			t.Fatal(err)
		}
	}
	return ssoNode{served: s, store: store}
}

// ssoBrowser is a person's browser: a cookie jar, redirects followed by hand.
type ssoBrowser struct {
	t *testing.T
	c *http.Client
}

func newSSOBrowser(t *testing.T) *ssoBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &ssoBrowser{t: t, c: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *ssoBrowser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *ssoBrowser) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *ssoBrowser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	formAction = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`(?is)<input[^>]*>`)
	inputAttr  = regexp.MustCompile(`(?is)\b(name|value)="([^"]*)"`)
)

// form reads the first form of a page: its action and fields.
func form(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in\n%s", page)
	}
	fields := url.Values{}
	for _, in := range formInput.FindAllString(page, -1) {
		var name, value string
		for _, a := range inputAttr.FindAllStringSubmatch(in, -1) {
			if strings.EqualFold(a[1], "name") {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			fields.Set(name, value)
		}
	}
	return html.UnescapeString(m[1]), fields
}

// startLogin asks node to sign in through provider; it answers where the
// browser is sent (the provider's single sign-on service, with a signed
// request).
func (b *ssoBrowser) startLogin(node ssoNode, next string) *url.URL {
	b.t.Helper()
	resp, body := b.get(node.URL + "/sso/saml/educonnect/login?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login: %d\n%s", resp.StatusCode, body)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	if u.Query().Get("SAMLRequest") == "" || u.Query().Get("Signature") == "" || u.Query().Get("SigAlg") == "" {
		b.t.Fatalf("the request is not signed with the redirect binding: %s", u)
	}
	return u
}

// atIdP plays the person at the provider at idp: the login form, then the
// response form to the ledger, which it returns (action and fields).
func (b *ssoBrowser) atIdP(idp *testIdP, sso *url.URL, user string) (string, url.Values) {
	b.t.Helper()
	at, _ := url.Parse(idp.ts.URL)
	// Signed in at the provider first: the request of the redirect
	// binding, signed in its query, is then answered at once.
	resp, body := b.post(idp.ts.URL+"/login", url.Values{"user": {user}, "password": {DemoPassword}})
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("identity provider login: %d\n%s", resp.StatusCode, body)
	}
	sso.Scheme, sso.Host = at.Scheme, at.Host
	resp, body = b.get(sso.String())
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("identity provider: %d\n%s", resp.StatusCode, body)
	}
	action, fields := form(b.t, body)
	if action != testBase+"/saml/acs" || fields.Get("SAMLResponse") == "" {
		b.t.Fatalf("not a response to the ledger: %s %v", action, fields)
	}
	return action, fields
}

// toACS posts a response to node's assertion consumer service.
func (b *ssoBrowser) toACS(node ssoNode, fields url.Values) (*http.Response, string) {
	b.t.Helper()
	return b.post(node.URL+"/saml/acs", fields)
}

// signIn signs user in through idp at node and returns the page they land
// on.
func (b *ssoBrowser) signIn(node ssoNode, idp *testIdP, user, next string) (string, string) {
	b.t.Helper()
	_, fields := b.atIdP(idp, b.startLogin(node, next), user)
	resp, body := b.toACS(node, fields)
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in of %s: %d\n%s", user, resp.StatusCode, body)
	}
	where := resp.Header.Get("Location")
	resp, body = b.get(node.URL + where)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("%s after sign-in: %d\n%s", where, resp.StatusCode, body)
	}
	return where, body
}

// eventCount counts the events of a store, but those of its background
// processes (alerts, notification outcomes), and those of a type.
func eventCount(t *testing.T, store, typ string) (all, ofType int) {
	t.Helper()
	ctx := context.Background()
	// The serving ledger's own processes write meanwhile (with --demo,
	// the office's alerts on the demo's history, a minute after the start;
	// notification outcomes): what a sign-in writes is counted, theirs is
	// not.
	q := `SELECT count(*), count(CASE WHEN type = $1 THEN 1 END) FROM events
		WHERE type NOT LIKE 'alert.%' AND type NOT LIKE 'notification.%'`
	if path, ok := strings.CutPrefix(store, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRowContext(ctx, q, typ).Scan(&all, &ofType); err != nil {
			t.Fatal(err)
		}
		return all, ofType
	}
	pg, err := postgres.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.Pool().QueryRow(ctx, q, typ).Scan(&all, &ofType); err != nil {
		t.Fatal(err)
	}
	return all, ofType
}

// mustRecordNothing runs a refused attempt and checks it appended nothing
// and showed the French page of a failed sign-in.
func mustRecordNothing(t *testing.T, node ssoNode, want int, attempt func() (*http.Response, string)) {
	t.Helper()
	before, _ := eventCount(t, node.store, "")
	resp, body := attempt()
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d\n%s", resp.StatusCode, want, body)
	}
	if !strings.Contains(html.UnescapeString(body), "La connexion n'a pas abouti") {
		t.Fatalf("not the French page of a failed sign-in:\n%s", body)
	}
	if strings.Contains(body, "SAML") || strings.Contains(body, fmt.Sprint(want)) {
		t.Fatalf("the page shows a code or an internal word:\n%s", body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "ledger_session" && c.Value != "" {
			t.Fatalf("a session was opened: %v", c)
		}
	}
	if after, _ := eventCount(t, node.store, ""); after != before {
		t.Fatalf("%d events appended by a refused response", after-before)
	}
}

// TestSAMLParentSignsIn: Claire Durand, Léa's mother, signs in through
// ÉduConnect (FrEduVecteur naming Léa by her id in the school's software)
// and lands on the page of her children; her identity is linked once, and
// each sign-in is a connection by SAML.
func TestSAMLParentSignsIn(t *testing.T) {
	idp := newTestIdP(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	node := mustSSONode(t, store, writeSSOFile(t, idp), idp)

	b := newSSOBrowser(t)
	_, login := b.get(node.URL + "/login")
	for _, want := range []string{"Élève ou parent : ÉduConnect", `href="/sso/saml/educonnect/login"`, `action="/login"`} {
		if !strings.Contains(login, want) {
			t.Fatalf("the sign-in page lacks %q:\n%s", want, login)
		}
	}
	where, page := b.signIn(node, idp, "parent.durand", "/")
	if where != "/" || !strings.Contains(page, "Léa Durand") || !strings.Contains(page, "Claire Durand") {
		t.Fatalf("landed on %s:\n%s", where, page)
	}
	_, linked := eventCount(t, store, "account.identity_linked.v1")
	_, connected := eventCount(t, store, "user.connected.v1")
	if linked != 1 {
		t.Fatalf("%d identities linked", linked)
	}
	// A second sign-in, in another browser, to a page of hers: no new
	// link, one more connection, recorded as SAML.
	b2 := newSSOBrowser(t)
	if where, _ := b2.signIn(node, idp, "parent.durand", "/feed"); where != "/feed" {
		t.Fatalf("landed on %s, not the page asked", where)
	}
	_, linked2 := eventCount(t, store, "account.identity_linked.v1")
	_, connected2 := eventCount(t, store, "user.connected.v1")
	if linked2 != 1 || connected2 != connected+1 {
		t.Fatalf("links %d, connections %d then %d", linked2, connected, connected2)
	}
	mustMethod(t, store, "saml")
	// The student herself, and a teacher by ENTPersonJointure.
	if _, page := newSSOBrowser(t).signIn(node, idp, "lea.durand", "/"); !strings.Contains(page, "Léa Durand") {
		t.Fatalf("Léa's home:\n%s", page)
	}
	if _, page := newSSOBrowser(t).signIn(node, idp, "prof.martin", "/"); !strings.Contains(page, "M. Martin") {
		t.Fatalf("M. Martin's home:\n%s", page)
	}
}

// mustMethod checks the last connection's method.
func mustMethod(t *testing.T, store, method string) {
	t.Helper()
	path, _ := strings.CutPrefix(store, "sqlite:")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var data string
	if err := db.QueryRow(`SELECT data FROM events WHERE type = 'user.connected.v1' ORDER BY position DESC LIMIT 1`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(data, `"method":"`+method+`"`) {
		t.Fatalf("last connection %s, want method %s", data, method)
	}
}

// TestSAMLRefusals: every response that fails a check is refused with the
// French page, opens no session and records nothing.
func TestSAMLRefusals(t *testing.T) {
	idp := newTestIdP(t)
	idp.plain = true
	impostor := idp.impostor(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	file := writeSSOFile(t, idp)
	node := mustSSONode(t, store, file, idp, impostor)
	b := newSSOBrowser(t)
	fresh := func() url.Values {
		_, f := b.atIdP(idp, b.startLogin(node, "/"), "parent.durand")
		return f
	}
	response := func(f url.Values) string {
		raw, err := base64.StdEncoding.DecodeString(f.Get("SAMLResponse"))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	encode := func(f url.Values, xml string) url.Values {
		g := url.Values{}
		for k, v := range f {
			g[k] = v
		}
		g.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(xml)))
		return g
	}
	bad := http.StatusBadRequest

	t.Run("unsigned", func(t *testing.T) {
		f := fresh()
		unsigned := regexp.MustCompile(`(?s)<ds:Signature.*?</ds:Signature>`).ReplaceAllString(response(f), "")
		if unsigned == response(f) {
			t.Fatal("the response had no signature to remove")
		}
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, encode(f, unsigned)) })
	})
	t.Run("tampered", func(t *testing.T) {
		f := fresh()
		tampered := strings.Replace(response(f), "parent.durand@idp.invalid", "prof.martin@idp.invalid", 1)
		if tampered == response(f) {
			t.Fatalf("no NameID to change in\n%s", response(f))
		}
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, encode(f, tampered)) })
	})
	t.Run("signed by another key", func(t *testing.T) {
		_, f := b.atIdP(impostor, b.startLogin(node, "/"), "parent.durand")
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, f) })
	})
	t.Run("wrong audience", func(t *testing.T) {
		idp.mode.Store(int32(modeWrongAudience))
		defer idp.mode.Store(int32(modeNormal))
		f := fresh()
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, f) })
	})
	t.Run("expired", func(t *testing.T) {
		idp.mode.Store(int32(modeExpired))
		defer idp.mode.Store(int32(modeNormal))
		f := fresh()
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, f) })
	})
	t.Run("RelayState to another site", func(t *testing.T) {
		f := fresh()
		f.Set("RelayState", "https://evil.example/voler")
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, f) })
		f.Set("RelayState", "//evil.example/voler")
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, f) })
	})
	t.Run("unknown InResponseTo", func(t *testing.T) {
		// A request the ledger never made: signed with its key, by
		// someone who has it, but not recorded.
		key, cert, err := readKeyPairOf(t, file)
		if err != nil {
			t.Fatal(err)
		}
		acs, _ := url.Parse(testBase + "/saml/acs")
		md, _ := url.Parse(testBase + "/saml/metadata")
		sp := csaml.ServiceProvider{Key: key, Certificate: cert, AcsURL: *acs, MetadataURL: *md,
			IDPMetadata: idp.srv.IDP.Metadata(), SignatureMethod: dsig.RSASHA256SignatureMethod,
			AuthnNameIDFormat: csaml.UnspecifiedNameIDFormat}
		u, err := sp.MakeRedirectAuthenticationRequest("/")
		if err != nil {
			t.Fatal(err)
		}
		_, f := b.atIdP(idp, u, "parent.durand")
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return b.toACS(node, f) })
	})
	t.Run("replayed", func(t *testing.T) {
		f := fresh()
		if resp, body := b.toACS(node, f); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d\n%s", resp.StatusCode, body)
		}
		mustRecordNothing(t, node, bad, func() (*http.Response, string) { return newSSOBrowser(t).toACS(node, f) })
	})
}

// readKeyPairOf reads the service provider's key pair named in a
// configuration file.
func readKeyPairOf(t *testing.T, file string) (*rsa.PrivateKey, *x509.Certificate, error) {
	t.Helper()
	c, err := readSSOFile(file)
	if err != nil {
		return nil, nil, err
	}
	return c.key.(*rsa.PrivateKey), c.cert, nil
}

// TestSAMLReplayedOnAnotherNode: two nodes on one Postgres database; a
// response accepted by one is refused by the other, recording nothing.
func TestSAMLReplayedOnAnotherNode(t *testing.T) {
	idp := newTestIdP(t)
	store := pgtest.MustDatabase(t)
	file := writeSSOFile(t, idp)
	one := mustSSONode(t, store, file, idp)
	two := mustSSONode(t, store, file)
	b := newSSOBrowser(t)
	_, f := b.atIdP(idp, b.startLogin(one, "/"), "parent.durand")
	if resp, body := b.toACS(one, f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first node: %d\n%s", resp.StatusCode, body)
	}
	mustRecordNothing(t, two, http.StatusBadRequest, func() (*http.Response, string) { return newSSOBrowser(t).toACS(two, f) })
	// A request made by one node is answered on the other.
	_, f = b.atIdP(idp, b.startLogin(one, "/"), "lea.durand")
	if resp, body := newSSOBrowser(t).toACS(two, f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a response to the first node's request on the second: %d\n%s", resp.StatusCode, body)
	}
}

// TestSAMLUnmatchedThenLinked: a person the directory does not know is
// told so in French and listed for administrators, without a name more
// than asserted; the administrator links her by hand, then she signs in.
// A closed account cannot sign in.
func TestSAMLUnmatchedThenLinked(t *testing.T) {
	stranger := idpUser{login: "inconnue", given: "Agnès", family: "MARTIN", attrs: map[string][]string{
		sso.AttrVector: {"2|MARTIN|Agnès|9999999|" + DemoUAI}}}
	idp := newTestIdP(t, stranger)
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	node := mustSSONode(t, store, writeSSOFile(t, idp), idp)

	b := newSSOBrowser(t)
	_, f := b.atIdP(idp, b.startLogin(node, "/"), "inconnue")
	before, _ := eventCount(t, store, "")
	resp, body := b.toACS(node, f)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "Nous n'avons pas trouvé votre compte") {
		t.Fatalf("unmatched: %d\n%s", resp.StatusCode, body)
	}
	if after, _ := eventCount(t, store, ""); after != before {
		t.Fatalf("%d events appended for an unmatched identity", after-before)
	}

	admin := newSSOBrowser(t)
	mustPasswordSignIn(t, admin, node, "admin.demo")
	resp, page := admin.get(node.URL + "/admin/sso")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Agnès MARTIN") || !strings.Contains(page, "aucun compte trouvé") {
		t.Fatalf("administrators' page: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{"Élève ou parent : ÉduConnect", "lues "} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Fatalf("the providers' status lacks %q:\n%s", want, page)
		}
	}
	// An unknown directory id: the form comes back as typed.
	action, fields := form(t, page[strings.Index(page, `action="/admin/sso/links"`)-40:])
	fields.Set("external_id", "pas-un-id")
	resp, page = admin.post(node.URL+action, fields)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, `value="pas-un-id"`) {
		t.Fatalf("link to an unknown id: %d\n%s", resp.StatusCode, page)
	}
	action, fields = form(t, page[strings.Index(page, `action="/admin/sso/links"`)-40:])
	fields.Set("external_id", demoExternalID("cpe.roche"))
	resp, page = admin.post(node.URL+action, fields)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("link: %d\n%s", resp.StatusCode, page)
	}
	if _, page := admin.get(node.URL + resp.Header.Get("Location")); strings.Contains(page, "Agnès MARTIN") {
		t.Fatalf("a linked identity is still listed:\n%s", page)
	}
	waitLinked(t, node, demoID("account", "cpe.roche"), "educonnect", "inconnue@idp.invalid")
	if _, page := newSSOBrowser(t).signIn(node, idp, "inconnue", "/"); !strings.Contains(page, "Mme Roche") {
		t.Fatalf("after the link:\n%s", page)
	}

	// The administrator closes M. Martin's account: he cannot sign in.
	mustCloseAccount(t, node, "prof.martin")
	_, f = newSSOBrowser(t).atIdP(idp, b.startLogin(node, "/"), "prof.martin")
	before, _ = eventCount(t, store, "")
	resp, body = b.toACS(node, f)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Votre compte est fermé") {
		t.Fatalf("closed account: %d\n%s", resp.StatusCode, body)
	}
	if after, _ := eventCount(t, store, ""); after != before {
		t.Fatalf("%d events appended for a closed account", after-before)
	}
}

// mustPasswordSignIn signs login in with the demo's password on the
// portal's form.
func mustPasswordSignIn(t *testing.T, b *ssoBrowser, node ssoNode, login string) {
	t.Helper()
	_, page := b.get(node.URL + "/login")
	_, fields := form(t, page[strings.Index(page, `action="/login"`)-30:])
	fields.Set("login", login)
	fields.Set("password", DemoPassword)
	resp, body := b.post(node.URL+"/login", fields)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: %d\n%s", login, resp.StatusCode, body)
	}
}

// waitLinked waits for an identity link to reach the directory's read
// model (the projections run in the background).
func waitLinked(t *testing.T, node ssoNode, account uuid.UUID, provider, subject string) {
	t.Helper()
	token := MustToken(t, node.URL, "admin.demo", DemoPassword)
	deadline := time.Now().Add(limit)
	for {
		r := call(t, "GET", node.URL+"/api/v1/accounts/"+account.String(), token, nil)
		var acc struct {
			Identities []struct{ Provider, Subject string }
		}
		if r.status == http.StatusOK && json.Unmarshal(r.body, &acc) == nil {
			for _, id := range acc.Identities {
				if id.Provider == provider && id.Subject == subject {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("identity %s %s not linked to %s: %d %s", provider, subject, account, r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustCloseAccount closes a demo account through the API and waits for
// the directory to know it.
func mustCloseAccount(t *testing.T, node ssoNode, login string) {
	t.Helper()
	token := MustToken(t, node.URL, "admin.demo", DemoPassword)
	id := demoID("account", login)
	if r := call(t, "POST", node.URL+"/api/v1/accounts/"+id.String()+"/closure", token, map[string]string{"reason": "départ"}); r.status != http.StatusOK {
		t.Fatalf("close %s: %d %s", login, r.status, r.body)
	}
	deadline := time.Now().Add(limit)
	for {
		r := call(t, "GET", node.URL+"/api/v1/accounts/"+id.String(), token, nil)
		var acc struct{ Closed bool }
		if r.status == http.StatusOK && json.Unmarshal(r.body, &acc) == nil && acc.Closed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not closed in the directory: %d %s", login, r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSAMLLogoutFromProvider: the provider's single logout ends the portal
// session of the person it names, and the ledger answers it.
func TestSAMLLogoutFromProvider(t *testing.T) {
	idp := newTestIdP(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	node := mustSSONode(t, store, writeSSOFile(t, idp), idp)
	b := newSSOBrowser(t)
	b.signIn(node, idp, "parent.durand", "/")
	if resp, _ := b.get(node.URL + "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	waitLinked(t, node, demoID("account", "parent.durand"), "educonnect", "parent.durand@idp.invalid")
	// The browser goes where the provider sends it: the ledger's logout
	// service (reached at the node), then back to the provider.
	at, _ := url.Parse(idp.ts.URL)
	nodeURL, _ := url.Parse(node.URL)
	visit := func(u *url.URL) *url.URL {
		if u.Host == "ent.test" {
			u.Scheme, u.Host = nodeURL.Scheme, nodeURL.Host
		}
		return u
	}
	next, _ := url.Parse(idp.ts.URL + "/logout")
	sawLedger := false
	for range 10 {
		resp, body := b.get(visit(next).String())
		if next.Host == nodeURL.Host && strings.HasPrefix(next.Path, "/saml/slo") {
			sawLedger = true
		}
		switch {
		case resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound:
			next, _ = next.Parse(resp.Header.Get("Location"))
			continue
		case resp.StatusCode == http.StatusOK && formAction.MatchString(body):
			action, fields := form(t, body)
			target, _ := url.Parse(action)
			r2, body2 := b.post(visit(target).String(), fields)
			if target.Host == nodeURL.Host {
				sawLedger = true
			}
			if r2.StatusCode/100 == 3 {
				next, _ = target.Parse(r2.Header.Get("Location"))
				continue
			}
			body = body2
		}
		_ = at
		break
	}
	if !sawLedger {
		t.Fatal("the provider's logout never reached the ledger")
	}
	if resp, _ := b.get(node.URL + "/"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("after the provider's logout the session still opens the portal: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), node.Log)
	}
}

// TestSAMLLogoutFromPortal: signing out of the portal after a sign-in
// through a provider signs out of the provider too (a signed
// LogoutRequest), and comes back to the sign-in page.
func TestSAMLLogoutFromPortal(t *testing.T) {
	idp := newTestIdP(t)
	store := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	node := mustSSONode(t, store, writeSSOFile(t, idp), idp)
	b := newSSOBrowser(t)
	_, home := b.signIn(node, idp, "parent.durand", "/")
	i := strings.Index(home, `action="/logout"`)
	if i < 0 {
		t.Fatalf("no sign-out form:\n%s", home)
	}
	_, fields := form(t, home[strings.LastIndex(home[:i], "<form"):])
	resp, body := b.post(node.URL+"/logout", fields)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d\n%s", resp.StatusCode, body)
	}
	slo, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(slo.String(), idp.ts.URL+"/slo?") || slo.Query().Get("Signature") == "" {
		t.Fatalf("sign-out goes to %s, not to the provider's logout with a signed request", slo)
	}
	resp, body = b.get(slo.String())
	if resp.StatusCode/100 != 3 {
		t.Fatalf("provider's logout: %d\n%s", resp.StatusCode, body)
	}
	back, _ := url.Parse(resp.Header.Get("Location"))
	if back.Host != "ent.test" || back.Path != "/saml/slo" || back.Query().Get("SAMLResponse") == "" {
		t.Fatalf("the provider answers to %s", back)
	}
	nodeURL, _ := url.Parse(node.URL)
	back.Scheme, back.Host = nodeURL.Scheme, nodeURL.Host
	resp, _ = b.get(back.String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?ok=signedout" {
		t.Fatalf("the ledger's answer to the provider's response: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Signed out of both: the portal sends to the sign-in page, the
	// provider asks for the password again.
	if resp, _ := b.get(node.URL + "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the portal after sign-out: %d", resp.StatusCode)
	}
	u := b.startLogin(node, "/")
	at, _ := url.Parse(idp.ts.URL)
	u.Scheme, u.Host = at.Scheme, at.Host
	if _, page := b.get(u.String()); !strings.Contains(page, `name="user"`) {
		t.Fatalf("the provider still has a session:\n%s", page)
	}
}
