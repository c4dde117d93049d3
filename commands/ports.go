package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// EventStore is what command handlers need of the event store.
type EventStore interface {
	// Append appends events to stream if its version matches expected. It
	// returns a *domain.Error matching domain.ErrVersionConflict when it does
	// not. Appending events whose ids are already stored at the end of that
	// stream, in that order, is a no-op that returns the original result;
	// an id stored in another stream gives domain.ErrDuplicateEvent.
	Append(ctx context.Context, stream string, expected domain.ExpectedVersion, events []domain.Envelope) (domain.AppendResult, error)
	// ReadStream returns the events of stream whose version is above from,
	// in order; none (and no error) for a stream that does not exist.
	ReadStream(ctx context.Context, stream string, from uint64) ([]domain.Record, error)
}

// Sealer seals the personal fields of an event before it is appended
// (adapters/subjectkeys): it returns the event to encode, whose personal
// strings are encrypted with their subjects' keys, and refuses with
// domain.ErrSubjectErased personal data about an erased person.
type Sealer interface {
	Seal(ctx context.Context, md domain.Metadata, e domain.Event) (domain.Event, error)
}

// SubjectPreparer is a Sealer that can get ready, in bulk, the keys of
// subjects about to be sealed for (Handlers.PrepareSubjects).
type SubjectPreparer interface {
	Prepare(ctx context.Context, subjects []uuid.UUID) error
}

// Shredder destroys the key of a person whose erasure was recorded.
type Shredder interface {
	Destroy(ctx context.Context, subject uuid.UUID) error
}

// RecordShredder destroys the key of one record of a person (kind
// "sanction": the texts of a sanction, `personal:"Student,record=Sanction"`)
// whose effacement was recorded.
type RecordShredder interface {
	DestroyRecord(ctx context.Context, subject uuid.UUID, kind string, record uuid.UUID) error
}
