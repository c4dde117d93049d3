package tests

// Accessibility of the portal (RGAA, that is WCAG 2.1 AA): axe-core,
// vendored under testdata/axe, runs in headless Chromium on every page
// each demo profile can reach, at a desktop's, a tablet's and a phone's
// size, and a roll call is taken with the keyboard alone.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// viewport is a screen size the pages are checked at.
type viewport struct {
	Name          string
	Width, Height int64
	Phone         bool
}

var (
	desktop = viewport{Name: "desktop", Width: 1280, Height: 800}
	tablet  = viewport{Name: "tablet", Width: 768, Height: 1024, Phone: true}
	phone   = viewport{Name: "phone", Width: 390, Height: 844, Phone: true}
)

// mustViewport sizes the tab of ctx as v.
func mustViewport(t *testing.T, ctx context.Context, v viewport) {
	t.Helper()
	if v.Phone {
		mustDo(t, ctx, "phone viewport", chromedp.EmulateViewport(v.Width, v.Height, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
		return
	}
	mustDo(t, ctx, "desktop viewport", chromedp.EmulateViewport(v.Width, v.Height))
}

// demoRoles are the demo accounts of each profile (cmd/ledger/demo.go).
var demoRoles = []struct{ Role, Login string }{
	{"teacher", "prof.martin"},
	{"parent", "parent.durand"},
	{"student", "lea.durand"},
	{"cpe", "cpe.roche"},
	{"head", "principale.aubert"},
	{"inspector", "inspecteur.blanc"},
	{"evaluator", "evaluateur.noel"},
	{"admin", "admin.demo"},
}

// axeViolation is one rule an element breaks, as axe-core reports it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// mustAxeSource reads the vendored axe-core.
func mustAxeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core: %v (see testdata/axe/README.md)", err)
	}
	return string(src)
}

// axeRun is the script that runs axe-core on the whole document: the
// rules of WCAG 2.0 and 2.1 at levels A and AA, and axe's best practices.
const axeRun = `axe.run(document, {
	runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
	resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
	nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary || ''}))})))`

// axeCheck runs axe-core on the page of ctx and returns what it finds,
// serious or critical first. The source is injected when the page lacks it.
func axeCheck(t *testing.T, ctx context.Context, axeSource string) []axeViolation {
	t.Helper()
	if !mustRun(t, ctx, "axe present", chromedp.Evaluate[bool](`typeof window.axe === 'object'`)) {
		mustDo(t, ctx, "inject axe-core", chromedp.Evaluate[chromedp.Void](axeSource))
	}
	c, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	found, err := chromedp.Run(c, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return found
}

// blocking reports whether axe's impact fails the test.
func blocking(impact string) bool { return impact == "serious" || impact == "critical" }

// describe writes a violation for a test log: the rule, its help and each
// element's target.
func (v axeViolation) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
var dateRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// pageShape is a page's kind: its path with ids and dates replaced, and
// its query's names. The crawl visits one page of each kind.
func pageShape(u *url.URL) string {
	p := dateRE.ReplaceAllString(uuidRE.ReplaceAllString(u.Path, "{id}"), "{date}")
	keys := make([]string, 0, len(u.Query()))
	for k := range u.Query() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return p + "?" + strings.Join(keys, "&")
}

// crawlable reports whether the portal page at u is one the crawl opens:
// a page of this server, not a download, the API, a static file or a chart.
func crawlable(base, u *url.URL) bool {
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return false
	}
	for _, prefix := range []string{"/api/", "/static/", "/indicators/charts/", "/logout"} {
		if strings.HasPrefix(u.Path, prefix) {
			return false
		}
	}
	return !strings.HasSuffix(u.Path, ".csv")
}

// maxPagesPerRole bounds a profile's crawl.
const maxPagesPerRole = 30

// crawl visits the pages reachable from start by links, one of each kind,
// and calls visit on each once it has loaded.
func crawl(t *testing.T, ctx context.Context, base string, start []string, visit func(path string)) {
	t.Helper()
	root, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	queue := slices.Clone(start)
	for _, s := range start {
		u, _ := url.Parse(base + s)
		seen[pageShape(u)] = true
	}
	for n := 0; len(queue) > 0; n++ {
		if n == maxPagesPerRole {
			t.Errorf("more than %d kinds of pages: the crawl stopped before %v", maxPagesPerRole, queue)
			return
		}
		path := queue[0]
		queue = queue[1:]
		mustDo(t, ctx, "open "+path, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("main")))
		visit(path)
		links := mustRun(t, ctx, "links", chromedp.Evaluate[[]string](`[...document.querySelectorAll('a[href]')].filter(a => !a.hasAttribute('download')).map(a => a.href)`))
		for _, l := range links {
			u, err := url.Parse(l)
			if err != nil || !crawlable(root, u) {
				continue
			}
			u.Fragment = ""
			if shape := pageShape(u); !seen[shape] {
				seen[shape] = true
				queue = append(queue, u.RequestURI())
			}
		}
	}
}

// TestA11yEveryPage runs axe-core on every page of every demo profile at
// 1280×800, at 768×1024 and at 390×844: a violation of impact serious or
// critical fails the test, with its rule, the elements and axe's help;
// lesser ones are logged. At each size, and at 320 px, no page is wider
// than the screen.
func TestA11yEveryPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	axeSource := mustAxeSource(t)
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	base := srv.URL
	lea := MustSignIn(t, base, "lea.durand").me.ID
	// The inspector's timeline, which the crawl cannot reach by a link.
	timeline := "/audit?" + url.Values{"uai": {"0131999X"}, "subject": {lea.String(), domain.DeterministicID("demo", "group", "4B").String()}}.Encode()

	check := func(t *testing.T, ctx context.Context, who, path string) {
		t.Helper()
		for _, v := range []viewport{desktop, tablet, phone} {
			mustViewport(t, ctx, v)
			for _, found := range axeCheck(t, ctx, axeSource) {
				if blocking(found.Impact) {
					t.Errorf("%s %s at %s: %s", who, path, v.Name, found.describe())
				} else {
					t.Logf("%s %s at %s: %s", who, path, v.Name, found.describe())
				}
			}
			if got := readWidth(t, ctx); got.InnerWidth != int(v.Width) || got.ScrollWidth != got.ClientWidth {
				t.Errorf("%s %s at %s: the page is %d px wide in a window of %d px; widest: %s", who, path, v.Name, got.ScrollWidth, got.ClientWidth, got.Widest)
			}
		}
		// The narrowest phone: no page scrolls sideways either.
		mustDo(t, ctx, "320 px", chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
		if got := readWidth(t, ctx); got.InnerWidth != 320 || got.ScrollWidth != got.InnerWidth {
			t.Errorf("%s %s at 320 px: the page is %d px wide in a window of %d px; widest: %s", who, path, got.ScrollWidth, got.InnerWidth, got.Widest)
		}
		mustViewport(t, ctx, desktop)
	}

	t.Run("signed out", func(t *testing.T) {
		c := MustIncognito(t, browser)
		for _, path := range []string{"/login", "/no-such-page"} {
			mustDo(t, c, "open "+path, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("main")))
			check(t, c, "signed out", path)
		}
	})
	for _, r := range demoRoles {
		t.Run(r.Role, func(t *testing.T) {
			MustSignIn(t, base, r.Login)
			c := MustIncognito(t, browser)
			mustSignInPage(t, c, base, r.Login)
			start := []string{"/"}
			switch r.Role {
			case "inspector":
				start = append(start, timeline)
			case "admin":
				start = append(start, mustImportReport(t, c, base))
			}
			var pages []string
			crawl(t, c, base, start, func(path string) {
				pages = append(pages, path)
				check(t, c, r.Login, path)
			})
			t.Logf("%s: %d pages checked: %v", r.Login, len(pages), pages)
		})
	}
}

// mustImportReport uploads a CSV feed of relatives, one line of which is
// rejected, through the import form as a dry run, and returns the path of
// the job's report once the job is over.
func mustImportReport(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	feed := filepath.Join(t.TempDir(), "responsables.csv")
	if err := os.WriteFile(feed, []byte("id,uai,last_name,first_name\nR01,0131999X,Martin,Claire\nR02,0131999X,,Louis\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustDo(t, ctx, "import form",
		chromedp.Navigate(base+"/imports"),
		chromedp.WaitVisible(chromedp.ID("i-files")),
		chromedp.SetValue(chromedp.ID("i-format"), "csv"),
		chromedp.SetValue(chromedp.ID("i-profile"), "relative"),
		chromedp.SetUploadFiles(chromedp.ID("i-files"), []string{feed}),
		chromedp.Click(chromedp.CSS("form[action='/imports'] button[type=submit]")),
	)
	// The job's page reloads itself while the job is live; an evaluation
	// during a reload fails, and the next one tells.
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		path, err := chromedp.Run(c, chromedp.Evaluate[string](`location.pathname.startsWith('/imports/') && !document.querySelector('meta[http-equiv=refresh]') && document.querySelector('main table') ? location.pathname : ''`))
		cancel()
		if err == nil && path != "" {
			return path
		}
		if time.Now().After(deadline) {
			t.Fatalf("no import report within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// focusInfo is what the keyboard test reads of the focused element.
type focusInfo struct {
	ID, Tag, Outline string
	// Ring: the element or the label it drives shows a focus outline.
	Ring bool
}

// focused reads the focused element of the page of ctx.
func focused(t *testing.T, ctx context.Context) focusInfo {
	t.Helper()
	return mustRun(t, ctx, "focused element", chromedp.Evaluate[focusInfo](`(() => {
		const e = document.activeElement;
		const shown = el => el && getComputedStyle(el).outlineStyle !== 'none' && parseFloat(getComputedStyle(el).outlineWidth) >= 2;
		const label = e && e.id ? document.querySelector('label[for="' + e.id + '"]') : null;
		return {id: e ? e.id : '', tag: e ? e.tagName : '', outline: e ? getComputedStyle(e).outlineStyle : '',
			ring: shown(e) || (e && e.type === 'radio' && shown(label))};
	})()`))
}

// tabTo presses Tab until the element of id has the focus, checking that
// each focused control shows a focus ring.
func tabTo(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for range 80 {
		mustDo(t, ctx, "Tab", chromedp.KeyEvent(kb.Tab))
		f := focused(t, ctx)
		if f.Tag != "BODY" && f.Tag != "MAIN" && !f.Ring {
			t.Errorf("the focused %s #%s shows no focus ring", f.Tag, f.ID)
		}
		if f.ID == id {
			return
		}
	}
	t.Fatalf("80 presses of Tab did not reach #%s", id)
}

// TestA11yKeyboardRollCall takes a roll call with the keyboard alone, from
// the top of the teacher's day: Tab to the lesson's link and Enter, Tab to
// a student's choices and the arrows to "Absent", another student "Late"
// with the minutes typed, Tab to the button and Enter. The API then shows
// the absence and the lateness recorded.
func TestA11yKeyboardRollCall(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	base := srv.URL
	teacherAPI := MustSignIn(t, base, "prof.martin")
	lea := MustSignIn(t, base, "lea.durand").me.ID
	hugo := MustSignIn(t, base, "eleve.02").me.ID
	c := MustIncognito(t, browser)
	mustSignInPage(t, c, base, "prof.martin")
	day := lessonDay(t)
	mustDo(t, c, "teacher's day", chromedp.Navigate(base+"/?date="+day.String()), chromedp.WaitVisible(chromedp.CSS(".lesson")))

	// The link of the 08:00 lesson's roll call, reached by Tab.
	mustDo(t, c, "mark the link", chromedp.Evaluate[chromedp.Void](
		`[...document.querySelectorAll('.lesson')].find(l => l.querySelector('.slot').textContent.startsWith('08:00')).querySelector('a[href*="/rollcall/"]').id = 'kb-target'`))
	tabTo(t, c, "kb-target")
	mustDo(t, c, "open the sheet with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("form[data-rollcall]")))

	// Léa absent: Tab to her group of choices (the focus lands on
	// "Present", the checked one), then the arrow to "Absent".
	tabTo(t, c, "p-"+lea.String())
	mustDo(t, c, "Léa absent", chromedp.KeyEvent(kb.ArrowRight))
	if f := focused(t, c); f.ID != "a-"+lea.String() || !f.Ring {
		t.Fatalf("after the arrow the focus is on #%s (ring %v), want Léa's Absent", f.ID, f.Ring)
	}
	// Hugo late by 12 minutes: two arrows, Tab to the minutes, type them.
	tabTo(t, c, "p-"+hugo.String())
	mustDo(t, c, "Hugo late", chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight))
	tabTo(t, c, "m-"+hugo.String())
	mustDo(t, c, "minutes", chromedp.KeyEvent(kb.End), chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent("12"))
	if got := mustRun(t, c, "summary", chromedp.Text(chromedp.CSS("[data-rc-summary]"))); got != "Absents : 1 · retards : 1" {
		t.Errorf("roll-call summary %q", got)
	}
	mustDo(t, c, "mark the button", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-rc-submit]').id = 'kb-submit'`))
	tabTo(t, c, "kb-submit")
	mustDo(t, c, "submit with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if flash := mustRun(t, c, "flash", chromedp.Text(chromedp.CSS(".flash"))); flash != "Appel enregistré." {
		t.Fatalf("flash %q", flash)
	}

	// Recorded: the students' files show the absence and the lateness of
	// that day's 08:00 lesson.
	read := func(student uuid.UUID) projections.StudentFile {
		var f projections.StudentFile
		teacherAPI.MustCall("GET", "/api/v1/students/"+student.String()+"/file", nil, &f, http.StatusOK)
		return f
	}
	eventually(t, 20*time.Second, "the absence and the lateness in the files", func() bool {
		absent := slices.ContainsFunc(read(lea).Absences, func(a projections.FileAbsence) bool {
			return a.Date == day && a.Slot.Start == "08:00"
		})
		late := slices.ContainsFunc(read(hugo).Lateness, func(l projections.FileLateness) bool {
			return l.Date == day && l.Slot.Start == "08:00" && l.Minutes == 12
		})
		return absent && late
	})
}
