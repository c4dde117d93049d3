package portal

import (
	"encoding/json"
	"fmt"
	"math"
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
	p.loadReasons(r, v, a.UAI)
	n := p.names()
	if err := p.auditChoices(r, v, a, &data, n); err != nil {
		return err
	}
	entries, truncated, err := p.timeline(r, a)
	if err != nil {
		return err
	}
	p.traceHistories(r, v, a)
	data.Truncated = truncated
	actors := map[uuid.UUID]bool{}
	acts := newAuditActs(p.cfg.Queries, entries)
	for _, e := range entries {
		row := p.auditRow(r, v, e, n, acts)
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
			p.cfg.Trail.ReadStudent(v.principal, acc.Establishment, s, domain.ConsultFileAsOf)
			data.Files = append(data.Files, auditFile{Name: acc.DisplayName, At: at, File: file})
		}
	}
	return p.ok(w, r, v, "audit", "title.audit", data)
}

// traceHistories notes in the trail the histories of the students among
// the query's subjects.
func (p *Portal) traceHistories(r *http.Request, v *view, a auditQuery) {
	for _, s := range a.Subjects {
		if acc, err := p.cfg.Queries.Account(r.Context(), s); err == nil && acc.Profile == domain.ProfileStudent {
			p.cfg.Trail.ReadStudent(v.principal, acc.Establishment, s, domain.ConsultHistory)
		}
	}
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

// auditRow sums up an event for the timeline: its label, its author (the
// system's acts named as such), the act a decision concerns, and its
// payload's fields in words.
func (p *Portal) auditRow(r *http.Request, v *view, e projections.AuditEntry, n *names, acts *auditActs) auditRow {
	row := auditRow{Entry: e, Label: v.Label("event", e.Type), Profile: v.Label("profile", e.Profile)}
	switch {
	case e.Actor == uuid.Nil:
		row.Author = v.T(systemAuthor(e.Type))
	default:
		row.Author = n.of(r, e.Actor)
	}
	if act := acts.describe(r, v, e, n); act != "" {
		row.Label += " — " + act
	}
	var data map[string]any
	if json.Unmarshal(e.Data, &data) == nil {
		var parts []string
		for _, k := range auditFields {
			val, ok := data[k]
			if !ok || val == nil || val == "" {
				continue
			}
			parts = append(parts, v.Label("field", k)+" : "+auditValue(r, v, e.Type, k, val, n))
		}
		row.Summary = strings.Join(parts, " · ")
		if pretty, err := json.MarshalIndent(data, "", "  "); err == nil {
			row.JSON = string(pretty)
		}
	}
	return row
}

// systemAuthor is the key naming the author of an act the ledger recorded
// itself: a directory import, or the system.
func systemAuthor(typ string) string {
	if area, ok := domain.NewRegistry().Area(typ); ok && (area == domain.AreaDirectory || area == domain.AreaDirectoryImport) {
		return "audit.system_import"
	}
	return "audit.system"
}

// auditKinds says which enumeration the "kind" field of an event type's
// payload holds, by the type's first word.
var auditKinds = map[string]string{
	"punishment": "punishment", "sanction": "sanction", "resource": "resource", "group": "group_kind",
	"establishment": "establishment_kind",
}

// auditValue writes a payload field's value in words: ids as names, codes
// as their labels, days and numbers the reader's way.
func auditValue(r *http.Request, v *view, typ, field string, val any, n *names) string {
	switch x := val.(type) {
	case string:
		if id, err := uuid.Parse(x); err == nil && len(x) == 36 {
			return n.of(r, id)
		}
		switch field {
		case "date", "due":
			if d, err := domain.ParseDate(x); err == nil {
				return v.Day(d)
			}
		case "reason_code":
			return v.Reason(x)
		case "role":
			return v.Label("role", x)
		case "seriousness":
			return v.Label("seriousness", x)
		case "kind":
			if kind, ok := auditKinds[strings.SplitN(typ, ".", 2)[0]]; ok {
				return v.Label(kind, x)
			}
		}
		return x
	case map[string]any: // a slot
		return fmt.Sprintf("%v–%v", x["start"], x["end"])
	case float64:
		if field == "days" {
			return v.N("file.days", int(x))
		}
		if x == math.Trunc(x) {
			return v.Int(int64(x))
		}
		return v.Dec(x, 2)
	}
	return fmt.Sprint(val)
}

// auditActLookups bounds how many students' histories one timeline reads
// to name the acts its decisions concern; rows past it keep their summary.
const auditActLookups = 64

// auditActs names the act a decision is about (the absence a justification
// was accepted for, the sanction annulled), from the acts in the timeline
// itself or, failing that, from the student's history in the audit read
// model, each student's read once.
type auditActs struct {
	q *projections.Queries
	// absences are the recorded absences by lesson|student; sanctions the
	// pronounced sanctions by id.
	absences  map[string]domain.AbsenceRecorded
	sanctions map[uuid.UUID]domain.SanctionPronounced
	read      map[uuid.UUID]bool
}

// auditActTypes are the acts decisions are about.
var auditActTypes = []string{"absence.recorded.v1", "sanction.pronounced.v1"}

func newAuditActs(q *projections.Queries, entries []projections.AuditEntry) *auditActs {
	a := &auditActs{
		q: q, absences: map[string]domain.AbsenceRecorded{}, sanctions: map[uuid.UUID]domain.SanctionPronounced{},
		read: map[uuid.UUID]bool{},
	}
	for _, e := range entries {
		a.add(e)
	}
	return a
}

func (a *auditActs) add(e projections.AuditEntry) {
	switch e.Type {
	case "absence.recorded.v1":
		var x domain.AbsenceRecorded
		if json.Unmarshal(e.Data, &x) == nil {
			a.absences[x.Lesson.String()+"|"+x.Student.String()] = x
		}
	case "sanction.pronounced.v1":
		var x domain.SanctionPronounced
		if json.Unmarshal(e.Data, &x) == nil {
			a.sanctions[x.Sanction] = x
		}
	}
}

// load reads the acts of a student's history once.
func (a *auditActs) load(r *http.Request, student uuid.UUID) {
	if student == uuid.Nil || a.read[student] || len(a.read) >= auditActLookups {
		return
	}
	a.read[student] = true
	f := projections.HistoryFilter{Types: auditActTypes}
	for {
		h, err := a.q.History(r.Context(), student, f)
		if err != nil {
			return // the row keeps its summary
		}
		for _, e := range h.Items {
			a.add(e)
		}
		if h.Next == "" {
			return
		}
		pos, err := domain.ParsePosition(h.Next)
		if err != nil {
			return
		}
		f.After = pos
	}
}

// describe names the act e decides about, or returns "".
func (a *auditActs) describe(r *http.Request, v *view, e projections.AuditEntry, n *names) string {
	var ref struct {
		Lesson   uuid.UUID `json:"lesson"`
		Student  uuid.UUID `json:"student"`
		Sanction uuid.UUID `json:"sanction"`
	}
	switch e.Type {
	case "absence.cancelled.v1", "absence.reason_declared.v1", "absence.justification_accepted.v1", "absence.justification_refused.v1":
		if json.Unmarshal(e.Data, &ref) != nil {
			return ""
		}
		key := ref.Lesson.String() + "|" + ref.Student.String()
		if _, ok := a.absences[key]; !ok {
			a.load(r, ref.Student)
		}
		abs, ok := a.absences[key]
		if !ok {
			return ""
		}
		return v.T("audit.act.absence", v.Day(abs.Date), abs.Slot.Start, abs.Subject, n.of(r, abs.Student))
	case "sanction.annulled.v1":
		if json.Unmarshal(e.Data, &ref) != nil {
			return ""
		}
		if _, ok := a.sanctions[ref.Sanction]; !ok {
			a.load(r, ref.Student)
		}
		s, ok := a.sanctions[ref.Sanction]
		if !ok {
			return ""
		}
		return v.T("audit.act.sanction", v.Day(s.Date), v.Label("sanction", s.Kind), n.of(r, s.Student))
	}
	return ""
}

// auditCSVHeader names the timeline's CSV columns (the tools' headers;
// the spreadsheet's are their csv.audit.* messages).
var auditCSVHeader = []string{"position", "time", "type", "actor", "actor_name", "profile", "command", "correlation_id", "establishment", "data"}

// auditCSVFrench are the spreadsheet's columns: the tools' with the acts
// in words after the author's profile.
var auditCSVFrench = []string{"position", "time", "type", "actor", "actor_name", "profile", "summary", "command", "correlation_id", "establishment", "data"}

// auditCSV downloads the timeline of the form as CSV: for a spreadsheet by
// default (the acts, profiles and dates in words), in the tools' format
// with ?format=rfc4180 (wire names, RFC 3339 times).
func (p *Portal) auditCSV(w http.ResponseWriter, r *http.Request, v *view) error {
	a, err := p.readAuditQuery(r, v)
	if err != nil {
		return err
	}
	f, err := csvFormatOf(r)
	if err != nil {
		return err
	}
	entries, _, err := p.timeline(r, a)
	if err != nil {
		return err
	}
	p.traceHistories(r, v, a)
	n := p.names()
	header := auditCSVHeader
	var acts *auditActs
	if !f.Tool {
		header = make([]string, len(auditCSVFrench))
		for i, h := range auditCSVFrench {
			header[i] = v.T("csv.audit." + h)
		}
		p.loadReasons(r, v, a.UAI)
		acts = newAuditActs(p.cfg.Queries, entries)
	}
	writeCSV(w, r, f, "timeline-"+a.UAI+".csv", header, func(yield func([]string) bool) {
		for _, e := range entries {
			var row []string
			if f.Tool {
				row = []string{
					e.Position.String(), e.Time.UTC().Format(time.RFC3339Nano), e.Type, e.Actor.String(), n.of(r, e.Actor),
					string(e.Profile), e.Command, e.CorrelationID.String(), e.Establishment, string(e.Data),
				}
			} else {
				ar := p.auditRow(r, v, e, n, acts)
				lt := e.Time.In(p.cfg.Location)
				row = []string{
					e.Position.String(), v.Short(domain.DateOf(lt)) + " " + lt.Format("15:04:05"), ar.Label, e.Actor.String(), ar.Author,
					ar.Profile, ar.Summary, e.Command, e.CorrelationID.String(), e.Establishment, string(e.Data),
				}
			}
			if !yield(row) {
				return
			}
		}
	})
	return nil
}
