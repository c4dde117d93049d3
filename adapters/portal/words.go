package portal

import (
	"fmt"

	"github.com/schoollife/ledger/adapters/portal/i18n"
)

// French returns the portal's catalogue in French, its default language:
// the words of what the ledger writes outside pages (the readable
// summary of a person's data, adapters/subjectexport).
func French() (*i18n.Lang, error) {
	c, err := i18n.Load(portalFiles, "templates/i18n")
	if err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	return c.Langs()[0], nil
}
