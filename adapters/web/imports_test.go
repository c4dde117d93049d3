package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/projections"
)

// The kept reports live in the read-model store: imports over the same
// store read them.
func TestImportReportsKept(t *testing.T) {
	t.Parallel()
	docs := projections.NewMemoryDocs()
	id := uuid.New()
	rep := &directoryimport.Report{
		CorrelationID: id, Actor: uuid.New(), Mode: directoryimport.ModeFull, Feed: "full feed: students.csv",
		Records: 3, Persons: 2, Establishments: []string{"0130001A"}, MaxRejected: 0.5,
		Rejected: []directoryimport.Issue{{Place: directoryimport.Place{File: "students.csv", Line: 3}, ID: "S03", Reason: "no last name"}},
		Events:   2, Started: time.Date(2006, 3, 14, 10, 0, 0, 0, time.UTC),
	}
	if err := (&Imports{cfg: ImportsConfig{Reports: docs}}).KeepImport(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	s := &Imports{cfg: ImportsConfig{Reports: docs}}
	kept, err := s.KeptImport(context.Background(), id)
	if err != nil || kept.Events != 2 || kept.Rejected[0].Line != 3 {
		t.Fatalf("kept %+v, %v", kept, err)
	}
	raw, ok, err := docs.Reader(importsNamespace).Get(context.Background(), importsColl, id.String())
	if err != nil || !ok || !json.Valid(raw) {
		t.Fatalf("document: %v %v", ok, err)
	}
	var _ projections.DocStore = docs
}
