package projections_test

import (
	"context"
	"slices"
	"testing"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// What directory feeds add to the directory: feed keys, other
// establishments and posts, MEFs, relative links' details, group labels
// copied wherever the group is shown, and kept up to date.
func TestDirectoryFeedDetails(t *testing.T) {
	w := school(t)
	sys := system(uaiLycee)
	w.emit(sys, domain.EstablishmentStream(uaiLycee), domain.EstablishmentFeedKeyRecorded{UAI: uaiLycee, FeedKey: "7501"})
	details := domain.AccountDetails{Establishments: []string{uaiCollege}, Posts: []domain.Post{
		{Establishment: uaiLycee, Code: "ENS", Label: "ENSEIGNEMENT", Discipline: "L1300", DisciplineLabel: "MATHEMATIQUES"},
		{Establishment: uaiCollege, Code: "ENS", Label: "ENSEIGNEMENT", Discipline: "L1300", DisciplineLabel: "MATHEMATIQUES"}}}
	w.emit(sys, domain.AccountStream(durand), domain.AccountUpdated{Account: durand, Establishment: uaiLycee, DisplayName: "Paul Durand", Details: details})
	w.emit(sys, domain.AccountStream(alice), domain.AccountUpdated{Account: alice, Establishment: uaiLycee, DisplayName: "Alice Martin-Dupont",
		Details: domain.AccountDetails{MEF: "20010018110", MEFLabel: "2NDE GENERALE ET TECHNOLOGIQUE"}})
	w.emit(sys, domain.AccountStream(alice), domain.RelativeLinked{Student: alice, Relative: mother, LegalGuardian: true,
		Relation: domain.RelationMother, LegalRank: 1, Financial: true, Contact: true})
	w.emit(sys, domain.GroupStream(class2A), domain.GroupLabelled{Group: class2A, Label: "2NDE A (EURO)"})

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 7, projections.NewDirectory())
		est := mustOK[*projections.EstablishmentEntry](t)(q.Establishment(ctx, uaiLycee))
		if est.FeedKey != "7501" {
			t.Errorf("feed key %q", est.FeedKey)
		}
		paul := mustOK[*projections.AccountEntry](t)(q.Account(ctx, durand))
		if !slices.Equal(paul.Establishments, details.Establishments) || !slices.Equal(paul.Posts, details.Posts) ||
			!paul.Viewer().In(uaiCollege) || paul.Viewer().IsStaff(uaiCollege) {
			t.Errorf("Paul: %+v", paul)
		}
		alic := mustOK[*projections.AccountEntry](t)(q.Account(ctx, alice))
		if alic.ShownMEF() != "2NDE GENERALE ET TECHNOLOGIQUE" || len(alic.Relatives) != 1 ||
			alic.Relatives[0] != (projections.AccountLink{Account: mother, DisplayName: "Claire Martin", LegalGuardian: true,
				Relation: domain.RelationMother, LegalRank: 1, Financial: true, Contact: true}) {
			t.Errorf("Alice: %+v", alic)
		}
		claire := mustOK[*projections.AccountEntry](t)(q.Account(ctx, mother))
		if len(claire.Children) != 1 || claire.Children[0].Relation != domain.RelationMother || claire.Children[0].LegalRank != 1 {
			t.Errorf("Claire's children: %+v", claire.Children)
		}
		// The label, wherever the group shows.
		g := mustOK[*projections.GroupEntry](t)(q.Group(ctx, class2A))
		if g.Name != "2nde A" || g.Shown() != "2NDE A (EURO)" {
			t.Errorf("group %q %q", g.Name, g.Label)
		}
		if len(g.Timetable) == 0 {
			t.Fatal("2nde A has no timetable to check")
		}
		for _, e := range g.Timetable {
			if e.GroupName != "2NDE A (EURO)" {
				t.Errorf("timetable entry %+v", e)
			}
		}
		for _, m := range alic.Groups {
			if m.Group == class2A && m.Shown() != "2NDE A (EURO)" {
				t.Errorf("Alice's membership %+v", m)
			}
		}
		summaries := mustOK[[]projections.GroupSummary](t)(q.GroupsOfEstablishment(ctx, uaiLycee))
		if i := slices.IndexFunc(summaries, func(s projections.GroupSummary) bool { return s.ID == class2A }); i < 0 || summaries[i].Shown() != "2NDE A (EURO)" {
			t.Errorf("summaries %+v", summaries)
		}
		view := mustOK[*projections.StudentView](t)(q.StudentView(ctx, alice, at("2006-03-14 10:00")))
		if view.MEF != "2NDE GENERALE ET TECHNOLOGIQUE" {
			t.Errorf("student view MEF %q", view.MEF)
		}
	})
}
