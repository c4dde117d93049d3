package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Command names of the resource aggregate.
const (
	CmdRegisterResource = "RegisterResource"
	CmdRequestBooking   = "RequestBooking"
	CmdApproveBooking   = "ApproveBooking"
	CmdRefuseBooking    = "RefuseBooking"
	CmdCancelBooking    = "CancelBooking"
)

// RegisterResource makes a room or equipment bookable; an unset
// cmd.Resource gets a new id.
func (h *Handlers) RegisterResource(ctx context.Context, req Request, cmd domain.RegisterResource) (res Result, err error) {
	defer h.observe(CmdRegisterResource, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRegisterResource, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Resource = c.newID(cmd.Resource)
	return execute(ctx, c, cmd.Resource, domain.ResourceStream(cmd.Resource), func(ctx context.Context, r *domain.Resource) (string, []domain.Event, error) {
		var est domain.Establishment
		if err := c.loadInto(ctx, domain.EstablishmentStream(cmd.Establishment), &est); err != nil {
			return "", nil, err
		}
		events, err := r.Register(c.actor, &est, cmd)
		return cmd.Establishment, events, err
	})
}

// RequestBooking books a resource, once or weekly; an unset cmd.Booking gets
// a new id, which the result carries. The booking lives in the resource's
// stream, so that two requests for one slot conflict on append and the
// second one sees the first.
func (h *Handlers) RequestBooking(ctx context.Context, req Request, cmd domain.RequestBooking) (res Result, err error) {
	defer h.observe(CmdRequestBooking, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRequestBooking, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Booking = c.newID(cmd.Booking)
	loc := domain.Paris()
	return execute(ctx, c, cmd.Booking, domain.ResourceStream(cmd.Resource), func(_ context.Context, r *domain.Resource) (string, []domain.Event, error) {
		events, err := r.RequestBooking(c.actor, loc, cmd)
		return r.Establishment, events, err
	})
}

// bookingCommand runs a decision on a booking of a resource.
func (h *Handlers) bookingCommand(ctx context.Context, req Request, name string, payload any, resource, booking uuid.UUID, decide func(c *call, r *domain.Resource) ([]domain.Event, error)) (Result, error) {
	c, err := h.begin(ctx, req, name, payload)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, booking, domain.ResourceStream(resource), func(_ context.Context, r *domain.Resource) (string, []domain.Event, error) {
		events, err := decide(c, r)
		return r.Establishment, events, err
	})
}

// ApproveBooking approves a pending booking.
func (h *Handlers) ApproveBooking(ctx context.Context, req Request, cmd domain.ApproveBooking) (res Result, err error) {
	defer h.observe(CmdApproveBooking, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	loc := domain.Paris()
	return h.bookingCommand(ctx, req, CmdApproveBooking, cmd, cmd.Resource, cmd.Booking, func(c *call, r *domain.Resource) ([]domain.Event, error) {
		return r.ApproveBooking(c.actor, loc, cmd)
	})
}

// RefuseBooking refuses a pending booking.
func (h *Handlers) RefuseBooking(ctx context.Context, req Request, cmd domain.RefuseBooking) (res Result, err error) {
	defer h.observe(CmdRefuseBooking, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.bookingCommand(ctx, req, CmdRefuseBooking, cmd, cmd.Resource, cmd.Booking, func(c *call, r *domain.Resource) ([]domain.Event, error) {
		return r.RefuseBooking(c.actor, cmd)
	})
}

// CancelBooking cancels a pending or approved booking, freeing its slots.
func (h *Handlers) CancelBooking(ctx context.Context, req Request, cmd domain.CancelBooking) (res Result, err error) {
	defer h.observe(CmdCancelBooking, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	return h.bookingCommand(ctx, req, CmdCancelBooking, cmd, cmd.Resource, cmd.Booking, func(c *call, r *domain.Resource) ([]domain.Event, error) {
		return r.CancelBooking(c.actor, cmd)
	})
}
