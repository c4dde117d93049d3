package domain

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Messaging errors.
var (
	ErrMayNotSend        = newError(CodeForbidden, "may-not-send-messages", "this profile sends no messages")
	ErrMessageExists     = newError(CodeConflict, "message-exists", "message already sent")
	ErrMessageNotFound   = newError(CodeNotFound, "message-not-found", "unknown message")
	ErrNoRecipient       = newError(CodeInvalid, "no-recipient", "a message needs at least one recipient")
	ErrNotRecipient      = newError(CodeForbidden, "not-recipient", "only the message's recipients read or acknowledge it")
	ErrAckNotRequested   = newError(CodeRule, "ack-not-requested", "the message asks for no acknowledgement")
	ErrTooManyRecipients = newError(CodeInvalid, "too-many-recipients", "too many recipients")
)

// Message limits. Recipients are bounded because the send command reads one
// stream per recipient; a whole class is one group recipient.
const (
	MaxSubjectRunes = 200
	MaxBodyRunes    = 20000
	MaxRecipients   = 1000
)

// Message is one message, its recipients and who read or acknowledged it.
type Message struct {
	ID           uuid.UUID
	Exists       bool
	From         uuid.UUID
	ToAccounts   []uuid.UUID
	ToGroups     []uuid.UUID
	AckRequested bool
	Read         map[uuid.UUID]bool
	Acknowledged map[uuid.UUID]bool
}

// Apply folds an event.
func (m *Message) Apply(e Event) {
	switch e := e.(type) {
	case MessageSent:
		m.ID, m.Exists, m.From, m.AckRequested = e.Message, true, e.From, e.AckRequested
		m.ToAccounts, m.ToGroups = slices.Clone(e.ToAccounts), slices.Clone(e.ToGroups)
	case MessageRead:
		if m.Read == nil {
			m.Read = make(map[uuid.UUID]bool)
		}
		m.Read[e.Reader] = true
	case MessageAcknowledged:
		if m.Acknowledged == nil {
			m.Acknowledged = make(map[uuid.UUID]bool)
		}
		m.Acknowledged[e.Reader] = true
	}
}

// SendMessage sends a message to accounts and/or groups (a group's current
// members at the time they read it).
type SendMessage struct {
	Message      uuid.UUID   `json:"message,omitempty"`
	ToAccounts   []uuid.UUID `json:"to_accounts,omitempty"`
	ToGroups     []uuid.UUID `json:"to_groups,omitempty"`
	Subject      string      `json:"subject" text:"title"`
	Body         string      `json:"body" text:"text"`
	AckRequested bool        `json:"ack_requested,omitempty"`
}

// Recipients returns the command's accounts and groups without duplicates,
// in their first order.
func (c SendMessage) Recipients() (accounts, groups []uuid.UUID) {
	return uniqueRecipients(c.ToAccounts), uniqueRecipients(c.ToGroups)
}

func uniqueRecipients(ids []uuid.UUID) []uuid.UUID {
	seen := make(map[uuid.UUID]bool, len(ids))
	var out []uuid.UUID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// maySendMessages checks that actor may send messages at all. Guests
// (partners invited into the portal) only receive; the ledger itself has no
// mailbox; inspectors and evaluators never write.
func maySendMessages(actor Actor) error {
	switch actor.Profile {
	case ProfileStudent, ProfileRelative, ProfileTeacher, ProfilePersonnel, ProfileAdmin:
		return nil
	}
	return Errorf(ErrMayNotSend, "profile %s", actor.Profile)
}

// mayAddress reports whether actor may address an account or group of
// establishment uai: their own establishment, or, for an administrator, the
// establishments they administer.
func mayAddress(actor Actor, uai string) bool {
	if actor.Profile == ProfileAdmin {
		return actor.IsAdmin(uai)
	}
	return actor.Establishment != "" && actor.Establishment == uai
}

// Send decides a message. accounts and groups hold the state of every
// recipient named in cmd (a missing entry is an unknown recipient).
func (m *Message) Send(actor Actor, accounts map[uuid.UUID]*Account, groups map[uuid.UUID]*Group, cmd SendMessage) ([]Event, error) {
	if err := maySendMessages(actor); err != nil {
		return nil, err
	}
	if cmd.Message == uuid.Nil {
		return nil, Errorf(ErrInvalid, "message id is required")
	}
	if strings.TrimSpace(cmd.Subject) == "" || strings.TrimSpace(cmd.Body) == "" {
		return nil, Errorf(ErrInvalid, "subject and body are required")
	}
	if n := utf8.RuneCountInString(cmd.Subject); n > MaxSubjectRunes {
		return nil, Errorf(ErrInvalid, "subject is %d characters long, at most %d", n, MaxSubjectRunes)
	}
	if n := utf8.RuneCountInString(cmd.Body); n > MaxBodyRunes {
		return nil, Errorf(ErrInvalid, "body is %d characters long, at most %d", n, MaxBodyRunes)
	}
	to, toGroups := cmd.Recipients()
	if len(to)+len(toGroups) == 0 {
		return nil, Errorf(ErrNoRecipient, "no account or group")
	}
	if n := len(to) + len(toGroups); n > MaxRecipients {
		return nil, Errorf(ErrTooManyRecipients, "%d recipients, at most %d", n, MaxRecipients)
	}
	for _, id := range to {
		acc := accounts[id]
		if acc == nil || !acc.Exists {
			return nil, Errorf(ErrUnknownAccount, "recipient %s", id)
		}
		if acc.Closed {
			return nil, Errorf(ErrAccountClosed, "recipient %s", id)
		}
		if !mayAddress(actor, acc.Establishment) {
			return nil, Errorf(ErrWrongEstablishment, "recipient %s belongs to %q", id, acc.Establishment)
		}
	}
	for _, id := range toGroups {
		g := groups[id]
		if g == nil || !g.Exists {
			return nil, Errorf(ErrUnknownGroup, "recipient %s", id)
		}
		if !mayAddress(actor, g.Establishment) {
			return nil, Errorf(ErrWrongEstablishment, "group %s belongs to %s", g.Name, g.Establishment)
		}
	}
	if m.Exists {
		return nil, Errorf(ErrMessageExists, "%s", cmd.Message)
	}
	return []Event{MessageSent{
		Message: cmd.Message, From: actor.Account, ToAccounts: to, ToGroups: toGroups,
		Subject: cmd.Subject, Body: cmd.Body, AckRequested: cmd.AckRequested,
	}}, nil
}

// IsDirectRecipient reports whether account is named among the recipients.
func (m *Message) IsDirectRecipient(account uuid.UUID) bool {
	return slices.Contains(m.ToAccounts, account)
}

// isRecipient reports whether account is a recipient: named, or a current
// member (any role) of a recipient group. groups holds the recipient
// groups' state; relatives of a student recipient are not recipients.
func (m *Message) isRecipient(account uuid.UUID, groups map[uuid.UUID]*Group) bool {
	if account == uuid.Nil {
		return false
	}
	if m.IsDirectRecipient(account) {
		return true
	}
	for _, id := range m.ToGroups {
		if g := groups[id]; g != nil && len(g.Members[account]) > 0 {
			return true
		}
	}
	return false
}

// ReadMessage records that the actor opened a message.
type ReadMessage struct {
	Message uuid.UUID `json:"message"`
}

// recipient returns the error that stops actor reading or acknowledging.
func (m *Message) recipient(actor Actor, id uuid.UUID, groups map[uuid.UUID]*Group) error {
	if !m.Exists {
		return Errorf(ErrMessageNotFound, "%s", id)
	}
	if !m.isRecipient(actor.Account, groups) {
		return Errorf(ErrNotRecipient, "message %s", id)
	}
	return nil
}

// ReadBy decides a reading; groups holds the recipient groups' state. A
// message read again emits nothing, so that opening it twice is harmless.
func (m *Message) ReadBy(actor Actor, groups map[uuid.UUID]*Group, cmd ReadMessage) ([]Event, error) {
	if err := m.recipient(actor, cmd.Message, groups); err != nil {
		return nil, err
	}
	if m.Read[actor.Account] {
		return nil, nil
	}
	return []Event{MessageRead{Message: m.ID, Reader: actor.Account}}, nil
}

// AcknowledgeMessage records that the actor acknowledged a message that
// asked for it.
type AcknowledgeMessage struct {
	Message uuid.UUID `json:"message"`
}

// Acknowledge decides an acknowledgement, which implies reading: a message
// not yet read is read first. A second acknowledgement emits nothing.
func (m *Message) Acknowledge(actor Actor, groups map[uuid.UUID]*Group, cmd AcknowledgeMessage) ([]Event, error) {
	if err := m.recipient(actor, cmd.Message, groups); err != nil {
		return nil, err
	}
	if !m.AckRequested {
		return nil, Errorf(ErrAckNotRequested, "message %s", cmd.Message)
	}
	if m.Acknowledged[actor.Account] {
		return nil, nil
	}
	var events []Event
	if !m.Read[actor.Account] {
		events = append(events, MessageRead{Message: m.ID, Reader: actor.Account})
	}
	return append(events, MessageAcknowledged{Message: m.ID, Reader: actor.Account}), nil
}
