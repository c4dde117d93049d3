package visibility_test

import (
	"slices"
	"sort"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
)

// The school of the tables: alice and bob are students of 6A, carol of 6B,
// all three of uai; parent is alice's relative; teacherA teaches 6A,
// teacherB 6B; cpe is personnel of uai, cpeOther of another school;
// inspector is habilitated for uai, inspectorOther for the other school.
var (
	id                     = func(s string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s)) }
	uai, otherUAI          = "0750001A", "0750002B"
	classA, classB         = id("6A"), id("6B")
	alice, bob, carol      = id("alice"), id("bob"), id("carol")
	parent, teacherA       = id("parent"), id("teacherA")
	teacherB, cpe          = id("teacherB"), id("cpe")
	cpeOther, inspector    = id("cpeOther"), id("inspector")
	inspectorOther, evalID = id("inspectorOther"), id("evaluator")
	adminID, globalAdmin   = id("admin"), id("global admin")
	guest                  = id("guest")
)

func student(acc uuid.UUID, group uuid.UUID) visibility.Viewer {
	return visibility.Viewer{
		Actor:  domain.Actor{Account: acc, Profile: domain.ProfileStudent, Establishment: uai},
		Groups: []visibility.Membership{{Group: group, Role: domain.RoleStudent}},
	}
}

// viewers are every kind of viewer the rules tell apart.
func viewers() map[string]visibility.Viewer {
	return map[string]visibility.Viewer{
		"alice": student(alice, classA),
		"carol": student(carol, classB),
		"parent": {
			Actor:    domain.Actor{Account: parent, Profile: domain.ProfileRelative, Establishment: uai},
			Children: []uuid.UUID{alice},
		},
		"teacherA": {
			Actor:  domain.Actor{Account: teacherA, Profile: domain.ProfileTeacher, Establishment: uai},
			Groups: []visibility.Membership{{Group: classA, Role: domain.RoleTeacher}},
		},
		"teacherB": {
			Actor:  domain.Actor{Account: teacherB, Profile: domain.ProfileTeacher, Establishment: uai},
			Groups: []visibility.Membership{{Group: classB, Role: domain.RoleHeadTeacher}},
		},
		"cpe":            {Actor: domain.Actor{Account: cpe, Profile: domain.ProfilePersonnel, Function: domain.FunctionCPE, Establishment: uai}},
		"cpeOther":       {Actor: domain.Actor{Account: cpeOther, Profile: domain.ProfilePersonnel, Establishment: otherUAI}},
		"inspector":      {Actor: domain.Actor{Account: inspector, Profile: domain.ProfileInspector, Habilitations: []string{uai}}},
		"inspectorOther": {Actor: domain.Actor{Account: inspectorOther, Profile: domain.ProfileInspector, Habilitations: []string{otherUAI}}},
		"evaluator":      {Actor: domain.Actor{Account: evalID, Profile: domain.ProfileEvaluator}},
		"admin":          {Actor: domain.Actor{Account: adminID, Profile: domain.ProfileAdmin, Establishment: uai}},
		"globalAdmin":    {Actor: domain.Actor{Account: globalAdmin, Profile: domain.ProfileAdmin}},
		"guest":          {Actor: domain.Actor{Account: guest, Profile: domain.ProfileGuest, Establishment: uai}},
	}
}

// Resources of the tables.
var (
	aliceFile    = &visibility.Person{ID: alice, Establishment: uai, Groups: []visibility.Membership{{Group: classA, Role: domain.RoleStudent}}}
	carolFile    = &visibility.Person{ID: carol, Establishment: uai, Groups: []visibility.Membership{{Group: classB, Role: domain.RoleStudent}}}
	teacherAPage = &visibility.Person{ID: teacherA, Establishment: uai, Groups: []visibility.Membership{{Group: classA, Role: domain.RoleTeacher}}}
	parentPage   = &visibility.Person{ID: parent, Establishment: uai}
	groupA       = &visibility.Group{ID: classA, Establishment: uai, Members: []visibility.Member{
		{Account: alice, Role: domain.RoleStudent}, {Account: bob, Role: domain.RoleStudent}, {Account: teacherA, Role: domain.RoleTeacher},
	}}
	groupB = &visibility.Group{ID: classB, Establishment: uai, Members: []visibility.Member{
		{Account: carol, Role: domain.RoleStudent}, {Account: teacherB, Role: domain.RoleHeadTeacher},
	}}
)

// allowed runs rule for every viewer and checks exactly want are allowed.
func allowed(t *testing.T, want []string, rule func(v *visibility.Viewer) bool) {
	t.Helper()
	var got []string
	for name, v := range viewers() {
		if rule(&v) {
			got = append(got, name)
		}
	}
	sort.Strings(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("allowed %v, want %v", got, want)
	}
}

// personRule is a table of one rule about people.
func personRule(t *testing.T, rule func(v *visibility.Viewer, p *visibility.Person) bool, cases map[*visibility.Person][]string) {
	t.Helper()
	for p, want := range cases {
		t.Run(p.ID.String(), func(t *testing.T) {
			allowed(t, want, func(v *visibility.Viewer) bool { return rule(v, p) })
		})
	}
}

// uaiRule is a table of one rule about an establishment.
func uaiRule(t *testing.T, rule func(v *visibility.Viewer, uai string) bool, cases map[string][]string) {
	t.Helper()
	for u, want := range cases {
		t.Run(u, func(t *testing.T) {
			allowed(t, want, func(v *visibility.Viewer) bool { return rule(v, u) })
		})
	}
}

func TestMayReadStudent(t *testing.T) {
	personRule(t, (*visibility.Viewer).MayReadStudent, map[*visibility.Person][]string{
		aliceFile: {"alice", "parent", "teacherA", "cpe", "inspector"},
		carolFile: {"carol", "teacherB", "cpe", "inspector"},
	})
}

func TestMayReadTeacher(t *testing.T) {
	personRule(t, (*visibility.Viewer).MayReadTeacher, map[*visibility.Person][]string{
		teacherAPage: {"teacherA", "cpe", "inspector"},
	})
}

func TestMayReadRelative(t *testing.T) {
	personRule(t, (*visibility.Viewer).MayReadRelative, map[*visibility.Person][]string{
		parentPage: {"parent"},
	})
}

func TestMayReadAccount(t *testing.T) {
	personRule(t, (*visibility.Viewer).MayReadAccount, map[*visibility.Person][]string{
		aliceFile:    {"alice", "parent", "teacherA", "cpe", "inspector", "admin", "globalAdmin"},
		carolFile:    {"carol", "teacherB", "cpe", "inspector", "admin", "globalAdmin"},
		teacherAPage: {"teacherA", "cpe", "inspector", "admin", "globalAdmin"},
		parentPage:   {"parent", "cpe", "inspector", "admin", "globalAdmin"},
	})
}

func TestMayReadGroup(t *testing.T) {
	for g, want := range map[*visibility.Group][]string{
		groupA: {"alice", "teacherA", "cpe", "inspector", "admin", "globalAdmin"},
		groupB: {"carol", "teacherB", "cpe", "inspector", "admin", "globalAdmin"},
	} {
		t.Run(g.ID.String(), func(t *testing.T) {
			allowed(t, want, func(v *visibility.Viewer) bool { return v.MayReadGroup(g) })
		})
	}
}

func TestTextbookAccess(t *testing.T) {
	for g, want := range map[*visibility.Group]map[visibility.Access][]string{
		groupA: {visibility.All: {"teacherA", "cpe", "inspector"}, visibility.Own: {"alice", "parent"}},
		groupB: {visibility.All: {"teacherB", "cpe", "inspector"}, visibility.Own: {"carol"}},
	} {
		t.Run(g.ID.String(), func(t *testing.T) {
			for _, access := range []visibility.Access{visibility.Refused, visibility.Own, visibility.All} {
				if access == visibility.Refused {
					continue
				}
				allowed(t, want[access], func(v *visibility.Viewer) bool { return v.TextbookAccess(g) == access })
			}
		})
	}
}

func TestVisibleStudents(t *testing.T) {
	vs := viewers()
	for name, want := range map[string][]uuid.UUID{
		"alice":    {alice},
		"parent":   {parent, alice},
		"teacherA": {teacherA},
	} {
		v := vs[name]
		if got := v.VisibleStudents(); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestMayListGroups(t *testing.T) {
	uaiRule(t, (*visibility.Viewer).MayListGroups, map[string][]string{
		uai:      {"teacherA", "teacherB", "cpe", "inspector", "admin", "globalAdmin"},
		otherUAI: {"cpeOther", "inspectorOther", "globalAdmin"},
	})
}

func TestMayReadOffice(t *testing.T) {
	uaiRule(t, (*visibility.Viewer).MayReadOffice, map[string][]string{
		uai:      {"cpe", "inspector"},
		otherUAI: {"cpeOther", "inspectorOther"},
	})
}

func TestMayReadNews(t *testing.T) {
	uaiRule(t, (*visibility.Viewer).MayReadNews, map[string][]string{
		uai:      {"alice", "carol", "parent", "teacherA", "teacherB", "cpe", "guest", "inspector"},
		otherUAI: {"cpeOther", "inspectorOther"},
	})
}

func TestHasMailbox(t *testing.T) {
	allowed(t, []string{"alice", "carol", "parent", "teacherA", "teacherB", "cpe", "cpeOther", "guest", "admin", "globalAdmin"},
		(*visibility.Viewer).HasMailbox)
}

func TestMessageAccess(t *testing.T) {
	m := &visibility.Message{From: teacherA, Recipients: []uuid.UUID{parent, alice}}
	allowed(t, []string{"teacherA"}, func(v *visibility.Viewer) bool { return v.MessageAccess(m) == visibility.All })
	allowed(t, []string{"parent", "alice"}, func(v *visibility.Viewer) bool { return v.MessageAccess(m) == visibility.Own })
}

func TestDealsWithBookings(t *testing.T) {
	allowed(t, []string{"teacherA", "teacherB", "cpe", "cpeOther", "admin", "globalAdmin", "inspector", "inspectorOther"},
		(*visibility.Viewer).DealsWithBookings)
}

func TestMayReadResources(t *testing.T) {
	uaiRule(t, (*visibility.Viewer).MayReadResources, map[string][]string{
		uai:      {"teacherA", "teacherB", "cpe", "admin", "globalAdmin", "inspector"},
		otherUAI: {"cpeOther", "globalAdmin", "inspectorOther"},
	})
}

func TestMayAudit(t *testing.T) {
	uaiRule(t, (*visibility.Viewer).MayAudit, map[string][]string{
		uai:      {"inspector"},
		otherUAI: {"inspectorOther"},
	})
}

func TestMayReadIndicators(t *testing.T) {
	allowed(t, []string{"evaluator", "globalAdmin"}, (*visibility.Viewer).MayReadIndicators)
}
