package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Incident errors.
var (
	ErrIncidentExists  = newError(CodeConflict, "incident-exists", "incident already reported")
	ErrUnknownIncident = newError(CodeNotFound, "unknown-incident", "unknown incident")
)

// Incident is the state of an incident's stream.
type Incident struct {
	ID            uuid.UUID
	Exists        bool
	Establishment string
	OccurredAt    time.Time
	Seriousness   Seriousness
	Protagonists  []Protagonist
}

// Apply folds an event.
func (i *Incident) Apply(e Event) {
	if r, ok := e.(IncidentReported); ok {
		*i = Incident{
			ID: r.Incident, Exists: true, Establishment: r.Establishment,
			OccurredAt: r.OccurredAt, Seriousness: r.Seriousness, Protagonists: slices.Clone(r.Protagonists),
		}
	}
}

// Involves reports whether account is a protagonist of the incident.
func (i *Incident) Involves(account uuid.UUID) bool {
	return slices.ContainsFunc(i.Protagonists, func(p Protagonist) bool { return p.Account == account })
}

// ReportIncident is the command that reports an incident in an
// establishment. An unset Incident gets a new id.
type ReportIncident struct {
	Incident      uuid.UUID     `json:"incident,omitempty"`
	Establishment string        `json:"establishment" text:"code"`
	OccurredAt    time.Time     `json:"occurred_at" date:"act"`
	Place         string        `json:"place" text:"name"`
	Seriousness   Seriousness   `json:"seriousness"`
	Description   string        `json:"description" text:"text"`
	Protagonists  []Protagonist `json:"protagonists"`
}

// Valid reports whether s is a known seriousness.
func (s Seriousness) Valid() bool {
	switch s {
	case SeriousnessMinor, SeriousnessSerious, SeriousnessGrave:
		return true
	}
	return false
}

// Valid reports whether r is a known protagonist role.
func (r ProtagonistRole) Valid() bool {
	switch r {
	case ProtagonistAuthor, ProtagonistVictim, ProtagonistWitness:
		return true
	}
	return false
}

// Report decides the report of an incident. est is the establishment's
// state; accounts holds the state of each protagonist's account (a missing
// or zero entry is an unknown account).
func (i *Incident) Report(actor Actor, est *Establishment, accounts map[uuid.UUID]*Account, cmd ReportIncident) ([]Event, error) {
	// Its personnel and its teachers report: teachers witness most incidents,
	// not only in the groups they teach.
	if actor.Profile != ProfilePersonnel && actor.Profile != ProfileTeacher && !actor.IsSystem() {
		return nil, Errorf(ErrNoSchoolLifeActs, "profile %s", actor.Profile)
	}
	if est == nil || !est.Exists {
		return nil, Errorf(ErrUnknownEstablishment, "%q", cmd.Establishment)
	}
	if !actor.IsSystem() && actor.Establishment != cmd.Establishment {
		return nil, Errorf(ErrWrongEstablishment, "the actor belongs to %q, not %s", actor.Establishment, cmd.Establishment)
	}
	if cmd.Incident == uuid.Nil {
		return nil, Errorf(ErrInvalid, "incident id is required")
	}
	if cmd.OccurredAt.IsZero() {
		return nil, Errorf(ErrInvalid, "the time of the incident is required")
	}
	if strings.TrimSpace(cmd.Place) == "" {
		return nil, Errorf(ErrInvalid, "the place of the incident is required")
	}
	if !cmd.Seriousness.Valid() {
		return nil, Errorf(ErrInvalid, "seriousness %q is not minor, serious or grave", cmd.Seriousness)
	}
	if len(cmd.Protagonists) == 0 {
		return nil, Errorf(ErrInvalid, "an incident has at least one protagonist")
	}
	seen := make(map[uuid.UUID]bool, len(cmd.Protagonists))
	for _, p := range cmd.Protagonists {
		if !p.Role.Valid() {
			return nil, Errorf(ErrInvalid, "role %q of %s is not author, victim or witness", p.Role, p.Account)
		}
		if seen[p.Account] {
			return nil, Errorf(ErrInvalid, "protagonist %s is listed twice", p.Account)
		}
		seen[p.Account] = true
		acc := accounts[p.Account]
		if acc == nil {
			acc = &Account{}
		}
		if err := acc.mustBeOpen(p.Account); err != nil {
			return nil, err
		}
		if acc.Establishment != cmd.Establishment {
			return nil, Errorf(ErrWrongEstablishment, "protagonist %s belongs to %q, not %s", p.Account, acc.Establishment, cmd.Establishment)
		}
	}
	if i.Exists {
		return nil, Errorf(ErrIncidentExists, "%s", cmd.Incident)
	}
	return []Event{IncidentReported{
		Incident: cmd.Incident, Establishment: cmd.Establishment,
		// UTC, so that the time reads back equal whatever zone it came in.
		OccurredAt: cmd.OccurredAt.UTC(), Place: cmd.Place, Seriousness: cmd.Seriousness,
		Description: cmd.Description, Protagonists: slices.Clone(cmd.Protagonists),
	}}, nil
}
