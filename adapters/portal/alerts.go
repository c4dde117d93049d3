package portal

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The office's alerts: unjustified half-days of absence, repeated
// lateness, lessons ended without a roll call (docs/notifications.md,
// "Alerts"), each handled by recording how.

func (p *Portal) alertPages() []page {
	return []page{
		{method: "GET", path: "/office/alerts", profiles: []domain.Profile{domain.ProfilePersonnel}, handle: p.alertsHome},
		{method: "POST", path: "/office/alerts/{alert}/handling", profiles: []domain.Profile{domain.ProfilePersonnel},
			handle: p.onForm(alertForm, p.showAlerts, p.handleAlert)},
	}
}

// alertForm is the form of an alert's handling; the page has one for each
// open alert.
var alertForm = formSpec{
	named:  func(r *http.Request) string { return "alert-" + r.PathValue("alert") },
	fields: []string{"action"},
}

type alertsData struct {
	Open, Handled []projections.AlertEntry
	Settings      domain.AlertSettings
	// Actions are those the office chooses from (roll_call_done is the
	// ledger's when the roll is called late, or the office's).
	Actions []domain.AlertAction
	// Gone is the refusal of a form whose alert is no longer open (handled
	// meanwhile): said on top of the page, its form being gone.
	Gone string
}

func (p *Portal) alertsHome(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showAlerts(w, r, v, http.StatusOK)
}

func (p *Portal) showAlerts(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	uai := v.Me.Establishment
	if err := web.MayReadOffice(v.principal, uai); err != nil {
		return err
	}
	all, err := p.cfg.Queries.Alerts(r.Context(), uai, false)
	if err != nil {
		return err
	}
	set, err := p.cfg.Commands.AlertSettings(r.Context(), uai)
	if err != nil {
		return err
	}
	data := alertsData{Settings: set, Actions: domain.AlertActions()}
	for _, a := range all {
		if a.Handled {
			data.Handled = append(data.Handled, a)
		} else {
			data.Open = append(data.Open, a)
		}
	}
	if v.refused != nil && !slices.ContainsFunc(data.Open, func(a projections.AlertEntry) bool { return v.Refused("alert-" + a.Alert.String()) }) {
		data.Gone = v.refused.top
	}
	p.render(w, r, status, v, "alerts", "title.alerts", data)
	return nil
}

func (p *Portal) handleAlert(w http.ResponseWriter, r *http.Request, v *view) error {
	alert, err := web.PathID(r, "alert")
	if err != nil {
		return err
	}
	action := domain.AlertAction(web.FormOf(r).Str("action"))
	if action == "" {
		return atField(domain.Errorf(domain.ErrInvalid, "no action chosen"), "action", v.T("alerts.choose_action"))
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.HandleAlert(r.Context(), req, domain.HandleAlert{Alert: alert, Action: action})
	if err != nil {
		return err
	}
	return done(w, r, "/office/alerts", "alert", res)
}

// AlertPeriod writes an alert's period in words: a month ("2026-11"), an
// ISO week ("2026-W48") or a day ("2026-11-30").
func (v *view) AlertPeriod(period string) string {
	var y, n int
	if _, err := fmt.Sscanf(period, "%4d-W%2d", &y, &n); err == nil && strings.Contains(period, "W") {
		return v.T("alerts.week", n, y)
	}
	if d, err := domain.ParseDate(period); err == nil {
		return v.Day(d)
	}
	if _, err := fmt.Sscanf(period, "%4d-%2d", &y, &n); err == nil && n >= 1 && n <= 12 {
		return v.Lang.MonthYear(y, n)
	}
	return ""
}
