package directoryimport

// Import jobs: an uploaded feed is imported in the background, not inside
// the request that brought it. Start answers at once with the job; the job
// runs when its turn comes, writes its progress now and then, and keeps its
// report; Status reads it back from any node.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// JobState is where an import job is.
type JobState string

// Job states: queued and running jobs are live; the others are final.
const (
	JobQueued  JobState = "queued"
	JobRunning JobState = "running"
	// JobDone: the import ran to its end (a dry run included); the report
	// may still list changes the ledger refused.
	JobDone JobState = "done"
	// JobRefused: the import was refused whole, nothing written.
	JobRefused JobState = "refused"
	// JobFailed: the import stopped midway (the store, a shutdown, a node
	// that died); running it again finishes it.
	JobFailed JobState = "failed"
)

// Live reports whether a job in state s has not ended.
func (s JobState) Live() bool { return s == JobQueued || s == JobRunning }

// Job is an import job as kept: what it is, how far it is, and once ended
// its report.
type Job struct {
	// ID is also the import's correlation id.
	ID uuid.UUID `json:"id"`
	// Actor is the administrator who started the job.
	Actor  uuid.UUID `json:"actor"`
	State  JobState  `json:"state"`
	DryRun bool      `json:"dry_run"`
	// Files are the names of the uploaded files, in import order.
	Files []string `json:"files"`
	// Establishments are the UAIs of the feed, known once it is read.
	Establishments []string    `json:"establishments,omitempty"`
	Progress       JobProgress `json:"progress"`
	Created        time.Time   `json:"created"`
	Started        time.Time   `json:"started,omitzero"`
	Finished       time.Time   `json:"finished,omitzero"`
	// Heartbeat is when the process holding a live job last said so: a
	// live job whose heartbeat is older than the lease was left behind by
	// a process that stopped, and reads as failed.
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	// Error says why a job was refused or failed; Code classifies it
	// (invalid, forbidden...) when it is a domain error.
	Error string      `json:"error,omitempty"`
	Code  domain.Code `json:"code,omitempty"`
	// Report is the import's report once the job ended (refused and failed
	// ones included, when the import got that far), its long lists cut to
	// their first maxKeptIssues entries; Truncated says so.
	Report    *Report `json:"report,omitempty"`
	Truncated bool    `json:"truncated,omitempty"`
}

// JobProgress is how far a job is, as of its last write.
type JobProgress struct {
	Phase Phase `json:"phase,omitempty"`
	// File is the file being read.
	File string `json:"file,omitempty"`
	// BytesRead of the BytesTotal of all files; ReadPercent is their share.
	BytesRead   int64   `json:"bytes_read"`
	BytesTotal  int64   `json:"bytes_total"`
	ReadPercent float64 `json:"read_percent"`
	// Records are the log records folded into the current directory.
	Records int64 `json:"records"`
	// Changes applied of ChangesTotal planned, and the events written.
	Changes      int64 `json:"changes"`
	ChangesTotal int64 `json:"changes_total"`
	Events       int64 `json:"events"`
}

// ReadableBy reports whether a may read the job: the administrator who
// started it; the administrators, and the inspectors habilitated, for
// every establishment of the feed (before the feed is read, only those of
// every establishment).
func (j *Job) ReadableBy(a domain.Actor) bool {
	if j.Actor != uuid.Nil && a.Account == j.Actor {
		return true
	}
	all := func(may func(string) bool) bool {
		if len(j.Establishments) == 0 {
			return may("")
		}
		for _, uai := range j.Establishments {
			if !may(uai) {
				return false
			}
		}
		return true
	}
	return (a.Profile == domain.ProfileAdmin && all(a.IsAdmin)) ||
		(a.Profile == domain.ProfileInspector && all(a.Habilitated))
}

// File is an uploaded file on local disk.
type File struct {
	// Name is the file's name as uploaded: AAF files are recognized by it.
	Name string
	Path string
	Size int64
}

// StartJob asks for an import job.
type StartJob struct {
	// Actor is the administrator who starts it: the import runs as them.
	Actor domain.Actor
	// Files are the feed's files (imported in name order). The job owns
	// them from Start on, and removes them when it ends, whatever the
	// outcome; Start removes them itself when it starts nothing.
	Files []File
	// Dir, when set, is removed with everything in it along with Files
	// (the upload's temporary directory).
	Dir      string
	Format   Format
	Profile  domain.Profile // CSV: the files' persons
	Encoding string         // CSV, ONDE: the files' encoding
	UAI      string         // ONDE: the école the extraction is from
	// Options: mode, dry run, grace, the guards' shares, force (the job
	// sets the correlation id, the actor and the progress).
	Options Options
	// IdempotencyKey, when set, makes the job's id: starting again with the
	// same key (by the same actor) returns the same job, and imports
	// nothing again.
	IdempotencyKey string
}

// Defaults of JobsConfig.
const (
	DefaultMaxRunning    = 1
	DefaultProgressEvery = 2 * time.Second
	DefaultLease         = time.Minute
	DefaultLockRetry     = 5 * time.Second
	// lockName is the Locker's lock of a running import.
	lockName = "directoryimport"
	// finalSaveTimeout bounds the write of an ended job, shutdown included.
	finalSaveTimeout = 30 * time.Second
	// maxKeptIssues bounds each list of a kept report.
	maxKeptIssues = 1000
)

// ErrJobsClosed is returned by Start once Close has been called.
var ErrJobsClosed = errors.New("directory import jobs: closed")

// Locker elects one holder of a named lock among the nodes:
// adapters/readstore's Store is one (a Postgres advisory lock, a file lock
// beside a SQLite database).
type Locker interface {
	// TryAcquire takes the lock if it is free; the returned context ends
	// if the lock is lost, release frees it.
	TryAcquire(ctx context.Context, name string) (held context.Context, release func(), ok bool, err error)
}

// JobsConfig configures Jobs.
type JobsConfig struct {
	Importer *Importer
	Store    JobStore
	// MaxRunning is how many imports run at once in this process (default
	// 1); the others wait their turn, queued. One suffices: an import
	// folds the whole directory into memory and already spreads its
	// commands over the importer's workers, and two imports of one
	// directory running side by side would plan from the same state, each
	// unaware of the other's changes, where in turn each plans from the
	// last one's result.
	MaxRunning int
	// Locker, when set, makes imports run one at a time across the nodes
	// that share it, for the same reason; a job waits for the lock queued,
	// trying again every LockRetry (default 5s).
	Locker    Locker
	LockRetry time.Duration
	// ProgressEvery is how often a running job's progress is written, at
	// most (default 2s): the importer reports far more often.
	ProgressEvery time.Duration
	// Lease is how long a live job stays live without a heartbeat (default
	// 1 min); the process holding it writes one every Lease/4. It must be
	// at least four times ProgressEvery.
	Lease time.Duration
	// Now is the clock of the jobs' times (time.Now by default).
	Now    func() time.Time
	Logger *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *JobsConfig) Validate() error {
	var errs []error
	if c.Importer == nil {
		errs = append(errs, errors.New("Importer is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if c.MaxRunning == 0 {
		c.MaxRunning = DefaultMaxRunning
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = DefaultProgressEvery
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.LockRetry <= 0 {
		c.LockRetry = DefaultLockRetry
	}
	if c.MaxRunning < 0 {
		errs = append(errs, fmt.Errorf("MaxRunning %d is negative", c.MaxRunning))
	}
	if c.ProgressEvery < 0 || c.Lease < 4*c.ProgressEvery {
		errs = append(errs, fmt.Errorf("Lease %s must be at least four times ProgressEvery %s", c.Lease, c.ProgressEvery))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return fmt.Errorf("directory import jobs: %w", errors.Join(errs...))
	}
	return nil
}

// Jobs runs import jobs in the background. Close stops them.
type Jobs struct {
	cfg  JobsConfig
	ctx  context.Context // ends at Close: the jobs run under it
	stop context.CancelFunc
	sem  chan struct{} // a slot per running import
	// open opens an uploaded file (os.Open; tests slow it down).
	open func(path string) (io.ReadCloser, error)

	mu     sync.Mutex
	closed bool
	held   map[uuid.UUID]*heldJob // the live jobs of this process
	ended  map[JobState]int64     // the jobs this process ended, by final state
	jobs   sync.WaitGroup
	loop   sync.WaitGroup
}

// NewJobs returns a job service; its heartbeat and progress writer runs
// until Close.
func NewJobs(cfg JobsConfig) (*Jobs, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Jobs{cfg: cfg, ctx: ctx, stop: stop, sem: make(chan struct{}, cfg.MaxRunning),
		open: func(path string) (io.ReadCloser, error) { return os.Open(path) },
		held: make(map[uuid.UUID]*heldJob), ended: make(map[JobState]int64)}
	s.loop.Add(1)
	go s.writeLoop()
	return s, nil
}

// Close cancels the running imports, fails the queued ones, waits for
// every job to be written and its files removed, and stops the service.
func (s *Jobs) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	s.jobs.Wait()
	s.loop.Wait()
	return nil
}

// JobStats counts this process's jobs: the live ones by state (queued,
// running), and those it ended since it started, by final state (done,
// refused, failed).
type JobStats struct {
	Live, Ended map[JobState]int64
}

// Stats returns the counts of this process's jobs (the metrics of
// `serve`).
func (s *Jobs) Stats() JobStats {
	s.mu.Lock()
	held := make([]*heldJob, 0, len(s.held))
	for _, h := range s.held {
		held = append(held, h)
	}
	st := JobStats{Live: map[JobState]int64{JobQueued: 0, JobRunning: 0}, Ended: make(map[JobState]int64, 3)}
	for _, state := range []JobState{JobDone, JobRefused, JobFailed} {
		st.Ended[state] = s.ended[state]
	}
	s.mu.Unlock()
	for _, h := range held {
		h.mu.Lock()
		if !h.ended {
			st.Live[h.job.State]++
		}
		h.mu.Unlock()
	}
	return st
}

// Start starts an import job, or returns the job its idempotency key
// already started (replayed). It returns at once: the import runs in the
// background. Errors: domain.ErrForbidden for an actor who is not an
// administrator, domain.ErrInvalid for a bad request, ErrJobsClosed after
// Close.
func (s *Jobs) Start(ctx context.Context, req StartJob) (job *Job, replayed bool, err error) {
	owned := true // the files, until a job takes them
	defer func() {
		if owned {
			removeFiles(req)
		}
	}()
	sources, opts, err := s.prepare(req)
	if err != nil {
		return nil, false, err
	}
	now := s.cfg.Now()
	j := &Job{ID: opts.CorrelationID, Actor: req.Actor.Account, State: JobQueued, DryRun: opts.DryRun,
		Created: now, Heartbeat: now}
	for _, src := range sources {
		j.Files = append(j.Files, src.Name)
		j.Progress.BytesTotal += src.Size
	}

	// Under the lock, so that Close never misses a job started here: it
	// either refuses the start or waits for the job.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, ErrJobsClosed
	}
	if h, ok := s.held[j.ID]; ok { // started here and running: no store round trip
		snap := h.snapshot()
		return &snap, true, nil
	}
	kept, created, err := s.cfg.Store.Create(ctx, j)
	if err != nil {
		return nil, false, err
	}
	if !created {
		s.expire(kept)
		return kept, true, nil
	}
	h := &heldJob{job: *j, lastSave: now}
	s.held[j.ID] = h
	owned = false
	s.jobs.Add(1)
	go s.run(h, req, sources, opts)
	return j, false, nil
}

// prepare checks a request and returns its sources and options.
func (s *Jobs) prepare(req StartJob) ([]Source, Options, error) {
	opts := req.Options
	if req.Actor.Profile != domain.ProfileAdmin || req.Actor.Account == uuid.Nil {
		return nil, opts, domain.Errorf(domain.ErrForbidden, "only administrators import directory feeds")
	}
	bad := func(format string, args ...any) error { return domain.Errorf(domain.ErrInvalid, format, args...) }
	switch req.Format {
	case FormatAAF:
	case FormatCSV:
		switch req.Profile {
		case domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel:
		default:
			return nil, opts, bad("profile %q is not student, relative, teacher or personnel", req.Profile)
		}
		if err := CheckEncoding(req.Encoding); err != nil {
			return nil, opts, bad("%v", err)
		}
	case FormatONDE:
		if !domain.ValidUAI(strings.ToUpper(req.UAI)) {
			return nil, opts, bad("an ONDE extraction needs its école's UAI (%q is not seven digits and a letter)", req.UAI)
		}
		if err := CheckEncoding(req.Encoding); err != nil {
			return nil, opts, bad("%v", err)
		}
	default:
		return nil, opts, bad("format %q is not aaf, csv or onde", req.Format)
	}
	if err := opts.Validate(); err != nil {
		return nil, opts, err
	}
	if len(req.Files) == 0 {
		return nil, opts, bad("no file to import")
	}
	files := slices.Clone(req.Files)
	slices.SortStableFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	sources := make([]Source, 0, len(files))
	for _, f := range files {
		sources = append(sources, Source{Name: f.Name, Format: req.Format, Profile: req.Profile, Encoding: req.Encoding, UAI: strings.ToUpper(req.UAI), Size: f.Size,
			Open: func() (io.ReadCloser, error) { return s.open(f.Path) }})
	}
	opts.Actor = req.Actor.Account
	opts.CorrelationID = uuid.New()
	if req.IdempotencyKey != "" {
		// The correlation id of uploads before imports became jobs: a retry
		// across the upgrade finds the kept report.
		opts.CorrelationID = domain.DeterministicID("directory-import", req.Actor.Account.String(), req.IdempotencyKey)
	}
	return sources, opts, nil
}

// Status returns a job as viewer may see it. A live job left behind by a
// process that stopped (no heartbeat for a lease) reads as failed. Errors:
// domain.ErrNotFound, domain.ErrForbidden.
func (s *Jobs) Status(ctx context.Context, viewer domain.Actor, id uuid.UUID) (*Job, error) {
	job, err := s.cfg.Store.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if !job.ReadableBy(viewer) {
		return nil, domain.Errorf(domain.ErrForbidden, "%s may not read import %s", viewer.Profile, id)
	}
	s.expire(job)
	return job, nil
}

// expire fails a live job whose heartbeat is older than the lease. It is
// not written back: should its process come back to life, its next write
// tells the truth again.
func (s *Jobs) expire(job *Job) {
	if !job.State.Live() || s.cfg.Now().Sub(job.Heartbeat) <= s.cfg.Lease {
		return
	}
	job.State, job.Finished = JobFailed, job.Heartbeat
	job.Error = fmt.Sprintf("abandoned: the server running the import stopped (last seen %s); start it again to finish it",
		job.Heartbeat.UTC().Format(time.RFC3339))
}

// heldJob is a live job of this process.
type heldJob struct {
	saveMu sync.Mutex // one write at a time, in order

	mu       sync.Mutex
	job      Job
	dirty    bool // progress not written yet
	ended    bool // the final write is done or under way
	lastSave time.Time
	readBase int64 // bytes of the files read before the current one
}

func (h *heldJob) snapshot() Job {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.job
}

// progress takes the importer's progress in; writeLoop writes it.
func (h *heldJob) progress(p Progress) {
	h.mu.Lock()
	defer h.mu.Unlock()
	jp := &h.job.Progress
	if p.Phase == PhaseParse && p.File == "" {
		// Archives opened: the bytes to read are their files'.
		jp.Phase, jp.BytesTotal = p.Phase, p.Total
		h.dirty = true
		return
	}
	if p.Phase != PhaseParse || p.File != jp.File {
		h.readBase = jp.BytesRead
	}
	jp.Phase = p.Phase
	switch p.Phase {
	case PhaseParse:
		jp.File, jp.BytesRead = p.File, h.readBase+p.Done
		if jp.BytesTotal > 0 {
			jp.ReadPercent = min(100, 100*float64(jp.BytesRead)/float64(jp.BytesTotal))
		}
	case PhaseLoad:
		jp.File, jp.Records = "", p.Done
	case PhaseApply:
		jp.File, jp.Changes, jp.ChangesTotal, jp.Events = "", p.Done, p.Total, p.Events
	}
	h.dirty = true
}

// run runs a job to its end and removes its files.
func (s *Jobs) run(h *heldJob, req StartJob, sources []Source, opts Options) {
	defer s.jobs.Done()
	defer func() {
		s.mu.Lock()
		delete(s.held, opts.CorrelationID)
		s.mu.Unlock()
	}()
	log := s.cfg.Logger.With("correlation_id", opts.CorrelationID, "actor", opts.Actor)
	notRun := func(j *Job) {
		j.State, j.Error = JobFailed, "the server stopped before the import ran; start it again"
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-s.ctx.Done():
		s.finish(log, h, req, notRun)
		return
	}
	if s.ctx.Err() != nil { // both were ready: start no import on the way out
		s.finish(log, h, req, notRun)
		return
	}
	ctx := s.ctx
	if s.cfg.Locker != nil {
		held, release, ok := s.lock(log)
		if !ok {
			s.finish(log, h, req, notRun)
			return
		}
		defer release()
		ctx = held
	}
	h.mu.Lock()
	h.job.State, h.job.Started = JobRunning, s.cfg.Now()
	h.dirty = true
	h.mu.Unlock()
	s.write(log, h, true)

	opts.Progress = h.progress
	rep, err := s.cfg.Importer.Import(ctx, sources, opts)
	s.finish(log, h, req, func(j *Job) {
		if rep != nil {
			j.Report, j.Truncated = kept(rep)
			j.Establishments = rep.Establishments
		}
		switch {
		case err == nil:
			j.State = JobDone
		case errors.Is(err, ErrRefused):
			j.State, j.Error, j.Code = JobRefused, err.Error(), domain.CodeOf(err)
		case s.ctx.Err() != nil:
			j.State, j.Error = JobFailed, "interrupted: the server stopped; start the import again to finish it"
		case ctx.Err() != nil:
			j.State, j.Error = JobFailed, "interrupted: the import lock was lost; start the import again to finish it"
		default:
			j.State, j.Error, j.Code = JobFailed, err.Error(), domain.CodeOf(err)
		}
	})
}

// lock takes the Locker's lock, trying again until Close (false then).
func (s *Jobs) lock(log *slog.Logger) (context.Context, func(), bool) {
	for {
		held, release, ok, err := s.cfg.Locker.TryAcquire(s.ctx, lockName)
		if ok {
			return held, release, true
		}
		if err != nil && s.ctx.Err() == nil {
			log.WarnContext(s.ctx, "directory import job: take the import lock", "err", err)
		}
		t := time.NewTimer(s.cfg.LockRetry)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return nil, nil, false
		case <-t.C:
		}
	}
}

// finish ends a job: removes its files, then writes it ended.
func (s *Jobs) finish(log *slog.Logger, h *heldJob, req StartJob, end func(*Job)) {
	removeFiles(req)
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	h.mu.Lock()
	end(&h.job)
	h.job.Finished = s.cfg.Now()
	h.job.Heartbeat = h.job.Finished
	h.ended = true
	job := h.job
	h.mu.Unlock()
	s.mu.Lock()
	s.ended[job.State]++
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), finalSaveTimeout)
	defer cancel()
	if err := s.cfg.Store.Save(ctx, &job); err != nil {
		// The job then reads as failed once its lease runs out.
		log.ErrorContext(ctx, "directory import job: keep the ended job", "state", job.State, "err", err)
		return
	}
	log.InfoContext(ctx, "directory import job ended", "state", job.State, "error", job.Error)
}

// writeLoop writes the held jobs' progress every ProgressEvery, when it
// moved, and their heartbeat every Lease/4.
func (s *Jobs) writeLoop() {
	defer s.loop.Done()
	tick := time.NewTicker(s.cfg.ProgressEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		held := make([]*heldJob, 0, len(s.held))
		ids := make([]uuid.UUID, 0, len(s.held))
		for id, h := range s.held {
			held, ids = append(held, h), append(ids, id)
		}
		s.mu.Unlock()
		for i, h := range held {
			s.write(s.cfg.Logger.With("correlation_id", ids[i]), h, false)
		}
	}
}

// write writes a live job when its progress moved, or its heartbeat is
// due, or when forced.
func (s *Jobs) write(log *slog.Logger, h *heldJob, force bool) {
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	now := s.cfg.Now()
	h.mu.Lock()
	if h.ended || !(force || h.dirty || now.Sub(h.lastSave) >= s.cfg.Lease/4) {
		h.mu.Unlock()
		return
	}
	h.job.Heartbeat, h.dirty, h.lastSave = now, false, now
	job := h.job
	h.mu.Unlock()
	if err := s.cfg.Store.Save(s.ctx, &job); err != nil && s.ctx.Err() == nil {
		log.WarnContext(s.ctx, "directory import job: write progress", "err", err)
	}
}

// kept returns the report as kept: its long lists cut (the whole report
// can be long: an académie's feed rejects thousands of records).
func kept(rep *Report) (*Report, bool) {
	k := *rep
	truncated := false
	cut := func(n int) int {
		if n > maxKeptIssues {
			truncated = true
			return maxKeptIssues
		}
		return n
	}
	k.Rejected = k.Rejected[:cut(len(k.Rejected))]
	k.Skipped = k.Skipped[:cut(len(k.Skipped))]
	k.Failed = k.Failed[:cut(len(k.Failed))]
	k.Changes = k.Changes[:cut(len(k.Changes))]
	return &k, truncated
}

// removeFiles removes a request's files and directory.
func removeFiles(req StartJob) {
	for _, f := range req.Files {
		_ = os.Remove(f.Path)
	}
	if req.Dir != "" {
		_ = os.RemoveAll(req.Dir)
	}
}
