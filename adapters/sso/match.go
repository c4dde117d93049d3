package sso

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Attribute names matching reads by default.
const (
	// AttrPersonJointure is the national directory's join key of a person
	// (AAF ENTPersonJointure), which staff's providers assert and the AAF
	// import keeps as the account's external id.
	AttrPersonJointure = "ENTPersonJointure"
	// AttrVector is ÉduConnect's FrEduVecteur: one value per student the
	// person is (a student) or is responsible for (a parent), each
	// "profile|last name|first name|student id|UAI".
	AttrVector = "FrEduVecteur"
)

// MatchRules say which asserted attributes name an account, per provider.
// Empty names turn a rule off.
type MatchRules struct {
	// ExternalID names the attribute whose value is an account's external
	// id (ENTPersonJointure for staff's providers).
	ExternalID string `json:"external_id,omitempty" yaml:"external_id,omitempty"`
	// Vector names the attribute that carries FrEduVecteur values
	// (ÉduConnect).
	Vector string `json:"vector,omitempty" yaml:"vector,omitempty"`
}

// Validate checks that at least one rule is on.
func (m MatchRules) Validate() error {
	if m.ExternalID == "" && m.Vector == "" {
		return errors.New("match: name external_id (ENTPersonJointure) or vector (FrEduVecteur), or both")
	}
	return nil
}

// Reasons an identity cannot sign in.
const (
	ReasonNone    = "none"    // no account matched
	ReasonSeveral = "several" // several accounts matched
	ReasonClosed  = "closed"  // the account is closed
)

// Directory is what matching reads of the directory (projections.Queries).
type Directory interface {
	Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
	AccountByIdentity(ctx context.Context, provider, subject string) (*projections.AccountEntry, error)
	AccountByExternalID(ctx context.Context, external string) (*projections.AccountEntry, error)
	StudentsByID(ctx context.Context, uai, studentID string) ([]projections.AccountEntry, error)
}

// Match is the outcome of matching an identity.
type Match struct {
	// Account is the account matched (nil when Reason is set).
	Account *projections.AccountEntry
	// Linked: the identity was already linked to Account.
	Linked bool
	// Attribute is the attribute that matched, when not Linked.
	Attribute string
	// Reason says why nothing matched (ReasonNone, ReasonSeveral,
	// ReasonClosed); empty on a match.
	Reason string
	// Name and Hint are what administrators are shown of an unmatched
	// identity: the asserted name, and what matching looked for;
	// Establishment the UAI its first vector names ("" when none).
	Name, Hint, Establishment string
}

// Vector is one FrEduVecteur value.
type Vector struct {
	// Profile: 1 or 2 a student's legal representative (first or second
	// degree), 3 or 4 a student (first or second degree).
	Profile   int
	LastName  string
	FirstName string
	StudentID string
	UAI       string
}

// Relative reports whether the vector is a legal representative's.
func (v Vector) Relative() bool { return v.Profile == 1 || v.Profile == 2 }

// ParseVector reads "profile|last name|first name|student id|UAI". The
// student id and UAI are required (a vector without them names nobody);
// fields are trimmed.
func ParseVector(s string) (Vector, error) {
	f := strings.Split(s, "|")
	if len(f) != 5 {
		return Vector{}, fmt.Errorf("vector %q: want 5 fields separated by |", s)
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	v := Vector{LastName: f[1], FirstName: f[2], StudentID: f[3], UAI: strings.ToUpper(f[4])}
	switch f[0] {
	case "1", "2", "3", "4":
		v.Profile = int(f[0][0] - '0')
	default:
		return Vector{}, fmt.Errorf("vector %q: profile %q is not 1, 2, 3 or 4", s, f[0])
	}
	if !domain.ValidStudentID(v.StudentID) || !domain.ValidUAI(v.UAI) {
		return Vector{}, fmt.Errorf("vector %q: no valid student id and UAI", s)
	}
	return v, nil
}

// NameKey normalizes a person's name for comparison: accents and case
// dropped, every run of what is not a letter or a digit (spaces, dashes,
// apostrophes) one separator, the words sorted, so that "Marie-Hélène
// DUPONT", "DUPONT Marie Helene" and "dupont  marie-hélène" are equal.
func NameKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(r))
		default:
			b.WriteRune(' ')
		}
	}
	words := strings.Fields(b.String())
	slices.Sort(words)
	return strings.Join(words, " ")
}

// Matcher matches identities to accounts.
type Matcher struct {
	dir Directory
}

// NewMatcher returns a Matcher reading dir.
func NewMatcher(dir Directory) *Matcher { return &Matcher{dir: dir} }

// Match finds the account of an identity: the one it is linked to, else
// the one the rules find, exactly one, open.
func (m *Matcher) Match(ctx context.Context, id Identity, rules MatchRules) (Match, error) {
	acc, err := m.dir.AccountByIdentity(ctx, id.Provider, id.Subject)
	switch {
	case err == nil && acc.Closed:
		return Match{Reason: ReasonClosed}, nil
	case err == nil:
		return Match{Account: acc, Linked: true}, nil
	case !errors.Is(err, domain.ErrUnknownAccount):
		return Match{}, fmt.Errorf("identity %s: %w", id.Provider, err)
	}
	found := map[uuid.UUID]*projections.AccountEntry{}
	var attr string
	var hints []string
	if rules.ExternalID != "" {
		for _, v := range id.Attributes[rules.ExternalID] {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			hints = append(hints, rules.ExternalID+" "+v)
			acc, err := m.dir.AccountByExternalID(ctx, v)
			if errors.Is(err, domain.ErrUnknownAccount) {
				continue
			}
			if err != nil {
				return Match{}, err
			}
			found[acc.ID], attr = acc, rules.ExternalID
		}
	}
	var name, uai string
	if rules.Vector != "" && len(found) == 0 {
		accs, n, h, err := m.byVectors(ctx, id.Attributes[rules.Vector])
		if err != nil {
			return Match{}, err
		}
		name, hints = n, append(hints, h...)
		for _, s := range id.Attributes[rules.Vector] {
			if v, err := ParseVector(s); err == nil {
				uai = v.UAI
				break
			}
		}
		for _, a := range accs {
			found[a.ID], attr = a, rules.Vector
		}
	}
	out := Match{Name: name, Hint: strings.Join(hints, ", "), Establishment: uai}
	switch len(found) {
	case 0:
		out.Reason = ReasonNone
	case 1:
		for _, a := range found {
			out.Account, out.Attribute = a, attr
		}
		if out.Account.Closed {
			out.Account, out.Reason = nil, ReasonClosed
		}
	default:
		out.Reason = ReasonSeveral
	}
	return out, nil
}

// byVectors returns the accounts FrEduVecteur values name, the asserted
// name and the hints. A student's vector names the student with that id in
// that establishment; a legal representative's names, among the relatives
// of that student, those of the asserted name. A representative of several
// students is the account every one of their vectors names.
func (m *Matcher) byVectors(ctx context.Context, values []string) ([]*projections.AccountEntry, string, []string, error) {
	var sets [][]*projections.AccountEntry
	var name string
	var hints []string
	for _, s := range values {
		v, err := ParseVector(s)
		if err != nil {
			hints = append(hints, "FrEduVecteur illisible")
			continue
		}
		if name == "" {
			name = strings.TrimSpace(v.FirstName + " " + v.LastName)
		}
		hints = append(hints, fmt.Sprintf("profil %d, élève %s, %s", v.Profile, v.StudentID, v.UAI))
		students, err := m.dir.StudentsByID(ctx, v.UAI, v.StudentID)
		if err != nil {
			return nil, "", nil, err
		}
		var set []*projections.AccountEntry
		for i := range students {
			st := &students[i]
			if st.Profile != domain.ProfileStudent {
				continue
			}
			if !v.Relative() {
				set = append(set, st)
				continue
			}
			want := NameKey(v.FirstName + " " + v.LastName)
			for _, rel := range st.Relatives {
				if NameKey(rel.DisplayName) != want {
					continue
				}
				acc, err := m.dir.Account(ctx, rel.Account)
				if errors.Is(err, domain.ErrUnknownAccount) {
					continue
				}
				if err != nil {
					return nil, "", nil, err
				}
				if acc.Profile == domain.ProfileRelative {
					set = append(set, acc)
				}
			}
		}
		sets = append(sets, set)
	}
	if len(sets) == 0 {
		return nil, name, hints, nil
	}
	// The accounts in every set.
	out := sets[0]
	for _, set := range sets[1:] {
		out = slices.DeleteFunc(slices.Clone(out), func(a *projections.AccountEntry) bool {
			return !slices.ContainsFunc(set, func(b *projections.AccountEntry) bool { return a.ID == b.ID })
		})
	}
	// One account may be named twice by one set (twice a relative).
	slices.SortFunc(out, func(a, b *projections.AccountEntry) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	out = slices.CompactFunc(out, func(a, b *projections.AccountEntry) bool { return a.ID == b.ID })
	return out, name, hints, nil
}
