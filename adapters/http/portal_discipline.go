package http

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *portal) disciplinePages() []page {
	recorders := []domain.Profile{domain.ProfileTeacher, domain.ProfilePersonnel}
	return []page{
		{method: "GET", path: "/discipline", profiles: recorders, handle: p.disciplinePage},
		{method: "POST", path: "/discipline/punishments", profiles: recorders, handle: p.givePunishment},
		{method: "POST", path: "/discipline/incidents", profiles: recorders, handle: p.reportIncident},
		{method: "POST", path: "/discipline/sanctions", profiles: []domain.Profile{domain.ProfilePersonnel}, handle: p.pronounceSanction},
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
}

// classes lists the groups whose students the reader deals with: a
// teacher's groups, or every group of a staff member's establishment.
func (p *portal) classes(r *http.Request, v *view) ([]classList, error) {
	var ids []uuid.UUID
	if v.Me.Profile == domain.ProfilePersonnel {
		if err := mayListGroups(v.principal, v.Me.Establishment); err != nil {
			return nil, err
		}
		groups, err := p.s.cfg.Queries.GroupsOfEstablishment(r.Context(), v.Me.Establishment)
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
		g, err := p.s.cfg.Queries.Group(r.Context(), id)
		if err != nil {
			return nil, err
		}
		if err := mayReadGroup(v.principal, g); err != nil {
			continue
		}
		if students := g.Members[domain.RoleStudent]; len(students) > 0 {
			out = append(out, classList{Group: g.ID, Name: g.Name, Students: students})
		}
	}
	return out, nil
}

// disciplinePage offers the forms of punishments and incidents, and of
// sanctions to the head of establishment.
func (p *portal) disciplinePage(w http.ResponseWriter, r *http.Request, v *view) error {
	classes, err := p.classes(r, v)
	if err != nil {
		return err
	}
	now := p.s.now().In(p.s.cfg.Location)
	return p.ok(w, r, v, "discipline", "title.discipline", disciplineData{
		Classes: classes, Today: domain.DateOf(now), Now: now.Format("2006-01-02T15:04"),
		Punishments: []domain.PunishmentKind{domain.PunishmentDetention, domain.PunishmentExtraWork, domain.PunishmentLessonExclusion},
		Sanctions: []domain.SanctionKind{
			domain.SanctionWarning, domain.SanctionReprimand, domain.SanctionResponsibility,
			domain.SanctionTemporaryExclusion, domain.SanctionPermanentExclusion,
		},
		Seriousness: []domain.Seriousness{domain.SeriousnessMinor, domain.SeriousnessSerious, domain.SeriousnessGrave},
		Head:        v.principal.actor.IsHead(v.Me.Establishment),
	})
}

// groupStudent reads a "group|student" choice.
func groupStudent(f *form, name string) (group, student uuid.UUID) {
	g, s, ok := strings.Cut(f.str(name), "|")
	var err1, err2 error
	group, err1 = uuid.Parse(g)
	student, err2 = uuid.Parse(s)
	if !ok || err1 != nil || err2 != nil {
		f.fail(name, "choose a student")
	}
	return group, student
}

// givePunishment records a punishment, naming the group the student was
// punished in.
func (p *portal) givePunishment(w http.ResponseWriter, r *http.Request, v *view) error {
	f := formOf(r)
	group, student := groupStudent(f, "student")
	cmd := domain.GivePunishment{
		Student: student, Group: group, Kind: domain.PunishmentKind(f.str("kind")), Date: f.date("date"), Reason: f.str("reason"),
	}
	if f.err != nil {
		return f.err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.s.cfg.Commands.GivePunishment(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/discipline", "punishment", res)
}

// reportIncident records an incident and its protagonists.
func (p *portal) reportIncident(w http.ResponseWriter, r *http.Request, v *view) error {
	f := formOf(r)
	cmd := domain.ReportIncident{
		Establishment: v.Me.Establishment, OccurredAt: f.localTime("occurred_at", p.s.cfg.Location),
		Place: f.str("place"), Seriousness: domain.Seriousness(f.str("seriousness")), Description: f.str("description"),
	}
	for _, role := range []domain.ProtagonistRole{domain.ProtagonistAuthor, domain.ProtagonistVictim, domain.ProtagonistWitness} {
		for _, id := range f.ids(string(role)) {
			cmd.Protagonists = append(cmd.Protagonists, domain.Protagonist{Account: id, Role: role})
		}
	}
	if f.err != nil {
		return f.err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.s.cfg.Commands.ReportIncident(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/discipline", "incident", res)
}

// pronounceSanction records a sanction (the command layer lets only the
// head of establishment or a deputy do it).
func (p *portal) pronounceSanction(w http.ResponseWriter, r *http.Request, v *view) error {
	f := formOf(r)
	_, student := groupStudent(f, "student")
	cmd := domain.PronounceSanction{
		Student: student, Kind: domain.SanctionKind(f.str("kind")), Date: f.date("date"),
		Days: f.optInt("days"), Reason: f.str("reason"),
	}
	if f.err != nil {
		return f.err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.s.cfg.Commands.PronounceSanction(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/discipline", "sanction", res)
}
