package portal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) auditPages() []page {
	inspectors := []domain.Profile{domain.ProfileInspector}
	return []page{
		{method: "GET", path: "/audit", profiles: inspectors, handle: p.auditPage},
		{method: "GET", path: "/audit/timeline.csv", profiles: inspectors, timeout: web.TimeoutLong, handle: p.auditCSV},
	}
}

// auditQuery is the audit form: an establishment, one or more subjects
// (students, groups, accounts, resources), filters and an "as of" day.
type auditQuery struct {
	UAI      string
	Subjects []uuid.UUID
	Types    []string
	From, To domain.Date
	Actor    uuid.UUID
	// AsOf shows the history up to the end of that day, and a student's
	// file as it stood then.
	AsOf domain.Date
}

// Encode returns the query string of the form, for links.
func (a auditQuery) Encode() string {
	q := url.Values{}
	q.Set("uai", a.UAI)
	for _, s := range a.Subjects {
		q.Add("subject", s.String())
	}
	for _, t := range a.Types {
		q.Add("types", t)
	}
	if !a.From.IsZero() {
		q.Set("from", a.From.String())
	}
	if !a.To.IsZero() {
		q.Set("to", a.To.String())
	}
	if a.Actor != uuid.Nil {
		q.Set("actor", a.Actor.String())
	}
	if !a.AsOf.IsZero() {
		q.Set("at", a.AsOf.String())
	}
	return q.Encode()
}

// Has reports whether the form selected a subject or a type, for the
// selects.
func (a auditQuery) Has(v string) bool {
	return slices.Contains(a.Types, v) || slices.ContainsFunc(a.Subjects, func(id uuid.UUID) bool { return id.String() == v })
}

// auditChoice is a subject of the form's list.
type auditChoice struct {
	Label string
	List  []recipient
}

// auditRow is an event of the timeline.
type auditRow struct {
	Entry  projections.AuditEntry
	Label  string
	Author string
	// AuthorURL is the author's own timeline.
	AuthorURL string
	Profile   string
	Summary   string
	Subjects  string
	JSON      string
}

// auditData is the audit page.
type auditData struct {
	Query          auditQuery
	Establishments []projections.EstablishmentEntry
	Choices        []auditChoice
	Types          []recipient
	Actors         []recipient
	Rows           []auditRow
	// Files are the students' files as of the "as of" day.
	Files []auditFile
	// Truncated is set when the timeline hit its limit.
	Truncated bool
	// Export is the establishment's export on the API; CSV the timeline's.
	Export, CSV string
}

// auditFile is a student's file as it stood at a past moment.
type auditFile struct {
	Name string
	At   time.Time
	File *projections.StudentFile
}

// auditLimit bounds the timeline of one subject.
const auditLimit = web.MaxHistoryLimit

// inspectorHome is the audit page for the first establishment the
// inspector is habilitated for.
func (p *Portal) inspectorHome(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.auditPage(w, r, v)
}

// readAuditQuery reads and checks the form: the establishment and every
// subject must be one the inspector is habilitated for.
func (p *Portal) readAuditQuery(r *http.Request, v *view) (auditQuery, error) {
	q := p.dec.Query(r)
	a := auditQuery{
		UAI: q.UAI("uai"), Types: q.List("types"), From: q.Date("from"), To: q.Date("to"),
		Actor: q.ID("actor"), AsOf: q.Date("at"),
	}
	for _, s := range q.List("subject") {
		id, err := uuid.Parse(s)
		if err != nil || len(s) != 36 {
			q.Fail("subject", "%q is not an id", s)
			continue
		}
		if !slices.Contains(a.Subjects, id) {
			a.Subjects = append(a.Subjects, id)
		}
	}
	if q.Err() != nil {
		return a, q.Err()
	}
	if a.UAI == "" && len(v.Me.Habilitations) > 0 {
		a.UAI = v.Me.Habilitations[0]
	}
	if err := web.MayAudit(v.principal, a.UAI); err != nil {
		return a, err
	}
	for _, s := range a.Subjects {
		uai, err := web.SubjectEstablishment(r.Context(), p.cfg.Queries, v.principal, s)
		if err != nil {
			return a, err
		}
		if err := web.MayAudit(v.principal, uai); err != nil {
			return a, err
		}
	}
	return a, nil
}

// filter is the history filter of the form.
func (a auditQuery) filter(loc *time.Location) projections.HistoryFilter {
	f := projections.HistoryFilter{Types: a.Types, Actor: a.Actor, Limit: auditLimit}
	if !a.From.IsZero() {
		f.From = a.From.In(loc)
	}
	if !a.To.IsZero() {
		f.To = a.To.AddDays(1).In(loc)
	}
	if !a.AsOf.IsZero() {
		end := a.AsOf.AddDays(1).In(loc)
		if f.To.IsZero() || end.Before(f.To) {
			f.To = end
		}
	}
	return f
}

// timeline merges the histories of the subjects, in log order, each event
// once: the first auditLimit events (truncated says more follow). It holds
// two pages at most, whatever the number of subjects: a subject's events
// past its first auditLimit cannot be among the merged first.
func (p *Portal) timeline(r *http.Request, a auditQuery) ([]projections.AuditEntry, bool, error) {
	var all []projections.AuditEntry
	truncated := false
	f := a.filter(p.cfg.Location)
	for _, s := range a.Subjects {
		h, err := p.cfg.Queries.History(r.Context(), s, f)
		if err != nil {
			return nil, false, err
		}
		truncated = truncated || h.Next != ""
		all = append(all, h.Items...)
		slices.SortStableFunc(all, func(x, y projections.AuditEntry) int {
			switch {
			case x.Position.Less(y.Position):
				return -1
			case y.Position.Less(x.Position):
				return 1
			}
			return 0
		})
		all = slices.CompactFunc(all, func(x, y projections.AuditEntry) bool { return x.ID == y.ID })
		if len(all) > auditLimit {
			all, truncated = all[:auditLimit], true
		}
	}
	return all, truncated, nil
}

// auditPage shows the audit form and, once subjects are chosen, their
// merged timeline: who did what, when, with which command; and, with an
// "as of" day, each chosen student's file as it stood then.
func (p *Portal) auditPage(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := p.readAuditQuery(r, v)
	if err != nil {
		return err
	}
	ctx := r.Context()
	data := auditData{Query: a}
	for _, uai := range v.Me.Habilitations {
		if est, err := p.cfg.Queries.Establishment(ctx, uai); err == nil {
			data.Establishments = append(data.Establishments, *est)
		}
	}
	export := url.Values{}
	if !a.From.IsZero() {
		export.Set("from", a.From.String())
	}
	if !a.To.IsZero() {
		export.Set("to", a.To.AddDays(1).String())
	}
	data.Export = "/api/v1/establishments/" + a.UAI + "/export"
	if len(export) > 0 {
		data.Export += "?" + export.Encode()
	}
	data.CSV = "/audit/timeline.csv?" + a.Encode()
	n := p.names()
	if err := p.auditChoices(r, v, a, &data, n); err != nil {
		return err
	}
	entries, truncated, err := p.timeline(r, a)
	if err != nil {
		return err
	}
	data.Truncated = truncated
	actors := map[uuid.UUID]bool{}
	for _, e := range entries {
		row := p.auditRow(r, v, e, n)
		if e.Actor != uuid.Nil {
			row.AuthorURL = "/audit?" + auditQuery{UAI: a.UAI, Subjects: []uuid.UUID{e.Actor}}.Encode()
		}
		data.Rows = append(data.Rows, row)
		if e.Actor != uuid.Nil && !actors[e.Actor] {
			actors[e.Actor] = true
			data.Actors = append(data.Actors, recipient{ID: e.Actor, Name: n.of(r, e.Actor), Selected: e.Actor == a.Actor})
		}
	}
	if a.Actor != uuid.Nil && !actors[a.Actor] {
		data.Actors = append(data.Actors, recipient{ID: a.Actor, Name: n.of(r, a.Actor), Selected: true})
	}
	if !a.AsOf.IsZero() {
		at := a.AsOf.AddDays(1).In(p.cfg.Location).Add(-time.Nanosecond)
		for _, s := range a.Subjects {
			acc, err := p.cfg.Queries.Account(ctx, s)
			if err != nil || acc.Profile != domain.ProfileStudent {
				continue
			}
			file, err := p.cfg.Queries.StudentFileAsOf(ctx, s, at, domain.Date{})
			if err != nil {
				return err
			}
			data.Files = append(data.Files, auditFile{Name: acc.DisplayName, At: at, File: file})
		}
	}
	return p.ok(w, r, v, "audit", "title.audit", data)
}

// auditChoices fills the form's lists: the establishment's groups, their
// students and teachers, its resources; the event types.
func (p *Portal) auditChoices(r *http.Request, v *view, a auditQuery, data *auditData, n *names) error {
	ctx := r.Context()
	groups, err := p.cfg.Queries.GroupsOfEstablishment(ctx, a.UAI)
	if err != nil {
		return err
	}
	gl := auditChoice{Label: v.T("audit.groups")}
	teachers := auditChoice{Label: v.T("audit.teachers")}
	seenTeacher := map[uuid.UUID]bool{}
	var students []auditChoice
	for _, gs := range groups {
		gl.List = append(gl.List, recipient{ID: gs.ID, Name: gs.Shown(), Selected: a.Has(gs.ID.String())})
		g, err := p.cfg.Queries.Group(ctx, gs.ID)
		if err != nil {
			return err
		}
		sc := auditChoice{Label: v.T("audit.students_of", g.Shown())}
		for _, m := range g.Members[domain.RoleStudent] {
			sc.List = append(sc.List, recipient{ID: m.Account, Name: m.DisplayName, Selected: a.Has(m.Account.String())})
			n.cache[m.Account] = m.DisplayName
		}
		if len(sc.List) > 0 {
			students = append(students, sc)
		}
		for _, role := range []domain.Role{domain.RoleHeadTeacher, domain.RoleTeacher} {
			for _, m := range g.Members[role] {
				if !seenTeacher[m.Account] {
					seenTeacher[m.Account] = true
					teachers.List = append(teachers.List, recipient{ID: m.Account, Name: m.DisplayName, Selected: a.Has(m.Account.String())})
				}
			}
		}
	}
	resources, err := p.cfg.Queries.Resources(ctx, a.UAI)
	if err != nil {
		return err
	}
	rl := auditChoice{Label: v.T("audit.resources")}
	for _, res := range resources {
		rl.List = append(rl.List, recipient{ID: res.Resource, Name: res.Name, Selected: a.Has(res.Resource.String())})
		n.cache[res.Resource] = res.Name
	}
	for _, c := range append(append([]auditChoice{gl}, students...), teachers, rl) {
		if len(c.List) > 0 {
			data.Choices = append(data.Choices, c)
		}
	}
	// Subjects given by id (an account found elsewhere) are kept.
	listed := map[string]bool{}
	for _, c := range data.Choices {
		for _, rc := range c.List {
			listed[rc.ID.String()] = true
		}
	}
	other := auditChoice{Label: v.T("audit.other")}
	for _, s := range a.Subjects {
		if !listed[s.String()] {
			other.List = append(other.List, recipient{ID: s, Name: n.of(r, s), Selected: true})
		}
	}
	if len(other.List) > 0 {
		data.Choices = append(data.Choices, other)
	}
	for _, t := range p.eventTypes {
		data.Types = append(data.Types, recipient{Name: t})
	}
	slices.SortFunc(data.Types, func(x, y recipient) int { return strings.Compare(v.Label("event", x.Name), v.Label("event", y.Name)) })
	return nil
}

// auditFields are the payload fields a timeline row sums up, in order;
// the ids among them are shown as names.
var auditFields = []string{
	"student", "relative", "account", "group", "teacher", "resource", "date", "slot", "subject", "minutes", "kind", "days",
	"reason", "reason_code", "comment", "seriousness", "place", "due", "title", "role", "display_name",
}

// auditRow sums up an event for the timeline.
func (p *Portal) auditRow(r *http.Request, v *view, e projections.AuditEntry, n *names) auditRow {
	row := auditRow{Entry: e, Label: v.Label("event", e.Type), Profile: v.Label("profile", e.Profile)}
	switch {
	case e.Actor == uuid.Nil:
		row.Author = v.T("audit.system")
	default:
		row.Author = n.of(r, e.Actor)
	}
	var data map[string]any
	if json.Unmarshal(e.Data, &data) == nil {
		var parts []string
		for _, k := range auditFields {
			val, ok := data[k]
			if !ok || val == nil || val == "" {
				continue
			}
			s := fmt.Sprint(val)
			switch x := val.(type) {
			case string:
				if id, err := uuid.Parse(x); err == nil && len(x) == 36 {
					s = n.of(r, id)
				}
			case map[string]any: // a slot
				s = fmt.Sprintf("%v-%v", x["start"], x["end"])
			case float64:
				s = fmt.Sprintf("%g", x)
			}
			parts = append(parts, v.Label("field", k)+" : "+s)
		}
		row.Summary = strings.Join(parts, " · ")
		if pretty, err := json.MarshalIndent(data, "", "  "); err == nil {
			row.JSON = string(pretty)
		}
	}
	return row
}

// auditCSV downloads the timeline of the form as CSV.
func (p *Portal) auditCSV(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := p.readAuditQuery(r, v)
	if err != nil {
		return err
	}
	entries, _, err := p.timeline(r, a)
	if err != nil {
		return err
	}
	n := p.names()
	header := []string{"position", "time", "type", "actor", "actor_name", "profile", "command", "correlation_id", "establishment", "data"}
	writeCSV(w, r, "timeline-"+a.UAI+".csv", header, func(yield func([]string) bool) {
		for _, e := range entries {
			if !yield([]string{
				e.Position.String(), e.Time.UTC().Format(time.RFC3339Nano), e.Type, e.Actor.String(), n.of(r, e.Actor),
				string(e.Profile), e.Command, e.CorrelationID.String(), e.Establishment, string(e.Data),
			}) {
				return
			}
		}
	})
	return nil
}
