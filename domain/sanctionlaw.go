package domain

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// The sanctions of the Code de l'éducation (version in force since
// 1 September 2019, décret n° 2019-906):
//
//   - art. R. 511-13, I: the scale, from the avertissement to the
//     exclusion définitive; temporary exclusions last at most eight days;
//     the mesure de responsabilisation at most twenty hours (II);
//     sanctions 3° to 6° may be suspended (sursis, total or partial);
//   - art. R. 511-13, IV: when each sanction is effaced from the student's
//     administrative file;
//   - art. R. 511-13-1: the sursis, the period in which it may be revoked
//     and who revokes it;
//   - art. R. 421-10 and R. 511-14: the head pronounces alone the
//     sanctions 1° to 5°; the disciplinary council (R. 511-20) pronounces
//     any of them and alone the exclusion définitive.
//
// docs/discipline.md gives the rules with their sources.

// Sanction kinds as the law numbers them (R. 511-13, I).
const (
	// SanctionClassExclusion is the exclusion temporaire de la classe (4°):
	// the student stays in the establishment.
	SanctionClassExclusion SanctionKind = "exclusion_temporaire_classe"
	// sanctionLegacyExclusion is how temporary exclusions were stored
	// before the scale distinguished the class from the establishment: the
	// former scale's only temporary exclusion was from the establishment
	// (or a service annexe), which is what it reads as.
	// (An untyped constant: it is no kind of the scale.)
	sanctionLegacyExclusion = "exclusion_temporaire"
)

// SanctionKinds lists the sanctions of the scale, lightest first.
func SanctionKinds() []SanctionKind {
	return []SanctionKind{SanctionWarning, SanctionReprimand, SanctionResponsibility,
		SanctionClassExclusion, SanctionTemporaryExclusion, SanctionPermanentExclusion}
}

// UnmarshalText reads a sanction kind, the former scale's temporary
// exclusion as an exclusion from the establishment.
func (k *SanctionKind) UnmarshalText(b []byte) error {
	*k = SanctionKind(b)
	if *k == SanctionKind(sanctionLegacyExclusion) {
		*k = SanctionTemporaryExclusion
	}
	return nil
}

// Rank is the kind's place in the scale (1 for the avertissement, 6 for
// the exclusion définitive), 0 for an unknown kind.
func (k SanctionKind) Rank() int {
	for i, s := range SanctionKinds() {
		if s == k {
			return i + 1
		}
	}
	return 0
}

// HasDays reports whether the sanction lasts a number of days: the
// temporary exclusions.
func (k SanctionKind) HasDays() bool {
	return k == SanctionClassExclusion || k == SanctionTemporaryExclusion
}

// MaySuspend reports whether the sanction may be pronounced with a sursis
// (R. 511-13, I: the sanctions 3° to 6°).
func (k SanctionKind) MaySuspend() bool { return k.Rank() >= 3 }

// HeadMayPronounce reports whether the head may pronounce the sanction
// alone (R. 421-10: 1° to 5°); the others need the disciplinary council.
func (k SanctionKind) HeadMayPronounce() bool {
	return k.Valid() && k != SanctionPermanentExclusion
}

// MaxResponsibilityHours bounds a mesure de responsabilisation
// (R. 511-13, II).
const MaxResponsibilityHours = 20

// SanctionAuthority is who pronounced a sanction.
type SanctionAuthority string

// Disciplinary authorities.
const (
	AuthorityHead    SanctionAuthority = "chef_etablissement"
	AuthorityCouncil SanctionAuthority = "conseil_de_discipline"
)

// Valid reports whether a is a known authority.
func (a SanctionAuthority) Valid() bool { return a == AuthorityHead || a == AuthorityCouncil }

// CouncilSession is the sitting of the disciplinary council that
// pronounced a sanction: the head, who chairs it, records its decision.
type CouncilSession struct {
	// Date is the day the council sat.
	Date Date `json:"date" date:"act"`
	// Present is how many of its members sat.
	Present int `json:"present"`
	// Decision is the council's decision as its minutes state it (the vote).
	Decision string `json:"decision" text:"text"`
}

// Sursis suspends the execution of a sanction (R. 511-13-1).
type Sursis struct {
	// Days is how many days of a temporary exclusion are suspended: all of
	// them (a total sursis) or fewer (a partial one). Zero for the other
	// kinds, whose sursis is total.
	Days int `json:"days,omitempty"`
	// Until is the last day on which the sursis may be revoked.
	Until Date `json:"until" date:"plan"`
}

// EndOfSchoolYear is the last day of the school year y (the one starting
// in September of y), as the ledger counts school years (1 September to
// 31 August).
func EndOfSchoolYear(y int) Date { return Date{y + 1, time.August, 31} }

// addYear returns d one year later (29 February gives 1 March).
func (d Date) addYear() Date { return DateOf(d.In(time.UTC).AddDate(1, 0, 0)) }

// EffacementRule is when sanctions of some kinds leave the student's
// administrative file, and the text that says so.
type EffacementRule struct {
	Kinds []SanctionKind `json:"kinds"`
	// Rule says when, in French (the text's words).
	Rule string `json:"rule"`
	// Source is the article that sets the rule.
	Source string `json:"source"`
}

// EffacementRules is the table of R. 511-13, IV, and the effacements every
// sanction shares.
func EffacementRules() []EffacementRule {
	return []EffacementRule{
		{Kinds: []SanctionKind{SanctionWarning, SanctionReprimand, SanctionResponsibility},
			Rule: "effacés du dossier administratif de l'élève à l'issue de l'année scolaire", Source: "Code de l'éducation, art. R. 511-13, IV"},
		{Kinds: []SanctionKind{SanctionClassExclusion, SanctionTemporaryExclusion},
			Rule: "effacées du dossier administratif de l'élève au bout d'un an à compter de la date à laquelle elles ont été prononcées", Source: "Code de l'éducation, art. R. 511-13, IV"},
		{Kinds: SanctionKinds(),
			Rule: "toutes les sanctions sont effacées au terme de la scolarité dans le second degré", Source: "Code de l'éducation, art. R. 511-13, IV"},
		{Kinds: SanctionKinds(),
			Rule: "l'élève qui change d'établissement peut demander au chef d'établissement l'effacement des sanctions inscrites à son dossier", Source: "Code de l'éducation, art. R. 511-13, IV"},
	}
}

// EffacementDate returns the day a sanction of kind pronounced on date
// leaves the file by the passing of time (it is no longer shown from that
// day on), and false for a kind that stays until the end of secondary
// schooling or an effacement on request (the exclusion définitive).
func EffacementDate(kind SanctionKind, date Date) (Date, bool) {
	switch kind {
	case SanctionWarning, SanctionReprimand, SanctionResponsibility:
		return EndOfSchoolYear(SchoolYearOf(date)).next(), true
	case SanctionClassExclusion, SanctionTemporaryExclusion:
		return date.addYear(), true
	}
	return Date{}, false
}

// next returns the day after d.
func (d Date) next() Date { return DateOf(d.In(time.UTC).AddDate(0, 0, 1)) }

// sursisBounds returns the first and last days a sursis of a sanction of
// kind pronounced on date may run until (R. 511-13-1, I): at least the end
// of the current school year, at most the sanction's stay on the file, or,
// for an exclusion définitive, the end of the second school year after.
func sursisBounds(kind SanctionKind, date Date) (lo, hi Date) {
	lo = EndOfSchoolYear(SchoolYearOf(date))
	if kind == SanctionPermanentExclusion {
		return lo, EndOfSchoolYear(SchoolYearOf(date) + 2)
	}
	eff, _ := EffacementDate(kind, date)
	hi = DateOf(eff.In(time.UTC).AddDate(0, 0, -1))
	if hi.Before(lo) {
		hi = lo
	}
	return lo, hi
}

// EffacementBasis is why a sanction was effaced before its date.
type EffacementBasis string

// Effacements on a decision (R. 511-13, IV).
const (
	// EffacementChangeOfEstablishment: the student changing establishment
	// asked for it.
	EffacementChangeOfEstablishment EffacementBasis = "changement_etablissement"
	// EffacementEndOfSchooling: the student's secondary schooling ended.
	EffacementEndOfSchooling EffacementBasis = "fin_scolarite_second_degre"
	// EffacementDue: the sanction's date came (EffacementDate); the ledger
	// records it on its own, on the day.
	EffacementDue EffacementBasis = "echeance"
)

// Valid reports whether b is a known basis.
func (b EffacementBasis) Valid() bool {
	return b == EffacementChangeOfEstablishment || b == EffacementEndOfSchooling || b == EffacementDue
}

// checkSanctionTerms checks what the law says of a sanction's terms: who
// may pronounce it, its length, its annex and its sursis.
func checkSanctionTerms(cmd PronounceSanction) error {
	if cmd.Kind.HasDays() {
		if cmd.Days < 1 || cmd.Days > MaxExclusionDays {
			return Errorf(ErrSanctionDays, "%d days", cmd.Days)
		}
	} else if cmd.Days != 0 {
		return Errorf(ErrSanctionDays, "%d days for a %s", cmd.Days, cmd.Kind)
	}
	if cmd.Kind == SanctionResponsibility {
		if cmd.Hours < 0 || cmd.Hours > MaxResponsibilityHours {
			return Errorf(ErrSanctionHours, "%d hours", cmd.Hours)
		}
	} else if cmd.Hours != 0 {
		return Errorf(ErrSanctionHours, "%d hours for a %s", cmd.Hours, cmd.Kind)
	}
	if strings.TrimSpace(cmd.Annex) != "" && cmd.Kind != SanctionTemporaryExclusion && cmd.Kind != SanctionPermanentExclusion {
		return Errorf(ErrInvalid, "only an exclusion from the establishment may be limited to a service annexe")
	}
	switch cmd.Authority {
	case "", AuthorityHead:
		if !cmd.Kind.HeadMayPronounce() {
			return Errorf(ErrCouncilRequired, "%s", cmd.Kind)
		}
		if cmd.Council != nil {
			return Errorf(ErrCouncilSession, "a sanction the head pronounces alone has no council sitting")
		}
	case AuthorityCouncil:
		if err := checkCouncil(cmd.Council, cmd.Date); err != nil {
			return err
		}
	default:
		return Errorf(ErrInvalid, "authority %q is not %s or %s", cmd.Authority, AuthorityHead, AuthorityCouncil)
	}
	if s := cmd.Sursis; s != nil {
		if !cmd.Kind.MaySuspend() {
			return Errorf(ErrSursis, "a %s may not be suspended", cmd.Kind)
		}
		if cmd.Kind.HasDays() {
			if s.Days < 1 || s.Days > cmd.Days {
				return Errorf(ErrSursis, "%d suspended days of %d", s.Days, cmd.Days)
			}
		} else if s.Days != 0 {
			return Errorf(ErrSursis, "the sursis of a %s is total: it has no days", cmd.Kind)
		}
		lo, hi := sursisBounds(cmd.Kind, cmd.Date)
		if s.Until.Before(lo) || s.Until.After(hi) {
			return Errorf(ErrSursis, "revocable until %s: between %s and %s", s.Until, lo, hi)
		}
	}
	return nil
}

// checkCouncil checks the sitting of a council that decided on day.
func checkCouncil(c *CouncilSession, day Date) error {
	switch {
	case c == nil:
		return Errorf(ErrCouncilSession, "the council's sitting is missing")
	case c.Date.IsZero() || c.Date.After(day):
		return Errorf(ErrCouncilSession, "the council sat on %s, the decision is of %s", c.Date, day)
	case c.Present < 1:
		return Errorf(ErrCouncilSession, "%d members present", c.Present)
	case strings.TrimSpace(c.Decision) == "":
		return Errorf(ErrCouncilSession, "the decision is missing")
	}
	return nil
}

// RevokeSursis is the command that revokes the sursis of a sanction after
// a new breach within its period (R. 511-13-1, II): the head, or the
// disciplinary council (alone competent for an exclusion définitive).
type RevokeSursis struct {
	Student   uuid.UUID         `json:"student"`
	Sanction  uuid.UUID         `json:"sanction"`
	Date      Date              `json:"date" date:"act"`
	Authority SanctionAuthority `json:"authority,omitempty"`
	Council   *CouncilSession   `json:"council,omitempty"`
	Reason    string            `json:"reason" text:"text"`
}

// RevokeSursis decides a revocation. student is the student's account
// state.
func (d *Discipline) RevokeSursis(actor Actor, student *Account, cmd RevokeSursis) ([]Event, error) {
	if err := mayDecideOnFile(actor, student, cmd.Student); err != nil {
		return nil, err
	}
	if cmd.Date.IsZero() {
		return nil, Errorf(ErrInvalid, "the date is required")
	}
	if strings.TrimSpace(cmd.Reason) == "" {
		return nil, Errorf(ErrInvalid, "a revocation needs a reason")
	}
	s := d.Sanctions[cmd.Sanction]
	switch {
	case s == nil:
		return nil, Errorf(ErrSanctionNotFound, "sanction %s, student %s", cmd.Sanction, cmd.Student)
	case s.Annulled:
		return nil, Errorf(ErrSanctionAnnulled, "%s", cmd.Sanction)
	case s.effacedBy(cmd.Date):
		return nil, Errorf(ErrSanctionEffaced, "%s", cmd.Sanction)
	case s.Sursis == nil || s.Revoked:
		return nil, Errorf(ErrNoSursis, "%s", cmd.Sanction)
	case cmd.Date.Before(s.Date) || cmd.Date.After(s.Sursis.Until):
		return nil, Errorf(ErrNoSursis, "the sursis could be revoked from %s until %s", s.Date, s.Sursis.Until)
	}
	authority := cmd.Authority
	switch authority {
	case "", AuthorityHead:
		authority = AuthorityHead
		if s.Kind == SanctionPermanentExclusion {
			return nil, Errorf(ErrCouncilRequired, "revoking the sursis of an %s", s.Kind)
		}
		if cmd.Council != nil {
			return nil, Errorf(ErrCouncilSession, "a revocation by the head has no council sitting")
		}
	case AuthorityCouncil:
		if err := checkCouncil(cmd.Council, cmd.Date); err != nil {
			return nil, err
		}
	default:
		return nil, Errorf(ErrInvalid, "authority %q is not %s or %s", cmd.Authority, AuthorityHead, AuthorityCouncil)
	}
	return []Event{SursisRevoked{Sanction: cmd.Sanction, Student: cmd.Student, Date: cmd.Date,
		Authority: authority, Council: cmd.Council, Reason: cmd.Reason}}, nil
}

// EffaceSanction is the command by which the head effaces a sanction from
// the student's administrative file before its date: at the request of a
// student changing establishment, or at the end of secondary schooling
// (R. 511-13, IV).
type EffaceSanction struct {
	Student  uuid.UUID       `json:"student"`
	Sanction uuid.UUID       `json:"sanction"`
	Date     Date            `json:"date" date:"act"`
	Basis    EffacementBasis `json:"basis"`
}

// EffaceSanction decides an effacement. student is the student's account
// state: a student who has left may still see a sanction effaced.
func (d *Discipline) EffaceSanction(actor Actor, student *Account, cmd EffaceSanction) ([]Event, error) {
	if err := mayDecideOnFile(actor, student, cmd.Student); err != nil {
		return nil, err
	}
	if !cmd.Basis.Valid() {
		return nil, Errorf(ErrInvalid, "basis %q is not %s or %s", cmd.Basis, EffacementChangeOfEstablishment, EffacementEndOfSchooling)
	}
	if cmd.Date.IsZero() {
		return nil, Errorf(ErrInvalid, "the date is required")
	}
	s := d.Sanctions[cmd.Sanction]
	switch {
	case s == nil:
		return nil, Errorf(ErrSanctionNotFound, "sanction %s, student %s", cmd.Sanction, cmd.Student)
	case cmd.Basis == EffacementDue:
		// The ledger records what the passing of time did: once, on or
		// after the day.
		switch {
		case !actor.IsSystem():
			return nil, Errorf(ErrForbidden, "the ledger records effacements that fall due")
		case s.Effaced:
			return nil, Errorf(ErrSanctionEffaced, "%s", cmd.Sanction)
		case s.EffacedOn.IsZero() || cmd.Date.Before(s.EffacedOn):
			return nil, Errorf(ErrInvalid, "the sanction %s is not due for effacement on %s", cmd.Sanction, cmd.Date)
		}
		return []Event{SanctionEffaced{Sanction: cmd.Sanction, Student: cmd.Student, Date: cmd.Date, Basis: cmd.Basis}}, nil
	case s.effacedBy(cmd.Date):
		return nil, Errorf(ErrSanctionEffaced, "%s", cmd.Sanction)
	case cmd.Date.Before(s.Date):
		return nil, Errorf(ErrInvalid, "the effacement (%s) is before the sanction (%s)", cmd.Date, s.Date)
	}
	return []Event{SanctionEffaced{Sanction: cmd.Sanction, Student: cmd.Student, Date: cmd.Date, Basis: cmd.Basis}}, nil
}
