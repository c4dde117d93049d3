package delivery

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/email"
	"github.com/schoollife/ledger/adapters/notify/sms"
	"github.com/schoollife/ledger/adapters/notify/webpush"
	"github.com/schoollife/ledger/domain"
)

// Verdict is what a channel made of one message.
type Verdict int

const (
	// Done: the channel accepted the message.
	Done Verdict = iota + 1
	// Again: try later (a busy or unreachable service).
	Again
	// Never: refused for good (Result.Reason says why).
	Never
)

// Result is one attempt's result.
type Result struct {
	Verdict Verdict
	// Reason is a domain.Fail* code when Never.
	Reason string
	// RetryAfter is the delay a service asked for, when Again.
	RetryAfter time.Duration
	// Detail says what happened, for the office and the logs (no personal
	// text).
	Detail string
}

// Deliverer is a channel: it sends one message to one person.
type Deliverer interface {
	Deliver(ctx context.Context, to uuid.UUID, m Message) Result
}

// PushSender is what WebPush needs of webpush.Sender.
type PushSender interface {
	Send(ctx context.Context, sub webpush.Subscription, payload []byte, opts webpush.Options) (webpush.Outcome, error)
}

// WebPush delivers by Web Push to every browser the person subscribed, and
// forgets the subscriptions the push service says are gone.
type WebPush struct {
	Sender PushSender
	Store  *Store
	// TTL is how long a push service keeps a message for an offline
	// device (a day when 0).
	TTL time.Duration
}

// Deliver sends m to each of to's subscriptions: done when one accepted
// it, again when one may later, never when none can (gone, refused).
func (p WebPush) Deliver(ctx context.Context, to uuid.UUID, m Message) Result {
	subs, err := p.Store.Subscriptions(ctx, to)
	if err != nil {
		return Result{Verdict: Again, Detail: err.Error()}
	}
	if len(subs) == 0 {
		return Result{Verdict: Never, Reason: domain.FailNoAddress, Detail: "no push subscription"}
	}
	id := m.Key.ID()
	payload, err := webpush.Notification{
		Title: clipRunes(m.Title, webpush.MaxTitleRunes), Body: clipRunes(pushBody(m), webpush.MaxBodyRunes),
		URL: m.Path, Tag: "n:" + id,
	}.Encode()
	if err != nil {
		return Result{Verdict: Never, Reason: domain.FailRefused, Detail: err.Error()}
	}
	ttl := p.TTL
	if ttl == 0 {
		ttl = 24 * time.Hour
	}
	// The topic replaces a message of the same delivery still waiting at
	// the push service (sent again after a crash).
	opts := webpush.Options{TTL: ttl, Urgency: webpush.UrgencyHigh, Topic: strings.ReplaceAll(id, "-", "")}
	var sent, again, gone int
	var wait time.Duration
	var details []string
	for _, sub := range subs {
		out, err := p.Sender.Send(ctx, sub, payload, opts)
		switch out.Result {
		case webpush.Sent:
			sent++
			continue
		case webpush.Gone:
			gone++
			if derr := p.Store.DropEndpoint(ctx, sub.Endpoint); derr != nil {
				details = append(details, derr.Error())
			}
		case webpush.Retryable:
			again++
			wait = max(wait, out.RetryAfter)
		}
		details = append(details, fmt.Sprintf("%s (%d)", out.Result, out.Status))
		if err != nil && out.Status == 0 {
			details = append(details, err.Error())
		}
	}
	detail := strings.Join(details, "; ")
	switch {
	case sent > 0:
		return Result{Verdict: Done, Detail: detail}
	case again > 0:
		return Result{Verdict: Again, RetryAfter: wait, Detail: detail}
	case gone == len(subs):
		return Result{Verdict: Never, Reason: domain.FailGone, Detail: detail}
	}
	return Result{Verdict: Never, Reason: domain.FailRefused, Detail: detail}
}

// pushBody is a push's second line: the body, or a digest's items.
func pushBody(m Message) string {
	if len(m.Items) == 0 {
		return m.Body
	}
	lines := make([]string, len(m.Items))
	for i, it := range m.Items {
		lines[i] = it.Title
	}
	return strings.Join(lines, " · ")
}

// Addresses finds where to write to a person: the address they gave, then
// the directory's (when it has one).
type Addresses interface {
	Address(ctx context.Context, account uuid.UUID, ch Channel) (string, error)
}

// Address returns the address account gave for ch.
func (s *Store) Address(ctx context.Context, account uuid.UUID, ch Channel) (string, error) {
	return s.Contact(ctx, account, ch)
}

// EmailSender is what Mail needs of email.Sender.
type EmailSender interface {
	Send(ctx context.Context, m email.Message) (email.Outcome, error)
}

// Mail delivers by e-mail.
type Mail struct {
	Sender    EmailSender
	Addresses Addresses
	// Portal is the portal's absolute base URL (https://ent.example.fr):
	// links and the unsubscribe address are made from it.
	Portal string
}

// Deliver writes m to to's address.
func (e Mail) Deliver(ctx context.Context, to uuid.UUID, m Message) Result {
	addr, err := e.Addresses.Address(ctx, to, Email)
	if err != nil {
		return Result{Verdict: Again, Detail: err.Error()}
	}
	if addr == "" {
		return Result{Verdict: Never, Reason: domain.FailNoAddress, Detail: "no e-mail address"}
	}
	base := strings.TrimSuffix(e.Portal, "/")
	out, err := e.Sender.Send(ctx, email.Message{
		To:             mail.Address{Address: addr},
		Content:        emailContent(m, base),
		UnsubscribeURL: base + "/notifications",
		Key:            m.Key.ID(),
	})
	switch out.Status {
	case email.Sent:
		return Result{Verdict: Done, Detail: out.QueueID}
	case email.Retryable:
		return Result{Verdict: Again, Detail: errText(err)}
	}
	return Result{Verdict: Never, Reason: domain.FailRefused, Detail: errText(err)}
}

func emailContent(m Message, base string) email.Content {
	var text, page strings.Builder
	text.WriteString(m.Text() + "\n\n" + base + m.Path + "\n")
	page.WriteString("<p><strong>" + html.EscapeString(m.Title) + "</strong>")
	if m.Body != "" {
		page.WriteString("<br>" + html.EscapeString(m.Body))
	}
	page.WriteString("</p>")
	if len(m.Items) > 0 {
		page.WriteString("<ul>")
		for _, it := range m.Items {
			page.WriteString("<li>" + html.EscapeString(it.Title+" — "+it.Body) + "</li>")
		}
		page.WriteString("</ul>")
	}
	link := html.EscapeString(base + m.Path)
	page.WriteString(`<p><a href="` + link + `">` + link + "</a></p>")
	subject := m.Title
	if m.Body != "" && len(m.Items) == 0 {
		subject += " — " + m.Body
	}
	return email.Content{Subject: subject, Text: text.String(), HTML: page.String()}
}

// SMSSender is the text-message port.
type SMSSender interface {
	Send(ctx context.Context, m sms.Message) (sms.Outcome, error)
}

// Text delivers by text message.
type Text struct {
	Sender    SMSSender
	Addresses Addresses
}

// Deliver sends m's text to to's number.
func (t Text) Deliver(ctx context.Context, to uuid.UUID, m Message) Result {
	number, err := t.Addresses.Address(ctx, to, SMS)
	if err != nil {
		return Result{Verdict: Again, Detail: err.Error()}
	}
	if number == "" {
		return Result{Verdict: Never, Reason: domain.FailNoAddress, Detail: "no phone number"}
	}
	out, err := t.Sender.Send(ctx, sms.Message{To: number, Text: clipRunes(m.Text(), 320), ID: m.Key.ID()})
	switch out.Status {
	case sms.Sent:
		return Result{Verdict: Done}
	case sms.Retryable:
		return Result{Verdict: Again, Detail: errText(err)}
	}
	if errors.Is(err, sms.ErrInvalidMessage) {
		return Result{Verdict: Never, Reason: domain.FailNoAddress, Detail: errText(err)}
	}
	return Result{Verdict: Never, Reason: domain.FailRefused, Detail: errText(err)}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// clipRunes cuts s to at most n characters, with an ellipsis when cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
