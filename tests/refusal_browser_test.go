package tests

// Refused forms in a real browser: each stays on its own page, says in
// French what happened beside the field it concerns, and keeps what was
// typed; the page shows no HTTP status, id or English developer text.

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/schoollife/ledger/domain"
)

// refusalLeaks are what a refused form's page must never show.
var refusalLeaks = regexp.MustCompile(`(?i)\b(400|403|409|422)\b|[0-9a-f]{8}-[0-9a-f]{4}-|overlaps|temporary exclusion|is not a date|may not|only the student`)

// mustStayOnForm checks the page shown after a refused submit: the form
// of selector is there, its message holds want, and the page's text
// leaks nothing.
func mustStayOnForm(t *testing.T, ctx context.Context, form, want string) {
	t.Helper()
	mustDo(t, ctx, "refused "+form, chromedp.WaitVisible(chromedp.CSS(form+" .error")))
	msg := mustRun(t, ctx, "messages of "+form, chromedp.Evaluate[string](
		`[...document.querySelectorAll('`+form+` .error')].map(e => e.textContent).join(' | ')`))
	if !strings.Contains(msg, want) {
		t.Errorf("%s says %q, want %q", form, msg, want)
	}
	text := mustRun(t, ctx, "page text", chromedp.Evaluate[string](`document.body.innerText`))
	if m := refusalLeaks.FindString(text); m != "" {
		t.Errorf("the page shows %q:\n%s", m, text)
	}
}

// value is the value of the field of selector.
func value(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	return mustRun(t, ctx, "value of "+selector, chromedp.Evaluate[string](`document.querySelector('`+selector+`').value`))
}

func TestRefusalInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	browser := MustBrowser(t)
	srv := MustServe(t, []string{"LEDGER_STORE=sqlite:" + filepath.Join(t.TempDir(), "ledger.db")}, "--demo")
	base := srv.URL
	// The API answers once the directory has caught up with the demo.
	MustSignIn(t, base, "parent.durand")
	teacherAPI := MustSignIn(t, base, "prof.martin")

	teacher := MustIncognito(t, browser)
	mustSignInPage(t, teacher, base, "prof.martin")

	t.Run("booking clash", func(t *testing.T) {
		// A day next week (not a Sunday), after the lessons.
		day := domain.DateOf(time.Now().In(paris(t))).AddDays(7)
		if day.Weekday() == time.Sunday {
			day = day.AddDays(1)
		}
		mustDo(t, teacher, "resources", chromedp.Navigate(base+"/bookings"), chromedp.WaitVisible(chromedp.CSS(`a[href^="/bookings/"]`)))
		calendar := mustRun(t, teacher, "first resource", chromedp.Evaluate[string](`document.querySelector('a[href^="/bookings/"]').getAttribute('href')`))
		book := func(purpose string) {
			mustDo(t, teacher, "book "+purpose,
				chromedp.Navigate(base+calendar),
				chromedp.WaitVisible(chromedp.ID("b-date")),
				chromedp.SetValue(chromedp.ID("b-date"), day.String()),
				chromedp.SetValue(chromedp.ID("b-start"), "18:00"),
				chromedp.SetValue(chromedp.ID("b-end"), "18:45"),
				chromedp.SetValue(chromedp.ID("b-purpose"), purpose),
				chromedp.Click(chromedp.CSS(`#booking button[type=submit]`)),
				chromedp.WaitReady(chromedp.CSS("main")),
			)
		}
		book("Réunion parents-professeurs")
		mustDo(t, teacher, "booked", chromedp.WaitVisible(chromedp.CSS(".flash")))
		book("Club d'échecs")
		mustStayOnForm(t, teacher, "#booking", "Ce créneau est déjà réservé par M. Martin")
		for sel, want := range map[string]string{"#b-date": day.String(), "#b-start": "18:00", "#b-end": "18:45", "#b-purpose": "Club d'échecs"} {
			if got := value(t, teacher, sel); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
	})

	t.Run("invalid date", func(t *testing.T) {
		// A browser without a date picker: the date is typed as text.
		mustDo(t, teacher, "punishment with a date typed",
			chromedp.Navigate(base+"/discipline"),
			chromedp.WaitVisible(chromedp.ID("p-date")),
			chromedp.Evaluate[chromedp.Void](`(() => {
				const s = document.getElementById('p-student');
				s.value = s.querySelector('option[value*="|"]').value;
				document.getElementById('p-date').type = 'text';
			})()`),
			chromedp.SetValue(chromedp.ID("p-date"), "31/02/2007"),
			chromedp.SetValue(chromedp.ID("p-kind"), "devoir_supplementaire"),
			chromedp.SendKeys(chromedp.ID("p-reason"), "Exercices non faits"),
			chromedp.Click(chromedp.CSS(`#punishment button[type=submit]`)),
		)
		mustStayOnForm(t, teacher, "#punishment", "Date invalide : utilisez le format jj/mm/aaaa")
		for sel, want := range map[string]string{"#p-date": "31/02/2007", "#p-kind": "devoir_supplementaire", "#p-reason": "Exercices non faits"} {
			if got := value(t, teacher, sel); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		if value(t, teacher, "#p-student") == "" {
			t.Error("the student chosen was lost")
		}
	})

	t.Run("sanction days out of range", func(t *testing.T) {
		head := MustIncognito(t, browser)
		mustSignInPage(t, head, base, "principale.aubert")
		mustDo(t, head, "sanction form",
			chromedp.Navigate(base+"/discipline"),
			chromedp.WaitVisible(chromedp.ID("s-kind")),
		)
		if mustRun(t, head, "days hidden", chromedp.Evaluate[bool](`document.getElementById('s-days').offsetParent !== null`)) {
			t.Error("the number of days shows for a warning")
		}
		mustDo(t, head, "temporary exclusion of 12 days",
			chromedp.Evaluate[chromedp.Void](`(() => {
				const s = document.getElementById('s-student');
				s.value = s.querySelector('option[value*="|"]').value;
				const k = document.getElementById('s-kind');
				k.value = 'exclusion_temporaire_etablissement';
				k.dispatchEvent(new Event('change', {bubbles: true}));
			})()`),
			chromedp.WaitVisible(chromedp.ID("s-days")),
			chromedp.SetValue(chromedp.ID("s-days"), "12"),
			chromedp.SendKeys(chromedp.ID("s-reason"), "Violences répétées"),
			// The browser's own check of max="8" would stop the form
			// before the server: an older browser sends it.
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#sanction').noValidate = true`),
			chromedp.Click(chromedp.CSS(`#sanction button[type=submit]`)),
		)
		mustStayOnForm(t, head, "#sanction", "de 1 à 8 jours")
		for sel, want := range map[string]string{"#s-kind": "exclusion_temporaire_etablissement", "#s-days": "12", "#s-reason": "Violences répétées"} {
			if got := value(t, head, sel); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		if !mustRun(t, head, "days shown", chromedp.Evaluate[bool](`document.getElementById('s-days').offsetParent !== null`)) {
			t.Error("the number of days is hidden on a refused temporary exclusion")
		}
	})

	t.Run("forbidden", func(t *testing.T) {
		// Léa is absent; her mother's form is sent for another student,
		// whose relative she is not.
		lea := MustSignIn(t, base, "lea.durand").me.ID
		hugo := MustSignIn(t, base, "eleve.02").me.ID
		lesson := rollCall(t, teacherAPI, lea, "17:00", "17:55")
		parent := MustIncognito(t, browser)
		mustSignInPage(t, parent, base, "parent.durand")
		form := "#reason-" + lesson.String()
		eventuallyPage(t, parent, base+"/", `document.querySelector('`+form+`') !== null`, "Léa's absence to explain")
		mustDo(t, parent, "reason for another student",
			chromedp.Evaluate[chromedp.Void](`(() => {
				const f = document.querySelector('`+form+`');
				f.action = f.getAttribute('action').replace('`+lea.String()+`', '`+hugo.String()+`');
			})()`),
			chromedp.SendKeys(chromedp.CSS(form+` input[name=reason]`), "Rendez-vous chez le dentiste"),
			chromedp.Click(chromedp.CSS(form+` button[type=submit]`)),
		)
		mustStayOnForm(t, parent, form, "Seuls les responsables de l'élève déclarent un motif")
		if got := value(t, parent, form+` input[name=reason]`); got != "Rendez-vous chez le dentiste" {
			t.Errorf("the reason typed is %q", got)
		}
	})
}
