package visibility_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
)

// TestChangesViewsAgreesWithChangeOf: the cheap check by type name and
// the rule on decoded events name the same types, for every registered
// type.
func TestChangesViewsAgreesWithChangeOf(t *testing.T) {
	reg := domain.NewRegistry()
	n := 0
	for _, typ := range reg.Types() {
		e, err := reg.Decode(typ, []byte("{}"))
		if err != nil {
			t.Fatalf("decode an empty %s: %v", typ, err)
		}
		_, ok := visibility.ChangeOf(e)
		if ok != visibility.ChangesViews(typ) {
			t.Errorf("%s: ChangeOf says %v, ChangesViews %v", typ, ok, visibility.ChangesViews(typ))
		}
		if ok {
			n++
		}
	}
	if n != 7 {
		t.Errorf("%d types change views, want 7", n)
	}
}

func TestChangeOf(t *testing.T) {
	student, relative, group := uuid.New(), uuid.New(), uuid.New()
	for _, tc := range []struct {
		name string
		e    domain.Event
		want visibility.Change
		ok   bool
	}{
		{"link", domain.RelativeLinked{Student: student, Relative: relative}, visibility.Change{Account: relative}, true},
		{"unlink", domain.RelativeUnlinked{Student: student, Relative: relative}, visibility.Change{Account: relative}, true},
		{"join", domain.MemberJoined{Group: group, Account: student}, visibility.Change{Account: student, Followers: true}, true},
		{"leave", domain.MemberLeft{Group: group, Account: student}, visibility.Change{Account: student, Followers: true}, true},
		{"closure", domain.AccountClosed{Account: student}, visibility.Change{Account: student, Followers: true}, true},
		{"update", domain.AccountUpdated{Account: student}, visibility.Change{Account: student, Followers: true}, true},
		{"habilitation", domain.InspectorHabilitated{Account: relative}, visibility.Change{Account: relative}, true},
		{"an absence", domain.AbsenceRecorded{Student: student, Group: group}, visibility.Change{}, false},
		{"a group created", domain.GroupCreated{Group: group}, visibility.Change{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := visibility.ChangeOf(tc.e)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ChangeOf = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
