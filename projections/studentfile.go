package projections

// studentfile.v1: a student's school-life file (the acts recorded about
// them), by period.
//
// Collections (key -> document):
//
//	absences       "student|date|HH:MM|absence id" -> FileAbsence, with its
//	               state (unjustified, reason_declared, justified, refused,
//	               cancelled), the declared reason and the decision
//	absence_keys   absence id -> {"key": key in absences}
//	lateness       "student|date|HH:MM|lesson id" -> FileLateness
//	punishments    "student|date|punishment id" -> FilePunishment
//	sanctions      "student|date|sanction id" -> FileSanction (annulled ones
//	               stay, flagged; effaced ones leave)
//	sanction_keys  sanction id -> {"key": key in sanctions}
//	incidents      "account|occurred at (UTC, RFC 3339, seconds)|incident id"
//	               -> FileIncident, one per protagonist, with their role
//
// Dates are "2006-01-02" and slots "HH:MM", so key order is time order and a
// period is one range scan per collection. An incident is keyed by its
// instant because its local date depends on the establishments' time zone,
// which the query knows (Queries.loc) and a pure reducer does not. The
// incident's description is not copied: it may name other children.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionStudentFile is the persisted name of the student file read
// model.
const ProjectionStudentFile = "studentfile.v1"

// Collections of studentfile.v1.
const (
	sfAbsences     = "absences"
	sfAbsenceKeys  = "absence_keys"
	sfLateness     = "lateness"
	sfPunishments  = "punishments"
	sfSanctions    = "sanctions"
	sfSanctionKeys = "sanction_keys"
	sfIncidents    = "incidents"
)

var studentFileCollections = []string{
	sfAbsenceKeys, sfAbsences, sfIncidents, sfLateness, sfPunishments, sfSanctionKeys, sfSanctions,
}

// sfInstant is the layout of instants in keys: fixed width, UTC, so that
// string order is time order.
const sfInstant = "2006-01-02T15:04:05Z"

// StudentFile is a student's file over a period.
type StudentFile struct {
	Student     uuid.UUID         `json:"student"`
	From        domain.Date       `json:"from,omitzero"`
	To          domain.Date       `json:"to,omitzero"`
	Absences    []FileAbsence     `json:"absences"`
	Lateness    []FileLateness    `json:"lateness"`
	Punishments []FilePunishment  `json:"punishments"`
	Sanctions   []FileSanction    `json:"sanctions"`
	Incidents   []FileIncident    `json:"incidents"`
	Counts      StudentFileCounts `json:"counts"`
	// next is where the rest of a period cut short begins.
	next domain.Date
}

// StudentFileCounts sums up a file.
type StudentFileCounts struct {
	// Absences not cancelled, and among them those not justified
	// (unjustified, reason declared or refused).
	Absences            int `json:"absences"`
	AbsencesUnjustified int `json:"absences_unjustified"`
	Lateness            int `json:"lateness"`
	LatenessMinutes     int `json:"lateness_minutes"`
	Punishments         int `json:"punishments"`
	// Sanctions not annulled.
	Sanctions int `json:"sanctions"`
	Incidents int `json:"incidents"`
}

// FileAbsence is an absence from a lesson. DeclaredReason is the last
// reason a relative declared; the decision fields are those of the last
// decision since that declaration.
type FileAbsence struct {
	Absence            uuid.UUID           `json:"absence"`
	Lesson             uuid.UUID           `json:"lesson"`
	Group              uuid.UUID           `json:"group"`
	Date               domain.Date         `json:"date"`
	Slot               domain.Slot         `json:"slot"`
	Subject            string              `json:"subject"`
	State              domain.AbsenceState `json:"state"`
	DeclaredReason     string              `json:"declared_reason,omitempty"`
	DeclaredBy         uuid.UUID           `json:"declared_by,omitzero"`
	DecisionReasonCode string              `json:"decision_reason_code,omitempty"`
	DecisionComment    string              `json:"decision_comment,omitempty"`
	CancelReason       string              `json:"cancel_reason,omitempty"`
}

// FileLateness is a late arrival at a lesson.
type FileLateness struct {
	Lesson  uuid.UUID   `json:"lesson"`
	Group   uuid.UUID   `json:"group"`
	Date    domain.Date `json:"date"`
	Slot    domain.Slot `json:"slot"`
	Subject string      `json:"subject"`
	Minutes int         `json:"minutes"`
}

// FilePunishment is a punishment (punition scolaire).
type FilePunishment struct {
	Punishment uuid.UUID             `json:"punishment"`
	Kind       domain.PunishmentKind `json:"kind"`
	Date       domain.Date           `json:"date"`
	Group      uuid.UUID             `json:"group,omitzero"`
	Reason     string                `json:"reason"`
	GivenBy    uuid.UUID             `json:"given_by"`
}

// FileSanction is a disciplinary sanction; an annulled one stays on file,
// flagged. An effaced one leaves the file (sanction.effaced.v1).
type FileSanction struct {
	Sanction     uuid.UUID           `json:"sanction"`
	Kind         domain.SanctionKind `json:"kind"`
	Date         domain.Date         `json:"date"`
	Days         int                 `json:"days,omitempty"`
	Incident     uuid.UUID           `json:"incident,omitzero"`
	Reason       string              `json:"reason"`
	PronouncedBy uuid.UUID           `json:"pronounced_by"`
	Annulled     bool                `json:"annulled"`
	AnnulReason  string              `json:"annul_reason,omitempty"`
	// Authority pronounced it (the head, or the disciplinary council).
	Authority domain.SanctionAuthority `json:"authority,omitempty"`
	Hours     int                      `json:"hours,omitempty"`
	Annex     string                   `json:"annex,omitempty"`
	Sursis    *domain.Sursis           `json:"sursis,omitempty"`
	// SursisRevoked is the day its sursis was revoked.
	SursisRevoked domain.Date `json:"sursis_revoked,omitzero"`
	// EffacedOn is the day it leaves the file by the passing of time (zero:
	// at the end of secondary schooling).
	EffacedOn domain.Date `json:"effaced_on,omitzero"`
}

// FileIncident is an incident the student is a protagonist of. Date is the
// local date of OccurredAt, filled by the query.
type FileIncident struct {
	Incident      uuid.UUID              `json:"incident"`
	Establishment string                 `json:"establishment"`
	OccurredAt    time.Time              `json:"occurred_at"`
	Date          domain.Date            `json:"date,omitzero"`
	Place         string                 `json:"place"`
	Seriousness   domain.Seriousness     `json:"seriousness"`
	Role          domain.ProtagonistRole `json:"role"`
}

// sfKeyRef points to a document of another collection.
type sfKeyRef struct {
	Key string `json:"key"`
}

type studentFile struct{}

// NewStudentFile returns the reducer of studentfile.v1.
func NewStudentFile() Reducer { return studentFile{} }

func (studentFile) Name() string { return ProjectionStudentFile }

// Collections lists the collections the reducer writes.
func (studentFile) Collections() []string { return slices.Clone(studentFileCollections) }

// Prefetch names the key of the absence or sanction an event edits, then
// (once that is preloaded) its document.
func (studentFile) Prefetch(_ context.Context, b *Batch, _ domain.Record, e domain.Event, want func(coll, key string)) {
	var keys, docs, id string
	switch e := e.(type) {
	case domain.AbsenceCancelled:
		keys, docs, id = sfAbsenceKeys, sfAbsences, e.Absence.String()
	case domain.AbsenceReasonDeclared:
		keys, docs, id = sfAbsenceKeys, sfAbsences, e.Absence.String()
	case domain.JustificationAccepted:
		keys, docs, id = sfAbsenceKeys, sfAbsences, e.Absence.String()
	case domain.JustificationRefused:
		keys, docs, id = sfAbsenceKeys, sfAbsences, e.Absence.String()
	case domain.SanctionAnnulled:
		keys, docs, id = sfSanctionKeys, sfSanctions, e.Sanction.String()
	case domain.SursisRevoked:
		keys, docs, id = sfSanctionKeys, sfSanctions, e.Sanction.String()
	case domain.SanctionEffaced:
		keys, docs, id = sfSanctionKeys, sfSanctions, e.Sanction.String()
	default:
		return
	}
	want(keys, id)
	if ref, ok := Peek[sfKeyRef](b, keys, id); ok {
		want(docs, ref.Key)
	}
}

func (studentFile) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.AbsenceRecorded:
		key := e.Student.String() + "|" + e.Date.String() + "|" + e.Slot.Start + "|" + e.Absence.String()
		b.Put(sfAbsences, key, &FileAbsence{
			Absence: e.Absence, Lesson: e.Lesson, Group: e.Group, Date: e.Date, Slot: e.Slot,
			Subject: e.Subject, State: domain.AbsenceUnjustified,
		})
		b.Put(sfAbsenceKeys, e.Absence.String(), &sfKeyRef{Key: key})
	case domain.AbsenceCancelled:
		return sfEditAbsence(ctx, b, e.Absence, func(a *FileAbsence) {
			a.State, a.CancelReason = domain.AbsenceCancelledState, e.Reason
		})
	case domain.AbsenceReasonDeclared:
		return sfEditAbsence(ctx, b, e.Absence, func(a *FileAbsence) {
			a.State, a.DeclaredReason, a.DeclaredBy = domain.AbsenceDeclared, e.Reason, e.Relative
			a.DecisionReasonCode, a.DecisionComment = "", ""
		})
	case domain.JustificationAccepted:
		return sfEditAbsence(ctx, b, e.Absence, func(a *FileAbsence) {
			a.State, a.DecisionReasonCode, a.DecisionComment = domain.AbsenceJustified, e.ReasonCode, e.Comment
		})
	case domain.JustificationRefused:
		return sfEditAbsence(ctx, b, e.Absence, func(a *FileAbsence) {
			a.State, a.DecisionReasonCode, a.DecisionComment = domain.AbsenceRefused, e.ReasonCode, e.Comment
		})
	case domain.LatenessRecorded:
		key := e.Student.String() + "|" + e.Date.String() + "|" + e.Slot.Start + "|" + e.Lesson.String()
		b.Put(sfLateness, key, &FileLateness{
			Lesson: e.Lesson, Group: e.Group, Date: e.Date, Slot: e.Slot, Subject: e.Subject, Minutes: e.Minutes,
		})
	case domain.PunishmentGiven:
		b.Put(sfPunishments, e.Student.String()+"|"+e.Date.String()+"|"+e.Punishment.String(), &FilePunishment{
			Punishment: e.Punishment, Kind: e.Kind, Date: e.Date, Group: e.Group, Reason: e.Reason, GivenBy: rec.Metadata.Actor,
		})
	case domain.SanctionPronounced:
		key := e.Student.String() + "|" + e.Date.String() + "|" + e.Sanction.String()
		eff, _ := e.EffacementDay()
		authority := e.Authority
		if authority == "" {
			authority = domain.AuthorityHead
		}
		b.Put(sfSanctions, key, &FileSanction{
			Sanction: e.Sanction, Kind: e.Kind, Date: e.Date, Days: e.Days, Incident: e.Incident,
			Reason: e.Reason, PronouncedBy: rec.Metadata.Actor,
			Authority: authority, Hours: e.Hours, Annex: e.Annex, Sursis: e.Sursis, EffacedOn: eff,
		})
		b.Put(sfSanctionKeys, e.Sanction.String(), &sfKeyRef{Key: key})
	case domain.SanctionAnnulled:
		return sfEditSanction(ctx, b, e.Sanction, func(s *FileSanction) { s.Annulled, s.AnnulReason = true, e.Reason })
	case domain.SursisRevoked:
		return sfEditSanction(ctx, b, e.Sanction, func(s *FileSanction) { s.SursisRevoked = e.Date })
	case domain.SanctionEffaced:
		// Effaced from the administrative file: the sanction leaves it; the
		// facts (the incident) stay.
		ref, ok, err := Get[sfKeyRef](ctx, b, sfSanctionKeys, e.Sanction.String())
		if err != nil || !ok {
			return err
		}
		b.Delete(sfSanctions, ref.Key)
		b.Delete(sfSanctionKeys, e.Sanction.String())
	case domain.IncidentReported:
		at := e.OccurredAt.UTC()
		for _, p := range e.Protagonists {
			b.Put(sfIncidents, p.Account.String()+"|"+at.Format(sfInstant)+"|"+e.Incident.String(), &FileIncident{
				Incident: e.Incident, Establishment: e.Establishment, OccurredAt: at,
				Place: e.Place, Seriousness: e.Seriousness, Role: p.Role,
			})
		}
	}
	return nil
}

// sfEditAbsence applies edit to an absence's document if it exists.
func sfEditAbsence(ctx context.Context, b *Batch, absence uuid.UUID, edit func(*FileAbsence)) error {
	ref, ok, err := Get[sfKeyRef](ctx, b, sfAbsenceKeys, absence.String())
	if err != nil || !ok {
		return err
	}
	a, ok, err := Get[FileAbsence](ctx, b, sfAbsences, ref.Key)
	if err != nil || !ok {
		return err
	}
	edit(a)
	b.Put(sfAbsences, ref.Key, a)
	return nil
}

// sfEditSanction applies edit to a sanction's document if it exists.
func sfEditSanction(ctx context.Context, b *Batch, sanction uuid.UUID, edit func(*FileSanction)) error {
	ref, ok, err := Get[sfKeyRef](ctx, b, sfSanctionKeys, sanction.String())
	if err != nil || !ok {
		return err
	}
	s, ok, err := Get[FileSanction](ctx, b, sfSanctions, ref.Key)
	if err != nil || !ok {
		return err
	}
	edit(s)
	b.Put(sfSanctions, ref.Key, s)
	return nil
}

// StudentFile returns a student's file from `from` to `to` inclusive (a
// zero date is no bound), each list sorted by date (and slot). A period
// holding more than MaxDatedItems of one kind is answered up to the last
// whole day that fits: To says which, and Next where the rest begins.
func (q *Queries) StudentFile(ctx context.Context, student uuid.UUID, from, to domain.Date) (*StudentFile, error) {
	r, err := q.reader(ctx, ProjectionStudentFile)
	if err != nil {
		return nil, err
	}
	f := &StudentFile{
		Student: student, From: from, To: to,
		Absences: []FileAbsence{}, Lateness: []FileLateness{}, Punishments: []FilePunishment{},
		Sanctions: []FileSanction{}, Incidents: []FileIncident{},
	}
	owner := student.String()
	lo, hi := datedKeyRange(owner, from, to)
	var cut datedCut
	absence := func(a *FileAbsence) domain.Date { return a.Date }
	lateness := func(l *FileLateness) domain.Date { return l.Date }
	punishment := func(p *FilePunishment) domain.Date { return p.Date }
	sanction := func(s *FileSanction) domain.Date { return s.Date }
	incident := func(i *FileIncident) domain.Date { return domain.DateOf(i.OccurredAt.In(q.loc)) }
	// Each list stops at the cut the lists before it found.
	if err := scanDated(ctx, r, sfAbsences, lo, cut.hi(owner, hi), absence, &cut, &f.Absences); err != nil {
		return nil, err
	}
	if err := scanDated(ctx, r, sfLateness, lo, cut.hi(owner, hi), lateness, &cut, &f.Lateness); err != nil {
		return nil, err
	}
	if err := scanDated(ctx, r, sfPunishments, lo, cut.hi(owner, hi), punishment, &cut, &f.Punishments); err != nil {
		return nil, err
	}
	if err := scanDated(ctx, r, sfSanctions, lo, cut.hi(owner, hi), sanction, &cut, &f.Sanctions); err != nil {
		return nil, err
	}
	// Incidents are keyed by instant: bound them by the local midnights.
	prefix := owner + "|"
	ilo, ihi := prefix, PrefixEnd(prefix)
	if !from.IsZero() {
		ilo = prefix + from.In(q.loc).UTC().Format(sfInstant)
	}
	if !to.IsZero() {
		ihi = instantEnd(prefix, to.AddDays(1).In(q.loc).UTC(), sfInstant)
	}
	if !cut.day.IsZero() {
		ihi = min(ihi, prefix+cut.day.In(q.loc).UTC().Format(sfInstant))
	}
	if err := scanDated(ctx, r, sfIncidents, ilo, ihi, incident, &cut, &f.Incidents); err != nil {
		return nil, err
	}
	f.Absences = trimDated(f.Absences, cut, absence)
	f.Lateness = trimDated(f.Lateness, cut, lateness)
	f.Punishments = trimDated(f.Punishments, cut, punishment)
	f.Sanctions = trimDated(f.Sanctions, cut, sanction)
	f.Incidents = trimDated(f.Incidents, cut, incident)
	for i := range f.Incidents {
		f.Incidents[i].Date = incident(&f.Incidents[i])
	}
	if !cut.day.IsZero() {
		f.To, f.next = cut.day.AddDays(-1), cut.day
	}
	f.Counts = sfCount(f)
	return f, nil
}

// Next is the first day of the period after the file, when its period
// was cut short (zero otherwise).
func (f *StudentFile) Next() domain.Date { return f.next }

func sfCount(f *StudentFile) StudentFileCounts {
	var c StudentFileCounts
	for _, a := range f.Absences {
		if a.State == domain.AbsenceCancelledState {
			continue
		}
		c.Absences++
		if a.State != domain.AbsenceJustified {
			c.AbsencesUnjustified++
		}
	}
	c.Lateness = len(f.Lateness)
	for _, l := range f.Lateness {
		c.LatenessMinutes += l.Minutes
	}
	c.Punishments = len(f.Punishments)
	for _, s := range f.Sanctions {
		if !s.Annulled {
			c.Sanctions++
		}
	}
	c.Incidents = len(f.Incidents)
	return c
}

// DueEffacement is a sanction whose effacement date has come and that is
// still on its student's file.
type DueEffacement struct {
	Student   uuid.UUID           `json:"student"`
	Sanction  uuid.UUID           `json:"sanction"`
	Kind      domain.SanctionKind `json:"kind"`
	EffacedOn domain.Date         `json:"effaced_on"`
}

// DueEffacements lists the sanctions on file whose effacement date is day
// or before (R. 511-13, IV), in key order (student, date). Sanctions are
// few, so the whole collection is read; ctx bounds it.
func (q *Queries) DueEffacements(ctx context.Context, day domain.Date) ([]DueEffacement, error) {
	r, err := q.reader(ctx, ProjectionStudentFile)
	if err != nil {
		return nil, err
	}
	var out []DueEffacement
	err = ScanJSON(ctx, r, sfSanctions, "", "", func(key string, s FileSanction) error {
		if s.EffacedOn.IsZero() || day.Before(s.EffacedOn) {
			return nil
		}
		student, _, _ := strings.Cut(key, "|")
		id, err := uuid.Parse(student)
		if err != nil {
			return fmt.Errorf("studentfile: sanction key %q: %w", key, err)
		}
		out = append(out, DueEffacement{Student: id, Sanction: s.Sanction, Kind: s.Kind, EffacedOn: s.EffacedOn})
		return nil
	})
	return out, err
}
