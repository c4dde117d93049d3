package web

// Notifications outside the portal (docs/notifications.md): a person's
// preferences, addresses and push subscriptions, and the dead letters the
// school-life office resends. Shared by the API and the portal.

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/notify/sms"
	"github.com/schoollife/ledger/adapters/notify/webpush"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// NotifySettings is what a person sets on their notifications: their
// preferences (an event) and their addresses (kept beside the log, not in
// it: a way to reach someone today, not history).
type NotifySettings struct {
	Preferences domain.NotificationPreferences `json:"preferences"`
	// Email and Phone are where to write: empty removes them.
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// NotifyView is a person's notification settings as they read them.
type NotifyView struct {
	NotifySettings
	// Subscriptions counts the browsers subscribed to push notifications.
	Subscriptions int `json:"push_subscriptions"`
	// VAPIDPublicKey is the key a browser subscribes with (the
	// applicationServerKey); empty when push is off.
	VAPIDPublicKey string `json:"vapid_public_key,omitempty"`
}

// Notifications serves a person's notification settings.
type Notifications struct {
	Store    *delivery.Store
	Commands *commands.Handlers
	Queries  *projections.Queries
	// VAPIDPublicKey is the push key browsers subscribe with ("" when push
	// is off).
	VAPIDPublicKey string
	Now            func() time.Time
}

func (n *Notifications) now() time.Time {
	if n.Now == nil {
		return time.Now()
	}
	return n.Now()
}

// View returns p's settings.
func (n *Notifications) View(ctx context.Context, p *Principal) (NotifyView, error) {
	me := p.Actor().Account
	prefs, err := n.Queries.NotificationPreferences(ctx, me)
	if err != nil {
		return NotifyView{}, err
	}
	v := NotifyView{NotifySettings: NotifySettings{Preferences: prefs}, VAPIDPublicKey: n.VAPIDPublicKey}
	if v.Email, err = n.Store.Contact(ctx, me, delivery.Email); err != nil {
		return NotifyView{}, err
	}
	if v.Phone, err = n.Store.Contact(ctx, me, delivery.SMS); err != nil {
		return NotifyView{}, err
	}
	subs, err := n.Store.Subscriptions(ctx, me)
	if err != nil {
		return NotifyView{}, err
	}
	v.Subscriptions = len(subs)
	return v, nil
}

// Set checks s and records it for p: the preferences (an event), then,
// once they are recorded, the addresses (nothing is recorded when one is
// invalid or the command is refused).
func (n *Notifications) Set(ctx context.Context, req commands.Request, p *Principal, s NotifySettings) (commands.Result, error) {
	me := p.Actor().Account
	email, err := CheckEmail(s.Email)
	if err != nil {
		return commands.Result{}, err
	}
	phone, err := CheckPhone(s.Phone)
	if err != nil {
		return commands.Result{}, err
	}
	res, err := n.Commands.SetNotificationPreferences(ctx, req, domain.SetNotificationPreferences{Account: me, Preferences: s.Preferences})
	if err != nil {
		return commands.Result{}, err
	}
	if err := n.Store.SetContact(ctx, me, delivery.Email, email, n.now()); err != nil {
		return commands.Result{}, err
	}
	if err := n.Store.SetContact(ctx, me, delivery.SMS, phone, n.now()); err != nil {
		return commands.Result{}, err
	}
	return res, nil
}

// CheckEmail returns a bare e-mail address, or ErrInvalid ("" is none).
func CheckEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if err := domain.TextCode.Check("email", s); err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "<>\"") {
		e := domain.Errorf(domain.ErrInvalid, "email: %q is not a bare e-mail address", s)
		e.Field = "email"
		return "", e
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		e := domain.Errorf(domain.ErrInvalid, "email: %q is not an e-mail address", s)
		e.Field = "email"
		return "", e
	}
	return s, nil
}

// CheckPhone returns a phone number in E.164 form, a French one
// (06 12 34 56 78) turned into it, or ErrInvalid ("" is none).
func CheckPhone(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if len(s) == 10 && s[0] == '0' && s[1] != '0' {
		s = "+33" + s[1:]
	}
	if err := sms.ValidateNumber(s); err != nil {
		e := domain.Errorf(domain.ErrInvalid, "phone: %q is not a phone number", s)
		e.Field = "phone"
		return "", e
	}
	return s, nil
}

// Subscribe keeps a browser's push subscription for p.
func (n *Notifications) Subscribe(ctx context.Context, p *Principal, sub webpush.Subscription) error {
	if err := sub.Validate(); err != nil {
		return domain.Errorf(domain.ErrInvalid, "subscription: %v", err)
	}
	return n.Store.Subscribe(ctx, p.Actor().Account, sub, n.now())
}

// Unsubscribe removes p's subscription at endpoint (ErrNotFound when it
// has none there).
func (n *Notifications) Unsubscribe(ctx context.Context, p *Principal, endpoint string) error {
	ok, err := n.Store.Unsubscribe(ctx, p.Actor().Account, endpoint)
	if err != nil {
		return err
	}
	if !ok {
		return domain.Errorf(domain.ErrNotFound, "no such push subscription")
	}
	return nil
}

// DeadLetter is a delivery given up on, as the office sees it: no text.
type DeadLetter struct {
	Notification uuid.UUID   `json:"notification"`
	Channel      string      `json:"channel"`
	Recipient    uuid.UUID   `json:"recipient"`
	Students     []uuid.UUID `json:"students,omitempty"`
	Type         string      `json:"type"`
	Category     string      `json:"category"`
	Attempts     int         `json:"attempts"`
	LastError    string      `json:"last_error"`
	Since        time.Time   `json:"since"`
}

// MayResend: the school-life office (personnel) of uai.
func MayResend(p *Principal, uai string) error {
	if p.Actor().IsStaff(uai) && !p.Actor().IsSystem() {
		return nil
	}
	return forbidden("%s may not resend the notifications of %s", p.Actor().Profile, uai)
}

// DeadLetters lists the dead letters of uai.
func (n *Notifications) DeadLetters(ctx context.Context, p *Principal, uai string, limit int) ([]DeadLetter, error) {
	if err := MayResend(p, uai); err != nil {
		return nil, err
	}
	ds, err := n.Store.DeadLetters(ctx, uai, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, len(ds))
	for i, d := range ds {
		out[i] = DeadLetter{
			Notification: d.Notification, Channel: string(d.Channel), Recipient: d.Recipient, Students: d.Students,
			Type: d.EventType, Category: d.Category, Attempts: d.Attempts, LastError: d.LastError, Since: d.Updated,
		}
	}
	return out, nil
}

// Resend puts a dead letter of uai back to be sent (ErrNotFound when
// there is no such dead letter there).
func (n *Notifications) Resend(ctx context.Context, p *Principal, uai string, k delivery.Key) error {
	if err := MayResend(p, uai); err != nil {
		return err
	}
	d, ok, err := n.Store.Get(ctx, k)
	if err != nil {
		return err
	}
	if !ok || d.Establishment != uai || d.State != delivery.Dead {
		return domain.Errorf(domain.ErrNotFound, "no such undelivered notification")
	}
	if _, err := n.Store.Resend(ctx, k, n.now()); err != nil {
		return err
	}
	return nil
}

// Opened records that p followed the link of the message a delivery sent
// them (notification.opened.v1), once: a delivery that is not theirs, or
// not sent, records nothing (ErrNotFound when there is no such delivery).
func (n *Notifications) Opened(ctx context.Context, p *Principal, notification uuid.UUID, ch delivery.Channel) error {
	k := delivery.Key{Notification: notification, Channel: ch, Recipient: p.Actor().Account}
	d, ok, err := n.Store.Get(ctx, k)
	if err != nil {
		return err
	}
	if !ok {
		return domain.Errorf(domain.ErrNotFound, "no such notification")
	}
	if d.State != delivery.Sent || !domain.ValidUAI(d.Establishment) {
		return nil
	}
	req := commands.Request{System: true, IdempotencyKey: "notify-opened:" + k.ID()}
	_, err = n.Commands.RecordNotificationOutcomes(ctx, req, domain.RecordNotificationOutcomes{
		Establishment: d.Establishment,
		Outcomes: []domain.NotificationOutcome{{
			Kind: domain.OutcomeOpened, Notification: notification, Channel: ch, Recipient: k.Recipient,
			Students: d.Students, At: n.now(),
		}},
	})
	if errors.Is(err, domain.ErrIdempotencyKey) {
		return nil // opened before: recorded then
	}
	return err
}
