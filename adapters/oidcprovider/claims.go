package oidcprovider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Claims a client may be given (Client.Attributes): the names of the
// attributes the CAS server releases, so that a service reads the same
// whichever protocol it speaks.
const (
	ClaimLogin         = "ENTPersonLogin"
	ClaimDisplayName   = "displayName"
	ClaimProfile       = "ENTPersonProfils"
	ClaimEstablishment = "ENTPersonStructRattachRNE"
	ClaimClasses       = "ENTEleveClasses"
	ClaimGroups        = "ENTPersonGroupes"
	ClaimJointure      = "ENTPersonJointure"
)

// AllClaims lists the claims a client may be given.
var AllClaims = []string{ClaimLogin, ClaimDisplayName, ClaimProfile, ClaimEstablishment, ClaimClasses, ClaimGroups, ClaimJointure}

// errClosed refuses the claims of a closed account.
var errClosed = errors.New("account closed")

// fill sets the claims of account for client: "sub" always; with the
// "profile" scope, the attributes the client was registered with, and
// the standard "name" and "preferred_username" beside displayName and
// ENTPersonLogin.
func (p *Provider) fill(ctx context.Context, info *oidc.UserInfo, account, clientID string, scopes []string) error {
	id, err := uuid.Parse(account)
	if err != nil {
		return fmt.Errorf("subject %q: %w", account, err)
	}
	person, err := p.cfg.People.Person(ctx, id)
	if err != nil {
		return fmt.Errorf("person %s: %w", id, err)
	}
	if person.Closed {
		return fmt.Errorf("person %s: %w", id, errClosed)
	}
	info.Subject = id.String()
	if !slices.Contains(scopes, oidc.ScopeProfile) {
		return nil
	}
	client, err := p.cfg.Clients.Client(ctx, clientID)
	if err != nil {
		return fmt.Errorf("client %q: %w", clientID, err)
	}
	one := func(name, v string) {
		if v != "" {
			info.AppendClaims(name, v)
		}
	}
	many := func(name string, v []string) {
		if len(v) > 0 {
			info.AppendClaims(name, v)
		}
	}
	for _, c := range client.Attributes {
		switch c {
		case ClaimLogin:
			info.PreferredUsername = person.Login
			one(c, person.Login)
		case ClaimDisplayName:
			info.Name = person.DisplayName
			one(c, person.DisplayName)
		case ClaimProfile:
			one(c, person.Profile)
		case ClaimEstablishment:
			one(c, person.Establishment)
		case ClaimClasses:
			many(c, person.Classes)
		case ClaimGroups:
			many(c, person.Groups)
		case ClaimJointure:
			one(c, person.Jointure)
		}
	}
	return nil
}
