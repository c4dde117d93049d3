// Package subjectexport gathers everything the ledger holds about one
// person, for their rights of access and portability (GDPR art. 15 and
// 20): their directory entry, the current view of their student file,
// and every event of the log about them, in log order. It writes it as a
// JSON archive or as a readable French summary, both streamed: the log is
// read in batches and only small sets of ids are kept (the person's
// groups, bookings and articles), whatever the length of the history.
//
// What is about the person: every event whose subjects include them
// (domain.Subjects), the messages they received through a group they were
// a member of when the message was sent (the mailbox's rule), and what
// became of the bookings they requested and the articles they wrote.
// Other children's data does not leak: an incident shows the person's own
// part and only the roles of its other protagonists
// (visibility.RedactIncident, the rule families read incidents by), and a
// message they received names no other recipient.
package subjectexport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Log is what an export reads of the event store: the global log, in
// order, a batch at a time (projections.Log's ReadAll).
type Log interface {
	ReadAll(ctx context.Context, after domain.Position, limit int) ([]domain.Record, error)
}

// Directory is what an export reads of the read models.
type Directory interface {
	Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
	Establishment(ctx context.Context, uai string) (*projections.EstablishmentEntry, error)
	StudentFile(ctx context.Context, student uuid.UUID, from, to domain.Date) (*projections.StudentFile, error)
}

// Recorder records each export before it is written.
type Recorder interface {
	RecordDataExport(ctx context.Context, req commands.Request, cmd domain.RecordDataExport) (commands.Result, error)
}

// Words are the French words of the summary: the portal's catalogue
// (i18n.Lang) in its default language.
type Words interface {
	T(key string, args ...any) string
	// N is T for a count: key.one or key.other by n, n first.
	N(key string, n int, args ...any) string
	Label(kind string, value any) string
	Date(d domain.Date) string
}

// DefaultBatch is how many events an export reads from the log at a time.
const DefaultBatch = 500

// Config configures an Exporter.
type Config struct {
	Log       Log
	Directory Directory
	Registry  *domain.Registry
	Recorder  Recorder
	Words     Words
	// Location is the establishments' time zone (Europe/Paris by default
	// in the binary; UTC when nil).
	Location *time.Location
	// Now stamps the archive (time.Now by default).
	Now func() time.Time
	// Batch is how many events are read at a time (DefaultBatch when 0).
	Batch int
	// TempDir holds the summary's sections while the log is read (the
	// system's temporary directory when empty).
	TempDir string
}

// Exporter writes exports of persons' data.
type Exporter struct {
	cfg Config
}

// New returns an exporter.
func New(cfg Config) (*Exporter, error) {
	switch {
	case cfg.Log == nil:
		return nil, errors.New("subjectexport: Log is required")
	case cfg.Directory == nil:
		return nil, errors.New("subjectexport: Directory is required")
	case cfg.Registry == nil:
		return nil, errors.New("subjectexport: Registry is required")
	case cfg.Recorder == nil:
		return nil, errors.New("subjectexport: Recorder is required")
	case cfg.Words == nil:
		return nil, errors.New("subjectexport: Words is required")
	case cfg.Batch < 0:
		return nil, fmt.Errorf("subjectexport: Batch %d is negative", cfg.Batch)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	return &Exporter{cfg: cfg}, nil
}

// Flusher is a writer that can push what it holds to its reader (an HTTP
// response); an export flushes after each batch it wrote.
type Flusher interface {
	Flush() error
}

// Export records that req's actor exports the data of subject in format
// f (refused, with the domain's error, unless they may: the person, a
// legal guardian, an administrator of their establishment, the ledger),
// then writes the export to w. Nothing is written when the record is
// refused; an error after the first byte leaves w incomplete.
func (x *Exporter) Export(ctx context.Context, w io.Writer, req commands.Request, subject uuid.UUID, f domain.ExportFormat) error {
	if !f.Valid() {
		return domain.Errorf(domain.ErrInvalid, "format %q is not json or html", f)
	}
	if _, err := x.cfg.Recorder.RecordDataExport(ctx, req, domain.RecordDataExport{Subject: subject, Format: f}); err != nil {
		return err
	}
	return x.Write(ctx, w, subject, f)
}

// Write writes the export of subject's data in format f, without
// recording it: callers record it first (Export).
func (x *Exporter) Write(ctx context.Context, w io.Writer, subject uuid.UUID, f domain.ExportFormat) error {
	acc, err := x.cfg.Directory.Account(ctx, subject)
	if errors.Is(err, domain.ErrUnknownAccount) {
		// The read models do not know the person yet (behind the log, or
		// not built where the export runs): the log, complete, is all
		// there is to show.
		acc, err = &projections.AccountEntry{ID: subject}, nil
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", subject, err)
	}
	switch f {
	case domain.ExportJSON:
		err = x.writeJSON(ctx, w, acc)
	case domain.ExportHTML:
		err = x.writeHTML(ctx, w, acc)
	default:
		err = domain.Errorf(domain.ErrInvalid, "format %q is not json or html", f)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", subject, err)
	}
	return nil
}

// establishments returns the entries of the account's establishments,
// its main one first; one the directory no longer knows is left out.
func (x *Exporter) establishments(ctx context.Context, acc *projections.AccountEntry) ([]projections.EstablishmentEntry, error) {
	var out []projections.EstablishmentEntry
	for _, uai := range append([]string{acc.Establishment}, acc.Establishments...) {
		if uai == "" {
			continue
		}
		e, err := x.cfg.Directory.Establishment(ctx, uai)
		if errors.Is(err, domain.ErrUnknownEstablishment) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, nil
}

// studentFile calls fn with each part of a student's current file, from
// its beginning: the read model answers a long file in parts.
func (x *Exporter) studentFile(ctx context.Context, acc *projections.AccountEntry, fn func(*projections.StudentFile) error) error {
	if acc.Profile != domain.ProfileStudent {
		return nil
	}
	var from domain.Date
	for {
		f, err := x.cfg.Directory.StudentFile(ctx, acc.ID, from, domain.Date{})
		if err != nil {
			return fmt.Errorf("student file: %w", err)
		}
		if err := fn(f); err != nil {
			return err
		}
		next := f.Next()
		if next.IsZero() || !from.Before(next) && !from.IsZero() {
			return nil
		}
		from = next
	}
}

// flush pushes what bw holds to w's reader.
func flush(bw interface{ Flush() error }, w io.Writer) error {
	if err := bw.Flush(); err != nil {
		return err
	}
	if f, ok := w.(Flusher); ok {
		return f.Flush()
	}
	return nil
}

// marshal encodes v without escaping HTML characters, as stored payloads
// are.
func marshal(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}
