package commands_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

var disciplineDay = domain.MustDate("2006-03-14")

// givenStudentInNoGroup opens a student of uai in no group and returns it.
func givenStudentInNoGroup(w *world, uai string, events ...domain.Event) uuid.UUID {
	w.t.Helper()
	s := uuid.New()
	w.given(domain.AccountStream(s), append([]domain.Event{domain.AccountOpened{Account: s, Establishment: uai, Profile: domain.ProfileStudent, DisplayName: "élève"}}, events...)...)
	return s
}

// givenIncidentIn reports an incident in uai with student as its author.
func givenIncidentIn(w *world, uai string, student uuid.UUID) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.given(domain.IncidentStream(id), domain.IncidentReported{
		Incident: id, Establishment: uai, OccurredAt: time.Date(2006, time.March, 13, 10, 15, 0, 0, time.UTC),
		Place: "cour", Seriousness: domain.SeriousnessSerious, Description: "bagarre",
		Protagonists: []domain.Protagonist{{Account: student, Role: domain.ProtagonistAuthor}},
	})
	return id
}

func detentionIn(student, group uuid.UUID) domain.GivePunishment {
	return domain.GivePunishment{Student: student, Group: group, Kind: domain.PunishmentDetention, Date: disciplineDay, Reason: "Bavardages répétés"}
}

func TestGivePunishment(t *testing.T) {
	w := newWorld(t)
	cmd := detentionIn(w.Student, w.Class)
	cmd.Punishment = uuid.New()
	var res commands.Result
	recs := w.thenEvents(func() (r commands.Result, err error) {
		res, err = w.h.GivePunishment(w.ctx, as(w.Teacher), cmd)
		return res, err
	}, domain.PunishmentGiven{Punishment: cmd.Punishment, Student: w.Student, Group: w.Class, Kind: domain.PunishmentDetention, Date: disciplineDay, Reason: "Bavardages répétés"})
	md := recs[0].Metadata
	if recs[0].Stream != domain.DisciplineStream(w.Student) || md.Actor != w.Teacher || md.Establishment != w.UAI || md.Command != commands.CmdGivePunishment {
		t.Fatalf("record %+v", recs[0])
	}
	if res.ID != cmd.Punishment || res.Stream != domain.DisciplineStream(w.Student) || res.Version != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestGivePunishmentByStaffNeedsNoGroup(t *testing.T) {
	w := newWorld(t)
	var res commands.Result
	run := func() (r commands.Result, err error) {
		res, err = w.h.GivePunishment(w.ctx, as(w.CPE), domain.GivePunishment{Student: w.Student2, Kind: domain.PunishmentExtraWork, Date: disciplineDay, Reason: "Devoir non rendu"})
		return res, err
	}
	got, recs, err := w.when(run)
	if err != nil || len(got) != 1 {
		t.Fatalf("err %v, %d events", err, len(got))
	}
	want := domain.PunishmentGiven{Punishment: res.ID, Student: w.Student2, Kind: domain.PunishmentExtraWork, Date: disciplineDay, Reason: "Devoir non rendu"}
	if res.ID == uuid.Nil || got[0] != want || recs[0].Metadata.Establishment != w.UAI {
		t.Fatalf("got %#v (id %s), want %#v", got[0], res.ID, want)
	}
	// The head may give a punishment too, naming the group or not.
	w.thenEvents(func() (commands.Result, error) {
		cmd := detentionIn(w.Student, w.Class)
		cmd.Punishment = res.ID // another student's file: the id is free there
		return w.h.GivePunishment(w.ctx, as(w.Head), cmd)
	}, domain.PunishmentGiven{Punishment: res.ID, Student: w.Student, Group: w.Class, Kind: domain.PunishmentDetention, Date: disciplineDay, Reason: "Bavardages répétés"})
}

func TestGivePunishmentRules(t *testing.T) {
	w := newWorld(t)
	taken := uuid.New()
	w.given(domain.DisciplineStream(w.Student), domain.PunishmentGiven{Punishment: taken, Student: w.Student, Kind: domain.PunishmentExtraWork, Date: disciplineDay, Reason: "x"})
	outsider := givenStudentInNoGroup(w, w.UAI) // in the establishment, in no group
	closed := givenStudentInNoGroup(w, w.UAI, domain.AccountClosed{})
	with := func(change func(*domain.GivePunishment)) domain.GivePunishment {
		cmd := detentionIn(w.Student, w.Class)
		change(&cmd)
		return cmd
	}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.GivePunishment
		want  error
	}{
		{"teacher of another group", w.OtherTeacher, detentionIn(w.Student, w.Class), domain.ErrNotTeacherOfGroup},
		{"teacher names a group they do not teach", w.Teacher, detentionIn(w.OtherStudent, w.OtherClass), domain.ErrNotTeacherOfGroup},
		{"teacher names no group", w.Teacher, detentionIn(w.Student, uuid.Nil), domain.ErrInvalid},
		{"teacher, student not in the group", w.Teacher, detentionIn(outsider, w.Class), domain.ErrStudentNotInGroup},
		{"teacher, student of another establishment", w.Teacher, detentionIn(w.OtherStudent, w.Class), domain.ErrStudentNotInGroup},
		{"personnel of another establishment", w.OtherHead, detentionIn(w.Student, uuid.Nil), domain.ErrWrongEstablishment},
		{"personnel of another establishment names the group", w.OtherHead, detentionIn(w.Student, w.Class), domain.ErrWrongEstablishment},
		{"personnel, student of another establishment", w.CPE, detentionIn(w.OtherStudent, uuid.Nil), domain.ErrWrongEstablishment},
		{"personnel, group of another establishment", w.CPE, detentionIn(w.OtherStudent, w.OtherClass), domain.ErrWrongEstablishment},
		{"personnel, student not in the named group", w.CPE, detentionIn(outsider, w.Class), domain.ErrStudentNotInGroup},
		{"student", w.Student2, detentionIn(w.Student, w.Class), domain.ErrNoSchoolLifeActs},
		{"relative", w.Relative, detentionIn(w.Student, w.Class), domain.ErrNoSchoolLifeActs},
		{"guest", w.Guest, detentionIn(w.Student, w.Class), domain.ErrNoSchoolLifeActs},
		{"administrator", w.Admin, detentionIn(w.Student, w.Class), domain.ErrNoSchoolLifeActs},
		{"inspector", w.Inspector, detentionIn(w.Student, w.Class), domain.ErrForbidden},
		{"evaluator", w.Evaluator, detentionIn(w.Student, w.Class), domain.ErrForbidden},
		{"unknown actor", uuid.New(), detentionIn(w.Student, w.Class), domain.ErrForbidden},
		{"unknown student", w.CPE, detentionIn(uuid.New(), uuid.Nil), domain.ErrUnknownStudent},
		{"no student", w.CPE, detentionIn(uuid.Nil, uuid.Nil), domain.ErrUnknownStudent},
		{"not a student", w.CPE, detentionIn(w.Relative, uuid.Nil), domain.ErrNotAStudent},
		{"closed student", w.CPE, detentionIn(closed, uuid.Nil), domain.ErrAccountClosed},
		{"unknown group", w.Teacher, detentionIn(w.Student, uuid.New()), domain.ErrUnknownGroup},
		{"unknown kind", w.Teacher, with(func(c *domain.GivePunishment) { c.Kind = "fessee" }), domain.ErrInvalid},
		{"a sanction is no punishment", w.Teacher, with(func(c *domain.GivePunishment) { c.Kind = domain.PunishmentKind(domain.SanctionReprimand) }), domain.ErrInvalid},
		{"missing date", w.Teacher, with(func(c *domain.GivePunishment) { c.Date = domain.Date{} }), domain.ErrInvalid},
		{"blank reason", w.Teacher, with(func(c *domain.GivePunishment) { c.Reason = " \t" }), domain.ErrInvalid},
		{"id already on the file", w.Teacher, with(func(c *domain.GivePunishment) { c.Punishment = taken }), domain.ErrDisciplineActExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.GivePunishment(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

func TestIdempotentPunishment(t *testing.T) {
	w := newWorld(t)
	req := as(w.Teacher)
	req.IdempotencyKey = "punishment-lea-tuesday"
	cmd := detentionIn(w.Student, w.Class)
	first, err := w.h.GivePunishment(w.ctx, req, cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		again, err := w.h.GivePunishment(w.ctx, req, cmd)
		if err == nil && (!again.Replayed || again.ID != first.ID || again.Stream != first.Stream || again.Version != first.Version ||
			again.Position != first.Position || len(again.Events) != 1 || again.Events[0] != first.Events[0] || again.CorrelationID != first.CorrelationID) {
			t.Errorf("replay: got %+v, want the original %+v", again, first)
		}
		return again, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("replayed punishment: err %v, %d events appended", err, len(got))
	}
	// The same key for another student's punishment is refused.
	w.thenError(func() (commands.Result, error) {
		return w.h.GivePunishment(w.ctx, req, detentionIn(w.Student2, w.Class))
	}, domain.ErrIdempotencyKey)
	// So is the same key for another command on the same file.
	headReq := as(w.Head)
	headReq.IdempotencyKey = "lea-file"
	if _, err := w.h.GivePunishment(w.ctx, headReq, detentionIn(w.Student, uuid.Nil)); err != nil {
		t.Fatal(err)
	}
	w.thenError(func() (commands.Result, error) {
		return w.h.PronounceSanction(w.ctx, headReq, warningTo(w.Student))
	}, domain.ErrIdempotencyKey)
}

func warningTo(student uuid.UUID) domain.PronounceSanction {
	return domain.PronounceSanction{Student: student, Kind: domain.SanctionWarning, Date: disciplineDay, Reason: "Insolence"}
}

func exclusionOf(student uuid.UUID, days int, incident uuid.UUID) domain.PronounceSanction {
	return domain.PronounceSanction{Student: student, Kind: domain.SanctionTemporaryExclusion, Date: disciplineDay, Days: days, Incident: incident, Reason: "Violence"}
}

func TestPronounceSanction(t *testing.T) {
	w := newWorld(t)
	incident := givenIncidentIn(w, w.UAI, w.Student)
	cmd := exclusionOf(w.Student, 3, incident)
	cmd.Sanction = uuid.New()
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.PronounceSanction(w.ctx, as(w.Head), cmd) },
		domain.SanctionPronounced{Sanction: cmd.Sanction, Student: w.Student, Kind: domain.SanctionTemporaryExclusion, Date: disciplineDay, Days: 3, Incident: incident, Reason: "Violence",
			Authority: domain.AuthorityHead, EffacedOn: domain.MustDate("2007-03-14")})
	md := recs[0].Metadata
	if recs[0].Stream != domain.DisciplineStream(w.Student) || md.Actor != w.Head || md.Establishment != w.UAI || md.Command != commands.CmdPronounceSanction {
		t.Fatalf("record %+v", recs[0])
	}

	// A deputy pronounces too; a sanction without incident or days.
	deputy := uuid.New()
	w.given(domain.AccountStream(deputy), domain.AccountOpened{Account: deputy, Establishment: w.UAI, Profile: domain.ProfilePersonnel, Function: domain.FunctionDeputy, DisplayName: "Adjoint"})
	var res commands.Result
	got, _, err := w.when(func() (r commands.Result, err error) {
		res, err = w.h.PronounceSanction(w.ctx, as(deputy), warningTo(w.Student2))
		return res, err
	})
	want := domain.SanctionPronounced{Sanction: res.ID, Student: w.Student2, Kind: domain.SanctionWarning, Date: disciplineDay, Reason: "Insolence",
		Authority: domain.AuthorityHead, EffacedOn: domain.MustDate("2006-09-01")}
	if err != nil || len(got) != 1 || got[0] != want || res.ID == uuid.Nil {
		t.Fatalf("deputy: err %v, got %#v, want %#v", err, got, want)
	}

	// The head of the other establishment sanctions their own students.
	other := exclusionOf(w.OtherStudent, domain.MaxExclusionDays, givenIncidentIn(w, w.OtherUAI, w.OtherStudent))
	other.Sanction = uuid.New()
	recs = w.thenEvents(func() (commands.Result, error) { return w.h.PronounceSanction(w.ctx, as(w.OtherHead), other) },
		domain.SanctionPronounced{Sanction: other.Sanction, Student: w.OtherStudent, Kind: domain.SanctionTemporaryExclusion, Date: disciplineDay, Days: domain.MaxExclusionDays, Incident: other.Incident, Reason: "Violence",
			Authority: domain.AuthorityHead, EffacedOn: domain.MustDate("2007-03-14")})
	if recs[0].Metadata.Establishment != w.OtherUAI {
		t.Fatalf("metadata %+v", recs[0].Metadata)
	}
}

func TestPronounceSanctionRules(t *testing.T) {
	w := newWorld(t)
	incident := givenIncidentIn(w, w.UAI, w.Student)
	elsewhere := givenIncidentIn(w, w.OtherUAI, w.OtherStudent)
	taken := uuid.New()
	w.given(domain.DisciplineStream(w.Student), domain.PunishmentGiven{Punishment: taken, Student: w.Student, Kind: domain.PunishmentExtraWork, Date: disciplineDay, Reason: "x"})
	closed := givenStudentInNoGroup(w, w.UAI, domain.AccountClosed{})
	with := func(change func(*domain.PronounceSanction)) domain.PronounceSanction {
		cmd := warningTo(w.Student)
		change(&cmd)
		return cmd
	}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.PronounceSanction
		want  error
	}{
		{"CPE", w.CPE, warningTo(w.Student), domain.ErrNotHead},
		{"teacher of the student", w.Teacher, warningTo(w.Student), domain.ErrNotHead},
		{"other teacher", w.OtherTeacher, warningTo(w.Student), domain.ErrNotHead},
		{"head of another establishment", w.OtherHead, warningTo(w.Student), domain.ErrWrongEstablishment},
		{"student", w.Student2, warningTo(w.Student), domain.ErrNoSchoolLifeActs},
		{"relative", w.Relative, warningTo(w.Student), domain.ErrNoSchoolLifeActs},
		{"guest", w.Guest, warningTo(w.Student), domain.ErrNoSchoolLifeActs},
		{"administrator", w.Admin, warningTo(w.Student), domain.ErrNoSchoolLifeActs},
		{"inspector", w.Inspector, warningTo(w.Student), domain.ErrForbidden},
		{"evaluator", w.Evaluator, warningTo(w.Student), domain.ErrForbidden},
		{"unknown student", w.Head, warningTo(uuid.New()), domain.ErrUnknownStudent},
		{"not a student", w.Head, warningTo(w.Teacher), domain.ErrNotAStudent},
		{"closed student", w.Head, warningTo(closed), domain.ErrAccountClosed},
		{"student of another establishment", w.Head, warningTo(w.OtherStudent), domain.ErrWrongEstablishment},
		{"exclusion of 0 days", w.Head, exclusionOf(w.Student, 0, uuid.Nil), domain.ErrSanctionDays},
		{"exclusion of 9 days", w.Head, exclusionOf(w.Student, domain.MaxExclusionDays+1, uuid.Nil), domain.ErrSanctionDays},
		{"exclusion of negative days", w.Head, exclusionOf(w.Student, -2, uuid.Nil), domain.ErrSanctionDays},
		{"days on a warning", w.Head, with(func(c *domain.PronounceSanction) { c.Days = 2 }), domain.ErrSanctionDays},
		{"days on a permanent exclusion", w.Head, with(func(c *domain.PronounceSanction) { c.Kind, c.Days = domain.SanctionPermanentExclusion, 8 }), domain.ErrSanctionDays},
		{"unknown kind", w.Head, with(func(c *domain.PronounceSanction) { c.Kind = "pilori" }), domain.ErrInvalid},
		{"a punishment is no sanction", w.Head, with(func(c *domain.PronounceSanction) { c.Kind = domain.SanctionKind(domain.PunishmentDetention) }), domain.ErrInvalid},
		{"missing date", w.Head, with(func(c *domain.PronounceSanction) { c.Date = domain.Date{} }), domain.ErrInvalid},
		{"blank reason", w.Head, with(func(c *domain.PronounceSanction) { c.Reason = "" }), domain.ErrInvalid},
		{"unknown incident", w.Head, exclusionOf(w.Student, 2, uuid.New()), domain.ErrUnknownIncident},
		{"incident of another establishment", w.Head, exclusionOf(w.Student, 2, elsewhere), domain.ErrWrongEstablishment},
		{"id already on the file", w.Head, with(func(c *domain.PronounceSanction) { c.Sanction, c.Incident = taken, incident }), domain.ErrDisciplineActExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.PronounceSanction(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

// givenSanction has the head pronounce a warning to student and returns its
// id.
func givenSanction(t *testing.T, w *world, student uuid.UUID) uuid.UUID {
	t.Helper()
	res, err := w.h.PronounceSanction(w.ctx, as(w.Head), warningTo(student))
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

func TestAnnulSanction(t *testing.T) {
	w := newWorld(t)
	sanction := givenSanction(t, w, w.Student)
	annul := domain.AnnulSanction{Student: w.Student, Sanction: sanction, Reason: "Recours gracieux accepté"}
	var res commands.Result
	recs := w.thenEvents(func() (r commands.Result, err error) {
		res, err = w.h.AnnulSanction(w.ctx, as(w.Head), annul)
		return res, err
	}, domain.SanctionAnnulled{Sanction: sanction, Student: w.Student, Reason: "Recours gracieux accepté"})
	md := recs[0].Metadata
	if res.ID != sanction || res.Version != 2 || md.Establishment != w.UAI || md.Command != commands.CmdAnnulSanction || md.Actor != w.Head {
		t.Fatalf("result %+v, metadata %+v", res, md)
	}
	w.thenError(func() (commands.Result, error) { return w.h.AnnulSanction(w.ctx, as(w.Head), annul) }, domain.ErrSanctionAnnulled)
}

func TestAnnulSanctionRules(t *testing.T) {
	w := newWorld(t)
	sanction := givenSanction(t, w, w.Student)
	punishment := uuid.New()
	w.given(domain.DisciplineStream(w.Student), domain.PunishmentGiven{Punishment: punishment, Student: w.Student, Kind: domain.PunishmentExtraWork, Date: disciplineDay, Reason: "x"})
	annul := func(student, sanction uuid.UUID) domain.AnnulSanction {
		return domain.AnnulSanction{Student: student, Sanction: sanction, Reason: "Erreur"}
	}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.AnnulSanction
		want  error
	}{
		{"CPE", w.CPE, annul(w.Student, sanction), domain.ErrNotHead},
		{"teacher", w.Teacher, annul(w.Student, sanction), domain.ErrNotHead},
		{"head of another establishment", w.OtherHead, annul(w.Student, sanction), domain.ErrWrongEstablishment},
		{"student", w.Student, annul(w.Student, sanction), domain.ErrNoSchoolLifeActs},
		{"relative", w.Relative, annul(w.Student, sanction), domain.ErrNoSchoolLifeActs},
		{"guest", w.Guest, annul(w.Student, sanction), domain.ErrNoSchoolLifeActs},
		{"inspector", w.Inspector, annul(w.Student, sanction), domain.ErrForbidden},
		{"evaluator", w.Evaluator, annul(w.Student, sanction), domain.ErrForbidden},
		{"unknown student", w.Head, annul(uuid.New(), sanction), domain.ErrUnknownStudent},
		{"not a student", w.Head, annul(w.Relative, sanction), domain.ErrNotAStudent},
		{"unknown sanction", w.Head, annul(w.Student, uuid.New()), domain.ErrSanctionNotFound},
		{"sanction of another student", w.Head, annul(w.Student2, sanction), domain.ErrSanctionNotFound},
		{"a punishment is no sanction", w.Head, annul(w.Student, punishment), domain.ErrSanctionNotFound},
		{"blank reason", w.Head, domain.AnnulSanction{Student: w.Student, Sanction: sanction, Reason: " "}, domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.AnnulSanction(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

// TestCouncilAndSursis: the head records the council's exclusion
// définitive with a sursis; the council alone revokes it; an exclusion
// from the establishment's sursis the head revokes.
func TestCouncilAndSursis(t *testing.T) {
	w := newWorld(t)
	council := &domain.CouncilSession{Date: disciplineDay, Present: 11, Decision: "8 voix pour, 3 contre"}
	definitive := domain.PronounceSanction{Student: w.Student, Kind: domain.SanctionPermanentExclusion, Date: disciplineDay, Reason: "Violence grave",
		Authority: domain.AuthorityCouncil, Council: council, Sursis: &domain.Sursis{Until: domain.MustDate("2007-08-31")}}
	alone := definitive
	alone.Authority, alone.Council = "", nil
	w.thenError(func() (commands.Result, error) { return w.h.PronounceSanction(w.ctx, as(w.Head), alone) }, domain.ErrCouncilRequired)
	res, err := w.h.PronounceSanction(w.ctx, as(w.Head), definitive)
	if err != nil {
		t.Fatal(err)
	}
	revoke := domain.RevokeSursis{Student: w.Student, Sanction: res.ID, Date: domain.MustDate("2006-05-02"), Reason: "Nouveau manquement grave"}
	w.thenError(func() (commands.Result, error) { return w.h.RevokeSursis(w.ctx, as(w.Head), revoke) }, domain.ErrCouncilRequired)
	w.thenError(func() (commands.Result, error) { return w.h.RevokeSursis(w.ctx, as(w.CPE), revoke) }, domain.ErrNotHead)
	revoke.Authority, revoke.Council = domain.AuthorityCouncil, &domain.CouncilSession{Date: domain.MustDate("2006-05-02"), Present: 9, Decision: "unanimité"}
	w.thenEvents(func() (commands.Result, error) { return w.h.RevokeSursis(w.ctx, as(w.Head), revoke) },
		domain.SursisRevoked{Sanction: res.ID, Student: w.Student, Date: revoke.Date, Authority: domain.AuthorityCouncil, Council: revoke.Council, Reason: revoke.Reason})
	w.thenError(func() (commands.Result, error) { return w.h.RevokeSursis(w.ctx, as(w.Head), revoke) }, domain.ErrNoSursis)

	// An exclusion from the establishment, then its effacement when the
	// student changes establishment.
	excl := exclusionOf(w.Student2, 4, uuid.Nil)
	excl.Sursis = &domain.Sursis{Days: 2, Until: domain.MustDate("2006-12-31")}
	res, err = w.h.PronounceSanction(w.ctx, as(w.Head), excl)
	if err != nil {
		t.Fatal(err)
	}
	efface := domain.EffaceSanction{Student: w.Student2, Sanction: res.ID, Date: domain.MustDate("2006-06-30"), Basis: domain.EffacementChangeOfEstablishment}
	w.thenError(func() (commands.Result, error) { return w.h.EffaceSanction(w.ctx, as(w.Teacher), efface) }, domain.ErrNotHead)
	w.thenEvents(func() (commands.Result, error) { return w.h.EffaceSanction(w.ctx, as(w.Head), efface) },
		domain.SanctionEffaced{Sanction: res.ID, Student: w.Student2, Date: efface.Date, Basis: efface.Basis})
	w.thenError(func() (commands.Result, error) {
		return w.h.RevokeSursis(w.ctx, as(w.Head), domain.RevokeSursis{Student: w.Student2, Sanction: res.ID, Date: domain.MustDate("2006-07-03"), Reason: "x"})
	}, domain.ErrSanctionEffaced)
}
