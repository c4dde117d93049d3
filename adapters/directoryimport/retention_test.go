package directoryimport_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/projections"
)

// TestDeleteEndedBefore: the jobs that ended before the day go with their
// reports; those that ended since, and those not over, stay.
func TestDeleteEndedBefore(t *testing.T) {
	ctx := context.Background()
	jobs := directoryimport.NewDocJobs(projections.NewMemoryDocs())
	cutoff := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	old, refused, recent, running := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	for _, j := range []*directoryimport.Job{
		{ID: old, State: directoryimport.JobDone, Created: cutoff.AddDate(0, -2, 0), Finished: cutoff.AddDate(0, -2, 0)},
		{ID: refused, State: directoryimport.JobRefused, Created: cutoff.AddDate(0, -1, 0)},
		{ID: recent, State: directoryimport.JobDone, Created: cutoff.AddDate(0, 0, -1), Finished: cutoff.AddDate(0, 0, 1)},
		{ID: running, State: directoryimport.JobRunning, Created: cutoff.AddDate(0, -3, 0)},
	} {
		if _, _, err := jobs.Create(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	n, err := jobs.DeleteEndedBefore(ctx, cutoff)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2", n, err)
	}
	for id, kept := range map[uuid.UUID]bool{old: false, refused: false, recent: true, running: true} {
		_, err := jobs.Job(ctx, id)
		if (err == nil) != kept {
			t.Errorf("job %s: %v, kept %v", id, err, kept)
		}
	}
}
