package commands

import (
	"context"

	"github.com/schoollife/ledger/domain"
)

// Command names of the connected services. Persisted: never rename.
const (
	CmdRegisterService     = "RegisterService"
	CmdUnregisterService   = "UnregisterService"
	CmdRecordServiceAccess = "RecordServiceAccess"
)

// RegisterService registers a service the ledger signs people in to; an
// unset cmd.Service gets a new id, which is an OpenID Connect client's
// client id.
func (h *Handlers) RegisterService(ctx context.Context, req Request, cmd domain.RegisterService) (res Result, err error) {
	defer h.observe(CmdRegisterService, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRegisterService, cmd)
	if err != nil {
		return Result{}, err
	}
	cmd.Service = c.newID(cmd.Service)
	if cmd.Kind == domain.ServiceOIDC {
		// An OpenID Connect client's id is its service's: unique, and
		// the same on a retry with the same idempotency key.
		cmd.ClientID = cmd.Service.String()
	}
	var est domain.Establishment
	if err := c.loadInto(ctx, domain.EstablishmentStream(cmd.Establishment), &est); err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Service, domain.ServiceStream(cmd.Service), func(_ context.Context, s *domain.Service) (string, []domain.Event, error) {
		events, err := s.Register(c.actor, &est, cmd)
		return cmd.Establishment, events, err
	})
}

// UnregisterService removes a service: it gets no ticket any more.
func (h *Handlers) UnregisterService(ctx context.Context, req Request, cmd domain.UnregisterService) (res Result, err error) {
	defer h.observe(CmdUnregisterService, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdUnregisterService, cmd)
	if err != nil {
		return Result{}, err
	}
	return execute(ctx, c, cmd.Service, domain.ServiceStream(cmd.Service), func(_ context.Context, s *domain.Service) (string, []domain.Event, error) {
		events, err := s.Unregister(c.actor, cmd.Service)
		return s.Establishment, events, err
	})
}

// RecordServiceAccess appends the access of req.Actor to a service, in the
// actor's connections stream (as sign-ins are, so that accesses never
// conflict with one another or with the service's registration).
func (h *Handlers) RecordServiceAccess(ctx context.Context, req Request, cmd domain.RecordServiceAccess) (res Result, err error) {
	defer h.observe(CmdRecordServiceAccess, &res, &err)
	if err := h.validate(cmd); err != nil {
		return Result{}, err
	}
	c, err := h.begin(ctx, req, CmdRecordServiceAccess, cmd)
	if err != nil {
		return Result{}, err
	}
	var acc domain.Account
	if err := c.loadInto(ctx, domain.AccountStream(req.Actor), &acc); err != nil {
		return Result{}, err
	}
	var svc domain.Service
	if err := c.loadInto(ctx, domain.ServiceStream(cmd.Service), &svc); err != nil {
		return Result{}, err
	}
	events, err := acc.RecordAccess(&svc, cmd)
	if err != nil {
		return Result{}, err
	}
	return c.append(ctx, cmd.Service, domain.ConnectionsStream(req.Actor), domain.AnyVersion(), svc.Establishment, events)
}
