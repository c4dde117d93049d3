// Package sms delivers the ledger's notifications as text messages through
// a port with two adapters: Gateway, which hands each message to an
// operator's HTTP API (URL, method, JSON or form payload written from a
// template, an authorization header), and File, which appends them to a
// file for development and demonstrations.
//
// Like the e-mail and push senders, the package decides nothing about who
// is told what or when: it says what became of one message (sent, to
// retry, refused for good) and a delivery process acts on it.
package sms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxText bounds a message's text: ten GSM segments of 153 characters, far
// more than a notification needs; gateways split longer texts themselves.
const MaxText = 1530

// Message is one text message.
type Message struct {
	// To is the recipient's number in E.164 form (+33612345678).
	To string
	// Text is what the phone shows.
	Text string
	// ID identifies the message for the gateway, when it deduplicates
	// (the delivery's key: a message resent after a crash carries the
	// same one).
	ID string
}

// Status says what a delivery process does next.
type Status int

const (
	// Sent: the gateway accepted the message.
	Sent Status = iota + 1
	// Retryable: try again later (5xx, 429, transport failure, timeout).
	Retryable
	// Permanent: never resend this message (4xx, invalid message).
	Permanent
)

func (s Status) String() string {
	switch s {
	case Sent:
		return "sent"
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Outcome is what became of one message.
type Outcome struct {
	Status Status
	// Code is the gateway's HTTP status (0 when none was read).
	Code int
	// Detail is the start of a refusal's body, for logs.
	Detail string
}

// ErrInvalidMessage wraps the reason a message was refused before sending.
var ErrInvalidMessage = errors.New("sms: invalid message")

// Validate checks a message: an E.164 number, a text of printable UTF-8
// within MaxText characters.
func (m Message) Validate() error {
	if err := ValidateNumber(m.To); err != nil {
		return err
	}
	if strings.TrimSpace(m.Text) == "" {
		return fmt.Errorf("%w: empty text", ErrInvalidMessage)
	}
	if !utf8.ValidString(m.Text) {
		return fmt.Errorf("%w: text is not UTF-8", ErrInvalidMessage)
	}
	if n := utf8.RuneCountInString(m.Text); n > MaxText {
		return fmt.Errorf("%w: text of %d characters, at most %d", ErrInvalidMessage, n, MaxText)
	}
	for _, r := range m.Text {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			return fmt.Errorf("%w: control character %U in the text", ErrInvalidMessage, r)
		}
	}
	if len(m.ID) > 64 {
		return fmt.Errorf("%w: id longer than 64 bytes", ErrInvalidMessage)
	}
	return nil
}

// ValidateNumber checks that n is a phone number in E.164 form: "+" then 8
// to 15 digits, the first not 0.
func ValidateNumber(n string) error {
	if len(n) < 9 || len(n) > 16 || n[0] != '+' || n[1] == '0' {
		return fmt.Errorf("%w: number %q is not in E.164 form (+33612345678)", ErrInvalidMessage, n)
	}
	for _, c := range n[1:] {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: number %q is not in E.164 form (+33612345678)", ErrInvalidMessage, n)
		}
	}
	return nil
}

// Sender is the port both adapters provide.
type Sender interface {
	Send(ctx context.Context, m Message) (Outcome, error)
}

var (
	_ Sender = (*Gateway)(nil)
	_ Sender = (*File)(nil)
)
