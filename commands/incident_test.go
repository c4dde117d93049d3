package commands_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

var incidentTime = time.Date(2006, time.March, 14, 10, 20, 0, 0, time.UTC)

func fightIn(w *world) domain.ReportIncident {
	return domain.ReportIncident{
		Establishment: w.UAI, OccurredAt: incidentTime, Place: "cour de récréation",
		Seriousness: domain.SeriousnessSerious, Description: "Bagarre à la récréation de 10 h",
		Protagonists: []domain.Protagonist{
			{Account: w.Student, Role: domain.ProtagonistAuthor},
			{Account: w.Student2, Role: domain.ProtagonistVictim},
			{Account: w.Teacher, Role: domain.ProtagonistWitness},
		},
	}
}

func TestReportIncident(t *testing.T) {
	w := newWorld(t)
	cmd := fightIn(w)
	cmd.Incident = uuid.New()
	var res commands.Result
	recs := w.thenEvents(func() (r commands.Result, err error) {
		res, err = w.h.ReportIncident(w.ctx, as(w.CPE), cmd)
		return res, err
	}, domain.IncidentReported{
		Incident: cmd.Incident, Establishment: w.UAI, OccurredAt: incidentTime, Place: "cour de récréation",
		Seriousness: domain.SeriousnessSerious, Description: "Bagarre à la récréation de 10 h", Protagonists: cmd.Protagonists,
	})
	md := recs[0].Metadata
	if recs[0].Stream != domain.IncidentStream(cmd.Incident) || md.Actor != w.CPE || md.Establishment != w.UAI || md.Command != commands.CmdReportIncident {
		t.Fatalf("record %+v", recs[0])
	}
	if res.ID != cmd.Incident || res.Version != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestTeacherReportsIncidentAnywhereInTheirEstablishment(t *testing.T) {
	w := newWorld(t)
	// OtherTeacher teaches no group; the time comes in Paris time and is
	// stored in UTC.
	cmd := domain.ReportIncident{
		Establishment: w.UAI, OccurredAt: incidentTime.In(domain.Paris()), Place: "couloir B",
		Seriousness:  domain.SeriousnessMinor,
		Protagonists: []domain.Protagonist{{Account: w.Student, Role: domain.ProtagonistAuthor}},
	}
	var res commands.Result
	got, _, err := w.when(func() (r commands.Result, err error) {
		res, err = w.h.ReportIncident(w.ctx, as(w.OtherTeacher), cmd)
		return res, err
	})
	if err != nil || len(got) != 1 {
		t.Fatalf("err %v, %d events", err, len(got))
	}
	e := got[0].(domain.IncidentReported)
	if e.Incident != res.ID || res.ID == uuid.Nil || e.Establishment != w.UAI || e.OccurredAt != incidentTime || e.Place != "couloir B" || len(e.Protagonists) != 1 {
		t.Fatalf("event %#v, result %+v", e, res)
	}
}

func TestReportIncidentRules(t *testing.T) {
	w := newWorld(t)
	reported := uuid.New()
	w.given(domain.IncidentStream(reported), domain.IncidentReported{Incident: reported, Establishment: w.UAI, OccurredAt: incidentTime, Place: "cour", Seriousness: domain.SeriousnessMinor,
		Protagonists: []domain.Protagonist{{Account: w.Student, Role: domain.ProtagonistAuthor}}})
	closed := givenStudentInNoGroup(w, w.UAI, domain.AccountClosed{})
	otherTeacher := uuid.New() // a teacher of the other establishment
	w.given(domain.AccountStream(otherTeacher), domain.AccountOpened{Account: otherTeacher, Establishment: w.OtherUAI, Profile: domain.ProfileTeacher, DisplayName: "M. Ailleurs"})
	with := func(change func(*domain.ReportIncident)) domain.ReportIncident {
		cmd := fightIn(w)
		change(&cmd)
		return cmd
	}
	only := func(p ...domain.Protagonist) func(*domain.ReportIncident) {
		return func(c *domain.ReportIncident) { c.Protagonists = p }
	}
	author := func(id uuid.UUID) domain.Protagonist {
		return domain.Protagonist{Account: id, Role: domain.ProtagonistAuthor}
	}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.ReportIncident
		want  error
	}{
		{"personnel of another establishment", w.OtherHead, fightIn(w), domain.ErrWrongEstablishment},
		{"teacher of another establishment", otherTeacher, fightIn(w), domain.ErrWrongEstablishment},
		{"student", w.Student, fightIn(w), domain.ErrNoSchoolLifeActs},
		{"relative", w.Relative, fightIn(w), domain.ErrNoSchoolLifeActs},
		{"guest", w.Guest, fightIn(w), domain.ErrNoSchoolLifeActs},
		{"administrator", w.Admin, fightIn(w), domain.ErrNoSchoolLifeActs},
		{"inspector", w.Inspector, fightIn(w), domain.ErrForbidden},
		{"evaluator", w.Evaluator, fightIn(w), domain.ErrForbidden},
		{"unknown establishment", w.CPE, with(func(c *domain.ReportIncident) { c.Establishment = "0999999Z" }), domain.ErrUnknownEstablishment},
		{"no establishment", w.CPE, with(func(c *domain.ReportIncident) { c.Establishment = "" }), domain.ErrUnknownEstablishment},
		{"protagonist of another establishment", w.CPE, with(only(author(w.Student), author(w.OtherStudent))), domain.ErrWrongEstablishment},
		{"protagonist with no establishment", w.CPE, with(only(author(w.Inspector))), domain.ErrWrongEstablishment},
		{"unknown protagonist", w.CPE, with(only(author(uuid.New()))), domain.ErrUnknownAccount},
		{"closed protagonist", w.CPE, with(only(author(closed))), domain.ErrAccountClosed},
		{"no protagonist", w.CPE, with(only()), domain.ErrInvalid},
		{"protagonist listed twice", w.CPE, with(only(author(w.Student), domain.Protagonist{Account: w.Student, Role: domain.ProtagonistVictim})), domain.ErrInvalid},
		{"unknown role", w.CPE, with(only(domain.Protagonist{Account: w.Student, Role: "instigator"})), domain.ErrInvalid},
		{"missing role", w.CPE, with(only(domain.Protagonist{Account: w.Student})), domain.ErrInvalid},
		{"missing place", w.CPE, with(func(c *domain.ReportIncident) { c.Place = "  " }), domain.ErrInvalid},
		{"missing seriousness", w.CPE, with(func(c *domain.ReportIncident) { c.Seriousness = "" }), domain.ErrInvalid},
		{"unknown seriousness", w.CPE, with(func(c *domain.ReportIncident) { c.Seriousness = "apocalyptic" }), domain.ErrInvalid},
		{"missing time", w.CPE, with(func(c *domain.ReportIncident) { c.OccurredAt = time.Time{} }), domain.ErrInvalid},
		{"incident already reported", w.CPE, with(func(c *domain.ReportIncident) { c.Incident = reported }), domain.ErrIncidentExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.ReportIncident(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

func TestIdempotentIncidentReport(t *testing.T) {
	w := newWorld(t)
	req := as(w.Teacher)
	req.IdempotencyKey = "incident-cour-10h"
	first, err := w.h.ReportIncident(w.ctx, req, fightIn(w))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		again, err := w.h.ReportIncident(w.ctx, req, fightIn(w))
		if err == nil && (!again.Replayed || again.ID != first.ID || again.Version != first.Version || again.Position != first.Position) {
			t.Errorf("replay: got %+v, want the original %+v", again, first)
		}
		return again, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("replayed report: err %v, %d events appended", err, len(got))
	}
}
