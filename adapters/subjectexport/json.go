package subjectexport

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/projections"
)

// DirectoryEntry is the person's entry in the archive: their account
// as the directory holds it (establishments, functions, groups, relatives
// or children) and their establishments.
type DirectoryEntry struct {
	Account        *projections.AccountEntry        `json:"account"`
	Establishments []projections.EstablishmentEntry `json:"establishments"`
}

// writeJSON writes the archive: one JSON document,
//
//	{"subject": id, "generated_at": time, "directory": {...},
//	 "student_file": [part, ...], "events": [item, ...]}
//
// streamed: each part of the file and each event is encoded as it is
// read, and w flushed after each batch of the log.
func (x *Exporter) writeJSON(ctx context.Context, w io.Writer, acc *projections.AccountEntry) error {
	ests, err := x.establishments(ctx, acc)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	head := struct {
		Subject     uuid.UUID      `json:"subject"`
		GeneratedAt time.Time      `json:"generated_at"`
		Directory   DirectoryEntry `json:"directory"`
	}{acc.ID, x.cfg.Now().UTC(), DirectoryEntry{Account: acc, Establishments: ests}}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	// The head without its closing brace: the lists follow.
	bw.Write(b[:len(b)-1])
	bw.WriteString(`,"student_file":[`)
	first := true
	err = x.studentFile(ctx, acc, func(f *projections.StudentFile) error {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		return enc.Encode(f)
	})
	if err != nil {
		return err
	}
	bw.WriteString(`],"events":[`)
	first = true
	err = x.scan(ctx, acc.ID, func(it *Item) error {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		if err := enc.Encode(it); err != nil {
			return err
		}
		if bw.Buffered() > 32<<10 {
			return flush(bw, w)
		}
		return nil
	})
	if err != nil {
		return err
	}
	bw.WriteString("]}\n")
	return flush(bw, w)
}
