package sso_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func TestParseVector(t *testing.T) {
	for _, c := range []struct {
		in   string
		want sso.Vector
		ok   bool
	}{
		{"2|DURAND|Claire|1234567|0131999x", sso.Vector{Profile: 2, LastName: "DURAND", FirstName: "Claire", StudentID: "1234567", UAI: "0131999X"}, true},
		{" 4 | DURAND | Léa | DEMO0001 | 0131999X ", sso.Vector{Profile: 4, LastName: "DURAND", FirstName: "Léa", StudentID: "DEMO0001", UAI: "0131999X"}, true},
		{"4|||701294|0790031E", sso.Vector{Profile: 4, StudentID: "701294", UAI: "0790031E"}, true},
		{"5|A|B|1|0131999X", sso.Vector{}, false},     // no such profile
		{"2|A|B||0131999X", sso.Vector{}, false},      // no student id
		{"2|A|B|123|013199", sso.Vector{}, false},     // not a UAI
		{"2|A|B|12 3|0131999X", sso.Vector{}, false},  // not an id
		{"2|A|B|123", sso.Vector{}, false},            // four fields
		{"2|A|B|123|0131999X|x", sso.Vector{}, false}, // six
	} {
		got, err := sso.ParseVector(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseVector(%q) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestNameKey(t *testing.T) {
	same := []string{"Marie-Hélène DUPONT", "DUPONT Marie Helene", "dupont  marie-hélène", "DUPONT, Marie-Hélène"}
	for _, s := range same {
		if got, want := sso.NameKey(s), sso.NameKey(same[0]); got != want {
			t.Errorf("NameKey(%q) = %q, want %q", s, got, want)
		}
	}
	if sso.NameKey("Marie DUPONT") == sso.NameKey("Marie DUPOND") {
		t.Error("two names have one key")
	}
	if got := sso.NameKey("Œdipe L'Hôte"); got != "HOTE L ŒDIPE" {
		t.Errorf("NameKey = %q", got)
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/feed": "/feed", "/students/x?y=1": "/students/x?y=1", "": "/",
		"https://evil.example/": "/", "//evil.example/": "/", "/\\evil.example": "/", "evil": "/",
		"/a\r\nSet-Cookie: x": "/", "/a\\b": "/",
	} {
		if got := sso.LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// directory is the directory's answers the matcher reads, for its rules
// alone (the directory's read model is tested with the projections; the
// whole path by cmd/ledger's TestSAML tests).
type directory struct {
	accounts   map[uuid.UUID]*projections.AccountEntry
	identities map[string]uuid.UUID
}

func (d *directory) Account(_ context.Context, id uuid.UUID) (*projections.AccountEntry, error) {
	if a, ok := d.accounts[id]; ok {
		return a, nil
	}
	return nil, domain.Errorf(domain.ErrUnknownAccount, "%s", id)
}

func (d *directory) AccountByIdentity(ctx context.Context, provider, subject string) (*projections.AccountEntry, error) {
	id, ok := d.identities[provider+"|"+subject]
	if !ok {
		return nil, domain.Errorf(domain.ErrUnknownAccount, "%s", subject)
	}
	return d.Account(ctx, id)
}

func (d *directory) AccountByExternalID(_ context.Context, external string) (*projections.AccountEntry, error) {
	for _, a := range d.accounts {
		if a.ExternalID == external {
			return a, nil
		}
	}
	return nil, domain.Errorf(domain.ErrUnknownAccount, "%s", external)
}

func (d *directory) StudentsByID(_ context.Context, uai, studentID string) ([]projections.AccountEntry, error) {
	var out []projections.AccountEntry
	for _, a := range d.accounts {
		if a.Establishment == uai && a.StudentID == studentID {
			out = append(out, *a)
		}
	}
	return out, nil
}

// TestMatch: the rules of matching on a small directory.
func TestMatch(t *testing.T) {
	const uai = "0131999X"
	id := func(s string) uuid.UUID { return domain.DeterministicID("match-test", s) }
	acc := func(name string, p domain.Profile, f func(*projections.AccountEntry)) *projections.AccountEntry {
		a := &projections.AccountEntry{ID: id(name), DisplayName: name, Profile: p, Establishment: uai}
		if f != nil {
			f(a)
		}
		return a
	}
	claire := acc("Claire Durand", domain.ProfileRelative, nil)
	paul := acc("Paul Durand", domain.ProfileRelative, nil)
	lea := acc("Léa Durand", domain.ProfileStudent, func(a *projections.AccountEntry) {
		a.StudentID = "111"
		a.Relatives = []projections.AccountLink{{Account: id("Claire Durand"), DisplayName: "Claire Durand"}, {Account: id("Paul Durand"), DisplayName: "Paul Durand"}}
	})
	tom := acc("Tom Durand", domain.ProfileStudent, func(a *projections.AccountEntry) {
		a.StudentID = "222"
		a.Relatives = []projections.AccountLink{{Account: id("Claire Durand"), DisplayName: "Claire Durand"}}
	})
	twin1 := acc("Jumeau Un", domain.ProfileStudent, func(a *projections.AccountEntry) { a.StudentID = "333" })
	twin2 := acc("Jumeau Deux", domain.ProfileStudent, func(a *projections.AccountEntry) { a.StudentID = "333" })
	martin := acc("M. Martin", domain.ProfileTeacher, func(a *projections.AccountEntry) { a.ExternalID = "AC-X$1" })
	gone := acc("M. Parti", domain.ProfileTeacher, func(a *projections.AccountEntry) { a.ExternalID = "AC-X$2"; a.Closed = true })
	dir := &directory{accounts: map[uuid.UUID]*projections.AccountEntry{}, identities: map[string]uuid.UUID{
		"educonnect|known": lea.ID, "educonnect|closed": gone.ID,
	}}
	for _, a := range []*projections.AccountEntry{claire, paul, lea, tom, twin1, twin2, martin, gone} {
		dir.accounts[a.ID] = a
	}
	rules := sso.MatchRules{ExternalID: sso.AttrPersonJointure, Vector: sso.AttrVector}
	vec := func(v ...string) map[string][]string { return map[string][]string{sso.AttrVector: v} }
	for _, c := range []struct {
		name    string
		subject string
		attrs   map[string][]string
		want    *projections.AccountEntry
		linked  bool
		reason  string
	}{
		{"already linked", "known", nil, lea, true, ""},
		{"linked to a closed account", "closed", nil, nil, false, sso.ReasonClosed},
		{"staff by ENTPersonJointure", "s1", map[string][]string{sso.AttrPersonJointure: {" AC-X$1 "}}, martin, false, ""},
		{"closed staff", "s2", map[string][]string{sso.AttrPersonJointure: {"AC-X$2"}}, nil, false, sso.ReasonClosed},
		{"a student", "s3", vec("4|DURAND|Léa|111|" + uai), lea, false, ""},
		{"a parent, by her name among the child's relatives", "s4", vec("2|DURAND|Claire|111|" + uai), claire, false, ""},
		{"her name written otherwise", "s5", vec("2|durand|CLAIRE|111|" + uai), claire, false, ""},
		{"a parent of two, named by both", "s6", vec("2|DURAND|Claire|111|"+uai, "2|DURAND|Claire|222|"+uai), claire, false, ""},
		{"a parent whose second child does not name him", "s7", vec("2|DURAND|Paul|111|"+uai, "2|DURAND|Paul|222|"+uai), nil, false, sso.ReasonNone},
		{"a stranger", "s8", vec("2|MARTIN|Agnès|111|" + uai), nil, false, sso.ReasonNone},
		{"another establishment", "s9", vec("4|DURAND|Léa|111|0130001A"), nil, false, sso.ReasonNone},
		{"one id, two students", "s10", vec("4|X|Y|333|" + uai), nil, false, sso.ReasonSeveral},
		{"nothing asserted", "s11", nil, nil, false, sso.ReasonNone},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := sso.NewMatcher(dir).Match(context.Background(), sso.Identity{Provider: "educonnect", Subject: c.subject, Attributes: c.attrs}, rules)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil && m.Account != nil || c.want != nil && (m.Account == nil || m.Account.ID != c.want.ID) {
				t.Fatalf("account %+v, want %v", m.Account, c.want)
			}
			if m.Linked != c.linked || m.Reason != c.reason {
				t.Fatalf("linked %v reason %q, want %v %q", m.Linked, m.Reason, c.linked, c.reason)
			}
			if m.Account != nil && !m.Linked && m.Attribute == "" {
				t.Fatal("a match names no attribute")
			}
		})
	}
	// Without rules, only linked identities sign in.
	m, err := sso.NewMatcher(dir).Match(context.Background(), sso.Identity{Provider: "educonnect", Subject: "s", Attributes: vec("4|DURAND|Léa|111|" + uai)}, sso.MatchRules{})
	if err != nil || m.Reason != sso.ReasonNone {
		t.Fatalf("no rules: %+v %v", m, err)
	}
}
