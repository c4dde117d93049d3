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
	// subject is the tag: whose key encrypts the value.
	subject string
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
		subject, ok := f.Tag.Lookup("personal")
		if !ok {
			continue
		}
		if err := checkSubject(t, subject); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		name := jsonName(f)
		switch {
		case f.Type.Kind() == reflect.String:
			out = append(out, field{index: f.Index, path: name, subject: subject})
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			inner := f.Type.Elem()
			n := 0
			for j := range inner.NumField() {
				g := inner.Field(j)
				if !g.IsExported() || g.Type.Kind() != reflect.String {
					continue
				}
				out = append(out, field{index: f.Index, inner: g.Index, path: name + "." + jsonName(g), subject: subject})
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
