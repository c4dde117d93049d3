package domain_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

func sitting(d domain.Date) *domain.CouncilSession {
	return &domain.CouncilSession{Date: d, Present: 14, Decision: "adoptée par 10 voix contre 4"}
}

// TestSanctionScale: the six sanctions of R. 511-13, I, lightest first;
// the head pronounces 1° to 5° alone; only the council the exclusion
// définitive, and the council may pronounce any of them.
func TestSanctionScale(t *testing.T) {
	want := []domain.SanctionKind{"avertissement", "blame", "mesure_de_responsabilisation",
		"exclusion_temporaire_classe", "exclusion_temporaire_etablissement", "exclusion_definitive"}
	got := domain.SanctionKinds()
	if len(got) != len(want) {
		t.Fatalf("scale %v, want %v", got, want)
	}
	s := uuid.New()
	for i, k := range want {
		if got[i] != k || k.Rank() != i+1 || !k.Valid() {
			t.Fatalf("scale[%d] = %s (rank %d), want %s", i, got[i], got[i].Rank(), k)
		}
		days := 0
		if k.HasDays() {
			days = 2
		}
		head := domain.PronounceSanction{Sanction: uuid.New(), Student: s, Kind: k, Date: disciplineDay, Days: days, Reason: "motif"}
		_, err := disciplineFile().PronounceSanction(disciplineHead(), disciplineStudent(s), &domain.Incident{}, head)
		if k == domain.SanctionPermanentExclusion {
			if !errors.Is(err, domain.ErrCouncilRequired) {
				t.Errorf("head alone pronounces %s: %v, want %v", k, err, domain.ErrCouncilRequired)
			}
		} else if err != nil {
			t.Errorf("head alone pronounces %s: %v", k, err)
		}
		council := head
		council.Sanction, council.Authority, council.Council = uuid.New(), domain.AuthorityCouncil, sitting(disciplineDay)
		events, err := disciplineFile().PronounceSanction(disciplineHead(), disciplineStudent(s), &domain.Incident{}, council)
		if err != nil {
			t.Errorf("council pronounces %s: %v", k, err)
			continue
		}
		if e := events[0].(domain.SanctionPronounced); e.Authority != domain.AuthorityCouncil || e.Council == nil || e.Council.Present != 14 {
			t.Errorf("council's %s recorded as %+v", k, e)
		}
	}
	if domain.SanctionKind("exclusion_temporaire").Valid() {
		t.Error("the former scale's kind is valid as a command's kind")
	}
}

// TestSanctionTerms: the council's sitting, the hours of a mesure de
// responsabilisation, the service annexe, the authority.
func TestSanctionTerms(t *testing.T) {
	s := uuid.New()
	base := func(k domain.SanctionKind) domain.PronounceSanction {
		c := domain.PronounceSanction{Sanction: uuid.New(), Student: s, Kind: k, Date: disciplineDay, Reason: "motif"}
		if k.HasDays() {
			c.Days = 3
		}
		return c
	}
	with := func(k domain.SanctionKind, f func(*domain.PronounceSanction)) domain.PronounceSanction {
		c := base(k)
		f(&c)
		return c
	}
	cases := []struct {
		name string
		cmd  domain.PronounceSanction
		want error
	}{
		{"council without a sitting", with(domain.SanctionPermanentExclusion, func(c *domain.PronounceSanction) { c.Authority = domain.AuthorityCouncil }), domain.ErrCouncilSession},
		{"council sitting after the decision", with(domain.SanctionPermanentExclusion, func(c *domain.PronounceSanction) {
			c.Authority, c.Council = domain.AuthorityCouncil, sitting(domain.MustDate("2006-03-15"))
		}), domain.ErrCouncilSession},
		{"council with nobody present", with(domain.SanctionPermanentExclusion, func(c *domain.PronounceSanction) {
			c.Authority, c.Council = domain.AuthorityCouncil, &domain.CouncilSession{Date: disciplineDay, Decision: "x"}
		}), domain.ErrCouncilSession},
		{"council without a decision", with(domain.SanctionPermanentExclusion, func(c *domain.PronounceSanction) {
			c.Authority, c.Council = domain.AuthorityCouncil, &domain.CouncilSession{Date: disciplineDay, Present: 3, Decision: "  "}
		}), domain.ErrCouncilSession},
		{"head with a sitting", with(domain.SanctionWarning, func(c *domain.PronounceSanction) { c.Council = sitting(disciplineDay) }), domain.ErrCouncilSession},
		{"unknown authority", with(domain.SanctionWarning, func(c *domain.PronounceSanction) { c.Authority = "recteur" }), domain.ErrInvalid},
		{"20 hours of responsabilisation", with(domain.SanctionResponsibility, func(c *domain.PronounceSanction) { c.Hours = 20 }), nil},
		{"21 hours of responsabilisation", with(domain.SanctionResponsibility, func(c *domain.PronounceSanction) { c.Hours = 21 }), domain.ErrSanctionHours},
		{"hours on a blâme", with(domain.SanctionReprimand, func(c *domain.PronounceSanction) { c.Hours = 2 }), domain.ErrSanctionHours},
		{"exclusion from the boarding", with(domain.SanctionTemporaryExclusion, func(c *domain.PronounceSanction) { c.Annex = "internat" }), nil},
		{"annex on a class exclusion", with(domain.SanctionClassExclusion, func(c *domain.PronounceSanction) { c.Annex = "internat" }), domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, err := disciplineFile().PronounceSanction(disciplineHead(), disciplineStudent(s), &domain.Incident{}, tc.cmd)
			if tc.want == nil {
				if err != nil || len(events) != 1 {
					t.Fatalf("got %v, %v", events, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || events != nil {
				t.Fatalf("got %v, %v; want %v", events, err, tc.want)
			}
		})
	}
}

// TestSursis: which sanctions may be suspended, partial sursis of an
// exclusion, and the period in which it may be revoked (R. 511-13-1, I).
func TestSursis(t *testing.T) {
	s := uuid.New()
	march := domain.MustDate("2026-03-10") // school year 2025-2026
	cases := []struct {
		name   string
		kind   domain.SanctionKind
		days   int
		sursis domain.Sursis
		want   error
	}{
		{"avertissement", domain.SanctionWarning, 0, domain.Sursis{Until: domain.MustDate("2026-08-31")}, domain.ErrSursis},
		{"blâme", domain.SanctionReprimand, 0, domain.Sursis{Until: domain.MustDate("2026-08-31")}, domain.ErrSursis},
		{"responsabilisation to the year's end", domain.SanctionResponsibility, 0, domain.Sursis{Until: domain.MustDate("2026-08-31")}, nil},
		{"responsabilisation before the year's end", domain.SanctionResponsibility, 0, domain.Sursis{Until: domain.MustDate("2026-06-30")}, domain.ErrSursis},
		{"responsabilisation past its effacement", domain.SanctionResponsibility, 0, domain.Sursis{Until: domain.MustDate("2026-09-01")}, domain.ErrSursis},
		{"responsabilisation with days", domain.SanctionResponsibility, 0, domain.Sursis{Days: 1, Until: domain.MustDate("2026-08-31")}, domain.ErrSursis},
		{"total sursis of an exclusion", domain.SanctionTemporaryExclusion, 4, domain.Sursis{Days: 4, Until: domain.MustDate("2027-03-09")}, nil},
		{"partial sursis of an exclusion", domain.SanctionClassExclusion, 4, domain.Sursis{Days: 2, Until: domain.MustDate("2026-12-31")}, nil},
		{"more days suspended than pronounced", domain.SanctionTemporaryExclusion, 4, domain.Sursis{Days: 5, Until: domain.MustDate("2026-12-31")}, domain.ErrSursis},
		{"an exclusion's sursis with no days", domain.SanctionTemporaryExclusion, 4, domain.Sursis{Until: domain.MustDate("2026-12-31")}, domain.ErrSursis},
		{"an exclusion's sursis past one year", domain.SanctionTemporaryExclusion, 4, domain.Sursis{Days: 4, Until: domain.MustDate("2027-03-10")}, domain.ErrSursis},
		{"exclusion définitive, two years on", domain.SanctionPermanentExclusion, 0, domain.Sursis{Until: domain.MustDate("2028-08-31")}, nil},
		{"exclusion définitive, past two years", domain.SanctionPermanentExclusion, 0, domain.Sursis{Until: domain.MustDate("2028-09-01")}, domain.ErrSursis},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sursis := tc.sursis
			cmd := domain.PronounceSanction{Sanction: uuid.New(), Student: s, Kind: tc.kind, Date: march, Days: tc.days, Reason: "motif", Sursis: &sursis}
			if tc.kind == domain.SanctionPermanentExclusion {
				cmd.Authority, cmd.Council = domain.AuthorityCouncil, sitting(march)
			}
			events, err := disciplineFile().PronounceSanction(disciplineHead(), disciplineStudent(s), &domain.Incident{}, cmd)
			if tc.want == nil {
				if err != nil || events[0].(domain.SanctionPronounced).Sursis.Until != sursis.Until {
					t.Fatalf("got %v, %v", events, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want %v", events, err, tc.want)
			}
		})
	}
}

// TestRevokeSursis: within its period, once, by the head, or by the
// council alone for an exclusion définitive (R. 511-13-1, II).
func TestRevokeSursis(t *testing.T) {
	s, exclusion, definitive, plain := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	march := domain.MustDate("2026-03-10")
	file := func(extra ...domain.Event) *domain.Discipline {
		return disciplineFile(append([]domain.Event{
			domain.SanctionPronounced{Sanction: exclusion, Student: s, Kind: domain.SanctionTemporaryExclusion, Date: march, Days: 3,
				Sursis: &domain.Sursis{Days: 3, Until: domain.MustDate("2026-12-31")}},
			domain.SanctionPronounced{Sanction: definitive, Student: s, Kind: domain.SanctionPermanentExclusion, Date: march,
				Authority: domain.AuthorityCouncil, Sursis: &domain.Sursis{Until: domain.MustDate("2027-08-31")}},
			domain.SanctionPronounced{Sanction: plain, Student: s, Kind: domain.SanctionReprimand, Date: march},
		}, extra...)...)
	}
	revoke := func(id uuid.UUID, day string) domain.RevokeSursis {
		return domain.RevokeSursis{Student: s, Sanction: id, Date: domain.MustDate(day), Reason: "nouveau manquement"}
	}
	cases := []struct {
		name string
		d    *domain.Discipline
		cmd  domain.RevokeSursis
		want error
	}{
		{"within the period", file(), revoke(exclusion, "2026-11-02"), nil},
		{"on its last day", file(), revoke(exclusion, "2026-12-31"), nil},
		{"after the period", file(), revoke(exclusion, "2027-01-04"), domain.ErrNoSursis},
		{"twice", file(domain.SursisRevoked{Sanction: exclusion, Student: s}), revoke(exclusion, "2026-11-02"), domain.ErrNoSursis},
		{"no sursis", file(), revoke(plain, "2026-04-02"), domain.ErrNoSursis},
		{"annulled", file(domain.SanctionAnnulled{Sanction: exclusion, Student: s}), revoke(exclusion, "2026-11-02"), domain.ErrSanctionAnnulled},
		{"unknown", file(), revoke(uuid.New(), "2026-11-02"), domain.ErrSanctionNotFound},
		{"an exclusion définitive by the head", file(), revoke(definitive, "2026-11-02"), domain.ErrCouncilRequired},
		{"an exclusion définitive by the council", file(), func() domain.RevokeSursis {
			c := revoke(definitive, "2026-11-02")
			c.Authority, c.Council = domain.AuthorityCouncil, sitting(domain.MustDate("2026-11-02"))
			return c
		}(), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, err := tc.d.RevokeSursis(disciplineHead(), disciplineStudent(s), tc.cmd)
			if tc.want == nil {
				if err != nil || len(events) != 1 {
					t.Fatalf("got %v, %v", events, err)
				}
				e := events[0].(domain.SursisRevoked)
				if e.Sanction != tc.cmd.Sanction || !e.Authority.Valid() {
					t.Fatalf("recorded %+v", e)
				}
				return
			}
			if !errors.Is(err, tc.want) || events != nil {
				t.Fatalf("got %v, %v; want %v", events, err, tc.want)
			}
		})
	}
}

// TestEffacementDates: R. 511-13, IV, across the school-year boundary.
func TestEffacementDates(t *testing.T) {
	cases := []struct {
		kind domain.SanctionKind
		date string
		want string // "" for none by the passing of time
	}{
		{domain.SanctionWarning, "2026-03-10", "2026-09-01"},
		{domain.SanctionWarning, "2026-08-31", "2026-09-01"},
		{domain.SanctionWarning, "2026-09-01", "2027-09-01"},
		{domain.SanctionReprimand, "2026-12-07", "2027-09-01"},
		{domain.SanctionResponsibility, "2027-06-30", "2027-09-01"},
		{domain.SanctionClassExclusion, "2026-12-07", "2027-12-07"},
		{domain.SanctionTemporaryExclusion, "2026-06-15", "2027-06-15"},
		{domain.SanctionTemporaryExclusion, "2028-02-29", "2029-03-01"},
		{domain.SanctionPermanentExclusion, "2026-12-07", ""},
	}
	for _, tc := range cases {
		got, ok := domain.EffacementDate(tc.kind, domain.MustDate(tc.date))
		if tc.want == "" {
			if ok {
				t.Errorf("%s of %s effaced on %s, want only at the end of schooling", tc.kind, tc.date, got)
			}
			continue
		}
		if !ok || got != domain.MustDate(tc.want) {
			t.Errorf("%s of %s effaced on %s (%v), want %s", tc.kind, tc.date, got, ok, tc.want)
		}
	}
	// Every kind has a rule with its source.
	for _, k := range domain.SanctionKinds() {
		found := false
		for _, r := range domain.EffacementRules() {
			for _, rk := range r.Kinds {
				found = found || (rk == k && r.Source != "" && r.Rule != "")
			}
		}
		if !found {
			t.Errorf("%s has no effacement rule", k)
		}
	}
}

// TestEffaceSanction: on a decision, once, not before the sanction; after
// its date a sanction is already effaced.
func TestEffaceSanction(t *testing.T) {
	s, warning, exclusion := uuid.New(), uuid.New(), uuid.New()
	d := disciplineFile(
		domain.SanctionPronounced{Sanction: warning, Student: s, Kind: domain.SanctionWarning, Date: domain.MustDate("2026-03-10")},
		domain.SanctionPronounced{Sanction: exclusion, Student: s, Kind: domain.SanctionTemporaryExclusion, Date: domain.MustDate("2026-03-10"), Days: 2},
	)
	efface := func(id uuid.UUID, day string, basis domain.EffacementBasis) domain.EffaceSanction {
		return domain.EffaceSanction{Student: s, Sanction: id, Date: domain.MustDate(day), Basis: basis}
	}
	cases := []struct {
		name string
		d    *domain.Discipline
		cmd  domain.EffaceSanction
		want error
	}{
		{"change of establishment", d, efface(exclusion, "2026-06-20", domain.EffacementChangeOfEstablishment), nil},
		{"end of schooling", d, efface(warning, "2026-07-03", domain.EffacementEndOfSchooling), nil},
		{"already past its date", d, efface(warning, "2026-09-02", domain.EffacementChangeOfEstablishment), domain.ErrSanctionEffaced},
		{"before the sanction", d, efface(exclusion, "2026-03-09", domain.EffacementChangeOfEstablishment), domain.ErrInvalid},
		{"no basis", d, efface(exclusion, "2026-06-20", ""), domain.ErrInvalid},
		{"twice", disciplineFile(
			domain.SanctionPronounced{Sanction: exclusion, Student: s, Kind: domain.SanctionTemporaryExclusion, Date: domain.MustDate("2026-03-10"), Days: 2},
			domain.SanctionEffaced{Sanction: exclusion, Student: s, Date: domain.MustDate("2026-06-20"), Basis: domain.EffacementChangeOfEstablishment},
		), efface(exclusion, "2026-06-21", domain.EffacementChangeOfEstablishment), domain.ErrSanctionEffaced},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, err := tc.d.EffaceSanction(disciplineHead(), disciplineStudent(s), tc.cmd)
			if tc.want == nil {
				if err != nil || len(events) != 1 || events[0].(domain.SanctionEffaced).Basis != tc.cmd.Basis {
					t.Fatalf("got %v, %v", events, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || events != nil {
				t.Fatalf("got %v, %v; want %v", events, err, tc.want)
			}
		})
	}
	// The ledger records an effacement that fell due, on or after its day,
	// once; nobody else does.
	due := efface(warning, "2026-09-01", domain.EffacementDue)
	if _, err := d.EffaceSanction(disciplineHead(), disciplineStudent(s), due); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("the head records a due effacement: %v", err)
	}
	if _, err := d.EffaceSanction(domain.SystemActor(), disciplineStudent(s), efface(warning, "2026-08-31", domain.EffacementDue)); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("effaced the day before it falls due: %v", err)
	}
	events, err := d.EffaceSanction(domain.SystemActor(), disciplineStudent(s), due)
	if err != nil || len(events) != 1 {
		t.Fatalf("due effacement: %v, %v", events, err)
	}
	d.Apply(events[0])
	if _, err := d.EffaceSanction(domain.SystemActor(), disciplineStudent(s), efface(warning, "2026-09-02", domain.EffacementDue)); !errors.Is(err, domain.ErrSanctionEffaced) {
		t.Fatalf("effaced twice: %v", err)
	}
	teacher := domain.Actor{Account: uuid.New(), Profile: domain.ProfileTeacher, Establishment: disciplineUAI}
	if _, err := d.EffaceSanction(teacher, disciplineStudent(s), efface(exclusion, "2026-06-20", domain.EffacementChangeOfEstablishment)); !errors.Is(err, domain.ErrNotHead) {
		t.Fatalf("a teacher effaces: %v", err)
	}
}

// TestFormerScaleReads: a temporary exclusion stored before the scale
// distinguished the class reads as an exclusion from the establishment,
// pronounced by the head, effaced a year later.
func TestFormerScaleReads(t *testing.T) {
	reg := domain.NewRegistry()
	e, err := reg.Decode("sanction.pronounced.v1", []byte(`{"sanction":"`+uuid.NewString()+`","student":"`+uuid.NewString()+
		`","kind":"exclusion_temporaire","date":"2025-11-04","days":3,"reason":"r"}`))
	if err != nil {
		t.Fatal(err)
	}
	sp := e.(domain.SanctionPronounced)
	eff, ok := sp.EffacementDay()
	if sp.Kind != domain.SanctionTemporaryExclusion || !ok || eff != domain.MustDate("2026-11-04") {
		t.Fatalf("read %+v, effaced on %s (%v)", sp, eff, ok)
	}
}
