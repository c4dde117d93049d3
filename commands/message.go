package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of the message aggregate. Persisted: never rename.
const (
	CmdSendMessage        = "SendMessage"
	CmdReadMessage        = "ReadMessage"
	CmdAcknowledgeMessage = "AcknowledgeMessage"
)

// SendMessage sends a message; an unset cmd.Message gets a new id (the same
// one on a retry with the same idempotency key).
func (h *Handlers) SendMessage(ctx context.Context, req Request, cmd domain.SendMessage) (res Result, err error) {
	defer h.observe(CmdSendMessage, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdSendMessage, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Message = c.newID(cmd.Message)
	return execute(ctx, c, cmd.Message, domain.MessageStream(cmd.Message), func(ctx context.Context, m *domain.Message) (string, []domain.Event, error) {
		accounts := make(map[uuid.UUID]*domain.Account)
		groups := make(map[uuid.UUID]*domain.Group)
		to, toGroups := cmd.Recipients()
		// Beyond the limit the decision refuses the message: read nothing.
		if len(to)+len(toGroups) <= domain.MaxRecipients {
			for _, id := range to {
				acc := new(domain.Account)
				if err := c.loadInto(ctx, domain.AccountStream(id), acc); err != nil {
					return "", nil, err
				}
				accounts[id] = acc
			}
			for _, id := range toGroups {
				g := new(domain.Group)
				if err := c.loadInto(ctx, domain.GroupStream(id), g); err != nil {
					return "", nil, err
				}
				groups[id] = g
			}
		}
		events, err := m.Send(c.actor, accounts, groups, cmd)
		return messageEstablishment(c.actor, accounts, groups), events, err
	})
}

// messageEstablishment is the establishment a message belongs to: the
// sender's, or, for an administrator of none, the recipients' when they all
// belong to one.
func messageEstablishment(actor domain.Actor, accounts map[uuid.UUID]*domain.Account, groups map[uuid.UUID]*domain.Group) string {
	if actor.Establishment != "" {
		return actor.Establishment
	}
	uais := make(map[string]bool)
	for _, a := range accounts {
		uais[a.Establishment] = true
	}
	for _, g := range groups {
		uais[g.Establishment] = true
	}
	if len(uais) != 1 {
		return ""
	}
	for uai := range uais {
		return uai
	}
	return ""
}

// messageCommand runs a recipient's decision on an existing message, with
// the state of its recipient groups (skipped for a direct recipient). Its
// events belong to the reader's establishment.
func (h *Handlers) messageCommand(ctx context.Context, req Request, name string, payload any, id uuid.UUID, decide func(c *call, m *domain.Message, groups map[uuid.UUID]*domain.Group) ([]domain.Event, error)) (Result, error) {
	c, err := h.begin(ctx, req, name, payload)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, id, domain.MessageStream(id), func(ctx context.Context, m *domain.Message) (string, []domain.Event, error) {
		if !m.Exists {
			return "", nil, domain.Errorf(domain.ErrMessageNotFound, "%s", id)
		}
		groups := make(map[uuid.UUID]*domain.Group)
		if !m.IsDirectRecipient(c.actor.Account) {
			for _, gid := range m.ToGroups {
				g := new(domain.Group)
				if err := c.loadInto(ctx, domain.GroupStream(gid), g); err != nil {
					return "", nil, err
				}
				groups[gid] = g
			}
		}
		events, err := decide(c, m, groups)
		return c.actor.Establishment, events, err
	})
}

// ReadMessage records that the actor opened a message; opening it again
// appends nothing.
func (h *Handlers) ReadMessage(ctx context.Context, req Request, cmd domain.ReadMessage) (res Result, err error) {
	defer h.observe(CmdReadMessage, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.messageCommand(ctx, req, CmdReadMessage, cmd, cmd.Message, func(c *call, m *domain.Message, groups map[uuid.UUID]*domain.Group) ([]domain.Event, error) {
		return m.ReadBy(c.actor, groups, cmd)
	})
}

// AcknowledgeMessage records that the actor acknowledged a message (and
// read it, if they had not); a second acknowledgement appends nothing.
func (h *Handlers) AcknowledgeMessage(ctx context.Context, req Request, cmd domain.AcknowledgeMessage) (res Result, err error) {
	defer h.observe(CmdAcknowledgeMessage, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.messageCommand(ctx, req, CmdAcknowledgeMessage, cmd, cmd.Message, func(c *call, m *domain.Message, groups map[uuid.UUID]*domain.Group) ([]domain.Event, error) {
		return m.Acknowledge(c.actor, groups, cmd)
	})
}
