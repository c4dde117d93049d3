package domain

import (
	"time"

	"github.com/google/uuid"
)

// AccountMissingFromFeed flags an imported account that a full directory
// feed no longer lists (or that a delta feed deleted). The account stays
// open: schools expect people to vanish from the feeds for a few days at the
// start of a school year. It is closed once the grace period, counted from
// Since, is over, unless a later feed lists it again. Stored on the account's
// stream.
type AccountMissingFromFeed struct {
	Account uuid.UUID `json:"account"`
	// Since is when an import first found the account missing.
	Since time.Time `json:"since"`
	// Feed says which import noticed (file names, full or delta).
	Feed string `json:"feed,omitempty"`
}

func (AccountMissingFromFeed) EventType() string { return "account.missing_from_feed.v1" }

// AccountBackInFeed clears the flag: a feed lists the account again.
type AccountBackInFeed struct {
	Account uuid.UUID `json:"account"`
	Feed    string    `json:"feed,omitempty"`
}

func (AccountBackInFeed) EventType() string { return "account.back_in_feed.v1" }

// ImportForced records that a directory import was forced past the guards
// that would have refused it (too many people left out, mass renames or
// closings, a full feed missing part files, a file whose declared encoding
// does not match its bytes). It is appended before the import's other
// events, under the same correlation id, on the import's own stream.
type ImportForced struct {
	// Import is the import's correlation id.
	Import uuid.UUID `json:"import"`
	// Feed says which files, full or delta.
	Feed string `json:"feed"`
	// Establishments are the UAIs the feed concerns.
	Establishments []string `json:"establishments,omitempty"`
	// Guards names the guards forced: rejected, skipped, changes, parts,
	// encoding.
	Guards []string `json:"guards"`
	// Details says what each guard found, in words.
	Details string `json:"details"`
}

func (ImportForced) EventType() string { return "import.forced.v1" }
