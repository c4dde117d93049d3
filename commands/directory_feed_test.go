package commands_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// What the directory feeds give beyond names and establishments: feed
// keys, other establishments and posts, MEF, relative links' details,
// group labels, subject codes.

func TestRecordFeedKey(t *testing.T) {
	w := newWorld(t)
	cmd := domain.RecordFeedKey{UAI: w.UAI, FeedKey: "7501"}
	w.thenEvents(func() (commands.Result, error) { return w.h.RecordFeedKey(w.ctx, system(), cmd) },
		domain.EstablishmentFeedKeyRecorded{UAI: w.UAI, FeedKey: "7501"})
	w.thenEvents(func() (commands.Result, error) { return w.h.RecordFeedKey(w.ctx, system(), cmd) }) // same key: nothing
	w.thenError(func() (commands.Result, error) {
		return w.h.RecordFeedKey(w.ctx, as(w.Head), domain.RecordFeedKey{UAI: w.UAI, FeedKey: "7502"})
	}, domain.ErrForbidden)
	w.thenError(func() (commands.Result, error) {
		return w.h.RecordFeedKey(w.ctx, system(), domain.RecordFeedKey{UAI: "0999999Z", FeedKey: "1"})
	}, domain.ErrUnknownEstablishment)
	w.thenError(func() (commands.Result, error) {
		return w.h.RecordFeedKey(w.ctx, system(), domain.RecordFeedKey{UAI: w.UAI})
	}, domain.ErrInvalid)
}

func TestAccountDetails(t *testing.T) {
	w := newWorld(t)
	id := uuid.New()
	details := domain.AccountDetails{
		Establishments: []string{w.OtherUAI},
		Posts: []domain.Post{
			{Establishment: w.UAI, Code: "ENS", Label: "ENSEIGNEMENT", Discipline: "L0202", DisciplineLabel: "LETTRES MODERNES"},
			{Establishment: w.OtherUAI, Code: "ENS", Label: "ENSEIGNEMENT", Discipline: "L0202", DisciplineLabel: "LETTRES MODERNES"},
		},
	}
	w.thenEvents(func() (commands.Result, error) {
		return w.h.OpenAccount(w.ctx, system(), domain.OpenAccount{Account: id, Establishment: w.UAI, Profile: domain.ProfileTeacher,
			ExternalID: "T9", DisplayName: "Mme Partagée", Details: details})
	}, domain.AccountOpened{Account: id, Establishment: w.UAI, Profile: domain.ProfileTeacher, ExternalID: "T9", DisplayName: "Mme Partagée", Details: details})

	// A teacher of two establishments teaches a class of the other one.
	w.thenEvents(func() (commands.Result, error) {
		return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: w.OtherClass, Account: id, Role: domain.RoleTeacher, Subject: "FRANCAIS", SubjectCodes: []string{"030201"}})
	}, domain.MemberJoined{Group: w.OtherClass, Account: id, Role: domain.RoleTeacher, Subject: "FRANCAIS", SubjectCodes: []string{"030201"}})
	// The same subject in words with other codes is a change, not a repeat.
	w.thenEvents(func() (commands.Result, error) {
		return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: w.OtherClass, Account: id, Role: domain.RoleTeacher, Subject: "FRANCAIS", SubjectCodes: []string{"030200"}})
	}, domain.MemberJoined{Group: w.OtherClass, Account: id, Role: domain.RoleTeacher, Subject: "FRANCAIS", SubjectCodes: []string{"030200"}})

	// An update without details keeps them; with details replaces them.
	w.thenEvents(func() (commands.Result, error) {
		return w.h.UpdateAccount(w.ctx, system(), domain.UpdateAccount{Account: id, Establishment: w.UAI, DisplayName: "Mme Partagée-Durand"})
	}, domain.AccountUpdated{Account: id, Establishment: w.UAI, DisplayName: "Mme Partagée-Durand", Details: details})
	w.thenEvents(func() (commands.Result, error) {
		return w.h.UpdateAccount(w.ctx, system(), domain.UpdateAccount{Account: id, Establishment: w.UAI, DisplayName: "Mme Partagée-Durand", Details: &details})
	}) // the same: nothing
	w.thenEvents(func() (commands.Result, error) {
		return w.h.UpdateAccount(w.ctx, system(), domain.UpdateAccount{Account: id, Establishment: w.UAI, DisplayName: "Mme Partagée-Durand", Details: &domain.AccountDetails{}})
	}, domain.AccountUpdated{Account: id, Establishment: w.UAI, DisplayName: "Mme Partagée-Durand"})
	// Back to one establishment: the other's classes are out of reach.
	w.thenError(func() (commands.Result, error) {
		return w.h.JoinGroup(w.ctx, system(), domain.JoinGroup{Group: w.OtherClass, Account: id, Role: domain.RoleHeadTeacher})
	}, domain.ErrWrongEstablishment)

	cases := []struct {
		name    string
		profile domain.Profile
		d       domain.AccountDetails
	}{
		{"main establishment among the others", domain.ProfileTeacher, domain.AccountDetails{Establishments: []string{w.UAI}}},
		{"unsorted establishments", domain.ProfileTeacher, domain.AccountDetails{Establishments: []string{"0840002B", "0840001A"}}},
		{"bad UAI", domain.ProfileTeacher, domain.AccountDetails{Establishments: []string{"84"}}},
		{"post without code", domain.ProfileTeacher, domain.AccountDetails{Posts: []domain.Post{{Establishment: w.UAI}}}},
		{"MEF of a teacher", domain.ProfileTeacher, domain.AccountDetails{MEF: "10010012110"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) {
				return w.h.OpenAccount(w.ctx, system(), domain.OpenAccount{Establishment: w.UAI, Profile: tc.profile, DisplayName: "X", Details: tc.d})
			}, domain.ErrInvalid)
		})
	}
}

func TestRelativeLinkDetails(t *testing.T) {
	w := newWorld(t)
	link := domain.LinkRelative{Student: w.Student, Relative: w.Relative, LegalGuardian: true, Relation: domain.RelationMother,
		LegalRank: 1, Financial: true, Contact: true}
	// The world's link says legal guardian only: the details are a change.
	w.thenEvents(func() (commands.Result, error) { return w.h.LinkRelative(w.ctx, system(), link) },
		domain.RelativeLinked{Student: w.Student, Relative: w.Relative, LegalGuardian: true, Relation: domain.RelationMother,
			LegalRank: 1, Financial: true, Contact: true})
	w.thenError(func() (commands.Result, error) { return w.h.LinkRelative(w.ctx, system(), link) }, domain.ErrAlreadyLinked)
	rank2 := link
	rank2.LegalRank = 2
	w.thenEvents(func() (commands.Result, error) { return w.h.LinkRelative(w.ctx, system(), rank2) },
		domain.RelativeLinked{Student: w.Student, Relative: w.Relative, LegalGuardian: true, Relation: domain.RelationMother,
			LegalRank: 2, Financial: true, Contact: true})
	for name, bad := range map[string]domain.LinkRelative{
		"unknown relation":         {Student: w.Student, Relative: w.Relative, LegalGuardian: true, Relation: "cousin"},
		"rank 3":                   {Student: w.Student, Relative: w.Relative, LegalGuardian: true, LegalRank: 3},
		"rank of a non-guardian":   {Student: w.Student, Relative: w.Relative, LegalRank: 1},
		"negative rank (guardian)": {Student: w.Student, Relative: w.Relative, LegalGuardian: true, LegalRank: -1},
	} {
		t.Run(name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.LinkRelative(w.ctx, system(), bad) }, domain.ErrInvalid)
		})
	}
}

func TestGroupLabels(t *testing.T) {
	w := newWorld(t)
	g := uuid.New()
	w.thenEvents(func() (commands.Result, error) {
		return w.h.CreateGroup(w.ctx, system(), domain.CreateGroup{Group: g, Establishment: w.UAI, Kind: domain.GroupClass, Name: "6B", Label: "6EME B"})
	}, domain.GroupCreated{Group: g, Establishment: w.UAI, Kind: domain.GroupClass, Name: "6B", Label: "6EME B"})
	w.thenEvents(func() (commands.Result, error) {
		return w.h.LabelGroup(w.ctx, system(), domain.LabelGroup{Group: g, Label: "6EME B"})
	}) // unchanged
	w.thenEvents(func() (commands.Result, error) {
		return w.h.LabelGroup(w.ctx, as(w.CPE), domain.LabelGroup{Group: g, Label: "6e B (bilangue)"})
	}, domain.GroupLabelled{Group: g, Label: "6e B (bilangue)"})
	// The name as a label is no label.
	w.thenEvents(func() (commands.Result, error) {
		return w.h.LabelGroup(w.ctx, system(), domain.LabelGroup{Group: g, Label: "6B"})
	}, domain.GroupLabelled{Group: g})
	w.thenError(func() (commands.Result, error) {
		return w.h.LabelGroup(w.ctx, as(w.Teacher), domain.LabelGroup{Group: g, Label: "X"})
	}, domain.ErrForbidden)
	w.thenError(func() (commands.Result, error) {
		return w.h.LabelGroup(w.ctx, system(), domain.LabelGroup{Group: uuid.New(), Label: "X"})
	}, domain.ErrUnknownGroup)
}

// Events recorded before the feeds' details decode as before: no details,
// no relation, no label.
func TestOldDirectoryEventsDecode(t *testing.T) {
	reg := domain.NewRegistry()
	for typ, data := range map[string]string{
		"account.opened.v1":      `{"account":"8b7b2f4e-4c55-4f4c-9f68-2f1d2b3c4d5e","establishment":"0130001A","profile":"teacher","display_name":"M. Prof"}`,
		"account.updated.v1":     `{"account":"8b7b2f4e-4c55-4f4c-9f68-2f1d2b3c4d5e","establishment":"0130001A","display_name":"M. Prof"}`,
		"relative.linked.v1":     `{"student":"8b7b2f4e-4c55-4f4c-9f68-2f1d2b3c4d5e","relative":"9b7b2f4e-4c55-4f4c-9f68-2f1d2b3c4d5e","legal_guardian":true}`,
		"group.created.v1":       `{"group":"8b7b2f4e-4c55-4f4c-9f68-2f1d2b3c4d5e","establishment":"0130001A","kind":"class","name":"6A"}`,
		"group.member_joined.v1": `{"group":"8b7b2f4e-4c55-4f4c-9f68-2f1d2b3c4d5e","account":"9b7b2f4e-4c55-4f4c-9f68-2f1d2b3c4d5e","role":"teacher","subject":"006600"}`,
	} {
		e, err := reg.Decode(typ, []byte(data))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		// Encoding again writes none of the new fields.
		_, out, err := reg.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		var a, b map[string]any
		if err := json.Unmarshal([]byte(data), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Errorf("%s: %s encodes again as %s", typ, data, out)
		}
	}
}
