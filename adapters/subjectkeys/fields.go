package subjectkeys

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Subject references of the personal tags that name no field.
const (
	// subjectActor: the account that recorded the event (its metadata).
	subjectActor = "actor"
	// subjectProtagonists: the first author among an incident's
	// protagonists, else its first protagonist.
	subjectProtagonists = "Protagonists"
)

// field is one personal string of an event type.
type field struct {
	// index leads from the event to the tagged field; inner, when the
	// tagged field is a pointer to a struct, from that struct to the
	// string.
	index, inner []int
	// path is the value's place in the JSON payload ("reason",
	// "council.decision"), bound into its ciphertext.
	path string
	// subject is the tag's first part: whose key encrypts the value.
	subject string
	// scope is what that key covers (tagScope): the person's own key
	// unless the tag says otherwise.
	scope tagScope
}

// tagScope is the scope a personal tag gives after its subject:
// "category=schoollife" or "record=Sanction".
type tagScope struct {
	kind ScopeKind
	// category is the category of data, or the kind of record (the
	// record's field name in lower case).
	category string
	// record is the field holding the record's id.
	record string
}

var (
	uuidType        = reflect.TypeFor[uuid.UUID]()
	protagonistType = reflect.TypeFor[[]domain.Protagonist]()
)

// plan returns the personal strings of an event type, or why its tags
// are wrong: a tag naming no subject, or a tagged field that is neither a
// string nor a pointer to a struct of strings.
func plan(t reflect.Type) ([]field, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s is not a struct", t)
	}
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("personal")
		if !ok {
			continue
		}
		subject, opts, _ := strings.Cut(tag, ",")
		if err := checkSubject(t, subject); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		scope, err := parseScope(t, tag, opts)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		name := jsonName(f)
		switch {
		case f.Type.Kind() == reflect.String:
			out = append(out, field{index: f.Index, path: name, subject: subject, scope: scope})
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			inner := f.Type.Elem()
			n := 0
			for j := range inner.NumField() {
				g := inner.Field(j)
				if !g.IsExported() || g.Type.Kind() != reflect.String {
					continue
				}
				out = append(out, field{index: f.Index, inner: g.Index, path: name + "." + jsonName(g), subject: subject, scope: scope})
				n++
			}
			if n == 0 {
				return nil, fmt.Errorf("%s.%s: personal, and no string in %s", t.Name(), f.Name, inner)
			}
		default:
			return nil, fmt.Errorf("%s.%s: personal, and of type %s (a string or a pointer to a struct)", t.Name(), f.Name, f.Type)
		}
	}
	return out, nil
}

// checkSubject checks that a personal tag names a subject of t.
func checkSubject(t reflect.Type, subject string) error {
	switch subject {
	case subjectActor:
		return nil
	case "", "true":
		return fmt.Errorf("personal tag %q names no subject", subject)
	}
	f, ok := t.FieldByName(subject)
	switch {
	case !ok:
		return fmt.Errorf("personal tag %q: no such field", subject)
	case subject == subjectProtagonists && f.Type == protagonistType:
		return nil
	case f.Type != uuidType:
		return fmt.Errorf("personal tag %q: a field of type %s, not an account id", subject, f.Type)
	}
	return nil
}

// parseScope reads the options of a personal tag after its subject: none
// (the person's key), "category=C" with C a periodic
// domain.RetentionCategory, or "record=F" with F a uuid.UUID field of t
// holding the record's id.
func parseScope(t reflect.Type, tag, opts string) (tagScope, error) {
	if opts == "" {
		if strings.HasSuffix(tag, ",") {
			return tagScope{}, fmt.Errorf("personal tag %q: an empty scope", tag)
		}
		return tagScope{kind: ScopePerson}, nil
	}
	if strings.Contains(opts, ",") {
		return tagScope{}, fmt.Errorf("personal tag %q: one scope at most", tag)
	}
	key, value, ok := strings.Cut(opts, "=")
	switch {
	case !ok || value == "":
		return tagScope{}, fmt.Errorf("personal tag %q: a scope is category=NAME or record=FIELD", tag)
	case key == "category":
		c := domain.RetentionCategory(value)
		if !c.Periodic() {
			return tagScope{}, fmt.Errorf("personal tag %q: %q is not a category kept by school year", tag, value)
		}
		return tagScope{kind: ScopeCategory, category: value}, nil
	case key == "record":
		f, ok := t.FieldByName(value)
		if !ok || f.Type != uuidType {
			return tagScope{}, fmt.Errorf("personal tag %q: no record id field %q", tag, value)
		}
		return tagScope{kind: ScopeRecord, category: strings.ToLower(value), record: value}, nil
	}
	return tagScope{}, fmt.Errorf("personal tag %q: unknown scope %q (category or record)", tag, key)
}

// subjectOf returns the account whose key encrypts the values tagged
// subject in the event v.
func subjectOf(v reflect.Value, subject string, md domain.Metadata) (uuid.UUID, error) {
	var id uuid.UUID
	switch subject {
	case subjectActor:
		id = md.Actor
	case subjectProtagonists:
		ps := v.FieldByName(subject).Interface().([]domain.Protagonist)
		for _, p := range ps {
			if p.Role == domain.ProtagonistAuthor {
				id = p.Account
				break
			}
		}
		if id == uuid.Nil && len(ps) > 0 {
			id = ps[0].Account
		}
	default:
		id = v.FieldByName(subject).Interface().(uuid.UUID)
	}
	if id == uuid.Nil {
		return uuid.Nil, fmt.Errorf("personal data of %s: no subject in %s", v.Type().Name(), subject)
	}
	return id, nil
}

// jsonName is a field's name in JSON.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}
