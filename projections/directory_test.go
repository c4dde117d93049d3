package projections_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
	"github.com/schoollife/ledger/projections"
)

func TestDirectory(t *testing.T) {
	w := school(t)
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 512, projections.NewDirectory())

		t.Run("establishments", func(t *testing.T) {
			got := mustOK[[]projections.EstablishmentEntry](t)(q.Establishments(ctx))
			mustEqualJSON(t, "Establishments", got, []projections.EstablishmentEntry{
				{UAI: uaiCollege, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13", Reasons: domain.DefaultReasons()[:2]},
				{UAI: uaiLycee, Name: "Lycée Charlemagne", Kind: domain.KindLycee, Departement: "75", Reasons: domain.DefaultReasons()},
			})
			one := mustOK[*projections.EstablishmentEntry](t)(q.Establishment(ctx, uaiLycee))
			mustEqualJSON(t, "Establishment", one, got[1])
			if _, err := q.Establishment(ctx, "0000000Z"); !errors.Is(err, domain.ErrUnknownEstablishment) {
				t.Errorf("unknown establishment: %v, want %v", err, domain.ErrUnknownEstablishment)
			}
		})

		t.Run("accounts", func(t *testing.T) {
			classA := func(r domain.Role, subject string) projections.Membership {
				return projections.Membership{Group: class2A, Name: "2nde A", Kind: domain.GroupClass, Role: r, Subject: subject}
			}
			latinAs := func(r domain.Role, subject string) projections.Membership {
				return projections.Membership{Group: latin, Name: "Latin 2nde", Kind: domain.GroupTeaching, Role: r, Subject: subject}
			}
			for _, tc := range []struct {
				id   uuid.UUID
				want projections.AccountEntry
			}{
				{alice, projections.AccountEntry{
					ID: alice, Establishment: uaiLycee, Profile: domain.ProfileStudent, ExternalID: "S-ALICE",
					DisplayName: "Alice Martin-Dupont",
					Relatives:   []projections.AccountLink{{Account: mother, DisplayName: "Claire Martin", LegalGuardian: true}},
					Groups:      []projections.Membership{classA(domain.RoleStudent, ""), latinAs(domain.RoleStudent, "")},
				}},
				{bruno, projections.AccountEntry{
					ID: bruno, Establishment: uaiLycee, Profile: domain.ProfileStudent, ExternalID: "S-BRUNO",
					DisplayName: "Bruno Petit", Groups: []projections.Membership{classA(domain.RoleStudent, "")},
				}},
				{mother, projections.AccountEntry{
					ID: mother, Establishment: uaiLycee, Profile: domain.ProfileRelative, ExternalID: "R-MARTIN",
					DisplayName: "Claire Martin",
					Children:    []projections.AccountLink{{Account: alice, DisplayName: "Alice Martin-Dupont", LegalGuardian: true}},
				}},
				{durand, projections.AccountEntry{
					ID: durand, Establishment: uaiLycee, Profile: domain.ProfileTeacher, ExternalID: "T-DURAND",
					DisplayName: "Paul Durand", Activated: true,
					Groups: []projections.Membership{classA(domain.RoleTeacher, "maths"), latinAs(domain.RoleTeacher, "latin")},
				}},
				{leroy, projections.AccountEntry{
					ID: leroy, Establishment: uaiLycee, Profile: domain.ProfileTeacher, DisplayName: "Anne Leroy",
					Groups: []projections.Membership{classA(domain.RoleHeadTeacher, ""), classA(domain.RoleTeacher, "francais")},
				}},
				{head, projections.AccountEntry{
					ID: head, Establishment: uaiLycee, Profile: domain.ProfilePersonnel, Function: domain.FunctionHead,
					DisplayName: "Hélène Proviseur",
				}},
				{inspector, projections.AccountEntry{
					ID: inspector, Profile: domain.ProfileInspector, DisplayName: "Inspecteur Vie Scolaire",
					Habilitations: []string{uaiLycee, uaiCollege},
				}},
			} {
				got := mustOK[*projections.AccountEntry](t)(q.Account(ctx, tc.id))
				mustEqualJSON(t, "Account "+tc.want.DisplayName, got, tc.want)
			}
			if _, err := q.Account(ctx, id("nobody")); !errors.Is(err, domain.ErrUnknownAccount) {
				t.Errorf("unknown account: %v, want %v", err, domain.ErrUnknownAccount)
			}
		})

		t.Run("links and memberships", func(t *testing.T) {
			mustEqualJSON(t, "ChildrenOf mother", mustOK[[]projections.AccountLink](t)(q.ChildrenOf(ctx, mother)),
				[]projections.AccountLink{{Account: alice, DisplayName: "Alice Martin-Dupont", LegalGuardian: true}})
			mustEqualJSON(t, "ChildrenOf nobody", mustOK[[]projections.AccountLink](t)(q.ChildrenOf(ctx, id("nobody"))),
				[]projections.AccountLink{})
			mustEqualJSON(t, "GroupsOf bruno", mustOK[[]projections.Membership](t)(q.GroupsOf(ctx, bruno)),
				[]projections.Membership{{Group: class2A, Name: "2nde A", Kind: domain.GroupClass, Role: domain.RoleStudent}})
			mother := mustOK[*projections.AccountEntry](t)(q.Account(ctx, mother))
			if !mother.HasChild(alice) || mother.HasChild(bruno) {
				t.Errorf("mother's children: %+v", mother.Children)
			}
			durand := mustOK[*projections.AccountEntry](t)(q.Account(ctx, durand))
			if !durand.InGroup(latin, domain.RoleTeacher) || durand.InGroup(latin, domain.RoleStudent) || durand.InGroup(class6B) {
				t.Errorf("durand's groups: %+v", durand.Groups)
			}
		})

		t.Run("external ids", func(t *testing.T) {
			got := mustOK[*projections.AccountEntry](t)(q.AccountByExternalID(ctx, "T-DURAND"))
			if got.ID != durand {
				t.Errorf("T-DURAND is %s, want %s", got.ID, durand)
			}
			if _, err := q.AccountByExternalID(ctx, "T-NOBODY"); !errors.Is(err, domain.ErrUnknownAccount) {
				t.Errorf("unknown external id: %v, want %v", err, domain.ErrUnknownAccount)
			}
		})

		t.Run("groups", func(t *testing.T) {
			entry := func(e uuid.UUID, d time.Weekday, s domain.Slot, subject string, teacher uuid.UUID, until domain.Date) projections.TimetableEntry {
				return projections.TimetableEntry{
					Entry: e, Group: class2A, GroupName: "2nde A", Establishment: uaiLycee, Weekday: d, Slot: s,
					Subject: subject, Teacher: teacher, From: schoolYear[0], Until: until,
				}
			}
			got := mustOK[*projections.GroupEntry](t)(q.Group(ctx, class2A))
			mustEqualJSON(t, "Group 2nde A", got, projections.GroupEntry{
				ID: class2A, Establishment: uaiLycee, Kind: domain.GroupClass, Name: "2nde A",
				Members: map[domain.Role][]projections.GroupMember{
					domain.RoleHeadTeacher: {{Account: leroy, DisplayName: "Anne Leroy"}},
					domain.RoleStudent:     {{Account: alice, DisplayName: "Alice Martin-Dupont"}, {Account: bruno, DisplayName: "Bruno Petit"}},
					domain.RoleTeacher: {
						{Account: leroy, DisplayName: "Anne Leroy", Subject: "francais"},
						{Account: durand, DisplayName: "Paul Durand", Subject: "maths"},
					},
				},
				// The dropped entry is gone; the expired one stays (it is history).
				Timetable: []projections.TimetableEntry{
					entry(eMath, time.Monday, slot8, "maths", durand, schoolYear[1]),
					entry(eOld, time.Monday, slot9, "histoire", leroy, domain.MustDate("2006-01-31")),
					entry(eFrench, time.Monday, slot10, "francais", leroy, schoolYear[1]),
					entry(eTuesday, time.Tuesday, slot9, "maths", durand, schoolYear[1]),
				},
			})
			if !got.Teaches(leroy) || !got.Teaches(durand) || got.Teaches(alice) || !got.Has(bruno, domain.RoleStudent) {
				t.Errorf("2nde A members: %+v", got.Members)
			}
			lat := mustOK[*projections.GroupEntry](t)(q.Group(ctx, latin))
			mustEqualJSON(t, "Latin members", lat.Members, map[domain.Role][]projections.GroupMember{
				domain.RoleStudent: {{Account: alice, DisplayName: "Alice Martin-Dupont"}},
				domain.RoleTeacher: {{Account: durand, DisplayName: "Paul Durand", Subject: "latin"}},
			})
			if _, err := q.Group(ctx, id("no group")); !errors.Is(err, domain.ErrUnknownGroup) {
				t.Errorf("unknown group: %v, want %v", err, domain.ErrUnknownGroup)
			}
			mustEqualJSON(t, "GroupsOfEstablishment", mustOK[[]projections.GroupSummary](t)(q.GroupsOfEstablishment(ctx, uaiLycee)),
				[]projections.GroupSummary{
					{ID: class2A, Kind: domain.GroupClass, Name: "2nde A"},
					{ID: latin, Kind: domain.GroupTeaching, Name: "Latin 2nde"},
				})
			mustEqualJSON(t, "GroupsOfEstablishment college", mustOK[[]projections.GroupSummary](t)(q.GroupsOfEstablishment(ctx, uaiCollege)),
				[]projections.GroupSummary{{ID: class6B, Kind: domain.GroupClass, Name: "6e B"}})
		})
	})
}

// A closed account stays in the directory, flagged; rescheduling an entry
// replaces it everywhere.
func TestDirectoryClosedAndRescheduled(t *testing.T) {
	w := school(t)
	sys := system(uaiLycee)
	w.emit(sys, domain.AccountStream(bruno), domain.AccountClosed{Account: bruno, Reason: "départ"})
	w.emit(sys, domain.GroupStream(class2A), domain.LessonScheduled{
		Group: class2A, Entry: eFrench, Weekday: time.Monday, Slot: domain.Slot{Start: "11:00", End: "11:55"},
		Subject: "francais", Teacher: leroy, From: schoolYear[0], Until: schoolYear[1]})
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 3, projections.NewDirectory(), projections.NewOffice())
		b := mustOK[*projections.AccountEntry](t)(q.Account(ctx, bruno))
		if !b.Closed || len(b.Groups) != 1 {
			t.Errorf("closed bruno: %+v", b)
		}
		g := mustOK[*projections.GroupEntry](t)(q.Group(ctx, class2A))
		var slots []string
		for _, e := range g.Timetable {
			slots = append(slots, e.Weekday.String()+" "+e.Slot.Start)
		}
		mustEqualJSON(t, "timetable slots", slots, []string{"Monday 08:00", "Monday 09:00", "Monday 11:00", "Tuesday 09:00"})
		// French now starts at 11:00: at 10:30 no roll call is missing.
		o := mustOK[*projections.Office](t)(q.Office(ctx, uaiLycee, now, projections.Page{}))
		mustEqualJSON(t, "missing roll calls", o.MissingRollCalls, []projections.MissingRollCall{})
	})
}

// TestDirectoryEntriesForVisibility: the visibility rules see an account
// and a group as the directory holds them.
func TestDirectoryEntriesForVisibility(t *testing.T) {
	parent, child, class := uuid.New(), uuid.New(), uuid.New()
	acc := &projections.AccountEntry{
		ID: parent, Establishment: "0750001A", Profile: domain.ProfileRelative, Function: domain.FunctionNone,
		Closed: true, Habilitations: []string{"0750002B"},
		Children: []projections.AccountLink{{Account: child, DisplayName: "Alice"}},
		Groups:   []projections.Membership{{Group: class, Name: "6A", Role: domain.RoleTeacher}},
	}
	v := acc.Viewer()
	want := visibility.Viewer{
		Actor:  domain.Actor{Account: parent, Profile: domain.ProfileRelative, Establishment: "0750001A", Habilitations: []string{"0750002B"}},
		Closed: true, Children: []uuid.UUID{child},
		Groups: []visibility.Membership{{Group: class, Role: domain.RoleTeacher}},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("Viewer = %+v, want %+v", v, want)
	}
	if p := acc.Person(); p.ID != parent || p.Establishment != "0750001A" || !reflect.DeepEqual(p.Groups, want.Groups) {
		t.Errorf("Person = %+v", p)
	}
	g := &projections.GroupEntry{ID: class, Establishment: "0750001A", Members: map[domain.Role][]projections.GroupMember{
		domain.RoleStudent: {{Account: child}}, domain.RoleTeacher: {{Account: parent}},
	}}
	r := g.Resource()
	if r.ID != class || r.Establishment != "0750001A" || len(r.Members) != 2 ||
		!r.Has(child, domain.RoleStudent) || !r.Teaches(parent) || r.Has(child, domain.RoleTeacher) {
		t.Errorf("Resource = %+v", r)
	}
}

// TestDirectoryIdentities: external identities linked to accounts, and
// students by their id in the school's software, follow the events.
func TestDirectoryIdentities(t *testing.T) {
	w := school(t)
	sys := system(uaiLycee)
	w.emit(sys, domain.AccountStream(alice), domain.AccountUpdated{Account: alice, Establishment: uaiLycee, DisplayName: "Alice Martin",
		Details: domain.AccountDetails{StudentID: "1234567"}})
	w.emit(sys, domain.AccountStream(chloe), domain.AccountUpdated{Account: chloe, Establishment: uaiLycee, DisplayName: "Chloé Petit",
		Details: domain.AccountDetails{StudentID: "1234567"}})
	// Chloé's id is corrected: she leaves the index under the old one.
	w.emit(sys, domain.AccountStream(chloe), domain.AccountUpdated{Account: chloe, Establishment: uaiLycee, DisplayName: "Chloé Petit",
		Details: domain.AccountDetails{StudentID: "7654321"}})
	w.emit(sys, domain.AccountStream(bruno), domain.IdentityLinked{Account: bruno, Provider: "educonnect", Subject: "s-bruno", How: domain.IdentityMatched, Attribute: "FrEduVecteur"})
	w.emit(sys, domain.AccountStream(bruno), domain.IdentityLinked{Account: bruno, Provider: "agents", Subject: "s-bruno-2", How: domain.IdentityByAdministrator})
	w.emit(sys, domain.AccountStream(bruno), domain.IdentityUnlinked{Account: bruno, Provider: "agents", Subject: "s-bruno-2"})
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 2, projections.NewDirectory())
		ids := func(uai, sid string) []uuid.UUID {
			var out []uuid.UUID
			for _, a := range mustOK[[]projections.AccountEntry](t)(q.StudentsByID(ctx, uai, sid)) {
				out = append(out, a.ID)
			}
			return out
		}
		mustEqualJSON(t, "students 1234567", ids(uaiLycee, "1234567"), []uuid.UUID{alice})
		mustEqualJSON(t, "students 7654321", ids(uaiLycee, "7654321"), []uuid.UUID{chloe})
		mustEqualJSON(t, "students of another establishment", ids(uaiCollege, "1234567"), []uuid.UUID(nil))
		b := mustOK[*projections.AccountEntry](t)(q.AccountByIdentity(ctx, "educonnect", "s-bruno"))
		if b.ID != bruno || len(b.Identities) != 1 || b.Identities[0].Attribute != "FrEduVecteur" {
			t.Errorf("bruno by identity: %+v", b)
		}
		if _, err := q.AccountByIdentity(ctx, "agents", "s-bruno-2"); !errors.Is(err, domain.ErrUnknownAccount) {
			t.Errorf("an unlinked identity: %v", err)
		}
	})
}
