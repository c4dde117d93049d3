package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestLinkIdentity: who links an identity, how, and what is refused.
func TestLinkIdentity(t *testing.T) {
	const uai = "0130001A"
	id := uuid.New()
	open := func(events ...domain.Event) *domain.Account {
		a := &domain.Account{}
		a.Apply(domain.AccountOpened{Account: id, Establishment: uai, Profile: domain.ProfileRelative, DisplayName: "Claire Durand"})
		for _, e := range events {
			a.Apply(e)
		}
		return a
	}
	admin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: uai}
	otherAdmin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0130002B"}
	self := domain.Actor{Account: id, Profile: domain.ProfileRelative, Establishment: uai}
	matched := domain.LinkIdentity{Account: id, Provider: "educonnect", Subject: "abc", How: domain.IdentityMatched, Attribute: "FrEduVecteur"}
	byHand := domain.LinkIdentity{Account: id, Provider: "educonnect", Subject: "abc", How: domain.IdentityByAdministrator}
	linked := domain.IdentityLinked(matched)
	for _, c := range []struct {
		name  string
		acc   *domain.Account
		actor domain.Actor
		cmd   domain.LinkIdentity
		want  error
	}{
		{"matched by the ledger", open(), domain.SystemActor(), matched, nil},
		{"by an administrator", open(), admin, byHand, nil},
		{"an administrator cannot claim a match", open(), admin, matched, domain.ErrInvalid},
		{"by hand names no attribute", open(), admin, func() domain.LinkIdentity { c := byHand; c.Attribute = "x"; return c }(), domain.ErrInvalid},
		{"not by the person", open(), self, byHand, domain.ErrForbidden},
		{"not by another establishment's administrator", open(), otherAdmin, byHand, domain.ErrForbidden},
		{"twice", open(linked), admin, byHand, domain.ErrIdentityLinked},
		{"again after an unlink", open(linked, domain.IdentityUnlinked{Account: id, Provider: "educonnect", Subject: "abc"}), admin, byHand, nil},
		{"a closed account", open(domain.AccountClosed{Account: id}), admin, byHand, domain.ErrAccountClosed},
		{"an unknown account", &domain.Account{}, admin, byHand, domain.ErrUnknownAccount},
		{"a bad provider name", open(), admin, func() domain.LinkIdentity { c := byHand; c.Provider = "EduConnect"; return c }(), domain.ErrInvalid},
		{"a subject too long", open(), admin, func() domain.LinkIdentity { c := byHand; c.Subject = strings.Repeat("x", 257); return c }(), domain.ErrInvalid},
		{"an untrimmed subject", open(), admin, func() domain.LinkIdentity { c := byHand; c.Subject = " abc"; return c }(), domain.ErrInvalid},
		{"an unknown way", open(), admin, func() domain.LinkIdentity { c := byHand; c.How = "guessed"; return c }(), domain.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			events, err := c.acc.LinkIdentity(c.actor, c.cmd)
			if c.want != nil {
				if !errors.Is(err, c.want) || events != nil {
					t.Fatalf("%v %v, want %v", events, err, c.want)
				}
				return
			}
			if err != nil || len(events) != 1 || events[0] != domain.Event(domain.IdentityLinked(c.cmd)) {
				t.Fatalf("%v %v", events, err)
			}
		})
	}
	un := domain.UnlinkIdentity{Account: id, Provider: "educonnect", Subject: "abc"}
	if _, err := open().UnlinkIdentity(admin, un); !errors.Is(err, domain.ErrIdentityNotLinked) {
		t.Fatalf("unlink what is not linked: %v", err)
	}
	if _, err := open(linked).UnlinkIdentity(self, un); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("unlink by the person: %v", err)
	}
	if ev, err := open(linked, domain.AccountClosed{Account: id}).UnlinkIdentity(admin, un); err != nil || len(ev) != 1 {
		t.Fatalf("unlink from a closed account: %v %v", ev, err)
	}
}

// TestStudentIDInDetails: only a student has an id in the school's
// software, of letters, digits and dashes.
func TestStudentIDInDetails(t *testing.T) {
	admin := domain.Actor{Profile: domain.ProfileAdmin}
	est := &domain.Establishment{Exists: true, UAI: "0130001A"}
	for _, c := range []struct {
		profile domain.Profile
		sid     string
		ok      bool
	}{
		{domain.ProfileStudent, "1234567", true},
		{domain.ProfileStudent, "DEMO-0001", true},
		{domain.ProfileStudent, "12 34", false},
		{domain.ProfileStudent, strings.Repeat("1", 33), false},
		{domain.ProfileRelative, "1234567", false},
	} {
		a := &domain.Account{}
		_, err := a.Open(admin, est, domain.OpenAccount{Account: uuid.New(), Establishment: "0130001A", Profile: c.profile,
			DisplayName: "X", Details: domain.AccountDetails{StudentID: c.sid}})
		if (err == nil) != c.ok {
			t.Errorf("%s %q: %v", c.profile, c.sid, err)
		}
	}
}
