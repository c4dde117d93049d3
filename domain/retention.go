package domain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RetentionCategory is a category of personal data kept for a time of its
// own (docs/privacy.md, "Retention").
type RetentionCategory string

// Retention categories. These names are persisted (in events and in the
// subjects' keys): never rename one.
const (
	// RetentionSchoolLife: the texts of school-life acts (absence reasons,
	// justification comments, punishments, incidents), under a key per
	// student, establishment and school year.
	RetentionSchoolLife RetentionCategory = "schoollife"
	// RetentionMessages: messages, under a key per sender, establishment
	// and school year.
	RetentionMessages RetentionCategory = "messages"
	// RetentionConnections: the sign-in sessions and tokens kept beside
	// the log (user.connected.v1 holds no personal text).
	RetentionConnections RetentionCategory = "connections"
	// RetentionDirectory: the directory entries of people who left (their
	// account closed): their person key, so their names.
	RetentionDirectory RetentionCategory = "directory"
	// RetentionImportReports: the reports of directory imports, which
	// quote the feed's names.
	RetentionImportReports RetentionCategory = "import_reports"
	// RetentionBus: the bus messages (events as read, in clear).
	RetentionBus RetentionCategory = "bus"
)

// RecordSanction is the kind of record of a sanction's key: the texts
// tagged `personal:"Student,record=Sanction"`, which its effacement
// destroys.
const RecordSanction = "sanction"

// RetentionBasis is the legal basis recorded when data expires.
const RetentionBasis = "délai de conservation échu"

// RetentionCategories lists every category, in the order they are shown.
func RetentionCategories() []RetentionCategory {
	return []RetentionCategory{RetentionSchoolLife, RetentionMessages, RetentionConnections,
		RetentionDirectory, RetentionImportReports, RetentionBus}
}

// Valid reports whether c is a category.
func (c RetentionCategory) Valid() bool { return slices.Contains(RetentionCategories(), c) }

// Periodic reports whether the data of c is kept under keys per school
// year (its personal fields carry `personal:"...,category=c"`).
func (c RetentionCategory) Periodic() bool {
	return c == RetentionSchoolLife || c == RetentionMessages
}

// LedgerWide reports whether the data of c is kept for the whole ledger,
// not per establishment (sign-in sessions, import reports, bus messages
// are not filed by establishment).
func (c RetentionCategory) LedgerWide() bool {
	return c == RetentionConnections || c == RetentionImportReports || c == RetentionBus
}

// Keep is a retention duration: a count and a unit, d (days), m (months)
// or y (years): "7d", "6m", "2y". ParseKeep validates it.
type Keep string

// Bounds of a Keep, by unit: a retention of more than ten years, or of no
// time at all, is a mistake.
var keepBounds = map[byte]int{'d': 3650, 'm': 120, 'y': 10}

// ParseKeep reads a retention duration ("2y", "18m", "30d").
func ParseKeep(s string) (Keep, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return "", Errorf(ErrInvalid, "keep: %q is not a duration such as 6m, 1y or 30d", s)
	}
	unit := s[len(s)-1]
	limit, ok := keepBounds[unit]
	if !ok {
		return "", Errorf(ErrInvalid, "keep: %q: the unit is d (days), m (months) or y (years)", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || s[0] == '+' || s[0] == '-' {
		return "", Errorf(ErrInvalid, "keep: %q is not a duration such as 6m, 1y or 30d", s)
	}
	if n < 1 || n > limit {
		return "", Errorf(ErrInvalid, "keep: %q: between 1%c and %d%c", s, unit, limit, unit)
	}
	return Keep(strconv.Itoa(n) + string(unit)), nil
}

// After returns t plus the duration (calendar months and years).
func (k Keep) After(t time.Time) time.Time {
	s := string(k)
	if len(s) < 2 {
		return t
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil {
		return t
	}
	switch s[len(s)-1] {
	case 'd':
		return t.AddDate(0, 0, n)
	case 'm':
		return t.AddDate(0, n, 0)
	case 'y':
		return t.AddDate(n, 0, 0)
	}
	return t
}

// Before returns t minus the duration: what ended before it has expired at t.
func (k Keep) Before(t time.Time) time.Time {
	s := string(k)
	if len(s) < 2 {
		return t
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil {
		return t
	}
	switch s[len(s)-1] {
	case 'd':
		return t.AddDate(0, 0, -n)
	case 'm':
		return t.AddDate(0, -n, 0)
	case 'y':
		return t.AddDate(-n, 0, 0)
	}
	return t
}

// DefaultKeep is the retention of a category an establishment has not set
// (the sources, and which figures are the project's choice, are in
// docs/privacy.md): periodic categories count from the end of their school
// year, the directory from the account's closing, the rest from their
// creation.
func DefaultKeep(c RetentionCategory) Keep {
	switch c {
	case RetentionSchoolLife, RetentionMessages, RetentionConnections:
		return "1y"
	case RetentionDirectory:
		// Arrêté du 30 novembre 2006 (ENT), art. 6: deleted within three
		// months once the person no longer has a reason to hold an account.
		return "3m"
	case RetentionImportReports:
		return "3m"
	case RetentionBus:
		// A backstop: serve's --bus-retention prunes the bus within the
		// hour.
		return "1d"
	}
	return "1y"
}

// SchoolYearPeriod names the school year starting in year: "2024-2025".
func SchoolYearPeriod(year int) string { return fmt.Sprintf("%d-%d", year, year+1) }

// PeriodOf names the school year of t, in loc.
func PeriodOf(t time.Time, loc *time.Location) string {
	return SchoolYearPeriod(SchoolYearOf(DateOf(t.In(loc))))
}

// PeriodEnd returns when the school year named p ends (1 September of its
// second year, midnight in loc).
func PeriodEnd(p string, loc *time.Location) (time.Time, error) {
	a, b, ok := strings.Cut(p, "-")
	start, err1 := strconv.Atoi(a)
	end, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || end != start+1 || start < 1900 || start > 9998 {
		return time.Time{}, fmt.Errorf("period %q is not a school year such as 2024-2025", p)
	}
	return time.Date(end, time.September, 1, 0, 0, 0, 0, loc), nil
}

// RetentionStream is the stream of an establishment's retention: its
// settings and what expired.
// Keys sealed without an establishment (the ledger's own acts) are
// the stream "retention-all"'s.
func RetentionStream(uai string) string {
	if uai == "" {
		uai = "all"
	}
	return StreamName(CategoryRetention, uai)
}

// RetentionSet records how long an establishment keeps a category of data.
type RetentionSet struct {
	Establishment string            `json:"establishment"`
	Category      RetentionCategory `json:"category"`
	Keep          Keep              `json:"keep"`
}

func (RetentionSet) EventType() string { return "privacy.retention_set.v1" }

// RetentionApplied records that a category's data of one period expired in
// an establishment: the keys that protected it are destroyed right after
// (periodic categories, directory entries), or the rows deleted (import
// reports, bus messages, sign-in sessions). Keys counts the keys or rows.
type RetentionApplied struct {
	Establishment string            `json:"establishment"`
	Category      RetentionCategory `json:"category"`
	// Period is the school year (periodic categories) or the day before
	// which what was created or closed expired ("2025-12-07").
	Period string `json:"period"`
	Keys   int    `json:"keys"`
	Basis  string `json:"basis"`
}

func (RetentionApplied) EventType() string { return "privacy.retention_applied.v1" }

// SetRetention is the command that sets how long an establishment keeps a
// category of data.
type SetRetention struct {
	Establishment string            `json:"establishment" text:"code"`
	Category      RetentionCategory `json:"category" text:"code"`
	Keep          string            `json:"keep" text:"code"`
}

// RecordRetentionApplied is the command that records an expiry (the
// ledger's own, `ledger retention apply`).
type RecordRetentionApplied struct {
	Establishment string            `json:"establishment" text:"code"`
	Category      RetentionCategory `json:"category" text:"code"`
	Period        string            `json:"period" text:"code"`
	Keys          int               `json:"keys"`
}

// Retention is the state of an establishment's retention stream.
type Retention struct {
	Keep map[RetentionCategory]Keep
}

// Apply folds an event of the retention stream.
func (r *Retention) Apply(ev Event) {
	if e, ok := ev.(RetentionSet); ok {
		if r.Keep == nil {
			r.Keep = make(map[RetentionCategory]Keep)
		}
		r.Keep[e.Category] = e.Keep
	}
}

// KeepFor returns the retention of c: the establishment's, else the default.
func (r *Retention) KeepFor(c RetentionCategory) Keep {
	if k, ok := r.Keep[c]; ok {
		return k
	}
	return DefaultKeep(c)
}

// SetRetention decides a retention setting: an administrator of the
// establishment (or the ledger) sets it, for a known category, a duration
// within bounds. An empty establishment is the ledger-wide setting: that
// of the ledger-wide categories, and of the data recorded without an
// establishment.
func (r *Retention) SetRetention(actor Actor, cmd SetRetention) ([]Event, error) {
	if cmd.Establishment != "" && !ValidUAI(cmd.Establishment) {
		return nil, Errorf(ErrInvalid, "establishment: %q is not a UAI", cmd.Establishment)
	}
	if !actor.IsAdmin(cmd.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator sets how long data is kept")
	}
	if !cmd.Category.Valid() {
		return nil, Errorf(ErrInvalid, "category: %q is not a category of data", cmd.Category)
	}
	if cmd.Category.LedgerWide() && cmd.Establishment != "" {
		return nil, Errorf(ErrInvalid, "category: %s is kept for the whole ledger, not per establishment", cmd.Category)
	}
	keep, err := ParseKeep(cmd.Keep)
	if err != nil {
		return nil, err
	}
	if r.KeepFor(cmd.Category) == keep {
		if _, set := r.Keep[cmd.Category]; set {
			return nil, nil
		}
	}
	return []Event{RetentionSet{Establishment: cmd.Establishment, Category: cmd.Category, Keep: keep}}, nil
}

// RecordRetentionApplied decides the record of an expiry: the ledger's
// alone.
func (r *Retention) RecordRetentionApplied(actor Actor, cmd RecordRetentionApplied) ([]Event, error) {
	if !actor.IsSystem() {
		return nil, Errorf(ErrForbidden, "only the ledger applies retention")
	}
	if !cmd.Category.Valid() || cmd.Period == "" || cmd.Keys < 0 {
		return nil, Errorf(ErrInvalid, "an expiry needs a category, a period and a count")
	}
	return []Event{RetentionApplied{Establishment: cmd.Establishment, Category: cmd.Category,
		Period: cmd.Period, Keys: cmd.Keys, Basis: RetentionBasis}}, nil
}
