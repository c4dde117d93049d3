package main

import (
	"context"
	"fmt"
	"html"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/adapters/notify/email"
)

// newLetterOffice builds the office's letters (docs/notifications.md,
// "Letters"). mailer is nil while no mail relay and no guardians'
// addresses are configured: the portal then offers the PDF alone.
func (a *app) newLetterOffice(mailer letters.LetterMailer) (*letters.Office, error) {
	w, err := letters.NewWriter(time.Now)
	if err != nil {
		return nil, err
	}
	return &letters.Office{Writer: w, Sources: a.queries, Recorder: a.commands, Mailer: mailer, Now: time.Now, Loc: a.loc}, nil
}

// GuardianAddresses finds a legal guardian's e-mail address ("" when the
// family gave none).
type GuardianAddresses interface {
	EmailOf(ctx context.Context, account uuid.UUID) (string, error)
}

// emailLetters sends letters over adapters/notify/email's Sender.
type emailLetters struct {
	sender    *email.Sender
	addresses GuardianAddresses
	// unsubscribe is the https address of the e-mail preferences page
	// (List-Unsubscribe is required on every message).
	unsubscribe string
}

var _ letters.LetterMailer = (*emailLetters)(nil)

// MailLetter sends one letter to one guardian, the letter's words as the
// message (plain text and HTML).
func (m *emailLetters) MailLetter(ctx context.Context, guardian uuid.UUID, name string, t letters.Text) error {
	to, err := m.addresses.EmailOf(ctx, guardian)
	if err != nil {
		return err
	}
	if to == "" {
		return fmt.Errorf("letter to %s: no e-mail address", guardian)
	}
	var text, htm strings.Builder
	text.WriteString(t.Salutation + "\n\n")
	htm.WriteString("<p>" + html.EscapeString(t.Salutation) + "</p>\n")
	for i, p := range t.Paragraphs {
		text.WriteString(p + "\n\n")
		htm.WriteString("<p>" + html.EscapeString(p) + "</p>\n")
		if i == 0 && len(t.List) > 0 {
			htm.WriteString("<ul>\n")
			for _, l := range t.List {
				text.WriteString("– " + l + "\n")
				htm.WriteString("<li>" + html.EscapeString(l) + "</li>\n")
			}
			htm.WriteString("</ul>\n")
			text.WriteString("\n")
		}
	}
	text.WriteString(t.Closing + "\n")
	htm.WriteString("<p>" + html.EscapeString(t.Closing) + "</p>\n")
	out, err := m.sender.Send(ctx, email.Message{
		To:             mail.Address{Name: name, Address: to},
		Content:        email.Content{Subject: t.Subject, Text: text.String(), HTML: htm.String()},
		UnsubscribeURL: m.unsubscribe,
	})
	if err != nil {
		return fmt.Errorf("letter to %s (%v): %w", guardian, out.Status, err)
	}
	return nil
}
