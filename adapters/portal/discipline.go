package portal

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) disciplinePages() []page {
	recorders := []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel}
	return []page{
		{method: "GET", path: "/discipline", profiles: recorders, handle: p.disciplinePage},
		{method: "POST", path: "/discipline/punishments", profiles: recorders, handle: p.onForm(punishmentForm, p.showDiscipline, p.givePunishment)},
		{method: "POST", path: "/discipline/incidents", profiles: recorders, handle: p.onForm(incidentForm, p.showDiscipline, p.reportIncident)},
		{method: "POST", path: "/discipline/sanctions", profiles: []domain.Profile{domain.ProfilePersonnel}, handle: p.onForm(sanctionForm, p.showDiscipline, p.pronounceSanction)},
	}
}

// classList is a group and its students, for the forms' lists.
type classList struct {
	Group    uuid.UUID
	Name     string
	Students []projections.GroupMember
}

// disciplineData is what the discipline forms offer.
type disciplineData struct {
	Classes     []classList
	Today       domain.Date
	Now         string
	Punishments []domain.PunishmentKind
	Sanctions   []domain.SanctionKind
	Seriousness []domain.Seriousness
	// Head may pronounce sanctions.
	Head bool
	// DayKinds are the sanctions that last days (the temporary
	// exclusions), space-separated for the form's script.
	DayKinds string
	// CouncilKind is the sanction only the disciplinary council pronounces.
	CouncilKind domain.SanctionKind
	// Authorities are who may pronounce a sanction.
	Authorities []domain.SanctionAuthority
	// Given are the punishments and incidents the reader recorded, the
	// most recent first; Older and Newer page through them.
	Given        []givenAct
	Older, Newer string
}

// givenAct is a punishment given or an incident reported, as the
// discipline page lists it.
type givenAct struct {
	// Label says what it is ("Retenue", "Incident grave").
	Label string
	// When is the punishment's day or the incident's moment.
	When string
	// Students are the punished student or the incident's protagonists.
	Students string
	Group    string
	// Text is the punishment's reason or the incident's place and
	// description.
	Text string
}

// givenTypes are the acts the discipline page lists.
var givenTypes = []string{"punishment.given.v1", "incident.reported.v1"}

// givenPage is how many acts the discipline page lists at a time.
const givenPage = 20

// given reads a page of the reader's punishments and incidents, the most
// recent first, before the position ?before= names.
func (p *Portal) given(r *http.Request, v *view, data *disciplineData) error {
	var before domain.Position
	if s := r.URL.Query().Get("before"); s != "" {
		var err error
		if before, err = domain.ParsePosition(s); err != nil {
			return web.ErrInvalidQuery.With("before %q is not a position", s)
		}
		data.Newer = "/discipline"
	}
	page, err := p.cfg.Queries.RecentBy(r.Context(), v.Me.ID, givenTypes, before, givenPage)
	if err != nil {
		return err
	}
	if page.Next != "" {
		data.Older = "/discipline?before=" + page.Next
	}
	n := p.names()
	for _, e := range page.Items {
		switch e.Type {
		case "punishment.given.v1":
			var x domain.PunishmentGiven
			if json.Unmarshal(e.Data, &x) != nil {
				continue
			}
			data.Given = append(data.Given, givenAct{
				Label: v.Label("punishment", x.Kind), When: v.Day(x.Date), Students: n.of(r, x.Student),
				Group: n.of(r, x.Group), Text: x.Reason,
			})
		case "incident.reported.v1":
			var x domain.IncidentReported
			if json.Unmarshal(e.Data, &x) != nil {
				continue
			}
			var names []string
			for _, pr := range x.Protagonists {
				names = append(names, n.of(r, pr.Account)+" ("+v.Label("protagonist", pr.Role)+")")
			}
			data.Given = append(data.Given, givenAct{
				Label: v.T("event.incident.reported.v1") + " · " + v.Label("seriousness", x.Seriousness), When: v.When(x.OccurredAt),
				Students: strings.Join(names, ", "), Text: x.Place + " — " + x.Description,
			})
		}
	}
	return nil
}

// The discipline page's forms.
var (
	punishmentForm = formSpec{name: "punishment", fields: []string{"student", "kind", "date", "reason"}}
	incidentForm   = formSpec{name: "incident", fields: []string{"occurred_at", "place", "seriousness", "description", "author", "victim", "witness"}}
	sanctionForm   = formSpec{name: "sanction", fields: []string{"student", "kind", "date", "days", "hours", "annex", "reason",
		"authority", "council_date", "council_present", "council_decision", "sursis", "sursis_days", "sursis_until"},
		aliases: map[string]string{"council.date": "council_date", "council.present": "council_present",
			"council.decision": "council_decision", "sursis.days": "sursis_days", "sursis.until": "sursis_until"}}
)

// classes lists the groups whose students the reader deals with: a
// teacher's groups, or every group of a staff member's establishment.
func (p *Portal) classes(r *http.Request, v *view) ([]classList, error) {
	var ids []uuid.UUID
	if v.Me.Profile == domain.ProfilePersonnel {
		if err := web.MayListGroups(v.principal, v.Me.Establishment); err != nil {
			return nil, err
		}
		groups, err := p.cfg.Queries.GroupsOfEstablishment(r.Context(), v.Me.Establishment)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			ids = append(ids, g.ID)
		}
	} else {
		for _, m := range v.Me.Groups {
			if m.Teaching() && !slices.Contains(ids, m.Group) {
				ids = append(ids, m.Group)
			}
		}
	}
	var out []classList
	for _, id := range ids {
		g, err := p.cfg.Queries.Group(r.Context(), id)
		if err != nil {
			return nil, err
		}
		if err := web.MayReadGroup(v.principal, g); err != nil {
			continue
		}
		if students := g.Members[domain.RoleStudent]; len(students) > 0 {
			out = append(out, classList{Group: g.ID, Name: g.Shown(), Students: students})
		}
	}
	return out, nil
}

// disciplinePage offers the forms of punishments and incidents, and of
// sanctions to the head of establishment.
func (p *Portal) disciplinePage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showDiscipline(w, r, v, http.StatusOK)
}

// showDiscipline renders the discipline page with status (a refused
// form's).
func (p *Portal) showDiscipline(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	classes, err := p.classes(r, v)
	if err != nil {
		return err
	}
	now := p.now().In(p.cfg.Location)
	data := disciplineData{
		Classes: classes, Today: domain.DateOf(now), Now: now.Format("2006-01-02T15:04"),
		Punishments: []domain.PunishmentKind{domain.PunishmentDetention, domain.PunishmentExtraWork, domain.PunishmentLessonExclusion},
		Sanctions:   domain.SanctionKinds(),
		DayKinds:    string(domain.SanctionClassExclusion) + " " + string(domain.SanctionTemporaryExclusion),
		CouncilKind: domain.SanctionPermanentExclusion,
		Authorities: []domain.SanctionAuthority{domain.AuthorityHead, domain.AuthorityCouncil},
		Seriousness: []domain.Seriousness{domain.SeriousnessMinor, domain.SeriousnessSerious, domain.SeriousnessGrave},
		Head:        v.principal.Actor().IsHead(v.Me.Establishment),
	}
	if err := p.given(r, v, &data); err != nil {
		return err
	}
	p.render(w, r, status, v, "discipline", "title.discipline", data)
	return nil
}

// groupStudent reads a "group|student" choice.
func groupStudent(f *web.Form, name string) (group, student uuid.UUID) {
	g, s, ok := strings.Cut(f.Str(name), "|")
	var err1, err2 error
	group, err1 = uuid.Parse(g)
	student, err2 = uuid.Parse(s)
	if !ok || err1 != nil || err2 != nil {
		f.Fail(name, web.WantChoice, "choose a student")
	}
	return group, student
}

// mayChoose checks that the reader may read the group of a student they
// chose: the forms offer only such groups' students.
func (p *Portal) mayChoose(r *http.Request, v *view, group uuid.UUID) error {
	g, err := p.cfg.Queries.Group(r.Context(), group)
	if err != nil {
		return atField(err, "student", "")
	}
	return atField(web.MayReadGroup(v.principal, g), "student", v.T("form.not_yours"))
}

// givePunishment records a punishment, naming the group the student was
// punished in.
func (p *Portal) givePunishment(w http.ResponseWriter, r *http.Request, v *view) error {
	f := web.FormOf(r)
	group, student := groupStudent(f, "student")
	cmd := domain.GivePunishment{
		Student: student, Group: group, Kind: domain.PunishmentKind(f.Str("kind")), Date: f.Date("date"), Reason: f.Need("reason"),
	}
	if f.Err() != nil {
		return f.Err()
	}
	if err := p.mayChoose(r, v, group); err != nil {
		return err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.GivePunishment(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/discipline", "punishment", res)
}

// reportIncident records an incident and its protagonists.
func (p *Portal) reportIncident(w http.ResponseWriter, r *http.Request, v *view) error {
	f := web.FormOf(r)
	cmd := domain.ReportIncident{
		Establishment: v.Me.Establishment, OccurredAt: f.LocalTime("occurred_at", p.cfg.Location),
		Place: f.Need("place"), Seriousness: domain.Seriousness(f.Str("seriousness")), Description: f.Need("description"),
	}
	for _, role := range []domain.ProtagonistRole{domain.ProtagonistAuthor, domain.ProtagonistVictim, domain.ProtagonistWitness} {
		for _, id := range f.IDs(string(role)) {
			cmd.Protagonists = append(cmd.Protagonists, domain.Protagonist{Account: id, Role: role})
		}
	}
	if f.Err() != nil {
		return f.Err()
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.ReportIncident(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/discipline", "incident", res)
}

// pronounceSanction records a sanction (the command layer lets only the
// head of establishment or a deputy do it).
func (p *Portal) pronounceSanction(w http.ResponseWriter, r *http.Request, v *view) error {
	f := web.FormOf(r)
	group, student := groupStudent(f, "student")
	cmd := domain.PronounceSanction{
		Student: student, Kind: domain.SanctionKind(f.Str("kind")), Date: f.Date("date"), Reason: f.Need("reason"),
	}
	// The form shows each field for the kinds it belongs to; a hidden
	// field another kind sent means nothing.
	if cmd.Kind.HasDays() {
		cmd.Days = f.OptInt("days")
	}
	if cmd.Kind == domain.SanctionResponsibility {
		cmd.Hours = f.OptInt("hours")
	}
	if cmd.Kind == domain.SanctionTemporaryExclusion || cmd.Kind == domain.SanctionPermanentExclusion {
		cmd.Annex = f.Str("annex")
	}
	// The exclusion définitive is the council's: its form records the
	// council's sitting.
	if cmd.Kind == domain.SanctionPermanentExclusion || f.Str("authority") == string(domain.AuthorityCouncil) {
		cmd.Authority = domain.AuthorityCouncil
		cmd.Council = &domain.CouncilSession{Date: f.Date("council_date"), Present: f.OptInt("council_present"), Decision: f.Need("council_decision")}
	}
	if f.Bool("sursis") && cmd.Kind.MaySuspend() {
		cmd.Sursis = &domain.Sursis{Until: f.Date("sursis_until")}
		if cmd.Kind.HasDays() {
			cmd.Sursis.Days = f.OptInt("sursis_days")
		}
	}
	if f.Err() != nil {
		return f.Err()
	}
	if err := p.mayChoose(r, v, group); err != nil {
		return err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.PronounceSanction(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/discipline", "sanction", res)
}
