// Package erasure runs the erasures of persons' data that administrators
// ask for through the API and the portal (docs/privacy.md, "Erasing"): it
// records each erasure (the EraseSubject command, which destroys the
// person's key), then runs the scrub that makes it effective in the
// database files (every projection rebuilt, the database compacted) as a
// background job, one at a time on this node and across the nodes that
// share a database, and records its end in the log
// (privacy.subject_scrubbed.v1). Erasures that arrive while a scrub runs
// wait, and the next scrub covers them all. A node that starts resumes the
// erasures the log records with no scrub.
package erasure

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Handlers are the commands the jobs issue.
type Handlers interface {
	EraseSubject(ctx context.Context, req commands.Request, cmd domain.EraseSubject) (commands.Result, error)
	RecordScrub(ctx context.Context, req commands.Request, cmd domain.RecordScrub) (commands.Result, error)
}

// Records reads the directory and the erasures' read model
// (projections.Queries).
type Records interface {
	Account(ctx context.Context, id uuid.UUID) (*projections.AccountEntry, error)
	Erasure(ctx context.Context, uai string, subject uuid.UUID) (*projections.ErasureEntry, error)
	Erasures(ctx context.Context, uais []string, limit int) ([]projections.ErasureEntry, error)
}

// Scrubber makes destroyed keys effective in the database files: it
// rebuilds every projection and compacts the database, reporting its
// progress as it goes.
type Scrubber interface {
	Scrub(ctx context.Context, progress func(Progress)) error
}

// Locker elects the one node that scrubs (projector.Locker).
type Locker interface {
	TryAcquire(ctx context.Context, name string) (held context.Context, release func(), ok bool, err error)
}

// CaughtUp reports whether the erasures' read model has read the log up
// to its head: a node that starts resumes what it lists once it has.
type CaughtUp func(ctx context.Context) (bool, error)

// LockName is the lock of the scrub, across the nodes.
const LockName = "privacy-scrub"

// State is where an erasure stands.
type State string

// States of an erasure.
const (
	// StatePending: recorded, its scrub waits (for the scrub under way,
	// or for another node's).
	StatePending State = "pending"
	// StateRunning: its scrub runs on this node (Progress says where).
	StateRunning State = "running"
	// StateDone: its scrub is recorded; nothing of the person's data is
	// left readable in the database files.
	StateDone State = "done"
	// StateFailed: its scrub failed on this node; erasing the person
	// again resumes it, as does a restart.
	StateFailed State = "failed"
)

// Progress is where a scrub stands.
type Progress struct {
	// Step is "rebuild" (a projection replays the log) or "compact".
	Step string `json:"step"`
	// Projection is the projection rebuilt, the Index-th (from 1) of
	// Projections.
	Projection  string `json:"projection,omitempty"`
	Index       int    `json:"index,omitempty"`
	Projections int    `json:"projections,omitempty"`
	// Events of Total the projection has replayed (Total 0: unknown).
	Events int `json:"events,omitempty"`
	Total  int `json:"total,omitempty"`
}

// Erasure is an erasure and the state of its scrub.
type Erasure struct {
	projections.ErasureEntry
	State State `json:"state"`
	// Progress is the running scrub's.
	Progress *Progress `json:"progress,omitempty"`
	// Error says why the scrub failed, and Failed when.
	Error  string    `json:"error,omitempty"`
	Failed time.Time `json:"failed,omitzero"`
}

// Config configures Jobs.
type Config struct {
	Handlers Handlers
	Records  Records
	Scrubber Scrubber
	Locker   Locker
	// CaughtUp, when set, makes Run resume the erasures recorded with no
	// scrub once the read model has caught up.
	CaughtUp CaughtUp
	Logger   *slog.Logger
	// Retry is how long a node that did not get the scrub's lock waits
	// before trying again, and how often a starting node looks whether
	// the read model caught up (default 2s).
	Retry time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Handlers == nil || c.Records == nil || c.Scrubber == nil || c.Locker == nil {
		return errors.New("erasure: Handlers, Records, Scrubber and Locker are required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Retry <= 0 {
		c.Retry = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Jobs runs the erasures and their scrubs.
type Jobs struct {
	cfg  Config
	wake chan struct{}

	mu sync.Mutex
	// jobs are the erasures this node handled since it started.
	jobs     map[uuid.UUID]*job
	progress Progress
}

// job is an erasure as this node knows it.
type job struct {
	entry  projections.ErasureEntry
	state  State
	err    string
	failed time.Time
}

// New returns the jobs of cfg; Run runs them.
func New(cfg Config) (*Jobs, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Jobs{cfg: cfg, wake: make(chan struct{}, 1), jobs: map[uuid.UUID]*job{}}, nil
}

// Erase records the erasure of cmd.Subject by req's actor (an
// administrator of the person's establishment) and queues its scrub. A
// person erased already is refused (domain.ErrErasureExists), unless the
// scrub of their erasure failed or never ran: it is then queued again.
func (j *Jobs) Erase(ctx context.Context, req commands.Request, actor domain.Actor, cmd domain.EraseSubject) (*Erasure, error) {
	acc, err := j.cfg.Records.Account(ctx, cmd.Subject)
	if err != nil {
		return nil, err
	}
	_, err = j.cfg.Handlers.EraseSubject(ctx, req, cmd)
	switch {
	case err == nil:
		entry := projections.ErasureEntry{
			Subject: cmd.Subject, Establishment: acc.Establishment, At: j.cfg.Now().UTC(),
			By: actor.Account, ByProfile: actor.Profile, Basis: cmd.Basis, Reason: cmd.Reason,
		}
		j.queue(entry)
		j.cfg.Logger.InfoContext(ctx, "erasure recorded, scrub queued", "subject", cmd.Subject, "by", actor.Account)
		return j.Status(ctx, actor, cmd.Subject)
	case !errors.Is(err, domain.ErrSubjectErased):
		return nil, err
	}
	// Erased already: resume a scrub that failed or never ran.
	e, err := j.Status(ctx, actor, cmd.Subject)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	switch {
	case e == nil:
		// The read model has not read the erasure yet: this node did
		// not record it (its job would say), so its scrub is resumed.
		j.queue(projections.ErasureEntry{Subject: cmd.Subject, Establishment: acc.Establishment})
	case e.State == StateDone:
		return nil, domain.Errorf(domain.ErrErasureExists, "account %s was erased on %s and its erasure is complete",
			cmd.Subject, e.At.Format(time.DateOnly))
	case e.State == StateRunning || (e.State == StatePending && j.known(cmd.Subject)):
		return nil, domain.Errorf(domain.ErrErasureExists, "account %s is being erased", cmd.Subject)
	default:
		j.queue(e.ErasureEntry)
	}
	j.cfg.Logger.InfoContext(ctx, "erasure resumed, scrub queued", "subject", cmd.Subject, "by", actor.Account)
	return j.Status(ctx, actor, cmd.Subject)
}

// Status returns the erasure of subject as viewer (an administrator of
// the person's establishment) may see it; domain.ErrNotFound when the
// person was not erased.
func (j *Jobs) Status(ctx context.Context, viewer domain.Actor, subject uuid.UUID) (*Erasure, error) {
	acc, err := j.cfg.Records.Account(ctx, subject)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return nil, domain.Errorf(domain.ErrNotFound, "no erasure of %s", subject)
	}
	if err != nil {
		return nil, err
	}
	if !viewer.IsAdmin(acc.Establishment) {
		return nil, domain.Errorf(domain.ErrForbidden, "only an administrator of %s reads its erasures", acc.Establishment)
	}
	entry, err := j.cfg.Records.Erasure(ctx, acc.Establishment, subject)
	if errors.Is(err, domain.ErrNotFound) {
		j.mu.Lock()
		defer j.mu.Unlock()
		if jb, ok := j.jobs[subject]; ok {
			e := j.view(jb.entry)
			return &e, nil
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.view(*entry)
	return &e, nil
}

// List returns the most recent erasures (at most limit) of the
// establishments viewer administers.
func (j *Jobs) List(ctx context.Context, viewer domain.Actor, limit int) ([]Erasure, error) {
	if viewer.Profile != domain.ProfileAdmin {
		return nil, domain.Errorf(domain.ErrForbidden, "only administrators read the erasures")
	}
	var uais []string // every establishment's, for an administrator of all
	if viewer.Establishment != "" {
		uais = []string{viewer.Establishment}
	}
	entries, err := j.cfg.Records.Erasures(ctx, uais, limit)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Erasure, 0, len(entries))
	seen := map[uuid.UUID]bool{}
	// This node's erasures the read model has not read yet come first:
	// they are the most recent.
	for id, jb := range j.jobs {
		if !jb.entry.At.IsZero() && viewer.IsAdmin(jb.entry.Establishment) && !j.listed(entries, id) {
			out = append(out, j.view(jb.entry))
			seen[id] = true
		}
	}
	for _, e := range entries {
		if !seen[e.Subject] {
			out = append(out, j.view(e))
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (j *Jobs) listed(entries []projections.ErasureEntry, id uuid.UUID) bool {
	for _, e := range entries {
		if e.Subject == id {
			return true
		}
	}
	return false
}

// view is entry with its scrub's state, as the log and this node know
// it. j.mu is held.
func (j *Jobs) view(entry projections.ErasureEntry) Erasure {
	e := Erasure{ErasureEntry: entry, State: StatePending}
	jb, ok := j.jobs[entry.Subject]
	if ok && !jb.entry.Scrubbed.IsZero() && entry.Scrubbed.IsZero() {
		e.Scrubbed = jb.entry.Scrubbed
	}
	switch {
	case !e.Scrubbed.IsZero():
		e.State = StateDone
	case !ok:
	case jb.state == StateRunning:
		e.State = StateRunning
		p := j.progress
		e.Progress = &p
	case jb.state == StateFailed:
		e.State, e.Error, e.Failed = StateFailed, jb.err, jb.failed
	}
	return e
}

// known reports whether this node has subject's scrub queued or running.
func (j *Jobs) known(subject uuid.UUID) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	jb, ok := j.jobs[subject]
	return ok && (jb.state == StatePending || jb.state == StateRunning)
}

// queue queues the scrub of entry's erasure and wakes Run.
func (j *Jobs) queue(entry projections.ErasureEntry) {
	j.mu.Lock()
	jb, ok := j.jobs[entry.Subject]
	if !ok {
		jb = &job{entry: entry}
		j.jobs[entry.Subject] = jb
	}
	if jb.state != StateRunning {
		jb.state, jb.err, jb.failed = StatePending, "", time.Time{}
	}
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default: // Run is woken already
	}
}

// Run runs the scrubs until ctx ends: first, when Config.CaughtUp is set,
// it resumes the erasures the log records with no scrub.
func (j *Jobs) Run(ctx context.Context) {
	if j.cfg.CaughtUp != nil {
		go j.resume(ctx)
	}
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-j.wake:
		case <-retry:
		}
		retry = nil
		if again := j.runOnce(ctx); again {
			retry = time.After(j.cfg.Retry)
		}
	}
}

// resume queues, once the read model has read the log, the erasures that
// have no scrub recorded.
func (j *Jobs) resume(ctx context.Context) {
	t := time.NewTicker(j.cfg.Retry)
	defer t.Stop()
	for {
		ok, err := j.cfg.CaughtUp(ctx)
		if err != nil && ctx.Err() == nil {
			j.cfg.Logger.WarnContext(ctx, "erasures to resume", "err", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	entries, err := j.cfg.Records.Erasures(ctx, nil, 0)
	if err != nil {
		j.cfg.Logger.WarnContext(ctx, "erasures to resume", "err", err)
		return
	}
	for _, e := range entries {
		if e.Scrubbed.IsZero() && !j.known(e.Subject) {
			j.cfg.Logger.InfoContext(ctx, "erasure with no scrub recorded: scrub resumed", "subject", e.Subject)
			j.queue(e)
		}
	}
}

// runOnce runs one scrub for every erasure queued, if any, once it holds
// the scrub's lock; again says the lock was taken elsewhere: try later.
func (j *Jobs) runOnce(ctx context.Context) (again bool) {
	if len(j.pending()) == 0 {
		return false
	}
	held, release, ok, err := j.cfg.Locker.TryAcquire(ctx, LockName)
	if err != nil && ctx.Err() == nil {
		j.cfg.Logger.WarnContext(ctx, "scrub lock", "err", err)
	}
	if !ok {
		return ctx.Err() == nil
	}
	defer release()
	batch := j.start(held)
	if len(batch) == 0 {
		return false
	}
	log := j.cfg.Logger.With("erasures", len(batch))
	log.InfoContext(ctx, "scrub started")
	began := j.cfg.Now()
	err = j.cfg.Scrubber.Scrub(held, func(p Progress) {
		j.mu.Lock()
		j.progress = p
		j.mu.Unlock()
	})
	if err != nil {
		log.ErrorContext(ctx, "scrub failed", "err", err, "after", j.cfg.Now().Sub(began))
		j.end(batch, err)
		return false
	}
	for _, id := range batch {
		_, rerr := j.cfg.Handlers.RecordScrub(ctx, commands.Request{System: true}, domain.RecordScrub{Subject: id})
		j.end([]uuid.UUID{id}, rerr)
		if rerr != nil {
			log.ErrorContext(ctx, "scrub done but not recorded", "subject", id, "err", rerr)
		}
	}
	log.InfoContext(ctx, "scrub done", "took", j.cfg.Now().Sub(began))
	return false
}

// pending lists the erasures whose scrub is queued.
func (j *Jobs) pending() []uuid.UUID {
	j.mu.Lock()
	defer j.mu.Unlock()
	var ids []uuid.UUID
	for id, jb := range j.jobs {
		if jb.state == StatePending {
			ids = append(ids, id)
		}
	}
	return ids
}

// start marks the queued erasures running, but those another node
// scrubbed meanwhile, and returns them.
func (j *Jobs) start(ctx context.Context) []uuid.UUID {
	var batch []uuid.UUID
	for _, id := range j.pending() {
		j.mu.Lock()
		uai := j.jobs[id].entry.Establishment
		j.mu.Unlock()
		if e, err := j.cfg.Records.Erasure(ctx, uai, id); err == nil && !e.Scrubbed.IsZero() {
			j.mu.Lock()
			j.jobs[id].entry.Scrubbed, j.jobs[id].state = e.Scrubbed, StateDone
			j.mu.Unlock()
			continue
		}
		batch = append(batch, id)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range batch {
		j.jobs[id].state = StateRunning
	}
	j.progress = Progress{}
	return batch
}

// end marks the erasures of batch done, or failed with err.
func (j *Jobs) end(batch []uuid.UUID, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.cfg.Now().UTC()
	for _, id := range batch {
		jb := j.jobs[id]
		if err != nil {
			jb.state, jb.err, jb.failed = StateFailed, err.Error(), now
			continue
		}
		jb.state, jb.entry.Scrubbed = StateDone, now
	}
}

// ScrubFunc is a function that scrubs, as a Scrubber.
type ScrubFunc func(ctx context.Context, progress func(Progress)) error

// Scrub calls f.
func (f ScrubFunc) Scrub(ctx context.Context, progress func(Progress)) error { return f(ctx, progress) }
