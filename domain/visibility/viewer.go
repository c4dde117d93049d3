// Package visibility is the one rule of who may see what: the JSON API's
// route checks, the portal, the live hub's filter and the notification
// audience all ask it. It is pure: it decides from a Viewer and small
// descriptors of what is read, built by the caller from the directory.
//
// In short: a student reads their own file; a relative their children's
// files and their own mailbox; a teacher the files of the students of the
// groups they teach and those groups' cahiers de textes; personnel (CPE,
// head, secretary...) everything of their establishment; an inspector,
// read-only, the read models, history, past files and exports of the
// establishments they are habilitated for, and nothing else; an evaluator
// the indicators only; an administrator the directory of the
// establishments they administer. Establishments themselves (UAI, name,
// justification reasons) are reference data any signed-in account reads.
package visibility

import (
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Viewer is a signed-in account as the directory knows it: its profile,
// function, establishment and habilitations (the Actor), and its links.
type Viewer struct {
	domain.Actor
	Closed bool
	// Children of a relative.
	Children []uuid.UUID
	// Groups the account belongs to, in any role.
	Groups []Membership
}

// Membership is an account's role in a group.
type Membership struct {
	Group uuid.UUID
	Role  domain.Role
}

// Teaching reports whether the membership is a teacher's.
func (m Membership) Teaching() bool {
	return m.Role == domain.RoleTeacher || m.Role == domain.RoleHeadTeacher
}

// HasChild reports whether student is a child of the viewer.
func (v *Viewer) HasChild(student uuid.UUID) bool { return slices.Contains(v.Children, student) }

// InGroup reports whether the viewer holds one of roles in group (any role
// when none is given).
func (v *Viewer) InGroup(group uuid.UUID, roles ...domain.Role) bool {
	return inGroup(v.Groups, group, roles...)
}

func inGroup(ms []Membership, group uuid.UUID, roles ...domain.Role) bool {
	return slices.ContainsFunc(ms, func(m Membership) bool {
		return m.Group == group && (len(roles) == 0 || slices.Contains(roles, m.Role))
	})
}

// Person is an account as what is read: a student's file, a teacher's or
// a relative's page, a directory entry.
type Person struct {
	ID            uuid.UUID
	Establishment string
	// Groups the person belongs to (a student's classes serve the rule of
	// their teachers).
	Groups []Membership
}

// Group is a class or teaching group as what is read.
type Group struct {
	ID            uuid.UUID
	Establishment string
	Members       []Member
}

// Member is an account in a group role.
type Member struct {
	Account uuid.UUID
	Role    domain.Role
}

// Has reports whether account holds one of roles in the group (any role
// when none is given).
func (g *Group) Has(account uuid.UUID, roles ...domain.Role) bool {
	return slices.ContainsFunc(g.Members, func(m Member) bool {
		return m.Account == account && (len(roles) == 0 || slices.Contains(roles, m.Role))
	})
}

// Teaches reports whether account teaches the group.
func (g *Group) Teaches(account uuid.UUID) bool {
	return g.Has(account, domain.RoleTeacher, domain.RoleHeadTeacher)
}

// Message is a message as what is read: its sender and every account it
// was addressed to (directly or through a group).
type Message struct {
	From       uuid.UUID
	Recipients []uuid.UUID
}

// Access is how much of a shared document a reader sees.
type Access uint8

const (
	// Refused: nothing.
	Refused Access = iota
	// Own: their own part (their own, or their children's, homework
	// state; their own state of a message).
	Own
	// All: every part.
	All
)
