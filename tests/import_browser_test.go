package tests

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// jobPage is what the browser shows of an import job's page.
type jobPage struct {
	Text, Path string
	// Refresh: the page reloads itself (the job is live).
	Refresh bool
}

// TestImportInBrowser: the administrator uploads a CSV file through the
// import page; the browser lands on the job's page, which follows the job
// by itself (it refreshes itself while the job is live, no click, no
// script) up to the report, in French and without any id.
func TestImportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	MustSignIn(t, srv.URL, "admin.demo")
	c := MustIncognito(t, browser)
	mustSignInPage(t, c, srv.URL, "admin.demo")

	feed := filepath.Join(t.TempDir(), "responsables.csv")
	csv := "id,uai,last_name,first_name\nR01,0131999X,Martin,Claire\nR02,0131999X,Petit,Louis\n"
	if err := os.WriteFile(feed, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	mustDo(t, c, "import form",
		chromedp.Navigate(srv.URL+"/imports"),
		chromedp.WaitVisible(chromedp.ID("i-files")),
		chromedp.SetValue(chromedp.ID("i-format"), "csv"),
		chromedp.SetValue(chromedp.ID("i-profile"), "relative"),
		chromedp.SetUploadFiles(chromedp.ID("i-files"), []string{feed}),
		chromedp.Click(chromedp.ID("i-dry")), // untick the dry run
		chromedp.Click(chromedp.CSS("form[action='/imports'] button[type=submit]")),
	)

	// Wait for the report without navigating: the job's page reloads
	// itself while the job is live. A reload under way fails an
	// evaluation; the next one tells.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	var page jobPage
	sawProgress := false
	for {
		ctx, cancel := context.WithTimeout(c, 5*time.Second)
		p, err := chromedp.Run(ctx, chromedp.Evaluate[jobPage](`({text: document.querySelector('main') ? document.querySelector('main').innerText : "", path: location.pathname,
			refresh: !!document.querySelector('meta[http-equiv=refresh]')})`))
		cancel()
		if err == nil {
			page = p
			sawProgress = sawProgress || page.Refresh
			if strings.Contains(page.Text, "Import appliqué") {
				break
			}
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("no report within 60 s on %s:\n%s", page.Path, page.Text)
		}
	}
	t.Logf("the job's page showed its progress before the report: %v", sawProgress)
	if !strings.HasPrefix(page.Path, "/imports/") || page.Refresh {
		t.Fatalf("the report is at %s, refreshing itself: %v", page.Path, page.Refresh)
	}
	text := page.Text
	for _, want := range []string{"Import lancé.", "Comptes ouverts", "responsables.csv", "Événements enregistrés"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	if id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-`).FindString(text); id != "" {
		t.Errorf("the report shows an id:\n%s", text)
	}
}
