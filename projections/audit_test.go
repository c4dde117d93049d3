package projections

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// auditWorld is a small history around one student: an absence declared
// then justified, a sanction pronounced then annulled, an incident with
// another student, and the same acts about someone else.
type auditWorld struct {
	log                        *histLog
	uai, other                 string
	student, relative, teacher uuid.UUID
	cpe, head, classmate       uuid.UUID
	group                      uuid.UUID
	absence, sanction          uuid.UUID
	t0                         time.Time // the first event; the others follow an hour apart
	times                      []time.Time
}

func newAuditWorld(t *testing.T) *auditWorld {
	w := &auditWorld{
		log: newHistLog(t), uai: "0750001A", other: "0690002B",
		student: uuid.New(), relative: uuid.New(), teacher: uuid.New(), cpe: uuid.New(), head: uuid.New(),
		classmate: uuid.New(), group: uuid.New(), sanction: uuid.New(),
		t0: time.Date(2006, 3, 14, 7, 0, 0, 0, time.UTC),
	}
	at := w.t0
	next := func() time.Time {
		w.times = append(w.times, at)
		at = at.Add(time.Hour)
		return w.times[len(w.times)-1]
	}
	md := func(actor uuid.UUID, p domain.Profile, uai, command string) domain.Metadata {
		return domain.Metadata{Actor: actor, Profile: p, Establishment: uai, Command: command, Time: next()}
	}
	sys := uuid.Nil
	d, slot := domain.MustDate("2006-03-14"), domain.Slot{Start: "10:00", End: "10:55"}
	lesson := domain.LessonID(w.group, d, slot)
	w.absence = domain.AbsenceID(lesson, w.student)

	w.log.add(domain.AccountStream(w.student), md(sys, domain.ProfileSystem, w.uai, "OpenAccount"), // 0
		domain.AccountOpened{Account: w.student, Establishment: w.uai, Profile: domain.ProfileStudent, DisplayName: "Léa Martin"})
	w.log.add(domain.GroupStream(w.group), md(sys, domain.ProfileSystem, w.uai, "JoinGroup"), // 1
		domain.MemberJoined{Group: w.group, Account: w.student, Role: domain.RoleStudent})
	w.log.add(domain.LessonStream(lesson), md(w.teacher, domain.ProfileTeacher, w.uai, "CompleteRollCall"), // 2
		domain.RollCallCompleted{Lesson: lesson, Group: w.group, Date: d, Slot: slot, Teacher: w.teacher, Absent: 1},
		domain.AbsenceRecorded{Absence: w.absence, Lesson: lesson, Student: w.student, Group: w.group, Date: d, Slot: slot, Subject: "maths"},
		domain.AbsenceRecorded{Absence: domain.AbsenceID(lesson, w.classmate), Lesson: lesson, Student: w.classmate, Group: w.group, Date: d, Slot: slot, Subject: "maths"})
	w.log.add(domain.LessonStream(lesson), md(w.relative, domain.ProfileRelative, w.uai, "DeclareAbsenceReason"), // 3
		domain.AbsenceReasonDeclared{Absence: w.absence, Lesson: lesson, Student: w.student, Relative: w.relative, Reason: "Rendez-vous chez le dentiste"})
	w.log.add(domain.LessonStream(lesson), md(w.cpe, domain.ProfilePersonnel, w.uai, "AcceptJustification"), // 4
		domain.JustificationAccepted{Absence: w.absence, Lesson: lesson, Student: w.student, ReasonCode: "rdv-medical"})
	w.log.add(domain.DisciplineStream(w.student), md(w.head, domain.ProfilePersonnel, w.uai, "PronounceSanction"), // 5
		domain.SanctionPronounced{Sanction: w.sanction, Student: w.student, Kind: domain.SanctionWarning, Date: d, Reason: "Insolence"})
	w.log.add(domain.DisciplineStream(w.student), md(w.head, domain.ProfilePersonnel, w.uai, "AnnulSanction"), // 6
		domain.SanctionAnnulled{Sanction: w.sanction, Student: w.student, Reason: "Erreur de personne"})
	w.log.add(domain.IncidentStream(uuid.New()), md(w.cpe, domain.ProfilePersonnel, w.uai, "ReportIncident"), // 7
		domain.IncidentReported{Incident: uuid.New(), Establishment: w.uai, OccurredAt: at.Add(-30 * time.Minute), Place: "cour", Seriousness: domain.SeriousnessMinor,
			Protagonists: []domain.Protagonist{{Account: w.classmate, Role: domain.ProtagonistAuthor}, {Account: w.student, Role: domain.ProtagonistVictim}}})
	w.log.add(domain.DisciplineStream(w.classmate), md(w.teacher, domain.ProfileTeacher, w.uai, "GivePunishment"), // 8
		domain.PunishmentGiven{Punishment: uuid.New(), Student: w.classmate, Kind: domain.PunishmentDetention, Date: d, Reason: "Bousculade"})
	w.log.add(domain.EstablishmentStream(w.other), md(sys, domain.ProfileSystem, w.other, "RegisterEstablishment"), // 9
		domain.EstablishmentRegistered{UAI: w.other, Name: "Lycée Ampère", Departement: "69"})
	w.log.add(domain.ConnectionsStream(w.student), md(w.student, domain.ProfileStudent, w.uai, "SignIn"), // 10
		domain.UserConnected{Account: w.student, Profile: domain.ProfileStudent, Establishment: w.uai, Method: domain.SignInPassword})
	return w
}

func (w *auditWorld) queries(t *testing.T) *Queries {
	mem := histProject(t, w.log, 3, NewAudit(), NewStudentFile())
	return NewQueries(mem, mem, w.log, w.log.reg, time.UTC)
}

func auditTypes(es []AuditEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func TestAuditHistory(t *testing.T) {
	ctx := context.Background()
	w := newAuditWorld(t)
	q := w.queries(t)

	page, err := q.History(ctx, w.student, HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	all := page.Items
	want := []string{
		"account.opened.v1", "group.member_joined.v1", "absence.recorded.v1", "absence.reason_declared.v1",
		"absence.justification_accepted.v1", "sanction.pronounced.v1", "sanction.annulled.v1", "incident.reported.v1",
		"user.connected.v1",
	}
	if got := auditTypes(all); !slices.Equal(got, want) {
		t.Fatalf("history of the student:\n got %v\nwant %v", got, want)
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Position.Less(all[i].Position) {
			t.Fatalf("history not in log order: %s then %s", all[i-1].Position, all[i].Position)
		}
	}
	// Every field of the stored event is in the entry.
	var src domain.Record
	for _, r := range w.log.recs {
		if r.Type == "absence.justification_accepted.v1" {
			src = r
		}
	}
	e := all[4]
	if e.Position != src.Position || e.ID != src.ID || e.Stream != src.Stream || e.Version != src.Version ||
		e.Actor != w.cpe || e.Profile != domain.ProfilePersonnel || e.Command != "AcceptJustification" ||
		e.CorrelationID != src.Metadata.CorrelationID || e.CausationID != src.Metadata.CausationID ||
		e.Establishment != w.uai || !e.Time.Equal(src.Metadata.Time) {
		t.Fatalf("entry %+v does not copy the stored event %+v", e, src)
	}
	var data domain.JustificationAccepted
	if err := json.Unmarshal(e.Data, &data); err != nil || data.ReasonCode != "rdv-medical" || data.Absence != w.absence {
		t.Fatalf("entry data %s (%v)", e.Data, err)
	}

	tests := []struct {
		name    string
		subject uuid.UUID
		f       HistoryFilter
		want    []string
	}{
		{"types", w.student, HistoryFilter{Types: []string{"sanction.pronounced.v1", "sanction.annulled.v1"}},
			[]string{"sanction.pronounced.v1", "sanction.annulled.v1"}},
		{"actor", w.student, HistoryFilter{Actor: w.head}, []string{"sanction.pronounced.v1", "sanction.annulled.v1"}},
		{"time window", w.student, HistoryFilter{From: w.times[3], To: w.times[5]},
			[]string{"absence.reason_declared.v1", "absence.justification_accepted.v1"}},
		{"page", w.student, HistoryFilter{After: all[2].Position, Limit: 2},
			[]string{"absence.reason_declared.v1", "absence.justification_accepted.v1"}},
		// A teacher's history holds what they did, a relative's what they declared.
		{"teacher as actor", w.teacher, HistoryFilter{},
			[]string{"rollcall.completed.v1", "absence.recorded.v1", "absence.recorded.v1", "punishment.given.v1"}},
		{"relative", w.relative, HistoryFilter{}, []string{"absence.reason_declared.v1"}},
		{"group", w.group, HistoryFilter{Types: []string{"absence.recorded.v1", "rollcall.completed.v1"}},
			[]string{"rollcall.completed.v1", "absence.recorded.v1", "absence.recorded.v1"}},
		{"classmate", w.classmate, HistoryFilter{}, []string{"absence.recorded.v1", "incident.reported.v1", "punishment.given.v1"}},
		{"nobody", uuid.New(), HistoryFilter{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := q.History(ctx, tt.subject, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(auditTypes(got.Items), tt.want) {
				t.Fatalf("got %v, want %v", auditTypes(got.Items), tt.want)
			}
		})
	}
}

func TestStudentFileAsOf(t *testing.T) {
	ctx := context.Background()
	w := newAuditWorld(t)
	q := w.queries(t)
	half := 30 * time.Minute

	tests := []struct {
		name      string
		asOf      time.Time
		absences  []domain.AbsenceState
		sanctions []bool // annulled
		incidents int
	}{
		{"before anything", w.t0.Add(-time.Hour), nil, nil, 0},
		{"after the roll call", w.times[2].Add(half), []domain.AbsenceState{domain.AbsenceUnjustified}, nil, 0},
		{"at the declaration", w.times[3], []domain.AbsenceState{domain.AbsenceDeclared}, nil, 0},
		{"after the justification", w.times[4].Add(half), []domain.AbsenceState{domain.AbsenceJustified}, nil, 0},
		{"sanction standing", w.times[5].Add(half), []domain.AbsenceState{domain.AbsenceJustified}, []bool{false}, 0},
		{"sanction annulled", w.times[6].Add(half), []domain.AbsenceState{domain.AbsenceJustified}, []bool{true}, 0},
		{"now", w.times[len(w.times)-1].Add(time.Hour), []domain.AbsenceState{domain.AbsenceJustified}, []bool{true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := q.StudentFileAsOf(ctx, w.student, tt.asOf, domain.Date{})
			if err != nil {
				t.Fatal(err)
			}
			var states []domain.AbsenceState
			for _, a := range f.Absences {
				states = append(states, a.State)
			}
			var annulled []bool
			for _, s := range f.Sanctions {
				annulled = append(annulled, s.Annulled)
			}
			if !slices.Equal(states, tt.absences) || !slices.Equal(annulled, tt.sanctions) || len(f.Incidents) != tt.incidents {
				t.Fatalf("file as of %s: absences %v sanctions annulled %v incidents %d; want %v %v %d",
					tt.asOf, states, annulled, len(f.Incidents), tt.absences, tt.sanctions, tt.incidents)
			}
		})
	}

	// As of now, the file equals the live student file.
	now, err := q.StudentFileAsOf(ctx, w.student, w.times[len(w.times)-1], domain.Date{})
	if err != nil {
		t.Fatal(err)
	}
	live, err := q.StudentFile(ctx, w.student, domain.Date{}, domain.Date{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(now)
	b, _ := json.Marshal(live)
	if !bytes.Equal(a, b) {
		t.Fatalf("file as of now\n%s\ndiffers from the live file\n%s", a, b)
	}
}

func TestExportEstablishment(t *testing.T) {
	ctx := context.Background()
	w := newAuditWorld(t)
	q := w.queries(t)

	var buf bytes.Buffer
	if err := q.ExportEstablishment(ctx, &buf, w.uai, w.times[2], w.times[7]); err != nil {
		t.Fatal(err)
	}
	var (
		types []string
		lines []ExportedEvent
	)
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var l ExportedEvent
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
		types = append(types, l.Type)
	}
	want := []string{
		"rollcall.completed.v1", "absence.recorded.v1", "absence.recorded.v1", "absence.reason_declared.v1",
		"absence.justification_accepted.v1", "sanction.pronounced.v1", "sanction.annulled.v1",
	}
	if !slices.Equal(types, want) {
		t.Fatalf("export types %v, want %v", types, want)
	}
	for _, l := range lines {
		var src domain.Record
		for _, r := range w.log.recs {
			if r.ID == l.ID {
				src = r
			}
		}
		if l.Position != src.Position || l.Stream != src.Stream || l.Version != src.Version || l.Metadata.Command != src.Metadata.Command ||
			l.Metadata.Establishment != w.uai || !l.Metadata.Time.Equal(src.Metadata.Time) {
			t.Fatalf("exported %+v, stored %+v", l, src)
		}
		var x, y any
		if json.Unmarshal(l.Data, &x) != nil || json.Unmarshal(src.Data, &y) != nil || !auditJSONEqual(x, y) {
			t.Fatalf("exported data %s, stored %s", l.Data, src.Data)
		}
	}

	// The other establishment, no bounds: its registration only.
	buf.Reset()
	if err := q.ExportEstablishment(ctx, &buf, w.other, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.Contains(buf.String(), `"type":"establishment.registered.v1"`) {
		t.Fatalf("export of %s: %q", w.other, buf.String())
	}
}

func auditJSONEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestRecentBy pages through what an author did, the most recent first.
func TestRecentBy(t *testing.T) {
	ctx := context.Background()
	w := newAuditWorld(t)
	q := w.queries(t)
	acts := []string{"absence.recorded.v1", "punishment.given.v1", "rollcall.completed.v1"}

	var got []AuditEntry
	var before domain.Position
	pages := 0
	for {
		page, err := q.RecentBy(ctx, w.teacher, acts, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Items) > 2 {
			t.Fatalf("page of %d entries", len(page.Items))
		}
		got = append(got, page.Items...)
		if page.Next == "" {
			break
		}
		if before, err = domain.ParsePosition(page.Next); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"punishment.given.v1", "absence.recorded.v1", "absence.recorded.v1", "rollcall.completed.v1"}
	if !slices.Equal(auditTypes(got), want) || pages != 2 {
		t.Fatalf("%d pages: %v, want %v", pages, auditTypes(got), want)
	}
	for i := 1; i < len(got); i++ {
		if !got[i].Position.Less(got[i-1].Position) {
			t.Fatalf("not the most recent first: %s then %s", got[i-1].Position, got[i].Position)
		}
	}
	// Only what the author did: the CPE's incident about the student is
	// not the head's, and types filter.
	page, err := q.RecentBy(ctx, w.head, []string{"sanction.pronounced.v1"}, domain.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(auditTypes(page.Items), []string{"sanction.pronounced.v1"}) || page.Next != "" {
		t.Fatalf("head: %v, next %q", auditTypes(page.Items), page.Next)
	}
	if page, err := q.RecentBy(ctx, w.student, []string{"punishment.given.v1"}, domain.Position{}, 10); err != nil || len(page.Items) != 0 {
		t.Fatalf("student gave %v (%v)", auditTypes(page.Items), err)
	}
	if _, err := q.RecentBy(ctx, w.teacher, acts, domain.Position{}, 0); err == nil {
		t.Fatal("a page of no entries is not refused")
	}
}
