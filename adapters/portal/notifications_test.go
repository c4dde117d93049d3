package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/domain"
)

// TestMyNotifications: a parent reads their choices, a refused form keeps
// what was typed and records nothing, an accepted one records the
// preferences and the address.
func TestMyNotifications(t *testing.T) {
	w := newWorld(t)
	r := visit(t, w.srv, get("/notifications", asRelative))
	mustPage(t, r, http.StatusOK, "Mes notifications", "Absences et retards", "Tout de suite", "Résumé du jour", "Heures calmes", `href="/notifications"`)

	s, store := w.fork(t)
	before := len(w.Records(store))
	form := url.Values{
		"mode-absences": {"instant"}, "mode-discipline": {"off"}, "mode-messages": {"instant"}, "mode-homework": {"digest"}, "mode-news": {"off"},
		"channels": {"push", "sms"}, "quiet_from": {"21:30"}, "quiet_to": {"07:00"}, "lang": {"fr"},
		"email": {"pas une adresse"}, "phone": {"06 12 34 56 78"},
	}
	r = visit(t, s, post("/notifications", asRelative, form))
	mustPage(t, r, http.StatusBadRequest, `value="pas une adresse"`, `value="06 12 34 56 78"`, `value="21:30"`)
	if !strings.Contains(r.body, `value="off" selected`) {
		t.Error("the refused form lost the mode chosen")
	}
	if n := len(w.Records(store)); n != before {
		t.Fatalf("a refused form recorded %d events", n-before)
	}

	form.Set("email", "famille@example.fr")
	form.Set(fieldIdempotency, "portal-"+uuid.NewString())
	r = visit(t, s, post("/notifications", asRelative, form))
	mustPage(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/notifications?ok=notifications" {
		t.Fatalf("Location %q", loc)
	}
	recs := w.Records(store)[before:]
	if len(recs) != 1 || recs[0].Type != (domain.NotificationPreferencesSet{}).EventType() {
		t.Fatalf("recorded %v", recs)
	}
	if phone, err := w.notify.Contact(w.Ctx, w.Accounts[asRelative], delivery.SMS); err != nil || phone != "+33612345678" {
		t.Fatalf("phone %q %v", phone, err)
	}
}

// TestUndeliveredNotifications: the office sees a dead letter with the
// names of the family and the student, never an id, and resends it.
func TestUndeliveredNotifications(t *testing.T) {
	w := newWorld(t)
	d := delivery.Delivery{
		Key:       delivery.Key{Notification: uuid.New(), Channel: delivery.Email, Recipient: w.Accounts[asRelative]},
		EventType: "absence.recorded.v1", Category: "absences", Establishment: w.UAI,
		Students: []uuid.UUID{w.Accounts[asStudent]}, Due: w.Now,
	}
	if _, err := w.notify.Enqueue(w.Ctx, "", "", []delivery.Delivery{d}, w.Now); err != nil {
		t.Fatal(err)
	}
	if _, err := w.notify.Claim(w.Ctx, "test", w.Now, 0, 1); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.notify.Finish(w.Ctx, "test", d.Key, delivery.Dead, "exhausted: 451", w.Now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	r := visit(t, w.srv, get("/office/notifications", asCPE))
	mustPage(t, r, http.StatusOK, "Notifications non remises", "Parent de Léa", "Léa", "Courriel", "Renvoyer")
	if strings.Contains(r.body, "451") || strings.Contains(r.body, ">"+d.Recipient.String()) {
		t.Error("the page shows an internal error or an id")
	}
	mustPage(t, visit(t, w.srv, get("/office/notifications", asRelative)), http.StatusForbidden)
	r = visit(t, w.srv, post("/office/notifications/resend", asCPE, url.Values{
		"notification": {d.Notification.String()}, "channel": {"email"}, "recipient": {d.Recipient.String()},
	}))
	mustPage(t, r, http.StatusSeeOther)
	got, _, err := w.notify.Get(w.Ctx, d.Key)
	if err != nil || got.State != delivery.Pending {
		t.Fatalf("after resending: %+v %v", got, err)
	}
	r = visit(t, w.srv, post("/office/notifications/resend", asCPE, url.Values{
		"notification": {d.Notification.String()}, "channel": {"email"}, "recipient": {d.Recipient.String()},
	}))
	mustPage(t, r, http.StatusNotFound)
}

// TestNotificationOpened: following a sent notification's link records
// that its recipient opened it, once, and leads to its page; another
// account's click records nothing.
func TestNotificationOpened(t *testing.T) {
	w := newWorld(t)
	parent := w.Accounts[asRelative]
	d := delivery.Delivery{
		Key:       delivery.Key{Notification: uuid.New(), Channel: delivery.Push, Recipient: parent},
		EventType: "absence.recorded.v1", Category: "absences", Establishment: w.UAI,
		Students: []uuid.UUID{w.Accounts[asStudent]}, Due: w.Now,
	}
	if _, err := w.notify.Enqueue(w.Ctx, "", "", []delivery.Delivery{d}, w.Now); err != nil {
		t.Fatal(err)
	}
	if _, err := w.notify.Claim(w.Ctx, "test", w.Now, 0, 1); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.notify.Finish(w.Ctx, "test", d.Key, delivery.Sent, "", w.Now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	s, store := w.fork(t)
	before := len(w.Records(store))
	link := delivery.OpenPath(d.Notification, delivery.Push, "/students/"+w.Accounts[asStudent].String())
	for range 2 {
		r := visit(t, s, get(link, asRelative))
		mustPage(t, r, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/students/"+w.Accounts[asStudent].String() {
			t.Fatalf("Location %q", loc)
		}
	}
	mustPage(t, visit(t, s, get(link, asTeacher)), http.StatusSeeOther)
	recs := w.Records(store)[before:]
	if len(recs) != 1 || recs[0].Type != (domain.NotificationOpened{}).EventType() {
		t.Fatalf("recorded %v", recs)
	}
	if got := visit(t, s, get("/n/"+d.Notification.String()+"/push?next=https://evil.example/", asRelative)); got.header.Get("Location") != "/" {
		t.Fatalf("the link leads elsewhere: %q", got.header.Get("Location"))
	}
}
