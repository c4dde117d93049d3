package web

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Directory is what the lookups below read (projections.Queries).
type Directory interface {
	Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
	Group(ctx context.Context, id uuid.UUID) (*projections.GroupEntry, error)
	Establishments(ctx context.Context) ([]projections.EstablishmentEntry, error)
	Resources(ctx context.Context, uai string) ([]projections.ResourceEntry, error)
}

// PathGroup returns the group of the path parameter "group".
func PathGroup(r *http.Request, d Directory) (*projections.GroupEntry, error) {
	id, err := PathID(r, "group")
	if err != nil {
		return nil, err
	}
	return d.Group(r.Context(), id)
}

// PathStudent returns the student account of the path parameter "student".
func PathStudent(r *http.Request, d Directory) (*projections.AccountEntry, error) {
	return PathAccount(r, d, "student", domain.ErrUnknownStudent, domain.ProfileStudent)
}

// PathAccount returns the account of path parameter name, which must hold
// one of profiles; notFound otherwise.
func PathAccount(r *http.Request, d Directory, name string, notFound *domain.Error, profiles ...domain.Profile) (*projections.AccountEntry, error) {
	id, err := PathID(r, name)
	if err != nil {
		return nil, err
	}
	acc, err := d.Account(r.Context(), id)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return nil, domain.Errorf(notFound, "%s", id)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range profiles {
		if acc.Profile == p {
			return acc, nil
		}
	}
	return nil, domain.Errorf(notFound, "%s is no %s", id, name)
}

// SubjectEstablishment returns the establishment a history's subject
// belongs to: an account's, a group's, or a resource's.
func SubjectEstablishment(ctx context.Context, d Directory, p *Principal, subject uuid.UUID) (string, error) {
	acc, err := d.Account(ctx, subject)
	if err == nil {
		return acc.Establishment, nil
	}
	if !errors.Is(err, domain.ErrUnknownAccount) {
		return "", err
	}
	g, err := d.Group(ctx, subject)
	if err == nil {
		return g.Establishment, nil
	}
	if !errors.Is(err, domain.ErrUnknownGroup) {
		return "", err
	}
	uai, err := ResourceEstablishment(ctx, d, p, subject)
	if errors.Is(err, domain.ErrUnknownResource) {
		return "", domain.Errorf(domain.ErrNotFound, "no account, group or resource %s", subject)
	}
	return uai, err
}

// ResourceEstablishment finds the establishment of a resource among those
// the reader deals with: their own, those they are habilitated for, every
// one for a global administrator. The read models index resources by
// establishment only; a resource found in none of them is unknown to the
// reader (404).
func ResourceEstablishment(ctx context.Context, d Directory, p *Principal, resource uuid.UUID) (string, error) {
	var uais []string
	if p.actor.Establishment != "" {
		uais = append(uais, p.actor.Establishment)
	}
	uais = append(uais, p.actor.Habilitations...)
	if p.actor.Profile == domain.ProfileAdmin && p.actor.IsAdmin("") {
		ests, err := d.Establishments(ctx)
		if err != nil {
			return "", err
		}
		for _, e := range ests {
			uais = append(uais, e.UAI)
		}
	}
	slices.Sort(uais)
	for _, uai := range slices.Compact(uais) {
		res, err := d.Resources(ctx, uai)
		if err != nil {
			return "", err
		}
		if slices.ContainsFunc(res, func(e projections.ResourceEntry) bool { return e.Resource == resource }) {
			return uai, nil
		}
	}
	return "", domain.Errorf(domain.ErrUnknownResource, "%s", resource)
}
