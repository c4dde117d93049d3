package projections

// indicators.v1: the evaluators' usage indicators, the figures of the 2007
// report (accounts, user groups, connections and their profiles,
// school-life acts, messages, contributions) and homework, per
// establishment and day. Aggregates only: no document holds a name or an
// account id, only counters.
//
// Collections (key -> document):
//
//	days            "UAI|YYYY-MM-DD" -> Counts, the counters of one
//	                establishment on one day (the day, in the
//	                establishments' time zone, of the event's metadata time)
//	establishments  UAI -> IndicatorEstablishment (name and département)
//
// Each event adds one to its counters, never more, whatever its payload: a
// roll call is not an act, the absences and lateness recorded with it are,
// one each (a roll call with 3 absent and 1 late is 4 acts). An event is
// counted under the establishment of its metadata (the one the act belongs
// to), or, when that is empty, the one its payload names; an event of no
// establishment (a ledger role's account or sign-in) is not counted.
//
// Counters (names in the documents):
//
//	accounts_opened, accounts_activated     account.opened, account.activated
//	groups                                  group.created (classes and teaching groups)
//	connections                             user.connected
//	connections_student, _teacher,          user.connected by profile (guests and
//	_relative, _personnel, _other           ledger roles are "other")
//	absences, lateness, punishments,        absence.recorded, lateness.recorded,
//	sanctions, incidents                    punishment.given, sanction.pronounced,
//	                                        incident.reported
//	acts                                    the sum of the five above
//	messages                                message.sent (one per message, not per recipient)
//	contributions                           news.published
//	homework                                homework.assigned
//	service_accesses                        service.accessed (single sign-on to
//	                                        the school's other services)
//
// Corrections (an absence cancelled, a sanction annulled, an article
// withdrawn) do not subtract: the indicators measure what was recorded.
//
// In SQL (live generation N from rm_generations), March 2006 in one
// establishment (SQLite; on Postgres, (doc->>'acts')::bigint):
//
//	SELECT substr(key, instr(key, '|') + 1) AS day, json_extract(doc, '$.acts') AS acts
//	FROM rm_docs WHERE ns = 'indicators.v1@N' AND coll = 'days'
//	  AND key >= '0750001A|2006-03-01' AND key < '0750001A|2006-04-01' ORDER BY key;

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schoollife/ledger/domain"
)

// ProjectionIndicators is the persisted name of the indicators read model.
const ProjectionIndicators = "indicators.v1"

// Collections of indicators.v1.
const (
	indDays           = "days"
	indEstablishments = "establishments"
)

// Counter names of indicators.v1 documents.
const (
	cntAccountsOpened       = "accounts_opened"
	cntAccountsActivated    = "accounts_activated"
	cntGroups               = "groups"
	cntConnections          = "connections"
	cntConnectionsStudent   = "connections_student"
	cntConnectionsTeacher   = "connections_teacher"
	cntConnectionsRelative  = "connections_relative"
	cntConnectionsPersonnel = "connections_personnel"
	cntConnectionsOther     = "connections_other"
	cntActs                 = "acts"
	cntAbsences             = "absences"
	cntLateness             = "lateness"
	cntPunishments          = "punishments"
	cntSanctions            = "sanctions"
	cntIncidents            = "incidents"
	cntMessages             = "messages"
	cntContributions        = "contributions"
	cntHomework             = "homework"
	cntServiceAccesses      = "service_accesses"
)

// IndicatorEstablishment is what the indicators keep of an establishment.
type IndicatorEstablishment struct {
	UAI         string `json:"uai"`
	Name        string `json:"name"`
	Departement string `json:"departement"`
}

type indicators struct{ loc *time.Location }

// NewIndicators returns the reducer of indicators.v1; loc is the time zone
// that decides an event's day (Europe/Paris).
func NewIndicators(loc *time.Location) Reducer {
	if loc == nil {
		loc = time.UTC
	}
	return indicators{loc: loc}
}

func (indicators) Name() string { return ProjectionIndicators }

// Collections lists the collections the reducer writes.
func (indicators) Collections() []string { return []string{indDays, indEstablishments} }

func (r indicators) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	if e, ok := e.(domain.EstablishmentRegistered); ok {
		b.Put(indEstablishments, e.UAI, &IndicatorEstablishment{UAI: e.UAI, Name: e.Name, Departement: e.Departement})
		return nil
	}
	key, counters := r.counters(rec, e)
	for _, c := range counters {
		if err := b.Add(ctx, indDays, key, c, 1); err != nil {
			return err
		}
	}
	return nil
}

// Prefetch names the day document an event counts in.
func (r indicators) Prefetch(_ context.Context, _ *Batch, rec domain.Record, e domain.Event, want func(coll, key string)) {
	if key, counters := r.counters(rec, e); len(counters) > 0 {
		want(indDays, key)
	}
}

// counters returns the key of the day document an event counts in and the
// counters it adds one to (none if it counts in none).
func (r indicators) counters(rec domain.Record, e domain.Event) (string, []string) {
	uai := rec.Metadata.Establishment
	var counters []string
	switch e := e.(type) {
	case domain.AccountOpened:
		uai = cmp.Or(uai, e.Establishment)
		counters = []string{cntAccountsOpened}
	case domain.AccountActivated:
		counters = []string{cntAccountsActivated}
	case domain.GroupCreated:
		uai = cmp.Or(uai, e.Establishment)
		counters = []string{cntGroups}
	case domain.UserConnected:
		uai = cmp.Or(uai, e.Establishment)
		p := e.Profile
		if p == "" {
			p = rec.Metadata.Profile
		}
		counters = []string{cntConnections, connectionCounter(p)}
	case domain.AbsenceRecorded:
		counters = []string{cntActs, cntAbsences}
	case domain.LatenessRecorded:
		counters = []string{cntActs, cntLateness}
	case domain.PunishmentGiven:
		counters = []string{cntActs, cntPunishments}
	case domain.SanctionPronounced:
		counters = []string{cntActs, cntSanctions}
	case domain.IncidentReported:
		uai = cmp.Or(uai, e.Establishment)
		counters = []string{cntActs, cntIncidents}
	case domain.MessageSent:
		counters = []string{cntMessages}
	case domain.ArticlePublished:
		uai = cmp.Or(uai, e.Establishment)
		counters = []string{cntContributions}
	case domain.HomeworkAssigned:
		counters = []string{cntHomework}
	case domain.ServiceAccessed:
		uai = cmp.Or(uai, e.Establishment)
		counters = []string{cntServiceAccesses}
	default:
		return "", nil
	}
	if uai == "" {
		return "", nil
	}
	return uai + "|" + domain.DateOf(rec.Metadata.Time.In(r.loc)).String(), counters
}

// connectionCounter names the per-profile connection counter of p.
func connectionCounter(p domain.Profile) string {
	switch p {
	case domain.ProfileStudent:
		return cntConnectionsStudent
	case domain.ProfileTeacher:
		return cntConnectionsTeacher
	case domain.ProfileRelative:
		return cntConnectionsRelative
	case domain.ProfilePersonnel:
		return cntConnectionsPersonnel
	}
	return cntConnectionsOther
}

// IndicatorCounts are the usage counters of a period and scope.
type IndicatorCounts struct {
	AccountsOpened       int64 `json:"accounts_opened"`
	AccountsActivated    int64 `json:"accounts_activated"`
	Groups               int64 `json:"groups"`
	Connections          int64 `json:"connections"`
	ConnectionsStudent   int64 `json:"connections_student"`
	ConnectionsTeacher   int64 `json:"connections_teacher"`
	ConnectionsRelative  int64 `json:"connections_relative"`
	ConnectionsPersonnel int64 `json:"connections_personnel"`
	ConnectionsOther     int64 `json:"connections_other"`
	// Acts is the school-life acts: absences + lateness + punishments +
	// sanctions + incidents.
	Acts          int64 `json:"acts"`
	Absences      int64 `json:"absences"`
	Lateness      int64 `json:"lateness"`
	Punishments   int64 `json:"punishments"`
	Sanctions     int64 `json:"sanctions"`
	Incidents     int64 `json:"incidents"`
	Messages      int64 `json:"messages"`
	Contributions int64 `json:"contributions"`
	Homework      int64 `json:"homework"`
	// ServiceAccesses are the accesses to the school's other services
	// through the ledger's single sign-on (the report's "accès à
	// différents services").
	ServiceAccesses int64 `json:"service_accesses"`
}

// fields pairs each counter's name with its field, in display order.
func (c *IndicatorCounts) fields() []struct {
	name string
	v    *int64
} {
	return []struct {
		name string
		v    *int64
	}{
		{cntAccountsOpened, &c.AccountsOpened}, {cntAccountsActivated, &c.AccountsActivated},
		{cntGroups, &c.Groups}, {cntConnections, &c.Connections},
		{cntConnectionsStudent, &c.ConnectionsStudent}, {cntConnectionsTeacher, &c.ConnectionsTeacher},
		{cntConnectionsRelative, &c.ConnectionsRelative}, {cntConnectionsPersonnel, &c.ConnectionsPersonnel},
		{cntConnectionsOther, &c.ConnectionsOther}, {cntActs, &c.Acts},
		{cntAbsences, &c.Absences}, {cntLateness, &c.Lateness}, {cntPunishments, &c.Punishments},
		{cntSanctions, &c.Sanctions}, {cntIncidents, &c.Incidents}, {cntMessages, &c.Messages},
		{cntContributions, &c.Contributions}, {cntHomework, &c.Homework},
		{cntServiceAccesses, &c.ServiceAccesses},
	}
}

// add adds a day's counters.
func (c *IndicatorCounts) add(day Counts) {
	for _, f := range c.fields() {
		*f.v += day[f.name]
	}
}

// ConnectionShares are each profile's share of the connections, in percent
// (0 when there was none).
type ConnectionShares struct {
	Student   float64 `json:"student"`
	Teacher   float64 `json:"teacher"`
	Relative  float64 `json:"relative"`
	Personnel float64 `json:"personnel"`
	Other     float64 `json:"other"`
}

func sharesOf(c IndicatorCounts) ConnectionShares {
	if c.Connections == 0 {
		return ConnectionShares{}
	}
	pct := func(n int64) float64 { return float64(n) * 100 / float64(c.Connections) }
	return ConnectionShares{
		Student: pct(c.ConnectionsStudent), Teacher: pct(c.ConnectionsTeacher),
		Relative: pct(c.ConnectionsRelative), Personnel: pct(c.ConnectionsPersonnel),
		Other: pct(c.ConnectionsOther),
	}
}

// Granularity is the length of the periods indicators are summed over.
type Granularity string

// Granularities. A week starts on Monday; a school year runs from 1
// September to 31 August; total is the whole query as one period.
const (
	GranularityDay        Granularity = "day"
	GranularityWeek       Granularity = "week"
	GranularityMonth      Granularity = "month"
	GranularitySchoolYear Granularity = "schoolyear"
	GranularityTotal      Granularity = "total"
)

// MaxSpanYears bounds, in years, the span of an indicator query by g (0
// for an unknown granularity). The rows and the work grow with the periods
// (by day, 1900 to 2100 is 73,000 rows per scope; 0001 to 9999 took the
// server past 15 GB), so the finer the period, the shorter the span: two
// years by day still compares two school years, and fifty years covers
// any history the ledger holds.
func (g Granularity) MaxSpanYears() int {
	switch g {
	case GranularityDay:
		return 2
	case GranularityWeek:
		return 10
	case GranularityMonth, GranularitySchoolYear, GranularityTotal:
		return 50
	}
	return 0
}

// Level is what the rows of an indicator query are broken down by.
type Level string

// Levels.
const (
	LevelAll           Level = "all"
	LevelDepartement   Level = "departement"
	LevelEstablishment Level = "establishment"
)

// IndicatorQuery asks for indicators.
type IndicatorQuery struct {
	// From and To are the first and last days counted (both required).
	From domain.Date `json:"from"`
	To   domain.Date `json:"to"`
	// Establishment (a UAI) and Departement, when set, restrict the query.
	Establishment string `json:"establishment,omitempty"`
	Departement   string `json:"departement,omitempty"`
	// Establishments, when set, restricts the query to these UAIs (for
	// example the schools of one product, summed with By all).
	Establishments []string `json:"establishments,omitempty"`
	// Granularity is the period length (default total).
	Granularity Granularity `json:"granularity,omitempty"`
	// By is the breakdown of the rows. By default: per establishment when
	// Establishment is set, else per département when Departement is set,
	// else all establishments together.
	By Level `json:"by,omitempty"`
}

// Validate checks the query and fills its defaults.
func (q *IndicatorQuery) Validate() error {
	if q.From.IsZero() || q.To.IsZero() {
		return domain.Errorf(domain.ErrInvalid, "indicators: from and to dates are required")
	}
	if q.To.Before(q.From) {
		return domain.Errorf(domain.ErrInvalid, "indicators: to %s is before from %s", q.To, q.From)
	}
	if q.Establishment != "" && len(q.Establishments) > 0 {
		return domain.Errorf(domain.ErrInvalid, "indicators: one establishment or a list, not both")
	}
	if q.Granularity == "" {
		q.Granularity = GranularityTotal
	}
	years := q.Granularity.MaxSpanYears()
	if years == 0 {
		return domain.Errorf(domain.ErrInvalid, "indicators: granularity %q is none of day, week, month, schoolyear, total", q.Granularity)
	}
	if last := q.From.In(time.UTC).AddDate(years, 0, -1); q.To.After(domain.DateOf(last)) {
		return domain.Errorf(domain.ErrInvalid, "indicators: from %s to %s by %s spans more than %d years: at most to %s", q.From, q.To, q.Granularity, years, domain.DateOf(last))
	}
	switch q.By {
	case "":
		switch {
		case q.Establishment != "":
			q.By = LevelEstablishment
		case q.Departement != "":
			q.By = LevelDepartement
		default:
			q.By = LevelAll
		}
	case LevelAll, LevelDepartement, LevelEstablishment:
	default:
		return domain.Errorf(domain.ErrInvalid, "indicators: breakdown %q is none of all, departement, establishment", q.By)
	}
	return nil
}

// IndicatorRow is the indicators of one period and one scope.
type IndicatorRow struct {
	// Period is the calendar start of the period (a Monday, the 1st of a
	// month, a 1 September; the query's From for total); From and To are
	// the days of it the row counts, within the query's.
	Period domain.Date `json:"period"`
	From   domain.Date `json:"from"`
	To     domain.Date `json:"to"`
	// Level and Scope say what the row sums: "all" and "all", a
	// département and its code, or an establishment and its UAI (then with
	// its Name and Departement).
	Level       Level  `json:"level"`
	Scope       string `json:"scope"`
	Name        string `json:"name,omitempty"`
	Departement string `json:"departement,omitempty"`
	IndicatorCounts
	Shares ConnectionShares `json:"connection_shares"`
	// Suppressed names the counters hidden as small counts
	// (SuppressSmallCounts): null in JSON, "< 5" in tables.
	Suppressed []string `json:"suppressed,omitempty"`
	// SmallCount is the smallest act count the row shows, when small
	// counts were hidden (0 when they were not).
	SmallCount int `json:"small_count,omitempty"`
}

// IndicatorHeader names the columns of IndicatorRow.Values, for tables and
// CSV.
func IndicatorHeader() []string {
	h := []string{"period", "from", "to", "level", "scope", "name", "departement"}
	var c IndicatorCounts
	for _, f := range c.fields() {
		h = append(h, f.name)
	}
	return append(h, "share_student", "share_teacher", "share_relative", "share_personnel", "share_other")
}

// Values renders the row as IndicatorHeader's columns; shares in percent
// with one decimal, a hidden small count as "< 5".
func (r IndicatorRow) Values() []string {
	v := []string{r.Period.String(), r.From.String(), r.To.String(), string(r.Level), r.Scope, r.Name, r.Departement}
	for _, f := range r.IndicatorCounts.fields() {
		if r.Hidden(f.name) {
			v = append(v, SmallCountLabel(r.SmallCount))
			continue
		}
		v = append(v, strconv.FormatInt(*f.v, 10))
	}
	for _, s := range []float64{r.Shares.Student, r.Shares.Teacher, r.Shares.Relative, r.Shares.Personnel, r.Shares.Other} {
		v = append(v, strconv.FormatFloat(s, 'f', 1, 64))
	}
	return v
}

// MaxIndicatorRows bounds a page of indicator rows: a page holds every
// period of as many scopes as fit, at least one.
const MaxIndicatorRows = 10000

// Indicators sums the usage indicators over a period, per q.Granularity and
// q.By. When the rows have one scope (all establishments, or the one
// establishment or département asked for) there is a row for every period,
// zeros included; broken down by several establishments or départements,
// only the periods and scopes with activity have one. A page holds the
// rows of the scopes after the cursor after, in scope order, as many
// scopes as MaxIndicatorRows rows of every period allow (at least one);
// Next names the page after. Rows are in period order, then scope order.
func (q *Queries) Indicators(ctx context.Context, iq IndicatorQuery, after string) (List[IndicatorRow], error) {
	if err := iq.Validate(); err != nil {
		return List[IndicatorRow]{}, err
	}
	r, err := q.reader(ctx, ProjectionIndicators)
	if err != nil {
		return List[IndicatorRow]{}, err
	}
	return indicatorRows(ctx, r, iq, after)
}

// scopeCursor and scopeOfCursor turn a scope into a cursor and back: a
// département may be empty.
func scopeCursor(scope string) string { return encodeCursor("s" + scope) }

func scopeOfCursor(c string) (string, error) {
	s, err := decodeCursor(c)
	if err != nil {
		return "", err
	}
	scope, ok := strings.CutPrefix(s, "s")
	if !ok {
		return "", domain.Errorf(domain.ErrInvalid, "cursor %q is not one of indicators", c)
	}
	return scope, nil
}

// periodCount is how many periods the query spans.
func periodCount(iq IndicatorQuery) int {
	n := 0
	for p := periodStart(iq.From, iq.Granularity, iq.From); !iq.To.Before(p); p = nextPeriod(p, iq.Granularity, iq.To) {
		n++
	}
	return n
}

func indicatorRows(ctx context.Context, r DocReader, iq IndicatorQuery, after string) (List[IndicatorRow], error) {
	var afterScope string
	hasAfter := after != ""
	if hasAfter {
		var err error
		if afterScope, err = scopeOfCursor(after); err != nil {
			return List[IndicatorRow]{}, err
		}
	}
	ests := map[string]IndicatorEstablishment{}
	err := ScanJSON(ctx, r, indEstablishments, "", "", func(uai string, e IndicatorEstablishment) error {
		ests[uai] = e
		return nil
	})
	if err != nil {
		return List[IndicatorRow]{}, fmt.Errorf("indicators: %w", err)
	}
	scopeOf := func(uai string) string {
		switch iq.By {
		case LevelEstablishment:
			return uai
		case LevelDepartement:
			return ests[uai].Departement
		}
		return string(LevelAll)
	}
	page := &scopePage{perPage: max(1, MaxIndicatorRows/periodCount(iq)), sums: map[string]map[domain.Date]*IndicatorCounts{}}
	from, to := "", ""
	switch {
	case iq.Establishment != "":
		from, to = iq.Establishment+"|"+iq.From.String(), iq.Establishment+"|"+iq.To.AddDays(1).String()
	case iq.By == LevelEstablishment && hasAfter:
		// Keys are UAI|date: the scopes after the cursor are after its keys.
		from = PrefixEnd(afterScope + "|")
	}
	first, last := iq.From.String(), iq.To.String()
	err = ScanJSON(ctx, r, indDays, from, to, func(key string, day Counts) error {
		uai, date, ok := strings.Cut(key, "|")
		if !ok || date < first || date > last {
			return nil
		}
		if iq.Establishment != "" && uai != iq.Establishment {
			return nil
		}
		if iq.Departement != "" && ests[uai].Departement != iq.Departement {
			return nil
		}
		if len(iq.Establishments) > 0 && !slices.Contains(iq.Establishments, uai) {
			return nil
		}
		scope := scopeOf(uai)
		if hasAfter && scope <= afterScope {
			return nil
		}
		if !page.admit(scope) {
			if iq.By == LevelEstablishment {
				return errPageFull // keys come in scope order: none is on the page now
			}
			return nil
		}
		d, err := domain.ParseDate(date)
		if err != nil {
			return fmt.Errorf("indicators: key %q: %w", key, err)
		}
		page.counts(scope, periodStart(d, iq.Granularity, iq.From)).add(day)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return List[IndicatorRow]{}, fmt.Errorf("indicators: %w", err)
	}
	out := List[IndicatorRow]{Next: page.cut()}

	// One scope asked for: every period gets a row, so gaps show.
	var single string
	switch {
	case iq.By == LevelAll:
		single = string(LevelAll)
	case iq.By == LevelEstablishment && iq.Establishment != "":
		single = iq.Establishment
	case iq.By == LevelDepartement && iq.Departement != "":
		single = iq.Departement
	}
	if single != "" && (!hasAfter || single > afterScope) {
		for p := periodStart(iq.From, iq.Granularity, iq.From); !iq.To.Before(p); p = nextPeriod(p, iq.Granularity, iq.To) {
			page.counts(single, p)
		}
	}

	out.Items = make([]IndicatorRow, 0, len(page.sums))
	for scope, periods := range page.sums {
		for period, c := range periods {
			if err := ctx.Err(); err != nil {
				return List[IndicatorRow]{}, err
			}
			row := IndicatorRow{
				Period: period, From: period, To: nextPeriod(period, iq.Granularity, iq.To).AddDays(-1),
				Level: iq.By, Scope: scope, IndicatorCounts: *c, Shares: sharesOf(*c),
			}
			if row.From.Before(iq.From) {
				row.From = iq.From
			}
			if row.To.After(iq.To) {
				row.To = iq.To
			}
			if iq.By == LevelEstablishment {
				row.Name, row.Departement = ests[scope].Name, ests[scope].Departement
			}
			out.Items = append(out.Items, row)
		}
	}
	slices.SortFunc(out.Items, func(a, b IndicatorRow) int {
		if c := a.Period.Compare(b.Period); c != 0 {
			return c
		}
		return strings.Compare(a.Scope, b.Scope)
	})
	return out, nil
}

// scopePage sums one page of indicator scopes: the first perPage after the
// cursor, and one more that tells that more follow, whatever the number of
// scopes the scan meets.
type scopePage struct {
	perPage int
	sums    map[string]map[domain.Date]*IndicatorCounts
}

// admit makes room for scope, dropping the largest scope held when the
// page and its follower are full; it reports whether scope is held.
func (p *scopePage) admit(scope string) bool {
	if p.sums[scope] != nil {
		return true
	}
	if len(p.sums) > p.perPage {
		top := p.largest()
		if scope > top {
			return false
		}
		delete(p.sums, top)
	}
	p.sums[scope] = map[domain.Date]*IndicatorCounts{}
	return true
}

// counts returns the sums of scope over the period starting on period.
func (p *scopePage) counts(scope string, period domain.Date) *IndicatorCounts {
	if p.sums[scope] == nil {
		p.sums[scope] = map[domain.Date]*IndicatorCounts{}
	}
	c := p.sums[scope][period]
	if c == nil {
		c = &IndicatorCounts{}
		p.sums[scope][period] = c
	}
	return c
}

func (p *scopePage) largest() string {
	var top string
	first := true
	for s := range p.sums {
		if first || s > top {
			top, first = s, false
		}
	}
	return top
}

// cut drops the scope that follows the page, and returns the cursor of
// the next page (empty when none follows).
func (p *scopePage) cut() string {
	if len(p.sums) <= p.perPage {
		return ""
	}
	delete(p.sums, p.largest())
	return scopeCursor(p.largest())
}

// periodStart returns the first day of the period of g that holds d; for
// total, the query's first day.
func periodStart(d domain.Date, g Granularity, from domain.Date) domain.Date {
	switch g {
	case GranularityDay:
		return d
	case GranularityWeek:
		// Monday is day 0.
		return d.AddDays(-((int(d.Weekday()) + 6) % 7))
	case GranularityMonth:
		return domain.Date{Year: d.Year, Month: d.Month, Day: 1}
	case GranularitySchoolYear:
		y := d.Year
		if d.Month < time.September {
			y--
		}
		return domain.Date{Year: y, Month: time.September, Day: 1}
	}
	return from
}

// nextPeriod returns the first day of the period after the one starting on
// p; for total, the day after the query's last.
func nextPeriod(p domain.Date, g Granularity, to domain.Date) domain.Date {
	switch g {
	case GranularityDay:
		return p.AddDays(1)
	case GranularityWeek:
		return p.AddDays(7)
	case GranularityMonth:
		return domain.DateOf(time.Date(p.Year, p.Month+1, 1, 0, 0, 0, 0, time.UTC))
	case GranularitySchoolYear:
		return domain.Date{Year: p.Year + 1, Month: time.September, Day: 1}
	}
	return to.AddDays(1)
}
