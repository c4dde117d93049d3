package subjectkeys

import (
	"strings"

	"github.com/google/uuid"
)

// ScopeKind says what a key of a subject covers.
type ScopeKind string

// Scope kinds. They are persisted (subject_key_scopes.scope): never
// rename one.
const (
	// ScopePerson: everything the tag does not scope (names); the key of
	// subject_keys, "enc:v1:" values.
	ScopePerson ScopeKind = "person"
	// ScopeCategory: one category of data (domain.RetentionCategory, a
	// periodic one) of one establishment and school year.
	ScopeCategory ScopeKind = "category"
	// ScopeRecord: one record (a sanction), by its id.
	ScopeRecord ScopeKind = "record"
)

// Scope is what a key covers, beside its subject.
type Scope struct {
	Kind ScopeKind
	// Category is the category of data (ScopeCategory) or the kind of
	// record, the tag's field name in lower case ("sanction").
	Category string
	// Establishment and Period (a school year, "2024-2025") place a
	// category key.
	Establishment string
	Period        string
	// Record is the id of the record of a record key.
	Record uuid.UUID
}

// String is the scope as the additional data of its values binds it.
func (s Scope) String() string {
	record := ""
	if s.Record != uuid.Nil {
		record = s.Record.String()
	}
	return strings.Join([]string{string(s.Kind), s.Category, s.Establishment, s.Period, record}, "|")
}

// Ref names a key: its id, its subject and its scope. A person key's id is
// its subject's; a scoped key's is derived from its subject and scope, so
// that every node names the same key without asking the store.
type Ref struct {
	ID      uuid.UUID
	Subject uuid.UUID
	Scope   Scope
}

// keyNamespace derives the ids of scoped keys (uuid v5).
var keyNamespace = uuid.MustParse("6f1d2c4e-5b7a-4e39-9a0c-3d8e2b1f7a65")

// RefOf returns the key of subject for scope.
func RefOf(subject uuid.UUID, s Scope) Ref {
	if s.Kind == ScopePerson || s.Kind == "" {
		return Ref{ID: subject, Subject: subject, Scope: Scope{Kind: ScopePerson}}
	}
	return Ref{ID: uuid.NewSHA1(keyNamespace, []byte(subject.String()+"\x00"+s.String())), Subject: subject, Scope: s}
}

// RecordRef returns the key of subject for one record of a kind
// ("sanction").
func RecordRef(subject uuid.UUID, kind string, record uuid.UUID) Ref {
	return RefOf(subject, Scope{Kind: ScopeRecord, Category: kind, Record: record})
}

// PeriodKeys counts the live category keys of one establishment, category
// and period.
type PeriodKeys struct {
	Establishment string
	Category      string
	Period        string
	Keys          int
}
