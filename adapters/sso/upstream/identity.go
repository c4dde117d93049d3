package upstream

import (
	"fmt"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/domain"
)

// Limits of what an identity provider may assert. An identity can end in
// the log (the link of an external identity to an account), so its texts
// pass the same checks as any text entering it.
var (
	subjectText   = domain.TextKind{Name: "subject", MaxRunes: 255}
	attrNameText  = domain.TextKind{Name: "attribute", MaxRunes: 200}
	attrValueText = domain.TextKind{Name: "value", MaxRunes: 2000}
)

const (
	// MaxAttributes bounds the attributes of an identity.
	MaxAttributes = 100
	// MaxValues bounds the values of one attribute.
	MaxValues = 200
)

// CheckIdentity refuses an identity whose provider, protocol or subject
// is empty, or any of whose texts is not valid one-line UTF-8 without
// control characters within its length, or that carries too many
// attributes or values. The error names what is wrong, never its value.
func CheckIdentity(id sso.Identity) error {
	if id.Provider == "" || id.Protocol == "" {
		return fmt.Errorf("identity: no provider or protocol")
	}
	if id.Subject == "" {
		return fmt.Errorf("identity: empty subject")
	}
	if err := subjectText.Check("subject", id.Subject); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if err := subjectText.Check("session_index", id.SessionIndex); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if len(id.Attributes) > MaxAttributes {
		return fmt.Errorf("identity: %d attributes, at most %d", len(id.Attributes), MaxAttributes)
	}
	for name, values := range id.Attributes {
		if name == "" {
			return fmt.Errorf("identity: empty attribute name")
		}
		if err := attrNameText.Check("attribute name", name); err != nil {
			return fmt.Errorf("identity: %w", err)
		}
		if len(values) > MaxValues {
			return fmt.Errorf("identity: attribute %q: %d values, at most %d", name, len(values), MaxValues)
		}
		for i, v := range values {
			if err := attrValueText.Check(fmt.Sprintf("%s[%d]", name, i), v); err != nil {
				return fmt.Errorf("identity: %w", err)
			}
		}
	}
	return nil
}
