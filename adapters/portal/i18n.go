package portal

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/language"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The portal speaks French by default and English when the browser prefers
// it (Accept-Language). Messages live in templates/i18n/{fr,en}.json, flat
// maps from a key to a text (a fmt format when the caller passes
// arguments); a test checks both files have the same keys and that every
// key the templates and the Go code use exists.

// catalogue holds the messages of each language and matches a request's
// languages to one of them.
type catalogue struct {
	matcher language.Matcher
	langs   []*lang // in the matcher's order: the first is the default
}

// lang is one language's messages.
type lang struct {
	// Code is the language's BCP 47 code, for <html lang>.
	Code string
	msgs map[string]string
	// base is the default language's messages, for a key missing here.
	base map[string]string
}

// portalLanguages are the languages of the portal, the default first.
var portalLanguages = []language.Tag{language.French, language.English}

// loadCatalogue reads templates/i18n/*.json.
func loadCatalogue(fsys fs.FS) (*catalogue, error) {
	c := &catalogue{matcher: language.NewMatcher(portalLanguages)}
	for _, tag := range portalLanguages {
		code := tag.String()
		raw, err := fs.ReadFile(fsys, "templates/i18n/"+code+".json")
		if err != nil {
			return nil, fmt.Errorf("portal: messages of %s: %w", code, err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("portal: messages of %s: %w", code, err)
		}
		l := &lang{Code: code, msgs: msgs}
		if len(c.langs) > 0 {
			l.base = c.langs[0].msgs
		}
		c.langs = append(c.langs, l)
	}
	return c, nil
}

// match returns the language of a request.
func (c *catalogue) match(r *http.Request) *lang {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return c.langs[0]
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.langs[0]
	}
	return c.langs[i]
}

// T returns the message of key, formatted with args when there are some;
// the key itself when no language has it (a test keeps that from
// happening).
func (l *lang) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		if m, ok = l.base[key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Has reports whether key has a message.
func (l *lang) Has(key string) bool {
	_, ok := l.msgs[key]
	if !ok {
		_, ok = l.base[key]
	}
	return ok
}

// Label returns the message of a value of an enumeration (absence states,
// profiles, event types...): key kind.value, or the value itself.
func (l *lang) Label(kind string, value any) string {
	s := fmt.Sprint(value)
	if key := kind + "." + s; l.Has(key) {
		return l.T(key)
	}
	return s
}

// Date writes a day in full: "mardi 14 mars 2006", "Tuesday 14 March 2006".
func (l *lang) Date(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return l.T("fmt.date", l.T(fmt.Sprintf("weekday.%d", d.Weekday())), d.Day, l.T(fmt.Sprintf("month.%d", d.Month)), d.Year)
}

// Short writes a day briefly: "14/03/2006", "14 Mar 2006".
func (l *lang) Short(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return l.T("fmt.short", d.Day, int(d.Month), d.Year, l.T(fmt.Sprintf("mon.%d", d.Month)))
}

// navLink is an entry of the navigation bar.
type navLink struct {
	Href, Label string
	Current     bool
}

// view is what every template receives: the language, the signed-in
// account, the CSRF token of its forms, the flash message of the last
// form, and the page's own data.
type view struct {
	*lang
	loc *time.Location
	// Me is the signed-in account (nil on the sign-in page).
	Me        *projections.AccountEntry
	principal *web.Principal
	CSRF      string
	Path      string
	Title     string
	// Flash says what the last form recorded (from ?ok=).
	Flash string
	Data  any
	nav   []navLink
}

func (p *Portal) newView(r *http.Request) *view {
	v := &view{lang: p.langs.match(r), loc: p.cfg.Location, Path: r.URL.Path}
	if ok := r.URL.Query().Get("ok"); ok != "" && v.Has("flash."+ok) {
		v.Flash = v.T("flash." + ok)
	}
	return v
}

func (v *view) signedIn(p *web.Principal, csrf string) {
	v.Me, v.principal, v.CSRF = p.Account(), p, csrf
}

// Nav is the navigation bar of the signed-in account.
func (v *view) Nav() []navLink { return v.nav }

// NewKey returns a fresh idempotency key for a form being rendered: a
// double submit of the form sends the same key and records nothing twice.
func (v *view) NewKey() string { return "portal-" + uuid.NewString() }

// Profile is the signed-in account's profile label.
func (v *view) Profile() string {
	if v.Me == nil {
		return ""
	}
	if v.Me.Function != "" {
		return v.Label("function", v.Me.Function)
	}
	return v.Label("profile", v.Me.Profile)
}

// When writes an instant in the establishments' time zone.
func (v *view) When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	lt := t.In(v.loc)
	return v.T("fmt.when", v.Short(domain.DateOf(lt)), lt.Format("15:04"))
}

// TZ is the establishments' time zone, for the live script's dates.
func (v *view) TZ() string { return v.loc.String() }

// Months are the short month names, as JSON, for the live script.
func (v *view) Months() string {
	names := make([]string, 12)
	for i := range names {
		names[i] = v.T(fmt.Sprintf("mon.%d", i+1))
	}
	b, _ := json.Marshal(names)
	return string(b)
}

// Clock writes an instant's local time of day.
func (v *view) Clock(t time.Time) string { return t.In(v.loc).Format("15:04") }

// ISO writes an instant as RFC 3339, for <time datetime>.
func (v *view) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// today is the day of now in the establishments' time zone.
func today(now time.Time, loc *time.Location) domain.Date { return domain.DateOf(now.In(loc)) }

// nav builds the navigation bar of the signed-in account's profile.
func (p *Portal) nav(v *view) []navLink {
	if v.Me == nil {
		return nil
	}
	var links [][2]string
	links = append(links, [2]string{"/", "nav.home"})
	switch v.Me.Profile {
	case domain.ProfileTeacher:
		links = append(links, [2]string{"/discipline", "nav.discipline"}, [2]string{"/messages", "nav.messages"},
			[2]string{"/bookings", "nav.bookings"}, [2]string{"/news", "nav.news"})
	case domain.ProfilePersonnel:
		links = append(links, [2]string{"/discipline", "nav.discipline"}, [2]string{"/messages", "nav.messages"},
			[2]string{"/bookings", "nav.bookings"}, [2]string{"/news", "nav.news"})
	case domain.ProfileRelative:
		links = append(links, [2]string{"/feed", "nav.feed"}, [2]string{"/messages", "nav.messages"}, [2]string{"/news", "nav.news"})
	case domain.ProfileStudent:
		links = append(links, [2]string{"/students/" + v.Me.ID.String(), "nav.myfile"}, [2]string{"/messages", "nav.messages"}, [2]string{"/news", "nav.news"})
	case domain.ProfileGuest, domain.ProfileAdmin:
		links = append(links, [2]string{"/messages", "nav.messages"})
		if v.Me.Profile == domain.ProfileGuest {
			links = append(links, [2]string{"/news", "nav.news"})
		}
		if v.Me.Profile == domain.ProfileAdmin && p.cfg.Imports != nil {
			links = append(links, [2]string{"/imports", "nav.imports"})
		}
	case domain.ProfileInspector:
		links = append(links, [2]string{"/audit", "nav.audit"})
	}
	out := make([]navLink, 0, len(links))
	for _, l := range links {
		cur := v.Path == l[0] || (l[0] != "/" && strings.HasPrefix(v.Path, l[0]+"/"))
		out = append(out, navLink{Href: l[0], Label: v.T(l[1]), Current: cur})
	}
	return out
}
