package projections

// notifyplan.v1: the first half of the delivery process that reaches
// families outside the portal (adapters/notify/delivery). For each event a
// person is notified of (visibility.ConcernOf, through Audience, as
// notifications.v1), in a category (domain.NotifyCategoryOf), it plans one
// entry per concerned person whose preferences do not turn that category
// off, with what their preferences say (mode, channels, quiet hours,
// language) and the facts a message needs. The delivery process reads the
// plan in order, with its own cursor, and turns each entry into one
// delivery per channel.
//
// Being a projection, the plan is written with its checkpoint in one
// transaction, by one runner at a time, and rebuilt under a new
// generation like any other: a replayed entry is the same entry (same
// event, same recipient), which the deliveries' key makes happen once.
//
// An entry holds ids, codes, dates and lesson subjects, never a text
// written about a person (a message's subject, a punishment's reason) nor
// a name: the delivery process looks names up when it writes the message.
//
// Collections (key -> document):
//
//	plan       "position|recipient" -> Planned (position at fixed width,
//	           so that the plan reads in the log's order)
//	groups     group id -> {"members": {account id: [roles]}}
//	relatives  student id -> {"relatives": [account ids]}
//	prefs      account id -> domain.NotificationPreferences

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionNotifyPlan is the persisted name of the delivery plan.
const ProjectionNotifyPlan = "notifyplan.v1"

// Collections of notifyplan.v1.
const (
	npPlan  = "plan"
	npPrefs = "prefs"
)

// Planned is one entry of the plan: an act to tell one person about.
type Planned struct {
	Position     domain.Position       `json:"position"`
	Notification uuid.UUID             `json:"notification"` // the event's id
	Type         string                `json:"type"`
	Category     domain.NotifyCategory `json:"category"`
	// Establishment is the act's (its metadata's).
	Establishment string    `json:"establishment"`
	Time          time.Time `json:"time"`
	Recipient     uuid.UUID `json:"recipient"`
	// Students are those through whom the act concerns the recipient.
	Students []uuid.UUID `json:"students,omitempty"`
	// Ref is what the act is about (absence, lesson, sanction...).
	Ref         uuid.UUID                      `json:"ref"`
	Facts       PlanFacts                      `json:"facts"`
	Preferences domain.NotificationPreferences `json:"preferences"`
}

// PlanFacts are what a message says of an act: codes, dates and lesson
// subjects only.
type PlanFacts struct {
	Date    domain.Date `json:"date,omitzero"`
	Start   string      `json:"start,omitempty"` // the lesson's start, HH:MM
	Subject string      `json:"subject,omitempty"`
	Minutes int         `json:"minutes,omitempty"`
	Kind    string      `json:"kind,omitempty"` // a punishment's or a sanction's
	Due     domain.Date `json:"due,omitzero"`
	// Lesson is an absence's, whose page takes the family's reason.
	Lesson uuid.UUID `json:"lesson,omitzero"`
}

type notifyPlan struct{}

// NewNotifyPlan returns the reducer of notifyplan.v1.
func NewNotifyPlan() Reducer { return notifyPlan{} }

func (notifyPlan) Name() string { return ProjectionNotifyPlan }

// Collections lists the collections the reducer writes.
func (notifyPlan) Collections() []string { return []string{ntGroups, npPlan, npPrefs, ntRelatives} }

func (notifyPlan) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
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
	case domain.NotificationPreferencesSet:
		b.Put(npPrefs, e.Account.String(), &e.Preferences)
		return nil
	case domain.SubjectErased:
		b.Delete(npPrefs, e.Subject.String())
		return nil
	}
	cat, ok := domain.NotifyCategoryOf(e.EventType())
	if !ok {
		return nil
	}
	audience, err := Audience(ctx, ntLookup{b}, rec, e)
	if err != nil {
		return err
	}
	for _, c := range audience {
		prefs := domain.DefaultNotificationPreferences()
		if p, ok, err := Get[domain.NotificationPreferences](ctx, b, npPrefs, c.Account.String()); err != nil {
			return err
		} else if ok {
			prefs = *p
		}
		if prefs.Mode(cat) == domain.NotifyOff || len(prefs.Channels) == 0 {
			continue
		}
		b.Put(npPlan, npKey(rec.Position, c.Account), &Planned{
			Position: rec.Position, Notification: rec.ID, Type: e.EventType(), Category: cat,
			Establishment: rec.Metadata.Establishment, Time: rec.Metadata.Time.UTC(),
			Recipient: c.Account, Students: c.Students, Ref: ntRef(e), Facts: npFacts(e), Preferences: prefs,
		})
	}
	return nil
}

// npFacts returns what a message says of e.
func npFacts(e domain.Event) PlanFacts {
	switch e := e.(type) {
	case domain.AbsenceRecorded:
		return PlanFacts{Date: e.Date, Start: e.Slot.Start, Subject: e.Subject, Lesson: e.Lesson}
	case domain.LatenessRecorded:
		return PlanFacts{Date: e.Date, Start: e.Slot.Start, Subject: e.Subject, Minutes: e.Minutes}
	case domain.PunishmentGiven:
		return PlanFacts{Date: e.Date, Kind: string(e.Kind)}
	case domain.SanctionPronounced:
		return PlanFacts{Date: e.Date, Kind: string(e.Kind)}
	case domain.HomeworkAssigned:
		return PlanFacts{Subject: e.Subject, Due: e.Due}
	case domain.HomeworkAmended:
		return PlanFacts{Due: e.Due}
	}
	return PlanFacts{}
}

// npKey is an entry's key: the log's order, then the recipient.
func npKey(pos domain.Position, recipient uuid.UUID) string {
	return fmt.Sprintf("%020d.%020d|%s", pos.Tx, pos.Seq, recipient)
}

// Plan returns up to limit entries of the plan after the key after ("" for
// the first), in the log's order, and the key of the last one (after
// itself when there is none).
func (q *Queries) Plan(ctx context.Context, after string, limit int) ([]Planned, string, error) {
	r, err := q.reader(ctx, ProjectionNotifyPlan)
	if err != nil {
		return nil, after, err
	}
	from := ""
	if after != "" {
		from = after + "\x00"
	}
	var out []Planned
	last := after
	err = ScanJSON(ctx, r, npPlan, from, "", func(key string, p Planned) error {
		if len(out) == limit {
			return errPageFull
		}
		out = append(out, p)
		last = key
		return nil
	})
	if err != nil && err != errPageFull {
		return nil, after, fmt.Errorf("read the delivery plan: %w", err)
	}
	return out, last, nil
}

// NotificationPreferences returns a person's notification preferences as
// last set, the defaults when they never chose (or notifications are not
// running: the plan is then empty).
func (q *Queries) NotificationPreferences(ctx context.Context, account uuid.UUID) (domain.NotificationPreferences, error) {
	r, err := q.reader(ctx, ProjectionNotifyPlan)
	if err != nil {
		return domain.NotificationPreferences{}, err
	}
	doc, ok, err := r.Get(ctx, npPrefs, account.String())
	if err != nil || !ok {
		return domain.DefaultNotificationPreferences(), err
	}
	var p domain.NotificationPreferences
	if err := json.Unmarshal(doc, &p); err != nil {
		return domain.NotificationPreferences{}, fmt.Errorf("preferences of %s: %w", account, err)
	}
	return p, nil
}
