package projections

// notifications.v1: each account's feed of the events that concern them,
// newest first. Whom an event concerns is visibility.ConcernOf's rule;
// Audience looks them up:
//
//   - a student: the acts about them (absence recorded or cancelled,
//     lateness, justification accepted or refused, punishment, sanction
//     pronounced or annulled, incident they are a protagonist of), the
//     homework set, amended or withdrawn for the groups they are a student
//     of, and the messages they receive;
//   - a relative: the same acts and homework for each student they are
//     linked to when the event happens (an unlinked relative stops
//     receiving them), and the messages they receive themselves;
//   - a teacher (or anyone who books): the messages they receive and the
//     approval, refusal or cancellation of their bookings.
//
// Nobody is notified of their own act (the event's actor is left out). A
// notification carries no free text written about a person: its summary is
// built from codes, dates, lesson subjects, a resource's name and, for a
// message, the subject its recipient reads anyway.
//
// Collections (key -> document):
//
//	feed       "account|newest-first position" -> Notification
//	groups     group id -> {"members": {account id: [roles]}}, the
//	           projection's own fold of group.member_joined/left
//	relatives  student id -> {"relatives": [account ids]}, its own fold of
//	           relative.linked/unlinked
//	absences   absence id -> {date, slot, subject}, so that a cancellation
//	           or a justification decision can say which absence
//	sanctions  sanction id -> {kind, date, feed keys}, for an annulment or a
//	           revocation to say which, and its effacement to remove them
//	homework   homework id -> {subject, due}, until withdrawn
//	resources  resource id -> {name}
//	bookings   booking id -> {by, resource, start, repeat_until}, until
//	           refused or cancelled
//
// "Newest-first position" is the event's global position (Tx and Seq, each
// subtracted from the largest uint64, at fixed width), so that a feed page
// is the start of one range scan.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/visibility"
)

// ProjectionNotifications is the persisted name of the notifications read
// model.
const ProjectionNotifications = "notifications.v1"

// Collections of notifications.v1.
const (
	ntFeed      = "feed"
	ntGroups    = "groups"
	ntRelatives = "relatives"
	ntAbsences  = "absences"
	ntSanctions = "sanctions"
	ntHomework  = "homework"
	ntResources = "resources"
	ntBookings  = "bookings"
)

// notificationsCollections lists the collections of notifications.v1.
var notificationsCollections = []string{
	ntAbsences, ntBookings, ntFeed, ntGroups, ntHomework, ntRelatives, ntResources, ntSanctions,
}

// Notification is one entry of an account's feed.
type Notification struct {
	// Position is the event's place in the global log: a client that
	// reconnects asks for what came after the last one it saw.
	Position domain.Position `json:"position"`
	// Type is the event's wire name ("absence.recorded.v1").
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	// Ref is the act, homework, message or booking the event is about (the
	// lesson, for a lateness).
	Ref uuid.UUID `json:"ref"`
	// Students are the students through whom the event concerns the
	// account: a relative's children, or the student themself; none for
	// messages and bookings.
	Students []uuid.UUID `json:"students,omitempty"`
	Summary  string      `json:"summary"`
}

// Concerned is an account an event concerns, and through which students
// (see Notification.Students).
type Concerned struct {
	Account  uuid.UUID   `json:"account"`
	Students []uuid.UUID `json:"students,omitempty"`
}

// AudienceLookup is the state Audience needs: notifications.v1 answers from
// its own collections while it applies an event, and a live pusher may
// answer from the directory, as long as both reflect the log up to the
// event.
type AudienceLookup interface {
	// RelativesOf returns the relatives linked to a student.
	RelativesOf(ctx context.Context, student uuid.UUID) ([]uuid.UUID, error)
	// GroupMembers returns a group's members and their roles.
	GroupMembers(ctx context.Context, group uuid.UUID) (map[uuid.UUID][]domain.Role, error)
	// BookingRequester returns who requested a booking (uuid.Nil if
	// unknown).
	BookingRequester(ctx context.Context, booking uuid.UUID) (uuid.UUID, error)
}

// Audience returns the accounts an event concerns, sorted by account id,
// each with the students through whom (sorted). Whom each event concerns
// is visibility.ConcernOf's rule (see the top of this file); Audience
// looks the people up as the log stands at the event. Events that concern
// nobody return none.
func Audience(ctx context.Context, look AudienceLookup, rec domain.Record, e domain.Event) ([]Concerned, error) {
	set := audienceSet{}
	if err := set.concern(ctx, look, e, visibility.ConcernOf(e)); err != nil {
		return nil, err
	}
	delete(set, rec.Metadata.Actor)
	delete(set, uuid.Nil)
	out := make([]Concerned, 0, len(set))
	for a, students := range set {
		slices.SortFunc(students, ntCompareIDs)
		out = append(out, Concerned{Account: a, Students: students})
	}
	slices.SortFunc(out, func(x, y Concerned) int { return ntCompareIDs(x.Account, y.Account) })
	return out, nil
}

// audienceSet maps a concerned account to the students through whom.
type audienceSet map[uuid.UUID][]uuid.UUID

// concern records the accounts c names, looked up as the log stands at e.
func (s audienceSet) concern(ctx context.Context, look AudienceLookup, e domain.Event, c visibility.Concern) error {
	for _, st := range c.Students {
		if err := s.student(ctx, look, st); err != nil {
			return err
		}
	}
	for _, g := range c.Groups {
		if err := s.studentsOf(ctx, look, g); err != nil {
			return err
		}
	}
	if m, ok := e.(domain.MessageSent); ok && c.Message {
		to, err := MessageRecipients(ctx, look.GroupMembers, m)
		if err != nil {
			return err
		}
		for _, a := range to {
			s.add(a, uuid.Nil)
		}
	}
	for _, b := range c.Bookings {
		if err := s.requester(ctx, look, b); err != nil {
			return err
		}
	}
	return nil
}

// add records account as concerned through student (none if uuid.Nil).
func (s audienceSet) add(account, student uuid.UUID) {
	students := s[account]
	if student != uuid.Nil && !slices.Contains(students, student) {
		students = append(students, student)
	}
	s[account] = students
}

// student records a student and the relatives linked to them.
func (s audienceSet) student(ctx context.Context, look AudienceLookup, student uuid.UUID) error {
	if student == uuid.Nil {
		return nil
	}
	s.add(student, student)
	relatives, err := look.RelativesOf(ctx, student)
	if err != nil {
		return err
	}
	for _, r := range relatives {
		s.add(r, student)
	}
	return nil
}

// studentsOf records the students of a group and their relatives.
func (s audienceSet) studentsOf(ctx context.Context, look AudienceLookup, group uuid.UUID) error {
	members, err := look.GroupMembers(ctx, group)
	if err != nil {
		return err
	}
	for a, roles := range members {
		if slices.Contains(roles, domain.RoleStudent) {
			if err := s.student(ctx, look, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s audienceSet) requester(ctx context.Context, look AudienceLookup, booking uuid.UUID) error {
	by, err := look.BookingRequester(ctx, booking)
	if err != nil {
		return err
	}
	s.add(by, uuid.Nil)
	return nil
}

func ntCompareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// Documents of notifications.v1's own state.
type (
	ntRelativesDoc struct {
		Relatives []uuid.UUID `json:"relatives"`
	}
	ntAbsence struct {
		Date    domain.Date `json:"date"`
		Slot    domain.Slot `json:"slot"`
		Subject string      `json:"subject"`
	}
	ntSanction struct {
		Kind domain.SanctionKind `json:"kind"`
		Date domain.Date         `json:"date"`
		// Feed is the keys of the notifications about the sanction (its
		// pronouncement, annulment, revocation), removed with it when it is
		// effaced from the student's file.
		Feed []string `json:"feed,omitempty"`
	}
	ntHomeworkDoc struct {
		Subject string      `json:"subject"`
		Due     domain.Date `json:"due"`
	}
	ntResource struct {
		Name string `json:"name"`
	}
	ntBooking struct {
		By          uuid.UUID   `json:"by"`
		Resource    uuid.UUID   `json:"resource"`
		Start       time.Time   `json:"start"`
		RepeatUntil domain.Date `json:"repeat_until,omitzero"`
	}
)

type notifications struct {
	loc *time.Location
}

// NewNotifications returns the reducer of notifications.v1. Booking times
// in summaries are written in the establishments' time zone
// (Europe/Paris), as the booking commands read them.
func NewNotifications() Reducer { return notifications{loc: domain.Paris()} }

func (notifications) Name() string { return ProjectionNotifications }

// Collections lists the collections the reducer writes.
func (notifications) Collections() []string { return slices.Clone(notificationsCollections) }

// ntLookup answers Audience from the projection's own collections.
type ntLookup struct{ b *Batch }

func (l ntLookup) RelativesOf(ctx context.Context, student uuid.UUID) ([]uuid.UUID, error) {
	d, _, err := Get[ntRelativesDoc](ctx, l.b, ntRelatives, student.String())
	if err != nil {
		return nil, err
	}
	return d.Relatives, nil
}

func (l ntLookup) GroupMembers(ctx context.Context, group uuid.UUID) (map[uuid.UUID][]domain.Role, error) {
	return mbMembers(ctx, l.b, ntGroups, group)
}

func (l ntLookup) BookingRequester(ctx context.Context, booking uuid.UUID) (uuid.UUID, error) {
	d, _, err := Get[ntBooking](ctx, l.b, ntBookings, booking.String())
	if err != nil {
		return uuid.Nil, err
	}
	return d.By, nil
}

// ntPeekLookup answers Audience from what the batch holds, naming each
// document it asks for: Prefetch runs Audience itself, so that what is
// preloaded is what Apply reads.
type ntPeekLookup struct {
	b    *Batch
	want func(coll, key string)
}

func (l ntPeekLookup) RelativesOf(_ context.Context, student uuid.UUID) ([]uuid.UUID, error) {
	l.want(ntRelatives, student.String())
	if d, ok := Peek[ntRelativesDoc](l.b, ntRelatives, student.String()); ok {
		return d.Relatives, nil
	}
	return nil, nil
}

func (l ntPeekLookup) GroupMembers(_ context.Context, group uuid.UUID) (map[uuid.UUID][]domain.Role, error) {
	l.want(ntGroups, group.String())
	if g, ok := Peek[mbGroup](l.b, ntGroups, group.String()); ok {
		return g.Members, nil
	}
	return nil, nil
}

func (l ntPeekLookup) BookingRequester(_ context.Context, booking uuid.UUID) (uuid.UUID, error) {
	l.want(ntBookings, booking.String())
	if d, ok := Peek[ntBooking](l.b, ntBookings, booking.String()); ok {
		return d.By, nil
	}
	return uuid.Nil, nil
}

// Prefetch names the documents Apply reads: those the event's own fold
// edits, those Audience looks up (a group's members, then its students'
// relatives) and those the summary refers to.
func (notifications) Prefetch(ctx context.Context, b *Batch, rec domain.Record, e domain.Event, want func(coll, key string)) {
	switch e := e.(type) {
	case domain.MemberJoined:
		want(ntGroups, e.Group.String())
	case domain.MemberLeft:
		want(ntGroups, e.Group.String())
	case domain.RelativeLinked:
		want(ntRelatives, e.Student.String())
	case domain.RelativeUnlinked:
		want(ntRelatives, e.Student.String())
	case domain.HomeworkAmended:
		want(ntHomework, e.Homework.String())
	case domain.HomeworkWithdrawn:
		want(ntHomework, e.Homework.String())
	case domain.AbsenceCancelled:
		want(ntAbsences, e.Absence.String())
	case domain.JustificationAccepted:
		want(ntAbsences, e.Absence.String())
	case domain.JustificationRefused:
		want(ntAbsences, e.Absence.String())
	case domain.SanctionAnnulled:
		want(ntSanctions, e.Sanction.String())
	case domain.SursisRevoked:
		want(ntSanctions, e.Sanction.String())
	case domain.SanctionEffaced:
		want(ntSanctions, e.Sanction.String())
	case domain.BookingApproved:
		ntWantBooking(b, e.Booking, want)
	case domain.BookingRefused:
		ntWantBooking(b, e.Booking, want)
	case domain.BookingCancelled:
		ntWantBooking(b, e.Booking, want)
	}
	// A lookup's error is never returned: ntPeekLookup has none.
	_, _ = Audience(ctx, ntPeekLookup{b, want}, rec, e)
}

// ntWantBooking names a booking and, once it is preloaded, its resource.
func ntWantBooking(b *Batch, booking uuid.UUID, want func(coll, key string)) {
	want(ntBookings, booking.String())
	if d, ok := Peek[ntBooking](b, ntBookings, booking.String()); ok {
		want(ntResources, d.Resource.String())
	}
}

func (n notifications) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	if err := ntFoldBefore(ctx, b, e); err != nil {
		return err
	}
	audience, err := Audience(ctx, ntLookup{b}, rec, e)
	if err != nil {
		return err
	}
	if len(audience) > 0 {
		s := ntSummarizer{loc: n.loc}
		if err := s.load(ctx, b, e); err != nil {
			return err
		}
		var keys []string
		for _, c := range audience {
			key := ntFeedKey(c.Account, rec.Position)
			b.Put(ntFeed, key, &Notification{
				Position: rec.Position, Type: e.EventType(), Time: rec.Metadata.Time.UTC(),
				Ref: ntRef(e), Students: c.Students, Summary: s.summary(e, c),
			})
			keys = append(keys, key)
		}
		if err := ntKeepSanctionFeed(ctx, b, e, keys); err != nil {
			return err
		}
	}
	ntFoldAfter(b, e)
	return nil
}

// ntFoldBefore folds what the event itself teaches before its audience and
// summary are computed.
func ntFoldBefore(ctx context.Context, b *Batch, e domain.Event) error {
	switch e := e.(type) {
	case domain.MemberJoined, domain.MemberLeft:
		return mbFoldMembership(ctx, b, ntGroups, e)
	case domain.RelativeLinked:
		return ntEditRelatives(ctx, b, e.Student, func(rs []uuid.UUID) []uuid.UUID {
			if slices.Contains(rs, e.Relative) {
				return rs
			}
			rs = append(rs, e.Relative)
			slices.SortFunc(rs, ntCompareIDs)
			return rs
		})
	case domain.RelativeUnlinked:
		return ntEditRelatives(ctx, b, e.Student, func(rs []uuid.UUID) []uuid.UUID {
			return slices.DeleteFunc(rs, func(r uuid.UUID) bool { return r == e.Relative })
		})
	case domain.AbsenceRecorded:
		b.Put(ntAbsences, e.Absence.String(), &ntAbsence{Date: e.Date, Slot: e.Slot, Subject: e.Subject})
	case domain.SanctionPronounced:
		b.Put(ntSanctions, e.Sanction.String(), &ntSanction{Kind: e.Kind, Date: e.Date})
	case domain.SanctionEffaced:
		// Effaced from the file: its notifications leave the feeds.
		d, ok, err := Get[ntSanction](ctx, b, ntSanctions, e.Sanction.String())
		if err != nil || !ok {
			return err
		}
		for _, key := range d.Feed {
			b.Delete(ntFeed, key)
		}
		b.Delete(ntSanctions, e.Sanction.String())
	case domain.HomeworkAssigned:
		b.Put(ntHomework, e.Homework.String(), &ntHomeworkDoc{Subject: e.Subject, Due: e.Due})
	case domain.HomeworkAmended:
		h, ok, err := Get[ntHomeworkDoc](ctx, b, ntHomework, e.Homework.String())
		if err != nil || !ok {
			return err
		}
		h.Due = e.Due
		b.Put(ntHomework, e.Homework.String(), h)
	case domain.ResourceRegistered:
		b.Put(ntResources, e.Resource.String(), &ntResource{Name: e.Name})
	case domain.BookingRequested:
		b.Put(ntBookings, e.Booking.String(), &ntBooking{
			By: e.By, Resource: e.Resource, Start: e.Start.UTC(), RepeatUntil: e.RepeatUntil,
		})
	}
	return nil
}

// ntKeepSanctionFeed records the feed keys of the notifications about a
// sanction in its document, so that its effacement removes them.
func ntKeepSanctionFeed(ctx context.Context, b *Batch, e domain.Event, keys []string) error {
	var id uuid.UUID
	switch e := e.(type) {
	case domain.SanctionPronounced:
		id = e.Sanction
	case domain.SanctionAnnulled:
		id = e.Sanction
	case domain.SursisRevoked:
		id = e.Sanction
	default:
		return nil
	}
	d, ok, err := Get[ntSanction](ctx, b, ntSanctions, id.String())
	if err != nil || !ok {
		return err
	}
	d.Feed = append(d.Feed, keys...)
	b.Put(ntSanctions, id.String(), d)
	return nil
}

// ntFoldAfter forgets what no later event will need. A sanction's
// document stays until it is effaced, to remove its notifications then.
func ntFoldAfter(b *Batch, e domain.Event) {
	switch e := e.(type) {
	case domain.AbsenceCancelled:
		b.Delete(ntAbsences, e.Absence.String())
	case domain.HomeworkWithdrawn:
		b.Delete(ntHomework, e.Homework.String())
	case domain.BookingRefused:
		b.Delete(ntBookings, e.Booking.String())
	case domain.BookingCancelled:
		b.Delete(ntBookings, e.Booking.String())
	}
}

func ntEditRelatives(ctx context.Context, b *Batch, student uuid.UUID, edit func([]uuid.UUID) []uuid.UUID) error {
	d, _, err := Get[ntRelativesDoc](ctx, b, ntRelatives, student.String())
	if err != nil {
		return err
	}
	d.Relatives = edit(d.Relatives)
	if len(d.Relatives) == 0 {
		b.Delete(ntRelatives, student.String())
		return nil
	}
	b.Put(ntRelatives, student.String(), d)
	return nil
}

// ntRef returns the id of what an event is about.
func ntRef(e domain.Event) uuid.UUID {
	switch e := e.(type) {
	case domain.AbsenceRecorded:
		return e.Absence
	case domain.AbsenceCancelled:
		return e.Absence
	case domain.LatenessRecorded:
		return e.Lesson
	case domain.JustificationAccepted:
		return e.Absence
	case domain.JustificationRefused:
		return e.Absence
	case domain.PunishmentGiven:
		return e.Punishment
	case domain.SanctionPronounced:
		return e.Sanction
	case domain.SanctionAnnulled:
		return e.Sanction
	case domain.SursisRevoked:
		return e.Sanction
	case domain.IncidentReported:
		return e.Incident
	case domain.HomeworkAssigned:
		return e.Homework
	case domain.HomeworkAmended:
		return e.Homework
	case domain.HomeworkWithdrawn:
		return e.Homework
	case domain.MessageSent:
		return e.Message
	case domain.BookingApproved:
		return e.Booking
	case domain.BookingRefused:
		return e.Booking
	case domain.BookingCancelled:
		return e.Booking
	}
	return uuid.Nil
}

// ntSummarizer writes summaries from the event and the state it refers to.
type ntSummarizer struct {
	loc      *time.Location
	absence  *ntAbsence
	sanction *ntSanction
	homework *ntHomeworkDoc
	booking  *ntBooking
	resource string
}

// load reads the state the event's summary refers to.
func (s *ntSummarizer) load(ctx context.Context, b *Batch, e domain.Event) error {
	var err error
	switch e := e.(type) {
	case domain.AbsenceCancelled:
		s.absence, err = ntFind[ntAbsence](ctx, b, ntAbsences, e.Absence)
	case domain.JustificationAccepted:
		s.absence, err = ntFind[ntAbsence](ctx, b, ntAbsences, e.Absence)
	case domain.JustificationRefused:
		s.absence, err = ntFind[ntAbsence](ctx, b, ntAbsences, e.Absence)
	case domain.SanctionAnnulled:
		s.sanction, err = ntFind[ntSanction](ctx, b, ntSanctions, e.Sanction)
	case domain.SursisRevoked:
		s.sanction, err = ntFind[ntSanction](ctx, b, ntSanctions, e.Sanction)
	case domain.HomeworkAmended:
		s.homework, err = ntFind[ntHomeworkDoc](ctx, b, ntHomework, e.Homework)
	case domain.HomeworkWithdrawn:
		s.homework, err = ntFind[ntHomeworkDoc](ctx, b, ntHomework, e.Homework)
	case domain.BookingApproved:
		err = s.loadBooking(ctx, b, e.Booking)
	case domain.BookingRefused:
		err = s.loadBooking(ctx, b, e.Booking)
	case domain.BookingCancelled:
		err = s.loadBooking(ctx, b, e.Booking)
	}
	return err
}

func (s *ntSummarizer) loadBooking(ctx context.Context, b *Batch, booking uuid.UUID) error {
	var err error
	if s.booking, err = ntFind[ntBooking](ctx, b, ntBookings, booking); err != nil || s.booking == nil {
		return err
	}
	r, err := ntFind[ntResource](ctx, b, ntResources, s.booking.Resource)
	if r != nil {
		s.resource = r.Name
	}
	return err
}

// ntFind returns a document of the projection's state, or nil.
func ntFind[T any](ctx context.Context, b *Batch, coll string, id uuid.UUID) (*T, error) {
	v, ok, err := Get[T](ctx, b, coll, id.String())
	if err != nil || !ok {
		return nil, err
	}
	return v, nil
}

// summary returns the short text of a notification of e to c.
func (s *ntSummarizer) summary(e domain.Event, c Concerned) string {
	switch e := e.(type) {
	case domain.AbsenceRecorded:
		return "Absence: " + ntLesson(e.Date, e.Slot, e.Subject)
	case domain.AbsenceCancelled:
		return "Absence cancelled" + s.absenceSuffix()
	case domain.LatenessRecorded:
		return fmt.Sprintf("Late (%d min): %s", e.Minutes, ntLesson(e.Date, e.Slot, e.Subject))
	case domain.JustificationAccepted:
		return "Absence justified (" + e.ReasonCode + ")" + s.absenceSuffix()
	case domain.JustificationRefused:
		return "Justification refused (" + e.ReasonCode + ")" + s.absenceSuffix()
	case domain.PunishmentGiven:
		return fmt.Sprintf("Punishment: %s, %s", e.Kind, e.Date)
	case domain.SanctionPronounced:
		days := ""
		if e.Days > 0 {
			days = fmt.Sprintf(" (%d days)", e.Days)
		}
		return fmt.Sprintf("Sanction: %s%s, %s", e.Kind, days, e.Date)
	case domain.SanctionAnnulled:
		if s.sanction == nil {
			return "Sanction annulled"
		}
		return fmt.Sprintf("Sanction annulled: %s, %s", s.sanction.Kind, s.sanction.Date)
	case domain.SursisRevoked:
		if s.sanction == nil {
			return "Sursis revoked"
		}
		return fmt.Sprintf("Sursis revoked: %s, %s", s.sanction.Kind, s.sanction.Date)
	case domain.IncidentReported:
		var roles []string
		for _, st := range c.Students {
			for _, p := range e.Protagonists {
				if p.Account == st {
					roles = append(roles, string(p.Role))
					break
				}
			}
		}
		return fmt.Sprintf("Incident (%s): %s", e.Seriousness, strings.Join(roles, ", "))
	case domain.HomeworkAssigned:
		return fmt.Sprintf("Homework in %s due %s", e.Subject, e.Due)
	case domain.HomeworkAmended:
		if s.homework == nil {
			return fmt.Sprintf("Homework amended, due %s", e.Due)
		}
		return fmt.Sprintf("Homework in %s amended, due %s", s.homework.Subject, e.Due)
	case domain.HomeworkWithdrawn:
		if s.homework == nil {
			return "Homework withdrawn"
		}
		return fmt.Sprintf("Homework in %s due %s withdrawn", s.homework.Subject, s.homework.Due)
	case domain.MessageSent:
		if e.AckRequested {
			return "Message (acknowledgement requested): " + e.Subject
		}
		return "Message: " + e.Subject
	case domain.BookingApproved:
		return "Booking approved" + s.bookingSuffix()
	case domain.BookingRefused:
		return "Booking refused" + s.bookingSuffix()
	case domain.BookingCancelled:
		return "Booking cancelled" + s.bookingSuffix()
	}
	return e.EventType()
}

func (s *ntSummarizer) absenceSuffix() string {
	if s.absence == nil {
		return ""
	}
	return ": " + ntLesson(s.absence.Date, s.absence.Slot, s.absence.Subject)
}

func (s *ntSummarizer) bookingSuffix() string {
	if s.booking == nil {
		return ""
	}
	out := ": " + s.resource + ", " + s.booking.Start.In(s.loc).Format("2006-01-02 15:04")
	if !s.booking.RepeatUntil.IsZero() {
		out += ", weekly until " + s.booking.RepeatUntil.String()
	}
	return out
}

func ntLesson(d domain.Date, slot domain.Slot, subject string) string {
	return fmt.Sprintf("%s %s %s", d, slot.Start, subject)
}

// ntFeedKey is the key of a notification in an account's feed.
func ntFeedKey(account uuid.UUID, pos domain.Position) string {
	return fmt.Sprintf("%s|%020d.%020d", account, math.MaxUint64-pos.Tx, math.MaxUint64-pos.Seq)
}

// Queries of notifications.v1.

// Notifications returns a page of the notifications of account, newest
// first.
func (q *Queries) Notifications(ctx context.Context, account uuid.UUID, p Page) (List[Notification], error) {
	r, err := q.reader(ctx, ProjectionNotifications)
	if err != nil {
		return List[Notification]{}, err
	}
	prefix := account.String() + "|"
	return scanPage[Notification](ctx, r, ntFeed, prefix, prefix, PrefixEnd(prefix), p, nil)
}
