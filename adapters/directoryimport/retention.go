package directoryimport

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/schoollife/ledger/projections"
)

// DeleteEndedBefore deletes the import jobs that ended (done, refused,
// failed) before a time, with their reports, which quote the feed's names
// (retention of import reports, docs/privacy.md), and the reports kept
// before imports became jobs alike. Jobs still queued or running stay. It
// returns how many it deleted.
func (d *DocJobs) DeleteEndedBefore(ctx context.Context, before time.Time) (int, error) {
	var doomed []projections.Doc
	r := d.docs.Reader(jobsNamespace)
	err := r.Scan(ctx, jobsColl, "", "", func(key string, doc []byte) error {
		var job Job
		if err := json.Unmarshal(doc, &job); err != nil {
			return fmt.Errorf("decode import job %s: %w", key, err)
		}
		if ended(job) && endedAt(job).Before(before) {
			doomed = append(doomed, projections.Doc{Coll: jobsColl, Key: key})
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list the import jobs: %w", err)
	}
	err = r.Scan(ctx, legacyReportsColl, "", "", func(key string, doc []byte) error {
		var legacy struct{ *Report }
		if err := json.Unmarshal(doc, &legacy); err != nil {
			return fmt.Errorf("decode import report %s: %w", key, err)
		}
		if legacy.Report != nil && legacy.Finished.Before(before) {
			doomed = append(doomed, projections.Doc{Coll: legacyReportsColl, Key: key})
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list the import reports: %w", err)
	}
	if len(doomed) == 0 {
		return 0, nil
	}
	if err := d.docs.Update(ctx, jobsNamespace, func(tx projections.DocTx) error { return tx.Put(ctx, doomed) }); err != nil {
		return 0, fmt.Errorf("delete %d import jobs: %w", len(doomed), err)
	}
	return len(doomed), nil
}

// ended reports whether a job is over.
func ended(job Job) bool {
	return job.State == JobDone || job.State == JobRefused || job.State == JobFailed
}

// endedAt is when a job ended, or was created when it says nothing more.
func endedAt(job Job) time.Time {
	if !job.Finished.IsZero() {
		return job.Finished
	}
	return job.Created
}
