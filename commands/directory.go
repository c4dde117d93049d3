package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names, stored in event metadata. Persisted: never rename.
const (
	CmdRegisterEstablishment = "RegisterEstablishment"
	CmdOpenAccount           = "OpenAccount"
	CmdUpdateAccount         = "UpdateAccount"
	CmdActivateAccount       = "ActivateAccount"
	CmdCloseAccount          = "CloseAccount"
	CmdHabilitateInspector   = "HabilitateInspector"
	CmdLinkRelative          = "LinkRelative"
	CmdUnlinkRelative        = "UnlinkRelative"
	CmdCreateGroup           = "CreateGroup"
	CmdJoinGroup             = "JoinGroup"
	CmdLeaveGroup            = "LeaveGroup"
	CmdRecordConnection      = "RecordConnection"
	CmdRecordFeedKey         = "RecordFeedKey"
	CmdLabelGroup            = "LabelGroup"
	CmdLinkIdentity          = "LinkIdentity"
	CmdUnlinkIdentity        = "UnlinkIdentity"
)

// RegisterEstablishment opens an establishment.
func (h *Handlers) RegisterEstablishment(ctx context.Context, req Request, cmd domain.RegisterEstablishment) (res Result, err error) {
	defer h.observe(CmdRegisterEstablishment, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRegisterEstablishment, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, uuid.Nil, domain.EstablishmentStream(cmd.UAI), func(_ context.Context, est *domain.Establishment) (string, []domain.Event, error) {
		events, err := est.Register(c.actor, cmd)
		return cmd.UAI, events, err
	})
}

// RecordFeedKey records the id a directory feed gives an establishment; it
// appends nothing when the establishment already has that key.
func (h *Handlers) RecordFeedKey(ctx context.Context, req Request, cmd domain.RecordFeedKey) (res Result, err error) {
	defer h.observe(CmdRecordFeedKey, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordFeedKey, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, uuid.Nil, domain.EstablishmentStream(cmd.UAI), func(_ context.Context, est *domain.Establishment) (string, []domain.Event, error) {
		events, err := est.RecordFeedKey(c.actor, cmd)
		return cmd.UAI, events, err
	})
}

// OpenAccount opens an account; an unset cmd.Account gets a new id.
func (h *Handlers) OpenAccount(ctx context.Context, req Request, cmd domain.OpenAccount) (res Result, err error) {
	defer h.observe(CmdOpenAccount, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdOpenAccount, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Account = c.newID(cmd.Account)
	return execute(ctx, c, cmd.Account, domain.AccountStream(cmd.Account), func(ctx context.Context, acc *domain.Account) (string, []domain.Event, error) {
		var est domain.Establishment
		if cmd.Establishment != "" {
			if err := c.loadInto(ctx, domain.EstablishmentStream(cmd.Establishment), &est); err != nil {
				return "", nil, err
			}
		}
		events, err := acc.Open(c.actor, &est, cmd)
		return cmd.Establishment, events, err
	})
}

// UpdateAccount changes an account's directory attributes; it appends
// nothing when nothing changes.
func (h *Handlers) UpdateAccount(ctx context.Context, req Request, cmd domain.UpdateAccount) (res Result, err error) {
	defer h.observe(CmdUpdateAccount, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdUpdateAccount, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Account, domain.AccountStream(cmd.Account), func(ctx context.Context, acc *domain.Account) (string, []domain.Event, error) {
		var est domain.Establishment
		if cmd.Establishment != "" {
			if err := c.loadInto(ctx, domain.EstablishmentStream(cmd.Establishment), &est); err != nil {
				return "", nil, err
			}
		}
		events, err := acc.Update(c.actor, &est, cmd)
		return cmd.Establishment, events, err
	})
}

// accountCommand runs a decision on one account's stream.
func (h *Handlers) accountCommand(ctx context.Context, req Request, name string, payload any, account uuid.UUID, decide func(c *call, acc *domain.Account) ([]domain.Event, error)) (Result, error) {
	c, err := h.begin(ctx, req, name, payload)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, account, domain.AccountStream(account), func(_ context.Context, acc *domain.Account) (string, []domain.Event, error) {
		events, err := decide(c, acc)
		return acc.Establishment, events, err
	})
}

// ActivateAccount marks an account's first use.
func (h *Handlers) ActivateAccount(ctx context.Context, req Request, cmd domain.ActivateAccount) (res Result, err error) {
	defer h.observe(CmdActivateAccount, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.accountCommand(ctx, req, CmdActivateAccount, cmd, cmd.Account, func(c *call, acc *domain.Account) ([]domain.Event, error) {
		return acc.Activate(c.actor, cmd.Account)
	})
}

// CloseAccount closes an account.
func (h *Handlers) CloseAccount(ctx context.Context, req Request, cmd domain.CloseAccount) (res Result, err error) {
	defer h.observe(CmdCloseAccount, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.accountCommand(ctx, req, CmdCloseAccount, cmd, cmd.Account, func(c *call, acc *domain.Account) ([]domain.Event, error) {
		return acc.Close(c.actor, cmd.Account, cmd.Reason)
	})
}

// HabilitateInspector sets the establishments an inspector may audit.
func (h *Handlers) HabilitateInspector(ctx context.Context, req Request, cmd domain.HabilitateInspector) (res Result, err error) {
	defer h.observe(CmdHabilitateInspector, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.accountCommand(ctx, req, CmdHabilitateInspector, cmd, cmd.Account, func(c *call, acc *domain.Account) ([]domain.Event, error) {
		return acc.Habilitate(c.actor, cmd.Account, cmd.Establishments)
	})
}

// LinkRelative links a relative to a student (on the student's stream).
func (h *Handlers) LinkRelative(ctx context.Context, req Request, cmd domain.LinkRelative) (res Result, err error) {
	defer h.observe(CmdLinkRelative, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdLinkRelative, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Student, domain.AccountStream(cmd.Student), func(ctx context.Context, student *domain.Account) (string, []domain.Event, error) {
		var rel domain.Account
		if err := c.loadInto(ctx, domain.AccountStream(cmd.Relative), &rel); err != nil {
			return "", nil, err
		}
		events, err := student.LinkRelative(c.actor, &rel, cmd)
		return student.Establishment, events, err
	})
}

// UnlinkRelative removes a relative's link to a student.
func (h *Handlers) UnlinkRelative(ctx context.Context, req Request, cmd domain.UnlinkRelative) (res Result, err error) {
	defer h.observe(CmdUnlinkRelative, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.accountCommand(ctx, req, CmdUnlinkRelative, cmd, cmd.Student, func(c *call, acc *domain.Account) ([]domain.Event, error) {
		return acc.UnlinkRelative(c.actor, cmd.Student, cmd.Relative)
	})
}

// CreateGroup creates a class or teaching group; an unset cmd.Group gets a
// new id.
func (h *Handlers) CreateGroup(ctx context.Context, req Request, cmd domain.CreateGroup) (res Result, err error) {
	defer h.observe(CmdCreateGroup, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdCreateGroup, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Group = c.newID(cmd.Group)
	return execute(ctx, c, cmd.Group, domain.GroupStream(cmd.Group), func(ctx context.Context, g *domain.Group) (string, []domain.Event, error) {
		var est domain.Establishment
		if err := c.loadInto(ctx, domain.EstablishmentStream(cmd.Establishment), &est); err != nil {
			return "", nil, err
		}
		events, err := g.Create(c.actor, &est, cmd)
		return cmd.Establishment, events, err
	})
}

// JoinGroup puts an account in a group in a role.
func (h *Handlers) JoinGroup(ctx context.Context, req Request, cmd domain.JoinGroup) (res Result, err error) {
	defer h.observe(CmdJoinGroup, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdJoinGroup, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Group, domain.GroupStream(cmd.Group), func(ctx context.Context, g *domain.Group) (string, []domain.Event, error) {
		var member domain.Account
		if err := c.loadInto(ctx, domain.AccountStream(cmd.Account), &member); err != nil {
			return "", nil, err
		}
		events, err := g.Join(c.actor, &member, cmd)
		return g.Establishment, events, err
	})
}

// LabelGroup changes the label a group is shown with; it appends nothing
// when the label does not change.
func (h *Handlers) LabelGroup(ctx context.Context, req Request, cmd domain.LabelGroup) (res Result, err error) {
	defer h.observe(CmdLabelGroup, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdLabelGroup, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Group, domain.GroupStream(cmd.Group), func(_ context.Context, g *domain.Group) (string, []domain.Event, error) {
		events, err := g.LabelGroup(c.actor, cmd)
		return g.Establishment, events, err
	})
}

// LeaveGroup removes an account from a group role.
func (h *Handlers) LeaveGroup(ctx context.Context, req Request, cmd domain.LeaveGroup) (res Result, err error) {
	defer h.observe(CmdLeaveGroup, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdLeaveGroup, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Group, domain.GroupStream(cmd.Group), func(_ context.Context, g *domain.Group) (string, []domain.Event, error) {
		g.ID = cmd.Group
		events, err := g.Leave(c.actor, cmd.Account, cmd.Role)
		return g.Establishment, events, err
	})
}

// RecordConnection appends the "user connected" event of a successful
// sign-in by req.Actor. Connections have their own stream per account so
// that sign-ins never conflict with directory changes.
func (h *Handlers) RecordConnection(ctx context.Context, req Request, cmd domain.RecordConnection) (res Result, err error) {
	defer h.observe(CmdRecordConnection, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordConnection, cmd)
	if err != nil {
		return Result{}, err
	}
	var acc domain.Account
	if err := c.loadInto(ctx, domain.AccountStream(req.Actor), &acc); err != nil {
		return Result{}, err
	}
	events, err := acc.RecordConnection(cmd.Method)
	if err != nil {
		return Result{}, err
	}
	return c.append(ctx, req.Actor, domain.ConnectionsStream(req.Actor), domain.AnyVersion(), acc.Establishment, events)
}

// Command names of the timetable.
const (
	CmdScheduleLesson   = "ScheduleLesson"
	CmdUnscheduleLesson = "UnscheduleLesson"
)

// ScheduleLesson puts a weekly lesson in a group's timetable; an unset
// cmd.Entry gets a new id.
func (h *Handlers) ScheduleLesson(ctx context.Context, req Request, cmd domain.ScheduleLesson) (res Result, err error) {
	defer h.observe(CmdScheduleLesson, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdScheduleLesson, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Entry = c.newID(cmd.Entry)
	return execute(ctx, c, cmd.Entry, domain.GroupStream(cmd.Group), func(_ context.Context, g *domain.Group) (string, []domain.Event, error) {
		events, err := g.Schedule(c.actor, cmd)
		return g.Establishment, events, err
	})
}

// UnscheduleLesson removes a timetable entry.
func (h *Handlers) UnscheduleLesson(ctx context.Context, req Request, cmd domain.UnscheduleLesson) (res Result, err error) {
	defer h.observe(CmdUnscheduleLesson, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdUnscheduleLesson, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Entry, domain.GroupStream(cmd.Group), func(_ context.Context, g *domain.Group) (string, []domain.Event, error) {
		g.ID = cmd.Group
		events, err := g.Unschedule(c.actor, cmd.Entry)
		return g.Establishment, events, err
	})
}

// LinkIdentity links an external identity (a provider's identifier of a
// person) to an account: the ledger itself when a sign-in's assertion
// matched it (req.System), or an administrator by hand.
func (h *Handlers) LinkIdentity(ctx context.Context, req Request, cmd domain.LinkIdentity) (res Result, err error) {
	defer h.observe(CmdLinkIdentity, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.accountCommand(ctx, req, CmdLinkIdentity, cmd, cmd.Account, func(c *call, acc *domain.Account) ([]domain.Event, error) {
		return acc.LinkIdentity(c.actor, cmd)
	})
}

// UnlinkIdentity removes an external identity's link to an account.
func (h *Handlers) UnlinkIdentity(ctx context.Context, req Request, cmd domain.UnlinkIdentity) (res Result, err error) {
	defer h.observe(CmdUnlinkIdentity, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.accountCommand(ctx, req, CmdUnlinkIdentity, cmd, cmd.Account, func(c *call, acc *domain.Account) ([]domain.Event, error) {
		return acc.UnlinkIdentity(c.actor, cmd)
	})
}
