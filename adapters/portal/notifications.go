package portal

import (
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// notificationPages: "Mes notifications", where a family member chooses
// what they are told outside the portal and how, and the office's list of
// notifications that could not be delivered, each with "Renvoyer"
// (docs/notifications.md). Only when notifications are on.
func (p *Portal) notificationPages() []page {
	if p.cfg.Notifications == nil {
		return nil
	}
	staff := []domain.Profile{domain.ProfilePersonnel}
	return []page{
		{method: "GET", path: "/notifications", handle: p.notificationsPage},
		{method: "POST", path: "/notifications", handle: p.onForm(notifyForm, p.showNotifications, p.setNotifications)},
		{method: "GET", path: "/n/{notification}/{channel}", handle: p.opened},
		{method: "GET", path: "/office/notifications", profiles: staff, handle: p.undeliveredPage},
		{method: "POST", path: "/office/notifications/resend", profiles: staff, handle: p.onForm(resendForm, p.showUndelivered, p.resend)},
	}
}

var (
	notifyForm = formSpec{name: "notify", fields: []string{
		"mode-absences", "mode-discipline", "mode-messages", "mode-homework", "mode-news",
		"channels", "quiet_from", "quiet_to", "lang", "email", "phone",
	}}
	resendForm = formSpec{name: "resend"}
)

// notifyData is the "Mes notifications" page.
type notifyData struct {
	View       web.NotifyView
	Categories []domain.NotifyCategory
	Modes      []domain.NotifyMode
	Channels   []domain.NotifyChannel
	Langs      []domain.NotifyLang
}

// Mode is the mode of category c.
func (d notifyData) Mode(c domain.NotifyCategory) string { return string(d.View.Preferences.Mode(c)) }

// Chosen reports whether channel c is chosen.
func (d notifyData) Chosen(c domain.NotifyChannel) bool {
	return slices.Contains(d.View.Preferences.Channels, c)
}

func (p *Portal) notificationsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showNotifications(w, r, v, http.StatusOK)
}

func (p *Portal) showNotifications(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	nv, err := p.cfg.Notifications.View(r.Context(), v.principal)
	if err != nil {
		return err
	}
	p.render(w, r, status, v, "notifications", "title.notifications", notifyData{
		View: nv, Categories: domain.NotifyCategories(), Modes: domain.NotifyModes(),
		Channels: domain.NotifyChannels(), Langs: []domain.NotifyLang{domain.LangFrench, domain.LangEnglish},
	})
	return nil
}

// setNotifications records the form: the preferences (an event) and the
// addresses.
func (p *Portal) setNotifications(w http.ResponseWriter, r *http.Request, v *view) error {
	f := r.PostForm
	s := web.NotifySettings{
		Preferences: domain.NotificationPreferences{
			Modes:     map[domain.NotifyCategory]domain.NotifyMode{},
			QuietFrom: f.Get("quiet_from"), QuietTo: f.Get("quiet_to"),
			Lang: domain.NotifyLang(f.Get("lang")),
		},
		Email: f.Get("email"), Phone: f.Get("phone"),
	}
	for _, c := range domain.NotifyCategories() {
		s.Preferences.Modes[c] = domain.NotifyMode(f.Get("mode-" + string(c)))
	}
	for _, ch := range f["channels"] {
		s.Preferences.Channels = append(s.Preferences.Channels, domain.NotifyChannel(ch))
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Notifications.Set(r.Context(), req, v.principal, s)
	if err != nil {
		return err
	}
	return done(w, r, "/notifications", "notifications", res)
}

// undeliveredRow is a dead letter as the office reads it.
type undeliveredRow struct {
	web.DeadLetter
	RecipientName string
	StudentNames  []string
}

func (p *Portal) undeliveredPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showUndelivered(w, r, v, http.StatusOK)
}

func (p *Portal) showUndelivered(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	list, err := p.cfg.Notifications.DeadLetters(r.Context(), v.principal, v.Me.Establishment, 200)
	if err != nil {
		return err
	}
	n := p.names()
	rows := make([]undeliveredRow, len(list))
	for i, d := range list {
		rows[i] = undeliveredRow{DeadLetter: d, RecipientName: n.of(r, d.Recipient)}
		for _, s := range d.Students {
			rows[i].StudentNames = append(rows[i].StudentNames, n.of(r, s))
		}
	}
	p.render(w, r, status, v, "undelivered", "title.undelivered", rows)
	return nil
}

// resend puts a dead letter back to be sent.
func (p *Portal) resend(w http.ResponseWriter, r *http.Request, v *view) error {
	f := r.PostForm
	notification, err1 := uuid.Parse(f.Get("notification"))
	recipient, err2 := uuid.Parse(f.Get("recipient"))
	ch := delivery.Channel(f.Get("channel"))
	if err1 != nil || err2 != nil || !ch.Valid() {
		return domain.Errorf(domain.ErrNotFound, "no such undelivered notification")
	}
	k := delivery.Key{Notification: notification, Channel: ch, Recipient: recipient}
	if err := p.cfg.Notifications.Resend(r.Context(), v.principal, v.Me.Establishment, k); err != nil {
		return err
	}
	http.Redirect(w, r, "/office/notifications?ok=resent", http.StatusSeeOther)
	return nil
}

// opened is the link of a notification: it records that its recipient
// opened it (notification.opened.v1, once) and goes on to the page it is
// about. Whatever happens, the person reaches the page.
func (p *Portal) opened(w http.ResponseWriter, r *http.Request, v *view) error {
	next := localPath(r.URL.Query().Get("next"))
	id, err := uuid.Parse(r.PathValue("notification"))
	ch := delivery.Channel(r.PathValue("channel"))
	if err == nil && ch.Valid() {
		if err := p.cfg.Notifications.Opened(r.Context(), v.principal, id, ch); err != nil && !errors.Is(err, domain.ErrNotFound) {
			p.log.WarnContext(r.Context(), "notification opened: not recorded", "err", err)
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
