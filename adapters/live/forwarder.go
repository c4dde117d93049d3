package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// Names persisted in the read-model store: never rename one.
const (
	// ForwarderLock is the election lock of the forwarder.
	ForwarderLock = "forwarder"
	// ForwarderNamespace is the namespace whose checkpoint is the
	// forwarder's place in the log.
	ForwarderNamespace = "forwarder@1"
)

// Checkpoints keeps the forwarder's place in the log.
type Checkpoints interface {
	Checkpoint(ctx context.Context) (domain.Position, error)
	SetCheckpoint(ctx context.Context, pos domain.Position) error
}

// DocCheckpoints keeps the forwarder's place as the checkpoint of a
// read-model namespace (ForwarderNamespace by default), beside the
// projections' checkpoints: a node that takes over reads it there.
type DocCheckpoints struct {
	Docs      projections.DocStore
	Namespace string
}

var _ Checkpoints = DocCheckpoints{}

func (c DocCheckpoints) ns() string { return or(c.Namespace, ForwarderNamespace) }

// Checkpoint implements Checkpoints.
func (c DocCheckpoints) Checkpoint(ctx context.Context) (domain.Position, error) {
	return c.Docs.Checkpoint(ctx, c.ns())
}

// SetCheckpoint implements Checkpoints. The read-model stores refuse a
// checkpoint that does not advance: a forwarder that lost its lock
// without noticing fails here and stops.
func (c DocCheckpoints) SetCheckpoint(ctx context.Context, pos domain.Position) error {
	return c.Docs.Update(ctx, c.ns(), func(tx projections.DocTx) error { return tx.SetCheckpoint(ctx, pos) })
}

// ForwarderConfig configures a Forwarder.
type ForwarderConfig struct {
	Log         projections.Log
	Registry    *domain.Registry
	Publisher   message.Publisher
	Locker      projector.Locker
	Checkpoints Checkpoints
	// Topic defaults to Topic.
	Topic string
	// Deployment is stamped on every message (DeploymentMetadata): the
	// bus's deployment (bus.Bus.Deployment), the one its hubs expect.
	Deployment string
	// BatchSize bounds the events read and published at a time (default
	// 256); the checkpoint moves after each batch.
	BatchSize int
	// RetryEvery is how often a node that does not hold the lock tries
	// again, and how long the holder waits after a failure (default 2 s).
	RetryEvery time.Duration
	Logger     *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *ForwarderConfig) Validate() error {
	if c.Log == nil || c.Registry == nil || c.Publisher == nil || c.Locker == nil || c.Checkpoints == nil {
		return errors.New("live: forwarder needs Log, Registry, Publisher, Locker and Checkpoints")
	}
	c.Topic = or(c.Topic, Topic)
	c.BatchSize = or(c.BatchSize, 256)
	c.RetryEvery = or(c.RetryEvery, 2*time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Forwarder publishes committed events, in log order, to the bus. Every
// node runs one; the one that holds ForwarderLock forwards, the others
// wait to take over from its checkpoint.
type Forwarder struct {
	cfg ForwarderConfig
}

// NewForwarder returns a forwarder.
func NewForwarder(cfg ForwarderConfig) (*Forwarder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Forwarder{cfg: cfg}, nil
}

// Run forwards while this node holds the lock, and tries to take it while
// it does not, until ctx ends.
func (f *Forwarder) Run(ctx context.Context) error {
	log := f.cfg.Logger.With("component", "forwarder")
	for {
		held, release, ok, err := f.cfg.Locker.TryAcquire(ctx, ForwarderLock)
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "forwarder lock", "err", err)
		}
		if ok {
			log.InfoContext(ctx, "forwarding events to the bus", "topic", f.cfg.Topic, "deployment", f.cfg.Deployment)
			err = f.forward(held)
			release()
			if ctx.Err() != nil {
				return nil
			}
			log.WarnContext(ctx, "forwarder stopped, will retry", "err", err)
		}
		t := time.NewTimer(f.cfg.RetryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// checkpointTimeout bounds the checkpoint of a batch already published.
const checkpointTimeout = 30 * time.Second

// skimMargin: on its first start, the forwarder does not publish the
// events recorded more than this long before it started.
const skimMargin = time.Minute

// forward publishes from the checkpoint on, while ctx (the lock) lasts.
// A batch is published, then checkpointed: a crash in between makes the
// next forwarder publish it again (at least once; hubs drop the repeats).
//
// With no checkpoint (the first start on this store), the history already
// in the log is not replayed on the bus, which is live: sockets read
// history from the log (?after=). Until it first reaches the head, the
// forwarder skips the events recorded more than skimMargin before it
// started, and publishes the others, so that what is recorded while it
// reads through the history still goes out.
func (f *Forwarder) forward(ctx context.Context) error {
	pos, err := f.cfg.Checkpoints.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("forwarder checkpoint: %w", err)
	}
	var skipBefore time.Time
	if pos.IsZero() {
		skipBefore = time.Now().Add(-skimMargin)
	}
	for {
		n, last, err := f.step(ctx, pos, skipBefore)
		if err != nil {
			return err
		}
		if n == 0 {
			if !skipBefore.IsZero() {
				f.cfg.Logger.InfoContext(ctx, "forwarder reached the head of the log", "position", pos)
				skipBefore = time.Time{}
			}
			if err := f.cfg.Log.Wait(ctx, pos); err != nil {
				return err
			}
			continue
		}
		pos = last
	}
}

// step publishes the next batch after pos, but the events recorded before
// skipBefore, and checkpoints it. It returns how many events it read and
// the position of the last.
func (f *Forwarder) step(ctx context.Context, pos domain.Position, skipBefore time.Time) (int, domain.Position, error) {
	recs, err := f.cfg.Log.ReadAll(ctx, pos, f.cfg.BatchSize)
	if err != nil || len(recs) == 0 {
		return 0, pos, err
	}
	msgs := make([]*message.Message, 0, len(recs))
	for _, rec := range recs {
		if rec.Metadata.Time.Before(skipBefore) {
			continue
		}
		ev, err := NewEvent(f.cfg.Registry, rec)
		if err != nil {
			// Published without subjects: staff of its establishment
			// still see it; nobody else can be shown to be concerned.
			f.cfg.Logger.WarnContext(ctx, "forwarder: event not decoded", "position", rec.Position, "type", rec.Type, "err", err)
			ev = Event{
				Position: rec.Position, ID: rec.ID, Stream: rec.Stream, Version: rec.Version, Type: rec.Type,
				Time: rec.Metadata.Time.UTC(), Establishment: rec.Metadata.Establishment, Actor: rec.Metadata.Actor, Data: rec.Data,
			}
			if !json.Valid(ev.Data) {
				ev.Data = json.RawMessage("null")
			}
		}
		m, err := ev.Message()
		if err != nil {
			return 0, pos, err
		}
		stamp(m, f.cfg.Deployment)
		m.SetContext(ctx)
		msgs = append(msgs, m)
	}
	last := recs[len(recs)-1].Position
	if len(msgs) > 0 {
		if err := f.cfg.Publisher.Publish(f.cfg.Topic, msgs...); err != nil {
			return 0, pos, fmt.Errorf("publish up to %s: %w", last, err)
		}
	}
	// A published batch is checkpointed even if ctx ends meanwhile (a
	// clean stop, the lock released): otherwise the next forwarder
	// publishes it again. The stores refuse a checkpoint that does not
	// advance, so this cannot undo a newer node's.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
	defer cancel()
	if err := f.cfg.Checkpoints.SetCheckpoint(cctx, last); err != nil {
		return 0, pos, fmt.Errorf("forwarder checkpoint %s: %w", last, err)
	}
	return len(recs), last, nil
}
