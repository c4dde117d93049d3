package tests

// The portal on a phone: no page is wider than the screen, whatever people
// type (a 300-letter word, a long address), and the tables turned into
// cards name every value by its column, in full.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// pageWidth is what the phone test reads of a page's width.
type pageWidth struct {
	// ClientWidth is the window's without its scroll bar, which a desktop
	// browser may draw beside the page (a phone's overlays it).
	ScrollWidth, InnerWidth, ClientWidth int
	// Widest: the element sticking out furthest to the right, for the
	// failure's message.
	Widest string
}

// readWidth measures the page of ctx.
func readWidth(t *testing.T, ctx context.Context) pageWidth {
	t.Helper()
	return mustRun(t, ctx, "page width", chromedp.Evaluate[pageWidth](`(() => {
		let widest = '', right = window.innerWidth;
		for (const e of document.body.querySelectorAll('*')) {
			const r = e.getBoundingClientRect().right;
			if (r > right + 0.5) { right = r; widest = e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' (' + Math.round(r) + ' px)'; }
		}
		return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, clientWidth: document.documentElement.clientWidth, widest};
	})()`))
}

// tableProblems checks the tables of the page of ctx as the screen shows
// them. A table shown as cards (its rows are blocks) must label each cell
// with its column's header, the label drawn before the value, nothing
// wider than its cell or the screen; a table shown as a table must fit its
// box and show each header whole. It returns what is wrong, and how many labelled
// cells and whole headers it saw.
func tableProblems(t *testing.T, ctx context.Context) (problems []string, seen int) {
	t.Helper()
	type result struct {
		Problems []string
		Seen     int
	}
	r := mustRun(t, ctx, "tables", chromedp.Evaluate[result](`(() => {
		const problems = []; let seen = 0;
		for (const table of document.querySelectorAll('main table')) {
			const ths = [...table.querySelectorAll('thead th')];
			const heads = ths.map(th => th.querySelector('.sr') && th.textContent.trim() === th.querySelector('.sr').textContent.trim() ? '' : th.textContent.trim());
			const rows = [...table.querySelectorAll('tbody tr')];
			if (rows.length && getComputedStyle(rows[0]).display !== 'block') {
				const box = table.parentElement;
				if (table.getBoundingClientRect().width > box.clientWidth + 0.5) { problems.push('table of ' + heads.join(', ') + ': ' + Math.round(table.getBoundingClientRect().width) + ' px wide in a box of ' + box.clientWidth + ' px, columns out of sight'); }
				for (const th of ths) {
					if (th.scrollWidth > th.clientWidth) { problems.push('header ' + th.textContent.trim() + ' cut: ' + th.scrollWidth + ' px in ' + th.clientWidth + ' px'); } else { seen++; }
				}
				continue;
			}
			for (const tr of rows) {
				[...tr.children].forEach((cell, i) => {
					const want = heads[i] || '';
					const where = (heads[0] || '') + ' / ' + (want || '#' + i);
					if (cell.tagName === 'TH') { return; }
					const label = cell.getAttribute('data-label') || '';
					if (label !== want) { problems.push(where + ': labelled ' + JSON.stringify(label) + ', header ' + JSON.stringify(want)); return; }
					if (!want) { return; }
					seen++;
					const before = getComputedStyle(cell, '::before');
					if (before.content !== JSON.stringify(want) || before.display === 'none') { problems.push(where + ': the label is not drawn (' + before.content + ')'); }
					if (cell.scrollWidth > cell.clientWidth) { problems.push(where + ': content ' + cell.scrollWidth + ' px wide in a cell of ' + cell.clientWidth + ' px'); }
					if (cell.getBoundingClientRect().right > window.innerWidth + 0.5) { problems.push(where + ': the cell ends past the screen'); }
				});
			}
		}
		return {problems, seen};
	})()`))
	return r.Problems, r.Seen
}

// cardRows counts the table rows of the page of ctx shown as cards.
func cardRows(t *testing.T, ctx context.Context) int {
	t.Helper()
	return mustRun(t, ctx, "card rows", chromedp.Evaluate[int](`[...document.querySelectorAll('main tbody tr')].filter(tr => getComputedStyle(tr).display === 'block').length`))
}

// narrowWidths are the screen widths the pages must fit: phones, and a
// tablet held upright.
var narrowWidths = []int64{390, 320, 768}

// TestPhonePagesFit signs in each profile on a phone-sized screen after a
// teacher set homework holding a 300-letter word and a long address, and
// sent the parent a message whose subject is one long word: at 390 and
// 320 px (and a tablet's 768), the student's, the parent's and the
// teacher's pages showing them are no wider than the screen, nor are the
// office's and the head's
// dashboards or the parent's messages; on a phone their tables are cards
// whose every value is named by its column, in full, and where they stay
// tables (a tablet, a desktop) no header is cut.
func TestPhonePagesFit(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	base := srv.URL
	teacher := MustSignIn(t, base, "prof.martin")
	parentAPI := MustSignIn(t, base, "parent.durand")
	lea := MustSignIn(t, base, "lea.durand").me.ID
	hugo := MustSignIn(t, base, "eleve.02").me.ID
	class := domain.DeterministicID("demo", "group", "4B")
	today := domain.DateOf(time.Now().In(paris(t)))

	word := strings.Repeat("anticonstitutionnellement", 12) // 300 letters
	address := "https://ent.example.fr/ressources/mathematiques/4e/fractions/" + strings.Repeat("exercice-corrige-", 12) + "index.html?eleve=lea&classe=4B&annee=2026"
	teacher.MustCall("POST", "/api/v1/homework", map[string]any{
		"group": class, "subject": "Mathématiques", "given": today, "due": today.AddDays(2),
		"instructions": "Lire " + word + " puis " + address, "workload_minutes": 20,
	}, nil, http.StatusCreated)
	subject := strings.Repeat("Sortiescolaire", 14) // 196 letters, one word
	var sent struct {
		ID uuid.UUID `json:"id"`
	}
	teacher.MustCall("POST", "/api/v1/messages", map[string]any{
		"to_accounts": []uuid.UUID{parentAPI.me.ID}, "subject": subject, "body": "Voir " + address,
	}, &sent, http.StatusCreated)
	// The day's dashboards have rows: an absence whose reason is one long
	// word awaits a decision, and a lateness.
	var rc struct {
		ID uuid.UUID `json:"id"`
	}
	teacher.MustCall("POST", "/api/v1/rollcalls", map[string]any{
		"group": class, "date": today, "slot": map[string]string{"start": "07:00", "end": "07:55"}, "subject": "Mathématiques",
		"absent": []uuid.UUID{lea}, "late": []map[string]any{{"student": hugo, "minutes": 7}},
	}, &rc, http.StatusCreated)
	parentAPI.MustCall("POST", fmt.Sprintf("/api/v1/lessons/%s/absences/%s/reason", rc.ID, lea),
		map[string]string{"reason": "Rendez-vous " + word[:200]}, nil, http.StatusOK)

	shows := func(s string) string { return fmt.Sprintf(`document.body.innerText.includes(%q)`, s) }
	hasWord, hasAddress, hasSubject := shows(word), shows(address), shows(subject)
	tables := `document.querySelectorAll('main tbody tr').length > 0`
	for _, c := range []struct {
		login string
		paths []string
		// ready: what the page must show once the read models caught up,
		// so that the check is of a page holding the long texts.
		ready string
	}{
		{"lea.durand", []string{"/", "/students/" + lea.String(), "/groups/" + class.String() + "/textbook"}, hasWord + " && " + hasAddress},
		{"parent.durand", []string{"/", "/students/" + lea.String()}, hasWord + " && " + hasAddress},
		{"parent.durand", []string{"/messages"}, hasSubject + " && " + tables},
		{"parent.durand", []string{"/messages/" + sent.ID.String()}, hasSubject + " && " + hasAddress},
		{"prof.martin", []string{"/", "/groups/" + class.String() + "/textbook"}, hasWord + " && " + hasAddress},
		{"prof.martin", []string{"/messages"}, hasSubject},
		{"cpe.roche", []string{"/"}, shows(word[:200]) + " && " + tables},
		{"principale.aubert", []string{"/"}, shows(word[:200]) + " && " + tables},
	} {
		ctx := MustIncognito(t, browser)
		mustSignInPage(t, ctx, base, c.login)
		for _, path := range c.paths {
			mustViewport(t, ctx, phone)
			eventuallyPage(t, ctx, base+path, c.ready, c.login+" "+path+" shows the long texts")
			for _, w := range narrowWidths {
				mustDo(t, ctx, "width", chromedp.EmulateViewport(w, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
				got := readWidth(t, ctx)
				if got.InnerWidth != int(w) || got.ScrollWidth != got.InnerWidth {
					t.Errorf("%s %s at %d px: the page is %d px wide in a window of %d px; widest: %s", c.login, path, w, got.ScrollWidth, got.InnerWidth, got.Widest)
				}
				problems, seen := tableProblems(t, ctx)
				for _, p := range problems {
					t.Errorf("%s %s at %d px: %s", c.login, path, w, p)
				}
				if strings.Contains(c.ready, tables) && seen == 0 {
					t.Errorf("%s %s at %d px: no labelled cell nor whole header", c.login, path, w)
				}
				// On a phone every table is cards.
				if cards, rows := cardRows(t, ctx), mustRun(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll('main tbody tr').length`)); w < 400 && cards != rows {
					t.Errorf("%s %s at %d px: %d of %d table rows shown as cards", c.login, path, w, cards, rows)
				}
			}
			// On a desktop the same tables are tables, their headers whole.
			mustViewport(t, ctx, desktop)
			problems, _ := tableProblems(t, ctx)
			for _, p := range problems {
				t.Errorf("%s %s at %d px: %s", c.login, path, desktop.Width, p)
			}
			if got := readWidth(t, ctx); got.ScrollWidth != got.ClientWidth {
				t.Errorf("%s %s on a desktop: the page is %d px wide in a window of %d px; widest: %s", c.login, path, got.ScrollWidth, got.ClientWidth, got.Widest)
			}
		}
	}
}

// TestPhoneScreenshots saves the main pages of each profile, at a
// desktop's size and at a phone's, as PNG files in the directory named by
// LEDGER_SCREENSHOTS (docs/screenshots for the README's):
//
//	LEDGER_SCREENSHOTS=$PWD/docs/screenshots go test ./tests/ -run TestPhoneScreenshots
func TestPhoneScreenshots(t *testing.T) {
	dir := os.Getenv("LEDGER_SCREENSHOTS")
	if dir == "" {
		t.Skip("LEDGER_SCREENSHOTS names no directory to save the screenshots in")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	base := srv.URL
	teacher := MustSignIn(t, base, "prof.martin")
	parentAPI := MustSignIn(t, base, "parent.durand")
	lea := MustSignIn(t, base, "lea.durand").me.ID
	hugo := MustSignIn(t, base, "eleve.02").me.ID
	class := domain.DeterministicID("demo", "group", "4B")
	today := domain.DateOf(time.Now().In(paris(t)))
	// The day so far: the first lesson's roll call, Léa's mother's reason.
	var rc struct {
		ID uuid.UUID `json:"id"`
	}
	teacher.MustCall("POST", "/api/v1/rollcalls", map[string]any{
		"group": class, "date": today, "slot": map[string]string{"start": "07:00", "end": "07:55"}, "subject": "Mathématiques",
		"absent": []uuid.UUID{lea}, "late": []map[string]any{{"student": hugo, "minutes": 10}},
	}, &rc, http.StatusCreated)
	parentAPI.MustCall("POST", fmt.Sprintf("/api/v1/lessons/%s/absences/%s/reason", rc.ID, lea),
		map[string]string{"reason": "Rendez-vous chez le dentiste"}, nil, http.StatusOK)

	day := lessonDay(t)
	for _, s := range []struct{ name, login, path, ready string }{
		{"teacher", "prof.martin", "/?date=" + day.String(), `!!document.querySelector('.lesson')`},
		{"parent", "parent.durand", "/", `document.body.innerText.includes('Exercices 12')`},
		{"student", "lea.durand", "/", `document.body.innerText.includes('Exercices 12')`},
		{"office", "cpe.roche", "/", `!!document.querySelector('li.decision') && !!document.querySelector('main tbody tr')`},
		{"head", "principale.aubert", "/", `!!document.querySelector('main tbody tr')`},
		{"messages", "parent.durand", "/messages", `!!document.querySelector('main tbody tr')`},
		{"file", "parent.durand", "/students/" + lea.String(), `!!document.querySelector('main tbody tr')`},
		{"inspector", "inspecteur.blanc", "/audit?uai=0131999X&subject=" + lea.String(), `!!document.querySelector('table.timeline tbody tr')`},
		{"evaluator", "evaluateur.noel", "/", `[...document.querySelectorAll('.charts img')].every(i => i.complete && i.naturalWidth > 0)`},
		{"admin", "admin.demo", "/imports", `!!document.querySelector('form[action="/imports"]')`},
	} {
		ctx := MustIncognito(t, browser)
		mustSignInPage(t, ctx, base, s.login)
		for _, v := range []viewport{desktop, phone} {
			mustViewport(t, ctx, v)
			eventuallyPage(t, ctx, base+s.path, s.ready, s.name+" page")
			png := mustRun(t, ctx, "screenshot", topScreenshot(3*v.Height))
			file := filepath.Join(dir, s.name+"-"+v.Name+".png")
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("saved %s", file)
		}
	}
}

// topScreenshot captures the top of the page, at most height CSS pixels
// (three screens: what a reader scrolls through first), so that a long
// list does not make a picture tens of thousands of pixels tall.
func topScreenshot(height int64) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		size, err := chromedp.Evaluate[[]float64](`[document.documentElement.scrollWidth, document.documentElement.scrollHeight]`)(ctx, t)
		if err != nil {
			return nil, err
		}
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			CaptureBeyondViewport: ptrTo(true), FromSurface: ptrTo(true), Format: page.CaptureScreenshotFormatPng,
			Clip: &page.Viewport{Width: size[0], Height: min(size[1], float64(height)), Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
}

func ptrTo[T any](v T) *T { return &v }
