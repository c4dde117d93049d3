package portal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/portal/i18n"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// navLink is an entry of the navigation bar.
type navLink struct {
	Href, Label string
	Current     bool
}

// view is what every template receives: the language, the signed-in
// account, the CSRF token of its forms, the flash message of the last
// form, and the page's own data.
type view struct {
	*i18n.Lang
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
	// now is the page's moment, for what "this year" is.
	now time.Time
	// reasons are the labels of the establishment's absence reasons, by
	// code, when the page shows decisions about absences.
	reasons map[string]string
	// refused is the refused form the page shows again (refused.go).
	refused *refusal
}

func (p *Portal) newView(r *http.Request) *view {
	v := &view{Lang: p.langs.Match(r), loc: p.cfg.Location, Path: r.URL.Path, now: p.now()}
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

// When writes an instant in the establishments' time zone as a sentence
// says it: "lundi 7 décembre à 08:00" (with the year when it is not this
// one).
func (v *view) When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	lt := t.In(v.loc)
	return v.T("fmt.when", v.Day(domain.DateOf(lt)), lt.Format("15:04"))
}

// Day writes a day as a sentence says it: "lundi 7 décembre", with the
// year when it is not this one.
func (v *view) Day(d domain.Date) string { return v.Lang.Day(d, today(v.now, v.loc)) }

// Reason is the label of an absence reason's code: the establishment's own
// when the page loaded its list, else the catalogue's for the codes every
// establishment starts with, else a neutral label (never the code).
func (v *view) Reason(code string) string {
	if label, ok := v.reasons[code]; ok && label != "" {
		return label
	}
	if key := "reason_code." + code; v.Has(key) {
		return v.T(key)
	}
	return v.T("reason_code.other")
}

// loadReasons loads the labels of an establishment's absence reasons into
// the view; a page whose establishment cannot be read keeps the
// catalogue's labels.
func (p *Portal) loadReasons(r *http.Request, v *view, uai string) {
	if uai == "" {
		return
	}
	est, err := p.cfg.Queries.Establishment(r.Context(), uai)
	if err != nil {
		return
	}
	if v.reasons == nil {
		v.reasons = map[string]string{}
	}
	for _, reason := range est.Reasons {
		if _, ok := v.reasons[reason.Code]; !ok {
			v.reasons[reason.Code] = reason.Label
		}
	}
}

// TZ is the establishments' time zone, for the live script's dates.
func (v *view) TZ() string { return v.loc.String() }

// Months are the month names, as JSON, for the live script.
func (v *view) Months() string {
	names := make([]string, 12)
	for i := range names {
		names[i] = v.T(fmt.Sprintf("month.%d", i+1))
	}
	b, _ := json.Marshal(names)
	return string(b)
}

// Clock writes an instant's local time of day.
func (v *view) Clock(t time.Time) string { return t.In(v.loc).Format("15:04") }

// LinkWords says what a relative is to a student: the relation, legal
// guardian (and rank), financial responsibility, person to contact; empty
// when the directory says nothing of it.
func (v *view) LinkWords(relation domain.Relation, legal bool, rank int, financial, contact bool) string {
	var parts []string
	if relation != domain.RelationUnknown {
		parts = append(parts, v.Label("relation", relation))
	}
	switch {
	case legal && rank > 0:
		parts = append(parts, v.T("link.legal_rank", rank))
	case legal:
		parts = append(parts, v.T("link.legal"))
	}
	if financial {
		parts = append(parts, v.T("link.financial"))
	}
	if contact {
		parts = append(parts, v.T("link.contact"))
	}
	return strings.Join(parts, ", ")
}

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
		links = append(links, [2]string{"/office/alerts", "nav.alerts"})
		if p.cfg.Letters != nil {
			links = append(links, [2]string{"/office/letters", "nav.letters"})
		}
		if web.MayReadConsultations(v.principal, v.Me.Establishment) == nil {
			links = append(links, [2]string{"/consultations", "nav.consultations"})
		}
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
		if web.MayManageServices(v.principal, v.Me.Establishment) == nil {
			links = append(links, [2]string{"/services", "nav.services"})
		}
		if v.Me.Profile == domain.ProfileAdmin && p.cfg.SSO != nil {
			links = append(links, [2]string{"/admin/sso", "nav.sso"})
		}
	case domain.ProfileInspector:
		links = append(links, [2]string{"/audit", "nav.audit"})
	}
	if p.cfg.Notifications != nil {
		switch v.Me.Profile {
		case domain.ProfileRelative, domain.ProfileStudent:
			links = append(links, [2]string{"/notifications", "nav.notifications"})
		case domain.ProfilePersonnel:
			links = append(links, [2]string{"/office/notifications", "nav.undelivered"})
		}
	}
	out := make([]navLink, 0, len(links))
	for _, l := range links {
		cur := v.Path == l[0] || (l[0] != "/" && strings.HasPrefix(v.Path, l[0]+"/"))
		out = append(out, navLink{Href: l[0], Label: v.T(l[1]), Current: cur})
	}
	return out
}
