package domain_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

const disciplineUAI = "0130001A"

var disciplineDay = domain.MustDate("2006-03-14")

func disciplineStudent(id uuid.UUID) *domain.Account {
	return &domain.Account{ID: id, Exists: true, Establishment: disciplineUAI, Profile: domain.ProfileStudent}
}

func disciplineHead() domain.Actor {
	return domain.Actor{Account: uuid.New(), Profile: domain.ProfilePersonnel, Function: domain.FunctionHead, Establishment: disciplineUAI}
}

// disciplineFile folds events into a discipline file.
func disciplineFile(events ...domain.Event) *domain.Discipline {
	d := &domain.Discipline{}
	for _, e := range events {
		d.Apply(e)
	}
	return d
}

func TestSanctionDays(t *testing.T) {
	s := uuid.New()
	council := &domain.CouncilSession{Date: disciplineDay, Present: 12, Decision: "exclusion définitive, 9 voix pour, 3 contre"}
	cases := []struct {
		kind domain.SanctionKind
		days int
		ok   bool
	}{
		{domain.SanctionClassExclusion, 0, false},
		{domain.SanctionClassExclusion, 1, true},
		{domain.SanctionClassExclusion, domain.MaxExclusionDays, true},
		{domain.SanctionClassExclusion, domain.MaxExclusionDays + 1, false},
		{domain.SanctionTemporaryExclusion, 0, false},
		{domain.SanctionTemporaryExclusion, 1, true},
		{domain.SanctionTemporaryExclusion, domain.MaxExclusionDays, true},
		{domain.SanctionTemporaryExclusion, domain.MaxExclusionDays + 1, false},
		{domain.SanctionTemporaryExclusion, -1, false},
		{domain.SanctionWarning, 0, true},
		{domain.SanctionWarning, 1, false},
		{domain.SanctionReprimand, 0, true},
		{domain.SanctionResponsibility, 0, true},
		{domain.SanctionResponsibility, 3, false},
		{domain.SanctionPermanentExclusion, 0, true},
		{domain.SanctionPermanentExclusion, 8, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %d days", tc.kind, tc.days), func(t *testing.T) {
			cmd := domain.PronounceSanction{Sanction: uuid.New(), Student: s, Kind: tc.kind, Date: disciplineDay, Days: tc.days, Reason: "motif"}
			authority := domain.AuthorityHead
			if tc.kind == domain.SanctionPermanentExclusion {
				// Only the council pronounces it (TestSanctionScale).
				cmd.Authority, cmd.Council, authority = domain.AuthorityCouncil, council, domain.AuthorityCouncil
			}
			events, err := disciplineFile().PronounceSanction(disciplineHead(), disciplineStudent(s), &domain.Incident{}, cmd)
			if !tc.ok {
				if !errors.Is(err, domain.ErrSanctionDays) || events != nil {
					t.Fatalf("got %v, %v; want %v", events, err, domain.ErrSanctionDays)
				}
				return
			}
			eff, _ := domain.EffacementDate(tc.kind, disciplineDay)
			want := []domain.Event{domain.SanctionPronounced{Sanction: cmd.Sanction, Student: s, Kind: tc.kind, Date: disciplineDay, Days: tc.days, Reason: "motif",
				Authority: authority, Council: cmd.Council, EffacedOn: eff}}
			if err != nil || !reflect.DeepEqual(events, want) {
				t.Fatalf("got %v, %v; want %v", events, err, want)
			}
		})
	}
}

func TestAnnulledSanctionStaysOnFile(t *testing.T) {
	s, sanction, punishment := uuid.New(), uuid.New(), uuid.New()
	d := disciplineFile(
		domain.PunishmentGiven{Punishment: punishment, Student: s, Kind: domain.PunishmentDetention, Date: disciplineDay, Reason: "x"},
		domain.SanctionPronounced{Sanction: sanction, Student: s, Kind: domain.SanctionReprimand, Date: disciplineDay, Reason: "y"},
		domain.SanctionAnnulled{Sanction: sanction, Student: s, Reason: "z"},
	)
	if d.Student != s || len(d.Punishments) != 1 || d.Sanctions[sanction] == nil || !d.Sanctions[sanction].Annulled {
		t.Fatalf("file %+v", d)
	}
	_, err := d.AnnulSanction(disciplineHead(), disciplineStudent(s), domain.AnnulSanction{Student: s, Sanction: sanction, Reason: "again"})
	if !errors.Is(err, domain.ErrSanctionAnnulled) {
		t.Fatalf("annul twice: %v", err)
	}
	// Act ids are unique on the file whatever the act.
	_, err = d.PronounceSanction(disciplineHead(), disciplineStudent(s), nil, domain.PronounceSanction{Sanction: punishment, Student: s, Kind: domain.SanctionWarning, Date: disciplineDay, Reason: "w"})
	if !errors.Is(err, domain.ErrDisciplineActExists) {
		t.Fatalf("reused id: %v", err)
	}
	_, err = d.GivePunishment(disciplineHead(), disciplineStudent(s), nil, domain.GivePunishment{Punishment: sanction, Student: s, Kind: domain.PunishmentDetention, Date: disciplineDay, Reason: "w"})
	if !errors.Is(err, domain.ErrDisciplineActExists) {
		t.Fatalf("reused id: %v", err)
	}
}

func TestGivePunishmentInAGroup(t *testing.T) {
	s, teacher, group := uuid.New(), uuid.New(), uuid.New()
	g := &domain.Group{}
	for _, e := range []domain.Event{
		domain.GroupCreated{Group: group, Establishment: disciplineUAI, Kind: domain.GroupClass, Name: "6A"},
		domain.MemberJoined{Group: group, Account: teacher, Role: domain.RoleHeadTeacher},
		domain.MemberJoined{Group: group, Account: s, Role: domain.RoleStudent},
	} {
		g.Apply(e)
	}
	actor := domain.Actor{Account: teacher, Profile: domain.ProfileTeacher, Establishment: disciplineUAI}
	cmd := domain.GivePunishment{Punishment: uuid.New(), Student: s, Group: group, Kind: domain.PunishmentLessonExclusion, Date: disciplineDay, Reason: "r"}
	events, err := disciplineFile().GivePunishment(actor, disciplineStudent(s), g, cmd)
	want := []domain.Event{domain.PunishmentGiven{Punishment: cmd.Punishment, Student: s, Group: group, Kind: domain.PunishmentLessonExclusion, Date: disciplineDay, Reason: "r"}}
	if err != nil || !reflect.DeepEqual(events, want) {
		t.Fatalf("got %v, %v; want %v", events, err, want)
	}
	// The group is named but its state is missing: it is unknown.
	if _, err := disciplineFile().GivePunishment(actor, disciplineStudent(s), nil, cmd); !errors.Is(err, domain.ErrUnknownGroup) {
		t.Fatalf("missing group: %v", err)
	}
	// No id: the handler must have given one.
	cmd.Punishment = uuid.Nil
	if _, err := disciplineFile().GivePunishment(actor, disciplineStudent(s), g, cmd); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("no id: %v", err)
	}
}

func TestReportIncidentPure(t *testing.T) {
	est := &domain.Establishment{Exists: true, UAI: disciplineUAI}
	s, id := uuid.New(), uuid.New()
	at := time.Date(2006, time.March, 14, 11, 20, 0, 0, time.FixedZone("CET", 3600))
	cmd := domain.ReportIncident{
		Incident: id, Establishment: disciplineUAI, OccurredAt: at, Place: "cantine", Seriousness: domain.SeriousnessGrave,
		Protagonists: []domain.Protagonist{{Account: s, Role: domain.ProtagonistVictim}},
	}
	cpe := domain.Actor{Account: uuid.New(), Profile: domain.ProfilePersonnel, Function: domain.FunctionCPE, Establishment: disciplineUAI}
	events, err := (&domain.Incident{}).Report(cpe, est, map[uuid.UUID]*domain.Account{s: disciplineStudent(s)}, cmd)
	if err != nil || len(events) != 1 {
		t.Fatalf("got %v, %v", events, err)
	}
	e := events[0].(domain.IncidentReported)
	if !e.OccurredAt.Equal(at) || e.OccurredAt.Location() != time.UTC || e.Establishment != disciplineUAI {
		t.Fatalf("event %+v", e)
	}
	var inc domain.Incident
	inc.Apply(e)
	if !inc.Exists || inc.Establishment != disciplineUAI || !inc.Involves(s) || inc.Involves(cpe.Account) {
		t.Fatalf("incident %+v", inc)
	}
	// A protagonist whose account was not loaded is unknown.
	if _, err := (&domain.Incident{}).Report(cpe, est, nil, cmd); !errors.Is(err, domain.ErrUnknownAccount) {
		t.Fatalf("unloaded protagonist: %v", err)
	}
}
