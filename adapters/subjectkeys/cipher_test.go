package subjectkeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/domain"
)

func newCipher(t *testing.T, keys subjectkeys.Store, opts ...subjectkeys.Option) (*subjectkeys.Cipher, *domain.Registry) {
	t.Helper()
	reg := domain.NewRegistry()
	c, err := subjectkeys.New(keys, reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, reg.WithOpener(c)
}

// TestEveryPersonalFieldHasASubject: each personal tag of every
// registered event type names a subject New accepts, and there is no
// personal field left with the old, subjectless tag.
func TestEveryPersonalFieldHasASubject(t *testing.T) {
	reg := domain.NewRegistry()
	if _, err := subjectkeys.New(subjectkeys.NewMemory(), reg); err != nil {
		t.Fatal(err)
	}
	tagged := 0
	for _, typ := range reg.Types() {
		e, err := reg.Decode(typ, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		rt := reflect.TypeOf(e)
		for i := range rt.NumField() {
			if s, ok := rt.Field(i).Tag.Lookup("personal"); ok {
				tagged++
				if s == "true" || s == "" {
					t.Errorf("%s.%s: personal tag names no subject", rt.Name(), rt.Field(i).Name)
				}
			}
		}
	}
	if tagged < 15 {
		t.Errorf("%d personal fields, want at least the 15 of the events", tagged)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, reg := newCipher(t, subjectkeys.NewMemory())
	student, head := uuid.New(), uuid.New()
	e := domain.SanctionPronounced{Sanction: uuid.New(), Student: student, Kind: domain.SanctionWarning,
		Reason: "marqueur-raison", Council: &domain.CouncilSession{Present: 9, Decision: "marqueur-conseil"}}
	sealed, err := c.Seal(ctx, domain.Metadata{Actor: head}, e)
	if err != nil {
		t.Fatal(err)
	}
	if e.Reason != "marqueur-raison" || e.Council.Decision != "marqueur-conseil" {
		t.Fatalf("Seal changed its argument: %+v", e)
	}
	typ, data, err := reg.Encode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"marqueur-raison", "marqueur-conseil"} {
		if strings.Contains(string(data), marker) {
			t.Errorf("payload holds %q in clear: %s", marker, data)
		}
	}
	ref := subjectkeys.RecordRef(student, domain.RecordSanction, e.Sanction)
	if !strings.Contains(string(data), `"reason":"`+subjectkeys.PrefixScoped+ref.ID.String()+":") {
		t.Errorf("reason not sealed with the key of the student's sanction: %s", data)
	}
	got, err := reg.Decode(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("opened %+v, want %+v", got, e)
	}
}

// TestSubjects: each field is sealed with the key its tag names.
func TestSubjects(t *testing.T) {
	ctx := context.Background()
	c, reg := newCipher(t, subjectkeys.NewMemory())
	a, b, w, actor, sanction := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	md := domain.Metadata{Actor: actor, Establishment: "0750001A", Time: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
	category := func(subject uuid.UUID, c domain.RetentionCategory) string {
		return subjectkeys.PrefixScoped + subjectkeys.RefOf(subject, subjectkeys.Scope{Kind: subjectkeys.ScopeCategory,
			Category: string(c), Establishment: "0750001A", Period: "2024-2025"}).ID.String() + ":"
	}
	cases := []struct {
		name string
		e    domain.Event
		want string // the prefix of the sealed values: the key
	}{
		{"message: the sender's messages of the year", domain.MessageSent{Message: uuid.New(), From: a, ToAccounts: []uuid.UUID{b}, Subject: "s", Body: "b"},
			category(a, domain.RetentionMessages)},
		{"declared reason: the student's school life of the year", domain.AbsenceReasonDeclared{Absence: uuid.New(), Student: a, Relative: b, Reason: "r"},
			category(a, domain.RetentionSchoolLife)},
		{"account: itself", domain.AccountOpened{Account: a, DisplayName: "n"}, subjectkeys.Prefix + a.String() + ":"},
		{"sanction: the student's sanction", domain.SanctionAnnulled{Sanction: sanction, Student: a, Reason: "r"},
			subjectkeys.PrefixScoped + subjectkeys.RecordRef(a, domain.RecordSanction, sanction).ID.String() + ":"},
		{"incident: the first author", domain.IncidentReported{Incident: uuid.New(), Description: "d",
			Protagonists: []domain.Protagonist{{Account: w, Role: domain.ProtagonistWitness}, {Account: b, Role: domain.ProtagonistAuthor}}},
			category(b, domain.RetentionSchoolLife)},
		{"incident without author: the first protagonist", domain.IncidentReported{Incident: uuid.New(), Description: "d",
			Protagonists: []domain.Protagonist{{Account: w, Role: domain.ProtagonistVictim}}}, category(w, domain.RetentionSchoolLife)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := c.Seal(ctx, md, tc.e)
			if err != nil {
				t.Fatal(err)
			}
			_, data, err := reg.Encode(sealed)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			n := 0
			for k, v := range doc {
				s, ok := v.(string)
				if !ok || !strings.HasPrefix(s, "enc:") {
					continue
				}
				n++
				if !strings.HasPrefix(s, tc.want) {
					t.Errorf("%s sealed with another key: %s, want %s", k, s, tc.want)
				}
			}
			if n == 0 {
				t.Errorf("nothing sealed: %s", data)
			}
		})
	}
}

// sealedReason returns the payload of a punishment whose reason is sealed.
func sealedReason(t *testing.T, c *subjectkeys.Cipher, reg *domain.Registry, student uuid.UUID, reason string) (string, []byte) {
	t.Helper()
	sealed, err := c.Seal(context.Background(), domain.Metadata{}, domain.PunishmentGiven{Punishment: uuid.New(), Student: student, Kind: domain.PunishmentDetention, Reason: reason})
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := reg.Encode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	return typ, data
}

func TestOpenRefusesWhatWasChanged(t *testing.T) {
	c, reg := newCipher(t, subjectkeys.NewMemory())
	student, other := uuid.New(), uuid.New()
	typ, data := sealedReason(t, c, reg, student, "bavardages répétés")
	_, otherData := sealedReason(t, c, reg, other, "autre") // other has a key too
	var doc, otherDoc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(otherData, &otherDoc); err != nil {
		t.Fatal(err)
	}
	sealed := doc["reason"].(string)
	keyOf := func(s string) string { return s[:len(subjectkeys.PrefixScoped)+36] }
	name, err := c.Seal(context.Background(), domain.Metadata{}, domain.AccountOpened{Account: student, DisplayName: "Zoé"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Seal(context.Background(), domain.Metadata{}, domain.AccountOpened{Account: other, DisplayName: "Léo"}); err != nil {
		t.Fatal(err)
	}
	_, nameData, err := reg.Encode(name)
	if err != nil {
		t.Fatal(err)
	}
	var nameDoc map[string]any
	if err := json.Unmarshal(nameData, &nameDoc); err != nil {
		t.Fatal(err)
	}
	sealedName := nameDoc["display_name"].(string)
	flip := []byte(sealed)
	last := len(flip) - 3
	if flip[last] == 'A' {
		flip[last] = 'B'
	} else {
		flip[last] = 'A'
	}
	cases := map[string]struct {
		typ   string
		field string
		value string
	}{
		"tampered ciphertext": {typ, "reason", string(flip)},
		"another key":         {typ, "reason", strings.Replace(sealed, keyOf(sealed), keyOf(otherDoc["reason"].(string)), 1)},
		"another event type":  {domain.AbsenceCancelled{}.EventType(), "reason", sealed},
		"not base64":          {typ, "reason", keyOf(sealed) + ":!!"},
		"no key":              {typ, "reason", subjectkeys.PrefixScoped + "nothing"},
		"person key, another subject": {domain.AccountOpened{}.EventType(), "display_name",
			strings.Replace(sealedName, student.String(), other.String(), 1)},
		"person key, no subject": {domain.AccountOpened{}.EventType(), "display_name", subjectkeys.Prefix + "nothing"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := map[string]any{}
			for k, v := range doc {
				d[k] = v
			}
			d[tc.field] = tc.value
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Decode(tc.typ, b); !errors.Is(err, subjectkeys.ErrSealed) {
				t.Errorf("decode: %v, want ErrSealed", err)
			}
		})
	}
}

func TestDestroyedKeyOpensToPlaceholder(t *testing.T) {
	ctx := context.Background()
	keys := subjectkeys.NewMemory()
	c, reg := newCipher(t, keys)
	student, other := uuid.New(), uuid.New()
	typ, data := sealedReason(t, c, reg, student, "bavardages répétés")
	otherTyp, otherData := sealedReason(t, c, reg, other, "retards")
	if err := c.Destroy(ctx, student); err != nil {
		t.Fatal(err)
	}
	e, err := reg.Decode(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(domain.PunishmentGiven).Reason; got != subjectkeys.Placeholder {
		t.Errorf("reason %q, want the placeholder", got)
	}
	if e, err := reg.Decode(otherTyp, otherData); err != nil || e.(domain.PunishmentGiven).Reason != "retards" {
		t.Errorf("another student's reason: %v, %v", e, err)
	}
	if _, ok := keys.Destroyed(student); !ok {
		t.Error("the store does not record the destruction")
	}
	// Nothing personal about an erased person is written again.
	_, err = c.Seal(ctx, domain.Metadata{}, domain.PunishmentGiven{Student: student, Reason: "encore"})
	if !errors.Is(err, domain.ErrSubjectErased) {
		t.Errorf("seal for an erased student: %v, want ErrSubjectErased", err)
	}
}

// TestOtherNodeForgetsTheKey: a node that read a key stops opening with
// it as soon as it reads the erasure event, and within the TTL anyway.
func TestOtherNodeForgetsTheKey(t *testing.T) {
	ctx := context.Background()
	keys := subjectkeys.NewMemory()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	writer, wreg := newCipher(t, keys)
	other, oreg := newCipher(t, keys, subjectkeys.WithClock(clock), subjectkeys.WithTTL(time.Minute))
	_ = other
	a, b := uuid.New(), uuid.New()
	typA, dataA := sealedReason(t, writer, wreg, a, "raison A")
	typB, dataB := sealedReason(t, writer, wreg, b, "raison B")
	reason := func(typ string, data []byte) string {
		t.Helper()
		e, err := oreg.Decode(typ, data)
		if err != nil {
			t.Fatal(err)
		}
		return e.(domain.PunishmentGiven).Reason
	}
	// The other node reads both, keeping both keys.
	if reason(typA, dataA) != "raison A" || reason(typB, dataB) != "raison B" {
		t.Fatal("not opened")
	}
	if err := writer.Destroy(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := writer.Destroy(ctx, b); err != nil {
		t.Fatal(err)
	}
	// a's erasure event reaches the other node: a is forgotten at once.
	erased, err := json.Marshal(domain.SubjectErased{Subject: a, Basis: "RGPD art. 17", Reason: "demande"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oreg.Decode(domain.SubjectErased{}.EventType(), erased); err != nil {
		t.Fatal(err)
	}
	if got := reason(typA, dataA); got != subjectkeys.Placeholder {
		t.Errorf("after the erasure event: %q", got)
	}
	// b's has not: its key is kept until the TTL has passed.
	if got := reason(typB, dataB); got != "raison B" {
		t.Errorf("within the TTL: %q", got)
	}
	now = now.Add(time.Minute)
	if got := reason(typB, dataB); got != subjectkeys.Placeholder {
		t.Errorf("after the TTL: %q", got)
	}
}

// TestOnlyPersonalFieldsOpen: a text that only looks sealed, in a field
// that is not personal, is read as it was written.
func TestOnlyPersonalFieldsOpen(t *testing.T) {
	_, reg := newCipher(t, subjectkeys.NewMemory())
	data := []byte(`{"incident":"` + uuid.NewString() + `","place":"enc:v1:cour","description":"plain","protagonists":[]}`)
	e, err := reg.Decode(domain.IncidentReported{}.EventType(), data)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(domain.IncidentReported); got.Place != "enc:v1:cour" || got.Description != "plain" {
		t.Errorf("decoded %+v", got)
	}
}
