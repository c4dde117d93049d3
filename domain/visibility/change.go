package visibility

import (
	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Change names an account whose view of the ledger an event changes, and
// whether the viewers who follow that account (a student's relatives)
// change with it.
type Change struct {
	Account   uuid.UUID
	Followers bool
}

// ChangeOf tells whose view e changes, if anyone's. What a viewer sees
// depends on their profile, establishment, closure, memberships and
// children, and on their children's memberships (Viewer, NewReach), so:
//
//   - a link made or removed changes the relative's children;
//   - a membership changes the member's groups, and the classes their
//     relatives follow;
//   - a closure, an update (establishment, function) or a habilitation
//     changes the account, and what its relatives see of it.
//
// Live sockets are re-filtered on these (adapters/live).
func ChangeOf(e domain.Event) (Change, bool) {
	switch e := e.(type) {
	case domain.RelativeLinked:
		return Change{Account: e.Relative}, true
	case domain.RelativeUnlinked:
		return Change{Account: e.Relative}, true
	case domain.MemberJoined:
		return Change{Account: e.Account, Followers: true}, true
	case domain.MemberLeft:
		return Change{Account: e.Account, Followers: true}, true
	case domain.AccountClosed:
		return Change{Account: e.Account, Followers: true}, true
	case domain.AccountUpdated:
		return Change{Account: e.Account, Followers: true}, true
	case domain.InspectorHabilitated:
		return Change{Account: e.Account}, true
	}
	return Change{}, false
}

// ChangesViews reports whether events of type typ may change someone's
// view (ChangeOf), without decoding one: the hub asks it of every event. A
// test checks it against ChangeOf for every registered type.
func ChangesViews(typ string) bool {
	switch typ {
	case domain.RelativeLinked{}.EventType(), domain.RelativeUnlinked{}.EventType(),
		domain.MemberJoined{}.EventType(), domain.MemberLeft{}.EventType(),
		domain.AccountClosed{}.EventType(), domain.AccountUpdated{}.EventType(),
		domain.InspectorHabilitated{}.EventType():
		return true
	}
	return false
}
