package directoryimport

import (
	"iter"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Directory is what the diff needs to know of the current directory. It is
// declared here, by its one user; LogDirectory implements it by folding the
// log, and the directory.v1 read model can implement it later.
type Directory interface {
	// AsOf is the log position the answers reflect. Idempotency keys include
	// it: two runs planned from the same state make the same commands (a
	// retried or concurrent run records nothing twice), while the same
	// change planned again later, after it was undone, is a new command.
	AsOf() domain.Position
	// Establishment reports whether uai is registered.
	Establishment(uai string) bool
	// Account returns the account with an external (join) id.
	Account(externalID string) (Account, bool)
	// Accounts yields every account with an external id, closed ones
	// included.
	Accounts() iter.Seq[Account]
	// Group returns the group of establishment uai with kind and name.
	Group(uai string, kind domain.GroupKind, name string) (Group, bool)
	// Structure returns the establishment an earlier feed gave the key
	// (its structure id), and FeedKey the key of an establishment.
	Structure(feedKey string) (string, bool)
	FeedKey(uai string) string
	// SubjectLabel returns the label of a subject code, as earlier imports
	// gave it to a membership.
	SubjectLabel(code string) (string, bool)
	// ChildrenOf returns the external ids of the students a relative is
	// linked to.
	ChildrenOf(relative uuid.UUID) []string
}

// Account is an account of the directory, as the diff sees it.
type Account struct {
	ID            uuid.UUID
	ExternalID    string
	Establishment string
	Profile       domain.Profile
	Function      domain.Function
	DisplayName   string
	Details       domain.AccountDetails
	Closed        bool
	// Missing is set while the account is flagged missing from the feeds,
	// since MissingSince.
	Missing      bool
	MissingSince time.Time
	// Memberships are the account's roles in groups.
	Memberships []AccountMembership
	// Relatives of a student.
	Relatives []AccountRelative
}

// AccountMembership is a role an account holds in a group.
type AccountMembership struct {
	Group        Group
	Role         domain.Role
	Subject      string
	SubjectCodes []string
}

// AccountRelative is a relative linked to a student.
type AccountRelative struct {
	Account    uuid.UUID
	ExternalID string
	domain.RelativeLink
}

// Group is a class or teaching group of the directory.
type Group struct {
	ID            uuid.UUID
	Establishment string
	Kind          domain.GroupKind
	Name          string
	Label         string
}
