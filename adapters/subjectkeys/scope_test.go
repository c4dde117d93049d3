package subjectkeys_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/domain"
)

// mustSeal seals e as recorded by md and returns its type and payload.
func mustSeal(t *testing.T, c *subjectkeys.Cipher, reg *domain.Registry, md domain.Metadata, e domain.Event) (string, []byte) {
	t.Helper()
	sealed, err := c.Seal(context.Background(), md, e)
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := reg.Encode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	return typ, data
}

// mustOpen decodes a payload.
func mustOpen(t *testing.T, reg *domain.Registry, typ string, data []byte) domain.Event {
	t.Helper()
	e, err := reg.Decode(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func at(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 10, 0, 0, 0, time.UTC)
}

// TestCategoryKeysByYear: a person's messages of one school year and
// establishment share a key, another year's or establishment's have
// their own; the year turns on 1 September in Paris.
func TestCategoryKeysByYear(t *testing.T) {
	c, reg := newCipher(t, subjectkeys.NewMemory())
	from := uuid.New()
	key := func(md domain.Metadata) string {
		_, data := mustSeal(t, c, reg, md, domain.MessageSent{Message: uuid.New(), From: from, Subject: "s", Body: "b"})
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		s := doc["body"].(string)
		if !strings.HasPrefix(s, subjectkeys.PrefixScoped) {
			t.Fatalf("body not sealed with a scoped key: %s", s)
		}
		return s[:len(subjectkeys.PrefixScoped)+36]
	}
	uai := "0750001A"
	oct, may := key(domain.Metadata{Establishment: uai, Time: at(2024, 10, 1)}), key(domain.Metadata{Establishment: uai, Time: at(2025, 5, 1)})
	// 31 August 22:30 UTC is 1 September in Paris: the next year.
	sept := key(domain.Metadata{Establishment: uai, Time: time.Date(2025, 8, 31, 22, 30, 0, 0, time.UTC)})
	other := key(domain.Metadata{Establishment: "0750002B", Time: at(2025, 5, 1)})
	if oct != may {
		t.Error("two messages of one school year have two keys")
	}
	if sept == may || other == may {
		t.Error("another school year, or establishment, shares the key")
	}
	want := subjectkeys.PrefixScoped + subjectkeys.RefOf(from, subjectkeys.Scope{Kind: subjectkeys.ScopeCategory,
		Category: "messages", Establishment: uai, Period: "2025-2026"}).ID.String()
	if sept != want {
		t.Errorf("key of 1 September 2025: %s, want %s", sept, want)
	}
}

// TestEffacementKeyIsTheSanctions: destroying a sanction's record key
// erases its reason and the council's minutes, in every event about it,
// and nothing else of the student's: another sanction, a punishment, an
// incident they are the author of, their name.
func TestEffacementKeyIsTheSanctions(t *testing.T) {
	ctx := context.Background()
	c, reg := newCipher(t, subjectkeys.NewMemory())
	student, effaced, kept := uuid.New(), uuid.New(), uuid.New()
	md := domain.Metadata{Establishment: "0750001A", Time: at(2025, 1, 15)}
	pTyp, pronounced := mustSeal(t, c, reg, md, domain.SanctionPronounced{Sanction: effaced, Student: student, Kind: domain.SanctionWarning,
		Reason: "raison effacée", Council: &domain.CouncilSession{Present: 8, Decision: "procès-verbal effacé"}})
	aTyp, annulled := mustSeal(t, c, reg, md, domain.SanctionAnnulled{Sanction: effaced, Student: student, Reason: "annulation effacée"})
	kTyp, other := mustSeal(t, c, reg, md, domain.SanctionPronounced{Sanction: kept, Student: student, Kind: domain.SanctionReprimand, Reason: "autre sanction"})
	iTyp, incident := mustSeal(t, c, reg, md, domain.IncidentReported{Incident: uuid.New(), Description: "les faits",
		Protagonists: []domain.Protagonist{{Account: student, Role: domain.ProtagonistAuthor}}})
	nTyp, name := mustSeal(t, c, reg, md, domain.AccountOpened{Account: student, DisplayName: "Zoé Martin"})

	if err := c.DestroyRecord(ctx, student, domain.RecordSanction, effaced); err != nil {
		t.Fatal(err)
	}
	p := mustOpen(t, reg, pTyp, pronounced).(domain.SanctionPronounced)
	if p.Reason != subjectkeys.Placeholder || p.Council.Decision != subjectkeys.Placeholder || p.Council.Present != 8 {
		t.Errorf("effaced sanction: %+v %+v", p, p.Council)
	}
	if got := mustOpen(t, reg, aTyp, annulled).(domain.SanctionAnnulled).Reason; got != subjectkeys.Placeholder {
		t.Errorf("its annulment: %q", got)
	}
	if got := mustOpen(t, reg, kTyp, other).(domain.SanctionPronounced).Reason; got != "autre sanction" {
		t.Errorf("another sanction: %q", got)
	}
	if got := mustOpen(t, reg, iTyp, incident).(domain.IncidentReported).Description; got != "les faits" {
		t.Errorf("the incident's facts: %q", got)
	}
	if got := mustOpen(t, reg, nTyp, name).(domain.AccountOpened).DisplayName; got != "Zoé Martin" {
		t.Errorf("the name: %q", got)
	}
	// Nothing is written again under the effaced sanction's key.
	_, err := c.Seal(ctx, md, domain.SanctionAnnulled{Sanction: effaced, Student: student, Reason: "encore"})
	if !errors.Is(err, domain.ErrSubjectErased) {
		t.Errorf("seal for an effaced sanction: %v", err)
	}
}

// TestOtherNodeForgetsAnEffacedSanction: a node that read a sanction's
// key forgets it as soon as it reads the effacement event.
func TestOtherNodeForgetsAnEffacedSanction(t *testing.T) {
	ctx := context.Background()
	keys := subjectkeys.NewMemory()
	writer, wreg := newCipher(t, keys)
	_, oreg := newCipher(t, keys, subjectkeys.WithTTL(time.Hour))
	student, sanction := uuid.New(), uuid.New()
	typ, data := mustSeal(t, writer, wreg, domain.Metadata{}, domain.SanctionAnnulled{Sanction: sanction, Student: student, Reason: "motif"})
	if got := mustOpen(t, oreg, typ, data).(domain.SanctionAnnulled).Reason; got != "motif" {
		t.Fatalf("before: %q", got)
	}
	if err := writer.DestroyRecord(ctx, student, domain.RecordSanction, sanction); err != nil {
		t.Fatal(err)
	}
	if got := mustOpen(t, oreg, typ, data).(domain.SanctionAnnulled).Reason; got != "motif" {
		t.Fatalf("within the TTL, before the event: %q", got)
	}
	ev, err := json.Marshal(domain.SanctionEffaced{Sanction: sanction, Student: student, Basis: domain.EffacementDue})
	if err != nil {
		t.Fatal(err)
	}
	mustOpen(t, oreg, domain.SanctionEffaced{}.EventType(), ev)
	if got := mustOpen(t, oreg, typ, data).(domain.SanctionAnnulled).Reason; got != subjectkeys.Placeholder {
		t.Errorf("after the effacement event: %q", got)
	}
}

// TestErasureDestroysEveryScope: erasing a person destroys their person
// key and every scoped key, and no scoped key is created for them after.
func TestErasureDestroysEveryScope(t *testing.T) {
	ctx := context.Background()
	c, reg := newCipher(t, subjectkeys.NewMemory())
	student, sanction, other := uuid.New(), uuid.New(), uuid.New()
	md := domain.Metadata{Establishment: "0750001A", Time: at(2025, 1, 15)}
	nTyp, name := mustSeal(t, c, reg, md, domain.AccountOpened{Account: student, DisplayName: "Zoé Martin"})
	mTyp, msg := mustSeal(t, c, reg, md, domain.MessageSent{Message: uuid.New(), From: student, Subject: "sujet", Body: "corps"})
	pTyp, pun := mustSeal(t, c, reg, md, domain.PunishmentGiven{Punishment: uuid.New(), Student: student, Reason: "retard"})
	sTyp, san := mustSeal(t, c, reg, md, domain.SanctionAnnulled{Sanction: sanction, Student: student, Reason: "motif"})
	oTyp, otherMsg := mustSeal(t, c, reg, md, domain.MessageSent{Message: uuid.New(), From: other, Subject: "sujet", Body: "autre"})
	if err := c.Destroy(ctx, student); err != nil {
		t.Fatal(err)
	}
	if got := mustOpen(t, reg, nTyp, name).(domain.AccountOpened).DisplayName; got != subjectkeys.Placeholder {
		t.Errorf("name: %q", got)
	}
	if got := mustOpen(t, reg, mTyp, msg).(domain.MessageSent); got.Body != subjectkeys.Placeholder || got.Subject != subjectkeys.Placeholder {
		t.Errorf("message: %+v", got)
	}
	if got := mustOpen(t, reg, pTyp, pun).(domain.PunishmentGiven).Reason; got != subjectkeys.Placeholder {
		t.Errorf("punishment: %q", got)
	}
	if got := mustOpen(t, reg, sTyp, san).(domain.SanctionAnnulled).Reason; got != subjectkeys.Placeholder {
		t.Errorf("sanction: %q", got)
	}
	if got := mustOpen(t, reg, oTyp, otherMsg).(domain.MessageSent).Body; got != "autre" {
		t.Errorf("another person's message: %q", got)
	}
	for _, e := range []domain.Event{
		domain.MessageSent{Message: uuid.New(), From: student, Body: "nouveau"},
		domain.PunishmentGiven{Student: student, Reason: "nouveau"},
		domain.MessageSent{Message: uuid.New(), From: student, Body: "l'an prochain"},
	} {
		if _, err := c.Seal(ctx, domain.Metadata{Establishment: "0750009Z", Time: at(2027, 1, 1)}, e); !errors.Is(err, domain.ErrSubjectErased) {
			t.Errorf("seal %s for an erased person: %v", e.EventType(), err)
		}
	}
}

// TestDestroyPeriod: the keys of one establishment, category and school
// year go; the current year's, another category's and another
// establishment's stay.
func TestDestroyPeriod(t *testing.T) {
	ctx := context.Background()
	c, reg := newCipher(t, subjectkeys.NewMemory())
	a, b := uuid.New(), uuid.New()
	old := domain.Metadata{Establishment: "0750001A", Time: at(2025, 3, 1)}
	current := domain.Metadata{Establishment: "0750001A", Time: at(2026, 10, 1)}
	elsewhere := domain.Metadata{Establishment: "0750002B", Time: at(2025, 3, 1)}
	t1, m1 := mustSeal(t, c, reg, old, domain.MessageSent{Message: uuid.New(), From: a, Body: "vieux a"})
	t2, m2 := mustSeal(t, c, reg, old, domain.MessageSent{Message: uuid.New(), From: b, Body: "vieux b"})
	t3, m3 := mustSeal(t, c, reg, current, domain.MessageSent{Message: uuid.New(), From: a, Body: "récent"})
	t4, m4 := mustSeal(t, c, reg, old, domain.PunishmentGiven{Student: a, Reason: "punition"})
	t5, m5 := mustSeal(t, c, reg, elsewhere, domain.MessageSent{Message: uuid.New(), From: a, Body: "ailleurs"})
	live, err := c.LivePeriods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := subjectkeys.PeriodKeys{Establishment: "0750001A", Category: "messages", Period: "2024-2025", Keys: 2}
	found := false
	for _, p := range live {
		found = found || p == want
	}
	if !found || len(live) != 4 {
		t.Fatalf("live periods %+v, want %+v among 4", live, want)
	}
	n, err := c.DestroyPeriod(ctx, want)
	if err != nil || n != 2 {
		t.Fatalf("destroyed %d, %v", n, err)
	}
	body := func(typ string, data []byte) string { return mustOpen(t, reg, typ, data).(domain.MessageSent).Body }
	if body(t1, m1) != subjectkeys.Placeholder || body(t2, m2) != subjectkeys.Placeholder {
		t.Error("the old year's messages are readable")
	}
	if body(t3, m3) != "récent" || body(t5, m5) != "ailleurs" {
		t.Error("another year's or establishment's message is erased")
	}
	if got := mustOpen(t, reg, t4, m4).(domain.PunishmentGiven).Reason; got != "punition" {
		t.Errorf("another category: %q", got)
	}
	if n, err := c.DestroyPeriod(ctx, want); err != nil || n != 0 {
		t.Errorf("again: %d, %v", n, err)
	}
}

// TestPersonKeyValuesStillOpen: a value sealed before scopes, with the
// person key ("enc:v1:"), in a field now sealed with a scoped key, opens
// as it did, and reads as erased once the person is.
func TestPersonKeyValuesStillOpen(t *testing.T) {
	ctx := context.Background()
	keys := subjectkeys.NewMemory()
	c, reg := newCipher(t, keys)
	student := uuid.New()
	key, err := keys.Key(ctx, student)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	typ := domain.PunishmentGiven{}.EventType()
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	ct := aead.Seal(nonce, nonce, []byte("ancien motif"), []byte(typ+"\x00reason\x00"+student.String()))
	sealed := subjectkeys.Prefix + student.String() + ":" + base64.RawURLEncoding.EncodeToString(ct)
	data, err := json.Marshal(map[string]any{"punishment": uuid.New(), "student": student, "kind": "retenue", "reason": sealed})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustOpen(t, reg, typ, data).(domain.PunishmentGiven).Reason; got != "ancien motif" {
		t.Fatalf("v1 value: %q", got)
	}
	if err := c.Destroy(ctx, student); err != nil {
		t.Fatal(err)
	}
	if got := mustOpen(t, reg, typ, data).(domain.PunishmentGiven).Reason; got != subjectkeys.Placeholder {
		t.Errorf("v1 value after erasure: %q", got)
	}
}
