package tests

// Single sign-on in a real browser: `ledger serve --demo` offers its demo
// identity provider (SAML, in the same process) on the sign-in page; Léa's
// mother follows it, signs in on the provider's page, and lands on the
// page of her children, through the HTTP-POST binding's forms both ways.
// With LEDGER_SCREENSHOTS set, the sign-in page and the provider's are
// saved there.

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestSAMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	// The directory has caught up with the demo once its accounts sign in.
	MustSignIn(t, srv.URL, "parent.durand")

	parent := MustIncognito(t, browser)
	mustDo(t, parent, "the sign-in page",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`.sso-providers a[href="/sso/saml/demo/login"]`)),
	)
	label := mustRun(t, parent, "the provider's label", chromedp.Evaluate[string](`document.querySelector('.sso-providers a').innerText`))
	if label != "Fournisseur d'identité de démonstration (ÉduConnect, agents)" {
		t.Fatalf("the provider is offered as %q", label)
	}
	mustScreenshot(t, parent, "sso-login")
	mustDo(t, parent, "to the demo provider",
		chromedp.Click(chromedp.CSS(`.sso-providers a`)),
		chromedp.WaitVisible(chromedp.ID("user")),
	)
	title := mustRun(t, parent, "the provider's page", chromedp.Evaluate[string](`document.querySelector('h1').innerText`))
	if title != "Fournisseur d'identité de démonstration" {
		t.Fatalf("the provider's page is titled %q", title)
	}
	mustScreenshot(t, parent, "sso-demo-idp")
	mustDo(t, parent, "sign in at the provider",
		chromedp.SendKeys(chromedp.ID("user"), "parent.durand"),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".who-name")),
	)
	page := mustRun(t, parent, "her page", chromedp.Evaluate[string](`document.body.innerText`))
	path := mustRun(t, parent, "where she is", chromedp.Evaluate[string](`location.pathname`))
	if path != "/" || !strings.Contains(page, "Léa Durand") || !strings.Contains(page, "Claire Durand") {
		t.Fatalf("landed on %s:\n%s", path, page)
	}
}
