package tests

// The portal in a real browser: headless Chromium (Debian's chromium
// package) driven by chromedp against `ledger serve --demo`. A teacher takes
// a roll call; the parent, in another browser context, sees the absence
// appear without a reload; the parent declares a reason; the CPE accepts
// it; the inspector's timeline shows the four acts and their authors; the
// evaluator's page shows charts and a CSV that matches the API. With
// LEDGER_SCREENSHOTS set, each profile's home page is saved there.

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// saveScreenshot writes a picture to the directory LEDGER_SCREENSHOTS names
// (docs/screenshots for the README's), and nowhere otherwise: a test run
// leaves the tree as it was.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("LEDGER_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// chromiumPath finds Chromium; without it the browser tests skip, or fail
// under CI=true.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("LEDGER_CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is missing: install it with apt-get install -y chromium (.ci/run does)")
	}
	t.Skip("Chromium is missing: apt-get install -y chromium to run the browser tests")
	return ""
}

// MustBrowser starts a headless Chromium with a fresh profile and returns
// a context of its first tab.
func MustBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		chromedp.Flag("lang", "fr-FR"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// MustIncognito returns a tab in a new browser context of the browser of
// ctx: its own cookies, as a second person's browser. A script error or a
// Content-Security-Policy violation on its pages fails the test.
func MustIncognito(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	c, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(c); err != nil {
		t.Fatal(err)
	}
	messages := chromedp.Console(c)
	var mu sync.Mutex
	var bad []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				bad = append(bad, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, b := range bad {
			t.Errorf("browser console: %s", b)
		}
	})
	return c
}

// mustDo runs actions with a time limit.
func mustDo(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustRun runs an action that returns a value, with a time limit.
func mustRun[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// mustSignInPage signs login in through the sign-in form.
func mustSignInPage(t *testing.T, ctx context.Context, base, login string) {
	t.Helper()
	mustDo(t, ctx, "sign in "+login,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), login),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS("form.login button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".who-name")),
	)
}

// mustScreenshot takes a picture of the page, saved as name.png when
// LEDGER_SCREENSHOTS names a directory.
func mustScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	saveScreenshot(t, name, mustRun(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100)))
}

// eventuallyPage loads url until the JavaScript condition holds on it:
// read models follow the log within moments.
func eventuallyPage(t *testing.T, ctx context.Context, url, cond, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mustDo(t, ctx, "load "+url, chromedp.Navigate(url))
		if mustRun(t, ctx, what, chromedp.Evaluate[bool](cond)) {
			return
		}
		if time.Now().After(deadline) {
			body := mustRun(t, ctx, "page text", chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: not within 20 s on %s:\n%s", what, url, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// lessonDay is a day with prof.martin's 08:00 lesson in the demo timetable
// (Monday to Saturday): today, or yesterday on a Sunday.
func lessonDay(t *testing.T) domain.Date {
	d := domain.DateOf(time.Now().In(paris(t)))
	if d.Weekday() == time.Sunday {
		d = d.AddDays(-1)
	}
	return d
}

func TestPortalInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	base := srv.URL
	// The API answers once the directory has caught up with the demo.
	lea := MustSignIn(t, base, "lea.durand").me.ID
	evaluatorAPI := MustSignIn(t, base, "evaluateur.noel")
	day := lessonDay(t)

	teacher := MustIncognito(t, browser)
	parent := MustIncognito(t, browser)

	// The parent opens her page first: the live feed connects.
	mustSignInPage(t, parent, base, "parent.durand")
	mustDo(t, parent, "parent's live feed",
		chromedp.WaitVisible(chromedp.CSS("[data-live-feed]")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-live-feed]').hasAttribute('data-live-open')`,
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = 42`),
	)
	before := mustRun(t, parent, "feed items", chromedp.Evaluate[int](`document.querySelectorAll('[data-live-list] li').length`))

	// The teacher takes the roll call of the day's 08:00 lesson: Léa
	// absent, Hugo 10 minutes late.
	mustSignInPage(t, teacher, base, "prof.martin")
	mustDo(t, teacher, "teacher's day", chromedp.Navigate(base+"/?date="+day.String()), chromedp.WaitVisible(chromedp.CSS(".lesson")))
	mustScreenshot(t, teacher, "teacher")
	rollcall := mustRun(t, teacher, "roll-call link", chromedp.Evaluate[string](
		`[...document.querySelectorAll('.lesson')].find(l => l.querySelector('.slot').textContent.startsWith('08:00')).querySelector('a[href*="/rollcall/"]').getAttribute('href')`))
	hugo := MustSignIn(t, base, "eleve.02").me.ID
	// On a phone, with taps.
	mustDo(t, teacher, "roll-call sheet",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)),
		chromedp.Navigate(base+rollcall),
		chromedp.WaitVisible(chromedp.CSS("form[data-rollcall]")),
		chromedp.Tap(chromedp.CSS(`label[for="a-`+lea.String()+`"]`)),
		chromedp.Tap(chromedp.CSS(`label[for="l-`+hugo.String()+`"]`)),
		chromedp.WaitVisible(chromedp.ID("m-"+hugo.String())),
		chromedp.SetValue(chromedp.ID("m-"+hugo.String()), "10"),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`),
	)
	saveScreenshot(t, "rollcall-phone", mustRun(t, teacher, "phone screenshot", chromedp.CaptureScreenshot()))
	if got := mustRun(t, teacher, "roll-call summary", chromedp.Text(chromedp.CSS("[data-rc-summary]"))); got != "Absents : 1 · retards : 1" {
		t.Errorf("roll-call summary %q", got)
	}

	// The parent's page must show the absence without a reload. How soon
	// is a speed target ("within a second"), measured under load by
	// ledger-bench's morning-peak scenario (the absence notification's
	// latency), not by a wall-clock margin here: the lag is only logged.
	seen := make(chan time.Time, 1)
	watchErr := make(chan error, 1)
	go func() {
		c, cancel := context.WithTimeout(parent, 20*time.Second)
		defer cancel()
		_, err := chromedp.Run(c, chromedp.Poll[chromedp.Void](fmt.Sprintf(
			`document.querySelectorAll('[data-live-list] li').length > %d && [...document.querySelectorAll('[data-live-list] li.new')].some(li => li.textContent.includes('Absence') && li.textContent.includes('Léa Durand'))`, before),
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil {
			watchErr <- err
			return
		}
		seen <- time.Now()
	}()
	submitted := time.Now()
	mustDo(t, teacher, "submit the roll call",
		chromedp.Click(chromedp.CSS("[data-rc-submit]")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	select {
	case at := <-seen:
		lag := at.Sub(submitted)
		t.Logf("the parent's page showed the absence %s after the roll call was submitted", lag)
	case err := <-watchErr:
		t.Fatalf("the absence never showed on the parent's page: %v\n%s", err, srv.Log())
	}
	if same := mustRun(t, parent, "same document", chromedp.Evaluate[int](`window.__sameDocument || 0`)); same != 42 {
		t.Fatal("the parent's page was reloaded")
	}
	mustScreenshot(t, parent, "parent")

	// The parent declares the reason of the new absence.
	eventuallyPage(t, parent, base+"/", `!!document.querySelector('form.reason-form')`, "the absence to explain")
	mustDo(t, parent, "declare a reason",
		chromedp.SendKeys(chromedp.CSS("form.reason-form input[name=reason]"), "Rendez-vous chez le dentiste"),
		chromedp.Click(chromedp.CSS("form.reason-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)

	// The CPE accepts it from the day's dashboard.
	cpe := MustIncognito(t, browser)
	mustSignInPage(t, cpe, base, "cpe.roche")
	pending := `[...document.querySelectorAll('li.decision')].find(li => li.textContent.includes('dentiste'))`
	eventuallyPage(t, cpe, base+"/", "!!"+pending, "the justification awaiting a decision")
	mustScreenshot(t, cpe, "staff")
	mustDo(t, cpe, "accept the justification",
		chromedp.Evaluate[chromedp.Void](`(() => { const li = `+pending+`; li.querySelector('select[name=accept_reason]').value = 'rdv-medical'; li.querySelector('button[value=accept]').click(); })()`),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := mustRun(t, cpe, "flash", chromedp.Text(chromedp.CSS(".flash"))); flash != "Justificatif accepté." {
		t.Errorf("flash %q", flash)
	}

	// The inspector's timeline of Léa and her class shows the four acts
	// with their authors.
	inspector := MustIncognito(t, browser)
	mustSignInPage(t, inspector, base, "inspecteur.blanc")
	mustScreenshot(t, inspector, "inspector")
	q := url.Values{"uai": {"0131999X"}, "subject": {lea.String(), domain.DeterministicID("demo", "group", "4B").String()}}
	for _, typ := range []string{"rollcall.completed.v1", "absence.recorded.v1", "absence.reason_declared.v1", "absence.justification_accepted.v1"} {
		q.Add("types", typ)
	}
	row := func(typ, author, text string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('table.timeline tr[data-type="%s"]')].some(r => r.querySelector('.author').textContent.includes(%q) && r.textContent.includes(%q))`, typ, author, text)
	}
	eventuallyPage(t, inspector, base+"/audit?"+q.Encode(), strings.Join([]string{
		row("rollcall.completed.v1", "M. Martin", day.String()),
		row("absence.recorded.v1", "M. Martin", day.String()),
		row("absence.reason_declared.v1", "Claire Durand", "dentiste"),
		row("absence.justification_accepted.v1", "Mme Roche", "Rendez-vous médical"),
	}, " && "), "the four acts in the timeline")

	// The evaluator's page: charts drawn, and a CSV that is the API's rows.
	evaluator := MustIncognito(t, browser)
	mustSignInPage(t, evaluator, base, "evaluateur.noel")
	mustDo(t, evaluator, "charts",
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('.charts img')].every(i => i.complete && i.naturalWidth > 0)`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	mustScreenshot(t, evaluator, "evaluator")
	href := mustRun(t, evaluator, "CSV link", chromedp.Evaluate[string](`document.querySelector('a[href^="/indicators.csv"]').getAttribute('href')`))
	query := strings.TrimPrefix(href, "/indicators.csv?")
	deadline := time.Now().Add(20 * time.Second)
	for {
		body := mustRun(t, evaluator, "download the CSV", chromedp.Evaluate[string](
			`fetch(`+fmt.Sprintf("%q", href+"&format=rfc4180")+`).then(r => r.ok ? r.text() : Promise.reject(r.status))`, chromedp.EvalAwaitPromise))
		got, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v\n%s", err, body)
		}
		var rows []projections.IndicatorRow
		evaluatorAPI.MustCall("GET", "/api/v1/indicators?"+query, nil, &rows, http.StatusOK)
		want := [][]string{projections.IndicatorHeader()}
		for _, r := range rows {
			want = append(want, r.Values())
		}
		if reflect.DeepEqual(got, want) {
			break
		}
		// Connections of the other tabs may land between the two reads.
		if time.Now().After(deadline) {
			t.Fatalf("the CSV is not the API's rows:\nCSV %q\nAPI %q", got, want)
		}
		time.Sleep(300 * time.Millisecond)
	}

	// The other homes, for the screenshots.
	for _, who := range []struct{ login, name string }{{"lea.durand", "student"}, {"principale.aubert", "head"}} {
		c := MustIncognito(t, browser)
		mustSignInPage(t, c, base, who.login)
		mustScreenshot(t, c, who.name)
	}
}

// TestPortalKeyboardOnly takes a roll call without a mouse: Tab to a
// student's choices, arrows to "Absent", Enter to submit.
func TestPortalKeyboardOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	MustSignIn(t, srv.URL, "prof.martin")
	c := MustIncognito(t, browser)
	mustSignInPage(t, c, srv.URL, "prof.martin")
	day := lessonDay(t)
	mustDo(t, c, "teacher's day", chromedp.Navigate(srv.URL+"/?date="+day.String()), chromedp.WaitVisible(chromedp.CSS(".lesson")))
	rollcall := mustRun(t, c, "roll-call link", chromedp.Evaluate[string](`document.querySelector('.lesson a[href*="/rollcall/"]').getAttribute('href')`))
	mustDo(t, c, "roll-call sheet", chromedp.Navigate(srv.URL+rollcall), chromedp.WaitVisible(chromedp.CSS("form[data-rollcall]")))
	// Focus the first student's "present" radio, then the arrow key moves
	// the choice to "absent".
	mustDo(t, c, "keyboard",
		chromedp.Focus(chromedp.CSS(".rc-present")),
		chromedp.KeyEvent(kb.ArrowDown),
	)
	absent := mustRun(t, c, "absent chosen", chromedp.Evaluate[bool](`document.querySelector('.rc-absent').checked && document.activeElement === document.querySelector('.rc-absent')`))
	if !absent {
		t.Fatal("the arrow key did not choose Absent")
	}
	focus := mustRun(t, c, "focus ring", chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.rc-absent + label')).outlineStyle`))
	if focus == "none" {
		t.Error("the focused choice shows no focus ring")
	}
	mustDo(t, c, "submit with Enter", chromedp.Focus(chromedp.CSS("[data-rc-submit]")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if flash := mustRun(t, c, "flash", chromedp.Text(chromedp.CSS(".flash"))); flash != "Appel enregistré." {
		t.Errorf("flash %q", flash)
	}
}
