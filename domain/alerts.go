package domain

import (
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// Alert errors.
var (
	ErrAlertExists  = newError(CodeConflict, "alert-exists", "the alert is raised already")
	ErrAlertUnknown = newError(CodeNotFound, "alert-unknown", "no such alert")
	ErrAlertHandled = newError(CodeConflict, "alert-handled", "the alert is handled already")
)

// AlertKind is what an alert is about. These names are persisted: never
// rename one.
type AlertKind string

// Alert kinds.
const (
	// AlertHalfDays: a student's unjustified half-days of absence in a
	// month reached the establishment's threshold (Code de l'éducation,
	// art. L. 131-8: four by default).
	AlertHalfDays AlertKind = "unjustified_half_days"
	// AlertLateness: a student's lateness in a period reached the
	// establishment's threshold.
	AlertLateness AlertKind = "lateness"
	// AlertRollCallTeacher: a lesson ended without a roll call; its
	// teacher is asked first.
	AlertRollCallTeacher AlertKind = "roll_call_teacher"
	// AlertRollCallOffice: the roll call is still missing after the
	// establishment's delay; the office is asked.
	AlertRollCallOffice AlertKind = "roll_call_office"
)

// AlertKinds lists every kind, in the order they are shown.
func AlertKinds() []AlertKind {
	return []AlertKind{AlertHalfDays, AlertLateness, AlertRollCallTeacher, AlertRollCallOffice}
}

// Valid reports whether k is a kind.
func (k AlertKind) Valid() bool { return slices.Contains(AlertKinds(), k) }

// AlertAction is how an alert was handled. These names are persisted:
// never rename one.
type AlertAction string

// Alert actions.
const (
	ActionFamilyCall   AlertAction = "family_call"    // appel à la famille
	ActionLetter       AlertAction = "letter"         // courrier
	ActionMeeting      AlertAction = "meeting"        // convocation
	ActionDASENReport  AlertAction = "dasen_report"   // signalement au DASEN
	ActionRollCallDone AlertAction = "roll_call_done" // l'appel a été fait
	ActionOther        AlertAction = "other"
)

// AlertActions lists every action, in the order they are offered.
func AlertActions() []AlertAction {
	return []AlertAction{ActionFamilyCall, ActionLetter, ActionMeeting, ActionDASENReport, ActionRollCallDone, ActionOther}
}

// Valid reports whether a is an action.
func (a AlertAction) Valid() bool { return slices.Contains(AlertActions(), a) }

// LatenessPeriod is the period over which lateness is counted.
type LatenessPeriod string

// Lateness periods.
const (
	PeriodWeek  LatenessPeriod = "week"
	PeriodMonth LatenessPeriod = "month"
)

// Valid reports whether p is a period.
func (p LatenessPeriod) Valid() bool { return p == PeriodWeek || p == PeriodMonth }

// HalfDayCounting names an establishment's rule for a missed half-day.
type HalfDayCounting string

// Half-day counting rules (see schoolcalendar.HalfDayRule).
const (
	// CountEveryLesson: a half-day is missed when every lesson of it was.
	CountEveryLesson HalfDayCounting = "every_lesson"
	// CountAnyLesson: a half-day is missed as soon as one lesson of it was.
	CountAnyLesson HalfDayCounting = "any_lesson"
)

// Valid reports whether c is a rule.
func (c HalfDayCounting) Valid() bool { return c == CountEveryLesson || c == CountAnyLesson }

// AlertSettings are an establishment's alert thresholds.
type AlertSettings struct {
	// HalfDaysPerMonth is the count of unjustified half-days of absence in
	// a calendar month that raises an alert.
	HalfDaysPerMonth int `json:"half_days_per_month"`
	// HalfDayCut ("HH:MM") splits the morning from the afternoon.
	HalfDayCut string `json:"half_day_cut" text:"code"`
	// HalfDayRule says when a half-day counts as missed.
	HalfDayRule HalfDayCounting `json:"half_day_rule" text:"code"`
	// LatenessCount in a LatenessPeriod raises an alert.
	LatenessCount  int            `json:"lateness_count"`
	LatenessPeriod LatenessPeriod `json:"lateness_period" text:"code"`
	// OfficeDelayMinutes after a lesson's end without a roll call, the
	// office is alerted (its teacher is, at once).
	OfficeDelayMinutes int `json:"office_delay_minutes"`
}

// DefaultAlertSettings are the settings of an establishment that set none:
// four unjustified half-days in a month (the count from which the law has
// the DASEN informed, Code de l'éducation art. L. 131-8), half-days cut at
// noon and missed when every lesson of them was, five lateness in a
// month, the office told an hour after the lesson's end.
func DefaultAlertSettings() AlertSettings {
	return AlertSettings{
		HalfDaysPerMonth:   4,
		HalfDayCut:         "12:00",
		HalfDayRule:        CountEveryLesson,
		LatenessCount:      5,
		LatenessPeriod:     PeriodMonth,
		OfficeDelayMinutes: 60,
	}
}

// Validate checks the settings' bounds.
func (s AlertSettings) Validate() error {
	switch {
	case s.HalfDaysPerMonth < 1 || s.HalfDaysPerMonth > 62:
		return Errorf(ErrInvalid, "half_days_per_month: between 1 and 62")
	case !s.HalfDayRule.Valid():
		return Errorf(ErrInvalid, "half_day_rule: every_lesson or any_lesson")
	case s.LatenessCount < 1 || s.LatenessCount > 200:
		return Errorf(ErrInvalid, "lateness_count: between 1 and 200")
	case !s.LatenessPeriod.Valid():
		return Errorf(ErrInvalid, "lateness_period: week or month")
	case s.OfficeDelayMinutes < 0 || s.OfficeDelayMinutes > 1440:
		return Errorf(ErrInvalid, "office_delay_minutes: between 0 and 1440")
	}
	if err := (Slot{Start: s.HalfDayCut, End: "23:59"}).Validate(); err != nil || s.HalfDayCut == "23:59" {
		return Errorf(ErrInvalid, "half_day_cut: %q is not HH:MM", s.HalfDayCut)
	}
	return nil
}

// Categories of the alert streams. Persisted: never rename.
const (
	CategoryAlert         = "alert"
	CategoryAlertSettings = "alertsettings"
)

// AlertStream is the stream of one alert: raised, then handled.
func AlertStream(id uuid.UUID) string { return StreamName(CategoryAlert, id.String()) }

// AlertSettingsStream is the stream of an establishment's alert settings.
func AlertSettingsStream(uai string) string { return StreamName(CategoryAlertSettings, uai) }

// AlertID is the id of the alert of kind about subject (a student, a
// lesson) for period (a month "2026-11", a week "2026-W48", a lesson's
// date) in an establishment: the same situation always gets the same id, so
// that it is raised once however often the process looks.
func AlertID(uai string, kind AlertKind, subject uuid.UUID, period string) uuid.UUID {
	return uuid.NewSHA1(namespace, []byte(fmt.Sprintf("alert|%s|%s|%s|%s", uai, kind, subject, period)))
}

// AlertRaised records that a threshold was reached, or a roll call
// forgotten. Who is concerned: the student (thresholds) or the lesson and
// its teacher (roll calls).
type AlertRaised struct {
	Alert         uuid.UUID `json:"alert"`
	Establishment string    `json:"establishment"`
	Kind          AlertKind `json:"kind"`
	Student       uuid.UUID `json:"student,omitempty"`
	Group         uuid.UUID `json:"group,omitempty"`
	Lesson        uuid.UUID `json:"lesson,omitempty"`
	Teacher       uuid.UUID `json:"teacher,omitempty"`
	// Period is the month ("2026-11"), week ("2026-W48") or day
	// ("2026-11-30") the alert is about.
	Period string `json:"period"`
	// Count reached Threshold (half-days, lateness); for a roll call,
	// Slot is the lesson's.
	Count     int  `json:"count,omitempty"`
	Threshold int  `json:"threshold,omitempty"`
	Slot      Slot `json:"slot,omitzero"`
}

func (AlertRaised) EventType() string { return "alert.raised.v1" }

// AlertHandled records who handled an alert (the metadata's actor) and how.
type AlertHandled struct {
	Alert         uuid.UUID   `json:"alert"`
	Establishment string      `json:"establishment"`
	Kind          AlertKind   `json:"kind"`
	Student       uuid.UUID   `json:"student,omitempty"`
	Action        AlertAction `json:"action"`
}

func (AlertHandled) EventType() string { return "alert.handled.v1" }

// AlertSettingsSet records an establishment's alert thresholds.
type AlertSettingsSet struct {
	Establishment string `json:"establishment"`
	AlertSettings
}

func (AlertSettingsSet) EventType() string { return "alert.settings_set.v1" }

// RaiseAlert is the command that raises an alert (the ledger's own alert
// process).
type RaiseAlert struct {
	Establishment string    `json:"establishment" text:"code"`
	Kind          AlertKind `json:"kind" text:"code"`
	Student       uuid.UUID `json:"student"`
	Group         uuid.UUID `json:"group"`
	Lesson        uuid.UUID `json:"lesson"`
	Teacher       uuid.UUID `json:"teacher"`
	Period        string    `json:"period" text:"code"`
	Count         int       `json:"count"`
	Threshold     int       `json:"threshold"`
	Slot          Slot      `json:"slot"`
}

// ID is the alert's id.
func (c RaiseAlert) ID() uuid.UUID {
	subject := c.Student
	if c.Kind == AlertRollCallTeacher || c.Kind == AlertRollCallOffice {
		subject = c.Lesson
	}
	return AlertID(c.Establishment, c.Kind, subject, c.Period)
}

// HandleAlert is the command of the office recording how it handled an
// alert.
type HandleAlert struct {
	Alert  uuid.UUID   `json:"alert"`
	Action AlertAction `json:"action" text:"code"`
}

// SetAlertSettings is the command that sets an establishment's alert
// thresholds.
type SetAlertSettings struct {
	Establishment string `json:"establishment" text:"code"`
	AlertSettings
}

// Alert is the state of one alert's stream.
type Alert struct {
	Raised  *AlertRaised
	Handled *AlertHandled
}

// Apply folds an event of the alert's stream.
func (a *Alert) Apply(ev Event) {
	switch e := ev.(type) {
	case AlertRaised:
		a.Raised = &e
	case AlertHandled:
		a.Handled = &e
	}
}

// RaiseAlert decides raising an alert: the ledger alone raises them, once.
func (a *Alert) RaiseAlert(actor Actor, cmd RaiseAlert) ([]Event, error) {
	if !actor.IsSystem() {
		return nil, Errorf(ErrForbidden, "only the ledger raises alerts")
	}
	if !ValidUAI(cmd.Establishment) {
		return nil, Errorf(ErrInvalid, "establishment %q is not a UAI", cmd.Establishment)
	}
	if !cmd.Kind.Valid() {
		return nil, Errorf(ErrInvalid, "kind %q is not an alert kind", cmd.Kind)
	}
	if cmd.Period == "" || len(cmd.Period) > 10 {
		return nil, Errorf(ErrInvalid, "period %q", cmd.Period)
	}
	switch cmd.Kind {
	case AlertHalfDays, AlertLateness:
		if cmd.Student == uuid.Nil || cmd.Count < cmd.Threshold || cmd.Threshold < 1 {
			return nil, Errorf(ErrInvalid, "%s: a student whose count reached the threshold", cmd.Kind)
		}
	default:
		if cmd.Lesson == uuid.Nil || cmd.Teacher == uuid.Nil {
			return nil, Errorf(ErrInvalid, "%s: a lesson and its teacher", cmd.Kind)
		}
		if err := cmd.Slot.Validate(); err != nil {
			return nil, err
		}
	}
	if a.Raised != nil {
		return nil, Errorf(ErrAlertExists, "%s", a.Raised.Alert)
	}
	return []Event{AlertRaised{
		Alert: cmd.ID(), Establishment: cmd.Establishment, Kind: cmd.Kind,
		Student: cmd.Student, Group: cmd.Group, Lesson: cmd.Lesson, Teacher: cmd.Teacher,
		Period: cmd.Period, Count: cmd.Count, Threshold: cmd.Threshold, Slot: cmd.Slot,
	}}, nil
}

// HandleAlert decides handling an alert: staff of its establishment (the
// school-life office, the head) or the ledger (a roll call done late)
// handle an open alert, once.
func (a *Alert) HandleAlert(actor Actor, cmd HandleAlert) ([]Event, error) {
	if a.Raised == nil {
		return nil, Errorf(ErrAlertUnknown, "%s", cmd.Alert)
	}
	if !actor.IsStaff(a.Raised.Establishment) {
		return nil, Errorf(ErrForbidden, "only the establishment's staff handle its alerts")
	}
	if !cmd.Action.Valid() {
		return nil, Errorf(ErrInvalid, "action %q is not an alert action", cmd.Action)
	}
	if a.Handled != nil {
		return nil, Errorf(ErrAlertHandled, "%s", cmd.Alert)
	}
	return []Event{AlertHandled{
		Alert: a.Raised.Alert, Establishment: a.Raised.Establishment, Kind: a.Raised.Kind,
		Student: a.Raised.Student, Action: cmd.Action,
	}}, nil
}

// AlertSettingsState is the state of an establishment's alert settings
// stream.
type AlertSettingsState struct {
	Set *AlertSettings
}

// Apply folds an event of the settings stream.
func (s *AlertSettingsState) Apply(ev Event) {
	if e, ok := ev.(AlertSettingsSet); ok {
		set := e.AlertSettings
		s.Set = &set
	}
}

// Effective returns the establishment's settings, else the defaults.
func (s *AlertSettingsState) Effective() AlertSettings {
	if s.Set != nil {
		return *s.Set
	}
	return DefaultAlertSettings()
}

// SetAlertSettings decides a settings change: the head (or an
// administrator) of the establishment sets thresholds within bounds.
func (s *AlertSettingsState) SetAlertSettings(actor Actor, cmd SetAlertSettings) ([]Event, error) {
	if !ValidUAI(cmd.Establishment) {
		return nil, Errorf(ErrInvalid, "establishment %q is not a UAI", cmd.Establishment)
	}
	if !actor.IsHead(cmd.Establishment) && !actor.IsAdmin(cmd.Establishment) {
		return nil, Errorf(ErrForbidden, "only the head sets the establishment's alert thresholds")
	}
	if err := cmd.AlertSettings.Validate(); err != nil {
		return nil, err
	}
	if s.Set != nil && *s.Set == cmd.AlertSettings {
		return nil, nil
	}
	return []Event{AlertSettingsSet{Establishment: cmd.Establishment, AlertSettings: cmd.AlertSettings}}, nil
}
