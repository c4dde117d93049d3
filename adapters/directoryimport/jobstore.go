package directoryimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// JobStore keeps import jobs and their reports. Jobs must be readable by
// every node and outlive the process that ran them: Jobs uses it for the
// status of a job, whichever node started it.
type JobStore interface {
	// Create keeps job unless a job with its id is kept already: it returns
	// the kept job and whether it is the one just created. Two nodes
	// creating the same job at once create it once.
	Create(ctx context.Context, job *Job) (kept *Job, created bool, err error)
	// Save replaces a kept job.
	Save(ctx context.Context, job *Job) error
	// Job returns a kept job, or an error matching domain.ErrNotFound.
	Job(ctx context.Context, id uuid.UUID) (*Job, error)
}

// Where DocJobs keeps jobs: one document per job, keyed by its id, beside
// the reports kept before imports became jobs (read as finished jobs).
const (
	jobsNamespace     = "imports@1"
	jobsColl          = "jobs"
	legacyReportsColl = "reports"
	// createAttempts bounds the retries of a creation that met another.
	createAttempts = 5
)

// DocJobs keeps jobs in a read-model store (SQLite or Postgres through
// adapters/readstore), which every node shares.
type DocJobs struct {
	docs projections.DocStore
}

var _ JobStore = (*DocJobs)(nil)

// NewDocJobs returns a job store over docs.
func NewDocJobs(docs projections.DocStore) *DocJobs { return &DocJobs{docs: docs} }

// Create implements JobStore. Each creation advances the namespace's
// checkpoint, which the read-model store only lets move forward: of two
// transactions creating a job at once (on Postgres, under read committed,
// both may see no job), one commits and the other fails, retries and finds
// the job.
func (d *DocJobs) Create(ctx context.Context, job *Job) (*Job, bool, error) {
	doc, err := json.Marshal(job)
	if err != nil {
		return nil, false, fmt.Errorf("encode import job %s: %w", job.ID, err)
	}
	for attempt := 1; ; attempt++ {
		seq, err := d.docs.Checkpoint(ctx, jobsNamespace)
		if err != nil {
			return nil, false, fmt.Errorf("create import job %s: %w", job.ID, err)
		}
		var kept *Job
		err = d.docs.Update(ctx, jobsNamespace, func(tx projections.DocTx) error {
			k, err := d.get(ctx, tx, job.ID)
			switch {
			case err == nil:
				kept = k
				return nil
			case !errors.Is(err, domain.ErrNotFound):
				return err
			}
			if err := tx.Put(ctx, []projections.Doc{{Coll: jobsColl, Key: job.ID.String(), Value: doc}}); err != nil {
				return err
			}
			return tx.SetCheckpoint(ctx, domain.Position{Tx: seq.Tx, Seq: seq.Seq + 1})
		})
		switch {
		case err == nil && kept != nil:
			return kept, false, nil
		case err == nil:
			return job, true, nil
		case attempt == createAttempts || ctx.Err() != nil:
			return nil, false, fmt.Errorf("create import job %s: %w", job.ID, err)
		}
	}
}

// Save implements JobStore.
func (d *DocJobs) Save(ctx context.Context, job *Job) error {
	doc, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encode import job %s: %w", job.ID, err)
	}
	err = d.docs.Update(ctx, jobsNamespace, func(tx projections.DocTx) error {
		return tx.Put(ctx, []projections.Doc{{Coll: jobsColl, Key: job.ID.String(), Value: doc}})
	})
	if err != nil {
		return fmt.Errorf("save import job %s: %w", job.ID, err)
	}
	return nil
}

// Job implements JobStore.
func (d *DocJobs) Job(ctx context.Context, id uuid.UUID) (*Job, error) {
	return d.get(ctx, d.docs.Reader(jobsNamespace), id)
}

// get reads a job, or a report kept before imports became jobs.
func (d *DocJobs) get(ctx context.Context, r projections.DocReader, id uuid.UUID) (*Job, error) {
	var job Job
	ok, err := projections.GetJSON(ctx, r, jobsColl, id.String(), &job)
	if err != nil {
		return nil, fmt.Errorf("read import job %s: %w", id, err)
	}
	if ok {
		return &job, nil
	}
	var legacy struct {
		*Report
		Truncated bool `json:"truncated,omitempty"`
	}
	ok, err = projections.GetJSON(ctx, r, legacyReportsColl, id.String(), &legacy)
	if err != nil {
		return nil, fmt.Errorf("read import report %s: %w", id, err)
	}
	if !ok || legacy.Report == nil {
		return nil, domain.Errorf(domain.ErrNotFound, "no import %s", id)
	}
	return legacyJob(legacy.Report, legacy.Truncated), nil
}

// legacyJob presents a report kept before imports became jobs as the job
// that would have made it.
func legacyJob(rep *Report, truncated bool) *Job {
	job := &Job{
		ID: rep.CorrelationID, Actor: rep.Actor, State: JobDone, DryRun: rep.DryRun,
		Establishments: rep.Establishments, Created: rep.Started, Started: rep.Started, Finished: rep.Finished,
		Report: rep, Truncated: truncated,
	}
	for _, f := range rep.Files {
		job.Files = append(job.Files, f.Name)
	}
	if rep.Refused != "" {
		job.State, job.Error, job.Code = JobRefused, rep.Refused, domain.CodeInvalid
	}
	return job
}
