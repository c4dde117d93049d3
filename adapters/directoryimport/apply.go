package directoryimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Failure is a planned change the ledger refused.
type Failure struct {
	Change Change `json:"change"`
	Error  string `json:"error"`
}

// applier runs a plan's changes through the command handlers, as the
// system or as actor, under one correlation id.
type applier struct {
	h        *commands.Handlers
	actor    uuid.UUID
	asOf     domain.Position
	corr     uuid.UUID
	grace    time.Duration
	feed     string
	workers  int
	progress func(Progress)
	// batch, when the store can append in batches, keeps the handlers'
	// appends and writes them a few thousand events a transaction (see
	// batcher); h then runs over it.
	batch *batcher

	mu      sync.Mutex
	done    int64
	total   int64
	failed  []indexedFailure
	stopErr error
}

type indexedFailure struct {
	i int
	f Failure
}

// apply runs every change: kind after kind, in the plan's order (accounts
// exist before they join groups...). Within a kind, the changes of one
// stream run in order on one worker and the streams spread over the
// workers: they neither conflict nor depend on each other. A change the
// ledger refuses (a domain error) is reported and the others go on; any
// other error (the store, the context) stops the import: running it again
// finishes the job, since the diff then starts from what was applied.
//
// On a store that appends in batches (BatchStore), the handlers' appends
// are written in batches, the last one at the end of each phase, before
// the next phase reads what it wrote. A batch the store refuses stops the
// import like a store error; the report then counts the events stored,
// not those kept for a batch that never was.
func (ap *applier) apply(ctx context.Context, plan *Plan, rep *Report) error {
	ap.total = int64(plan.Len())
	before := rep.Events
	if bs, ok := ap.h.Store().(BatchStore); ok {
		ap.batch = newBatcher(bs, DefaultBatchEvents)
		ap.h = ap.h.WithStore(ap.batch)
	}
	for i, changes := range plan.Phases {
		err := ap.phase(ctx, changes, rep)
		if err == nil && ap.batch != nil {
			if err = ap.batch.flush(ctx); err != nil {
				err = fmt.Errorf("apply: %w", err)
			}
		}
		slices.SortFunc(ap.failed, func(a, b indexedFailure) int { return a.i - b.i })
		for _, f := range ap.failed {
			rep.Failed = append(rep.Failed, f.f)
		}
		ap.failed = ap.failed[:0]
		if err != nil {
			if ap.batch != nil {
				rep.Events = before + ap.batch.stored()
			}
			return err
		}
		plan.Phases[i] = nil // done: its memory can go
	}
	return nil
}

// batchWorkers multiplies the workers of an import whose appends are
// batched.
const batchWorkers = 4

// phase runs changes, all of one kind.
func (ap *applier) phase(ctx context.Context, changes []Change, rep *Report) error {
	buckets := make(map[string][]int)
	var order []string
	for i := range changes {
		k := changes[i].target()
		if _, ok := buckets[k]; !ok {
			order = append(order, k)
		}
		buckets[k] = append(buckets[k], i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan []int)
	var wg sync.WaitGroup
	workers := ap.workers
	if ap.batch != nil {
		// Appends no longer wait for a commit: a worker waits only for the
		// reads of streams the import did not write (a new stream's first
		// read, a stream out of the handlers' cache). More of them keep
		// the CPU busy through those round trips.
		workers *= batchWorkers
	}
	for range max(1, min(workers, len(order))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idx := range jobs {
				for _, i := range idx {
					if ctx.Err() != nil || !ap.one(ctx, i, changes[i], rep) {
						cancel()
						break
					}
				}
			}
		}()
	}
feed:
	for n, k := range order {
		if n%prepareEvery == 0 {
			// The accounts the next streams open or rename get their keys
			// in bulk (a sealer that cannot is left to make them one by one).
			if err := ap.h.PrepareSubjects(ctx, accountsToSeal(changes, buckets, order[n:min(n+prepareEvery, len(order))])); err != nil {
				ap.mu.Lock()
				if ap.stopErr == nil {
					ap.stopErr = err
				}
				ap.mu.Unlock()
				break feed
			}
		}
		select {
		case jobs <- buckets[k]:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	ap.mu.Lock()
	defer ap.mu.Unlock()
	if ap.stopErr != nil {
		return ap.stopErr
	}
	return context.Cause(ctx)
}

// prepareEvery is how many streams' changes have their subjects' keys
// prepared at once.
const prepareEvery = 2048

// accountsToSeal returns the accounts whose personal fields the changes of
// the streams keys will seal: the accounts opened or updated (their names).
func accountsToSeal(changes []Change, buckets map[string][]int, keys []string) []uuid.UUID {
	var out []uuid.UUID
	for _, k := range keys {
		for _, i := range buckets[k] {
			if c := changes[i]; c.Kind == OpenAccount || c.Kind == UpdateAccount {
				out = append(out, c.Account)
			}
		}
	}
	return out
}

// one runs change i and records its outcome; false stops the import.
func (ap *applier) one(ctx context.Context, i int, c Change, rep *Report) bool {
	res, err := ap.run(ctx, c)
	ap.mu.Lock()
	defer ap.mu.Unlock()
	if err != nil {
		if domain.CodeOf(err) == "" || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			if ap.stopErr == nil {
				ap.stopErr = fmt.Errorf("apply %s: %w", c, err)
			}
			return false
		}
		ap.failed = append(ap.failed, indexedFailure{i, Failure{Change: c, Error: err.Error()}})
	} else {
		rep.Applied[c.Kind]++
		if !res.Replayed {
			rep.Events += len(res.Events)
		}
	}
	ap.done++
	if ap.progress != nil && (ap.done%250 == 0 || ap.done == ap.total) {
		ap.progress(Progress{Phase: PhaseApply, Done: ap.done, Total: ap.total, Events: int64(rep.Events)})
	}
	return true
}

// target is the stream a change writes.
func (c Change) target() string {
	switch c.Kind {
	case RegisterEstablishment, RecordFeedKey:
		return "establishment " + c.Establishment
	case CreateGroup, LabelGroup, JoinGroup, LeaveGroup:
		return "group " + c.Group.String()
	}
	return "account " + c.Account.String()
}

// run issues the command of one change.
func (ap *applier) run(ctx context.Context, c Change) (commands.Result, error) {
	req := commands.Request{Actor: ap.actor, System: ap.actor == uuid.Nil, CorrelationID: ap.corr, IdempotencyKey: c.idempotencyKey(ap.asOf)}
	h := ap.h
	switch c.Kind {
	case RegisterEstablishment:
		return h.RegisterEstablishment(ctx, req, domain.RegisterEstablishment{
			UAI: c.Establishment, Name: c.EstablishmentName, Kind: c.EstablishmentKind, Type: c.EstablishmentType, Departement: c.Departement})
	case RecordFeedKey:
		return h.RecordFeedKey(ctx, req, domain.RecordFeedKey{UAI: c.Establishment, FeedKey: c.FeedKey})
	case OpenAccount:
		return h.OpenAccount(ctx, req, domain.OpenAccount{Account: c.Account, Establishment: c.Establishment,
			Profile: c.Profile, Function: c.Function, ExternalID: c.ExternalID, DisplayName: c.DisplayName, Details: c.Details})
	case UpdateAccount:
		details := c.Details
		return h.UpdateAccount(ctx, req, domain.UpdateAccount{Account: c.Account, Establishment: c.Establishment,
			Function: c.Function, DisplayName: c.DisplayName, Details: &details})
	case MarkBackInFeed:
		return h.MarkBackInFeed(ctx, req, domain.MarkBackInFeed{Account: c.Account, Feed: ap.describe(c.Reason)})
	case CreateGroup:
		return h.CreateGroup(ctx, req, domain.CreateGroup{Group: c.Group, Establishment: c.Establishment, Kind: c.GroupKind, Name: c.GroupName,
			Label: c.GroupLabel})
	case LabelGroup:
		return h.LabelGroup(ctx, req, domain.LabelGroup{Group: c.Group, Label: c.GroupLabel})
	case LeaveGroup:
		return h.LeaveGroup(ctx, req, domain.LeaveGroup{Group: c.Group, Account: c.Account, Role: c.Role})
	case JoinGroup:
		return h.JoinGroup(ctx, req, domain.JoinGroup{Group: c.Group, Account: c.Account, Role: c.Role, Subject: c.Subject,
			SubjectCodes: c.SubjectCodes})
	case UnlinkRelative:
		return h.UnlinkRelative(ctx, req, domain.UnlinkRelative{Student: c.Account, Relative: c.Relative})
	case LinkRelative:
		return h.LinkRelative(ctx, req, domain.LinkRelative{Student: c.Account, Relative: c.Relative, LegalGuardian: c.LegalGuardian,
			Relation: c.Relation, LegalRank: c.LegalRank, Financial: c.Financial, Contact: c.Contact})
	case FlagMissing:
		return h.FlagMissingFromFeed(ctx, req, domain.FlagMissingFromFeed{Account: c.Account, Feed: ap.describe(c.Reason)})
	case CloseAccount:
		return h.CloseMissingFromFeed(ctx, req, domain.CloseMissingFromFeed{Account: c.Account, Grace: ap.grace})
	}
	return commands.Result{}, fmt.Errorf("unknown change kind %q", c.Kind)
}

// describe says in a flag event which import noticed what.
func (ap *applier) describe(reason string) string {
	return truncate(reason+"; "+ap.feed, 480)
}

// recordForced records, before any other change, that the import was
// forced past its guards.
func (ap *applier) recordForced(ctx context.Context, rep *Report) error {
	var kinds []string
	for _, g := range rep.Guards {
		if !slices.Contains(kinds, string(g.Kind)) {
			kinds = append(kinds, string(g.Kind))
		}
	}
	details := refusedBy(rep.Guards)
	if n := 4000; len(details) > n {
		details = truncate(details, n)
	}
	key := Change{Kind: "import.forced", Account: ap.corr}.idempotencyKey(ap.asOf)
	req := commands.Request{Actor: ap.actor, System: ap.actor == uuid.Nil, CorrelationID: ap.corr, IdempotencyKey: key}
	res, err := ap.h.RecordForcedImport(ctx, req, domain.RecordForcedImport{Import: ap.corr, Feed: ap.describe("forced"),
		Establishments: rep.Establishments, Guards: kinds, Details: details})
	if err != nil {
		return fmt.Errorf("record the forced import: %w", err)
	}
	if !res.Replayed {
		rep.Events += len(res.Events)
	}
	return nil
}

// truncate cuts s to at most n bytes, on a rune boundary, with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
