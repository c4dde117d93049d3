package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Reaching families: what each family member wants to be told, and how
// (their preferences, an event), and what became of each message sent to
// them (its outcome, an event), so that the history proves the family was
// informed (docs/notifications.md).

// NotifyCategory is a family of acts a person is notified of.
type NotifyCategory string

// Notification categories.
const (
	NotifyAbsences   NotifyCategory = "absences"   // absences and lateness
	NotifyDiscipline NotifyCategory = "discipline" // punishments, sanctions, incidents
	NotifyMessages   NotifyCategory = "messages"
	NotifyHomework   NotifyCategory = "homework"
	NotifyNews       NotifyCategory = "news"
)

// NotifyCategories lists the categories in the order pages show them.
func NotifyCategories() []NotifyCategory {
	return []NotifyCategory{NotifyAbsences, NotifyDiscipline, NotifyMessages, NotifyHomework, NotifyNews}
}

// Valid reports whether c is a known category.
func (c NotifyCategory) Valid() bool { return slices.Contains(NotifyCategories(), c) }

// NotifyCategoryOf returns the category of a notified event type, false
// for a type no family member is told about outside the portal.
func NotifyCategoryOf(typ string) (NotifyCategory, bool) {
	switch typ {
	case AbsenceRecorded{}.EventType(), LatenessRecorded{}.EventType(), AbsenceCancelled{}.EventType(),
		JustificationAccepted{}.EventType(), JustificationRefused{}.EventType():
		return NotifyAbsences, true
	case IncidentReported{}.EventType(), PunishmentGiven{}.EventType(), SanctionPronounced{}.EventType(),
		SanctionAnnulled{}.EventType(), SursisRevoked{}.EventType():
		return NotifyDiscipline, true
	case MessageSent{}.EventType():
		return NotifyMessages, true
	case HomeworkAssigned{}.EventType(), HomeworkAmended{}.EventType(), HomeworkWithdrawn{}.EventType():
		return NotifyHomework, true
	case ArticlePublished{}.EventType():
		return NotifyNews, true
	}
	return "", false
}

// NotifyMode is how a person is told of a category.
type NotifyMode string

// Modes.
const (
	NotifyInstantly NotifyMode = "instant"
	NotifyDigest    NotifyMode = "digest" // once a day, at the establishment's hour
	NotifyOff       NotifyMode = "off"
)

// NotifyModes lists the modes.
func NotifyModes() []NotifyMode { return []NotifyMode{NotifyInstantly, NotifyDigest, NotifyOff} }

// Valid reports whether m is a known mode.
func (m NotifyMode) Valid() bool { return slices.Contains(NotifyModes(), m) }

// NotifyChannel is a way to reach a person outside the portal.
type NotifyChannel string

// Channels.
const (
	ChannelPush  NotifyChannel = "push"
	ChannelEmail NotifyChannel = "email"
	ChannelSMS   NotifyChannel = "sms"
)

// NotifyChannels lists the channels.
func NotifyChannels() []NotifyChannel { return []NotifyChannel{ChannelPush, ChannelEmail, ChannelSMS} }

// Valid reports whether c is a known channel.
func (c NotifyChannel) Valid() bool { return slices.Contains(NotifyChannels(), c) }

// NotifyLang is the language of a person's messages.
type NotifyLang string

// Languages.
const (
	LangFrench  NotifyLang = "fr"
	LangEnglish NotifyLang = "en"
)

// NotificationPreferences is what a person wants to be told, how and when.
type NotificationPreferences struct {
	// Modes gives each category's mode; a category left out is
	// DefaultNotificationPreferences'.
	Modes map[NotifyCategory]NotifyMode `json:"modes"`
	// Channels are the ways they accept to be reached (those they have:
	// a push subscription, an address).
	Channels []NotifyChannel `json:"channels"`
	// QuietFrom and QuietTo ("22:00", "07:00"), both or neither: what
	// would be sent instantly in between waits for QuietTo.
	QuietFrom string     `json:"quiet_from,omitempty" text:"code"`
	QuietTo   string     `json:"quiet_to,omitempty" text:"code"`
	Lang      NotifyLang `json:"lang"`
}

// DefaultNotificationPreferences is what a person who never chose is sent:
// absences, discipline and messages at once, homework and news in the
// daily digest, by every channel they have, in French.
func DefaultNotificationPreferences() NotificationPreferences {
	return NotificationPreferences{
		Modes: map[NotifyCategory]NotifyMode{
			NotifyAbsences: NotifyInstantly, NotifyDiscipline: NotifyInstantly, NotifyMessages: NotifyInstantly,
			NotifyHomework: NotifyDigest, NotifyNews: NotifyDigest,
		},
		Channels: NotifyChannels(),
		Lang:     LangFrench,
	}
}

// Mode returns the mode of category c.
func (p NotificationPreferences) Mode(c NotifyCategory) NotifyMode {
	if m, ok := p.Modes[c]; ok {
		return m
	}
	return DefaultNotificationPreferences().Modes[c]
}

// Quiet reports whether t (in the establishment's time zone) falls in the
// quiet hours, and if so when they end (the first QuietTo after t).
func (p NotificationPreferences) Quiet(t time.Time) (time.Time, bool) {
	if p.QuietFrom == "" {
		return time.Time{}, false
	}
	from, _ := clockMinutes(p.QuietFrom)
	to, _ := clockMinutes(p.QuietTo)
	now := t.Hour()*60 + t.Minute()
	var in bool
	if from <= to {
		in = now >= from && now < to
	} else { // across midnight
		in = now >= from || now < to
	}
	if !in {
		return time.Time{}, false
	}
	end := time.Date(t.Year(), t.Month(), t.Day(), to/60, to%60, 0, 0, t.Location())
	if !end.After(t) {
		end = end.AddDate(0, 0, 1)
	}
	return end, true
}

// clockMinutes reads "HH:MM" as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// Validate checks the preferences: known categories, modes, channels
// (each once) and language, quiet hours both or neither, as HH:MM, not
// equal.
func (p NotificationPreferences) Validate() error {
	for c, m := range p.Modes {
		if !c.Valid() {
			return Errorf(ErrInvalid, "preferences.modes: %q is no category", c)
		}
		if !m.Valid() {
			return Errorf(ErrInvalid, "preferences.modes."+string(c)+": %q is no mode", m)
		}
	}
	for i, ch := range p.Channels {
		if !ch.Valid() || slices.Contains(p.Channels[:i], ch) {
			return Errorf(ErrInvalid, "preferences.channels: %q is no channel, or twice", ch)
		}
	}
	if p.Lang != LangFrench && p.Lang != LangEnglish {
		return Errorf(ErrInvalid, "preferences.lang: language %q, want fr or en", p.Lang)
	}
	if (p.QuietFrom == "") != (p.QuietTo == "") {
		return Errorf(ErrInvalid, "preferences.quiet_to: quiet hours need a start and an end")
	}
	if p.QuietFrom != "" {
		from, ok1 := clockMinutes(p.QuietFrom)
		to, ok2 := clockMinutes(p.QuietTo)
		if !ok1 || !ok2 || from == to {
			return Errorf(ErrInvalid, "preferences.quiet_from: quiet hours %q to %q are not two different HH:MM", p.QuietFrom, p.QuietTo)
		}
	}
	return nil
}

// NotificationPreferencesSet records a person's preferences, whole.
type NotificationPreferencesSet struct {
	Account     uuid.UUID               `json:"account"`
	Preferences NotificationPreferences `json:"preferences"`
}

func (NotificationPreferencesSet) EventType() string { return "notification.preferences_set.v1" }

// SetNotificationPreferences replaces a person's preferences: their own
// only.
type SetNotificationPreferences struct {
	Account     uuid.UUID               `json:"account"`
	Preferences NotificationPreferences `json:"preferences"`
}

// Decide returns the event, or refuses another's preferences or invalid
// ones.
func (cmd SetNotificationPreferences) Decide(actor Actor) ([]Event, error) {
	if cmd.Account == uuid.Nil || (cmd.Account != actor.Account && !actor.IsSystem()) {
		return nil, Errorf(ErrForbidden, "a person sets their own notification preferences")
	}
	if err := cmd.Preferences.Validate(); err != nil {
		return nil, err
	}
	p := cmd.Preferences
	p.Channels = slices.Clone(p.Channels)
	slices.SortFunc(p.Channels, func(a, b NotifyChannel) int {
		return slices.Index(NotifyChannels(), a) - slices.Index(NotifyChannels(), b)
	})
	return []Event{NotificationPreferencesSet{Account: cmd.Account, Preferences: p}}, nil
}

// NotificationPreferencesStream is the stream of a person's preferences.
func NotificationPreferencesStream(account uuid.UUID) string {
	return StreamName(CategoryNotifications, account.String())
}

// DeliveriesStream is the stream of the outcomes of the messages sent
// about an establishment's acts.
func DeliveriesStream(uai string) string { return StreamName(CategoryDeliveries, uai) }

// Outcome kinds.
const (
	OutcomeSent   = "sent"
	OutcomeFailed = "failed"
	OutcomeOpened = "opened"
)

// Failure reasons (NotificationFailed.Reason).
const (
	FailGone      = "gone"       // the push subscription no longer exists
	FailRefused   = "refused"    // the channel refused the message for good
	FailNoAddress = "no_address" // nothing to reach them by on that channel
	FailExhausted = "exhausted"  // the last retry failed: a dead letter
)

// NotificationOutcome is what became of one message: a notification (the
// notified event), by a channel, to a recipient.
type NotificationOutcome struct {
	Kind         string         `json:"kind" text:"code"`
	Notification uuid.UUID      `json:"notification"`
	Act          string         `json:"act" text:"code"`
	Category     NotifyCategory `json:"category"`
	Channel      NotifyChannel  `json:"channel"`
	Recipient    uuid.UUID      `json:"recipient"`
	// Students are those through whom the act concerns the recipient.
	Students []uuid.UUID `json:"students,omitempty"`
	Attempts int         `json:"attempts,omitempty"`
	Digest   bool        `json:"digest,omitempty"`
	Reason   string      `json:"reason,omitempty" text:"code"`
	At       time.Time   `json:"at" date:"act"`
}

// NotificationSent: the channel accepted the message (a push service, an
// SMTP relay, a text gateway).
type NotificationSent struct {
	Notification uuid.UUID      `json:"notification"`
	Act          string         `json:"act"`
	Category     NotifyCategory `json:"category"`
	Channel      NotifyChannel  `json:"channel"`
	Recipient    uuid.UUID      `json:"recipient"`
	Students     []uuid.UUID    `json:"students,omitempty"`
	Attempts     int            `json:"attempts"`
	Digest       bool           `json:"digest,omitempty"`
	At           time.Time      `json:"at"`
}

func (NotificationSent) EventType() string { return "notification.sent.v1" }

// NotificationFailed: the message was not sent, for good (Reason).
type NotificationFailed struct {
	Notification uuid.UUID      `json:"notification"`
	Act          string         `json:"act"`
	Category     NotifyCategory `json:"category"`
	Channel      NotifyChannel  `json:"channel"`
	Recipient    uuid.UUID      `json:"recipient"`
	Students     []uuid.UUID    `json:"students,omitempty"`
	Attempts     int            `json:"attempts"`
	Reason       string         `json:"reason"`
	At           time.Time      `json:"at"`
}

// NotificationOpened: the recipient followed the message's link to the
// portal.
type NotificationOpened struct {
	Notification uuid.UUID     `json:"notification"`
	Channel      NotifyChannel `json:"channel"`
	Recipient    uuid.UUID     `json:"recipient"`
	Students     []uuid.UUID   `json:"students,omitempty"`
	At           time.Time     `json:"at"`
}

func (NotificationFailed) EventType() string { return "notification.failed.v1" }
func (NotificationOpened) EventType() string { return "notification.opened.v1" }

// RecordNotificationOutcomes appends a batch of outcomes of an
// establishment's notifications; the ledger itself issues it.
type RecordNotificationOutcomes struct {
	Establishment string                `json:"establishment" text:"code"`
	Outcomes      []NotificationOutcome `json:"outcomes"`
}

// MaxOutcomesPerCommand bounds one batch.
const MaxOutcomesPerCommand = 1000

// Decide returns one event per outcome: the system only, a known
// establishment, each outcome complete.
func (cmd RecordNotificationOutcomes) Decide(actor Actor) ([]Event, error) {
	if !actor.IsSystem() {
		return nil, Errorf(ErrForbidden, "only the ledger records what became of its notifications")
	}
	if !ValidUAI(cmd.Establishment) {
		return nil, Errorf(ErrInvalid, "establishment %q is not a UAI", cmd.Establishment)
	}
	if len(cmd.Outcomes) == 0 || len(cmd.Outcomes) > MaxOutcomesPerCommand {
		return nil, Errorf(ErrInvalid, "%d outcomes, want 1 to %d", len(cmd.Outcomes), MaxOutcomesPerCommand)
	}
	events := make([]Event, 0, len(cmd.Outcomes))
	for i, o := range cmd.Outcomes {
		switch {
		case o.Notification == uuid.Nil || o.Recipient == uuid.Nil || !o.Channel.Valid() || o.At.IsZero():
			return nil, Errorf(ErrInvalid, "outcomes[%d]: notification, recipient, channel and time are required", i)
		case o.Kind != OutcomeOpened && (!o.Category.Valid() || o.Act == ""):
			return nil, Errorf(ErrInvalid, "outcomes[%d]: category %q of %q", i, o.Category, o.Act)
		}
		students := slices.Clone(o.Students)
		switch o.Kind {
		case OutcomeSent:
			events = append(events, NotificationSent{Notification: o.Notification, Act: o.Act, Category: o.Category,
				Channel: o.Channel, Recipient: o.Recipient, Students: students, Attempts: o.Attempts, Digest: o.Digest, At: o.At.UTC()})
		case OutcomeFailed:
			if !slices.Contains([]string{FailGone, FailRefused, FailNoAddress, FailExhausted}, o.Reason) {
				return nil, Errorf(ErrInvalid, "outcomes[%d]: reason %q", i, o.Reason)
			}
			events = append(events, NotificationFailed{Notification: o.Notification, Act: o.Act, Category: o.Category,
				Channel: o.Channel, Recipient: o.Recipient, Students: students, Attempts: o.Attempts, Reason: o.Reason, At: o.At.UTC()})
		case OutcomeOpened:
			events = append(events, NotificationOpened{Notification: o.Notification, Channel: o.Channel,
				Recipient: o.Recipient, Students: students, At: o.At.UTC()})
		default:
			return nil, Errorf(ErrInvalid, "outcomes[%d]: kind %q", i, o.Kind)
		}
	}
	return events, nil
}
