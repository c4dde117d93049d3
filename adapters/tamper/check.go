package tamper

import (
	"context"
	"fmt"

	"github.com/schoollife/ledger/domain"
)

// Source is a store's tables as Check reads them, all in one snapshot.
// Each method calls fn once per row, in the order it names, and stops at
// fn's first error.
type Source interface {
	// Heads reads the streams table, in any order.
	Heads(ctx context.Context, fn func(stream string, h StreamHead) error) error
	// Events reads every event with its stored bytes and hash, ordered by
	// stream then version.
	Events(ctx context.Context, fn func(e StoredEvent) error) error
	// Seals reads the seals table in Seq order.
	Seals(ctx context.Context, fn func(s Seal) error) error
	// Log reads every event's position and hash in global order.
	Log(ctx context.Context, fn func(pos domain.Position, hash []byte) error) error
}

// Check verifies what src holds: every stream's hash chain in version
// order against its head, then every seal against the events it covers. A
// tampered log is not an error: the report names what it found. The error
// is for failing to read.
func Check(ctx context.Context, src Source) (VerifyReport, error) {
	v := NewVerifier()
	if err := checkStreams(ctx, src, v); err != nil {
		return VerifyReport{}, fmt.Errorf("streams: %w", err)
	}
	if err := checkSeals(ctx, src, v); err != nil {
		return VerifyReport{}, fmt.Errorf("seals: %w", err)
	}
	return v.Report(), nil
}

// checkStreams feeds v each stream's events with its head, then the heads
// left without events.
func checkStreams(ctx context.Context, src Source, v *Verifier) error {
	heads := map[string]StreamHead{}
	err := src.Heads(ctx, func(stream string, h StreamHead) error {
		heads[stream] = h
		return nil
	})
	if err != nil {
		return err
	}
	var (
		stream string
		evs    []StoredEvent
	)
	flush := func() {
		if len(evs) == 0 {
			return
		}
		if h, ok := heads[stream]; ok {
			v.Stream(stream, evs, &h)
			delete(heads, stream)
		} else {
			v.Stream(stream, evs, nil)
		}
		evs = evs[:0]
	}
	err = src.Events(ctx, func(e StoredEvent) error {
		if e.Stream != stream {
			flush()
			stream = e.Stream
		}
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		return err
	}
	flush()
	for name, h := range heads {
		v.OrphanHead(name, h)
	}
	return nil
}

// checkSeals feeds v the seals, then the global log.
func checkSeals(ctx context.Context, src Source, v *Verifier) error {
	var seals []Seal
	err := src.Seals(ctx, func(s Seal) error {
		seals = append(seals, s)
		return nil
	})
	if err != nil {
		return err
	}
	v.Seals(seals)
	return src.Log(ctx, func(pos domain.Position, hash []byte) error {
		v.Global(pos, hash)
		return nil
	})
}
