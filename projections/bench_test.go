package projections_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/simulation"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// benchBatch is the runner's batch size: a reducer applies this many
// events per transaction.
const benchBatch = 512

// benchHistory is a simulated history (scale 0.005: about 7,000 events of
// every kind, in the proportions of the 2005-2007 experiment), made once.
var benchHistory = sync.OnceValues(func() ([]domain.Record, error) {
	ctx := context.Background()
	store, reg := memory.New(), domain.NewRegistry()
	factory := func(now func() time.Time) (*commands.Handlers, error) {
		return commands.New(commands.Config{Store: store, Registry: reg, Now: now})
	}
	if _, err := simulation.Run(ctx, factory, simulation.Config{Scale: 0.005, Seed: 1, Workers: 1}, nil); err != nil {
		return nil, err
	}
	if err := consultTheAbsent(ctx, store, reg); err != nil {
		return nil, err
	}
	if err := eraseTwo(ctx, store, reg); err != nil {
		return nil, err
	}
	return store.ReadAll(ctx, domain.Start, 0)
})

// consultTheAbsent adds to a simulated history the consultation trail
// (which the simulation does not write): each teacher who recorded one of
// the first absences of an establishment reads the absent student's file,
// in one batch per establishment, as the web layer's trail writes them.
func consultTheAbsent(ctx context.Context, store *memory.Store, reg *domain.Registry) error {
	recs, err := store.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		return err
	}
	batches := map[string][]domain.Consultation{}
	var last time.Time
	for _, r := range recs {
		last = r.Metadata.Time
		if r.Type != (domain.AbsenceRecorded{}).EventType() || len(batches[r.Metadata.Establishment]) >= 20 {
			continue
		}
		e, err := reg.DecodeRecord(r)
		if err != nil {
			return err
		}
		a := e.(domain.AbsenceRecorded)
		at := r.Metadata.Time.Add(time.Hour)
		batches[r.Metadata.Establishment] = append(batches[r.Metadata.Establishment], domain.Consultation{
			Reader: r.Metadata.Actor, Profile: r.Metadata.Profile, Student: a.Student, What: "file", First: at, Last: at, Count: 1,
		})
	}
	h, err := commands.New(commands.Config{Store: store, Registry: reg, Now: func() time.Time { return last.Add(24 * time.Hour) }})
	if err != nil {
		return err
	}
	for uai, cs := range batches {
		if _, err := h.RecordConsultations(ctx, commands.Request{System: true}, domain.RecordConsultations{Establishment: uai, Consultations: cs}); err != nil {
			return err
		}
	}
	return nil
}

// eraseTwo adds to a simulated history the erasure of its first two
// students (which the simulation does not write), the first one's scrub
// recorded.
func eraseTwo(ctx context.Context, store *memory.Store, reg *domain.Registry) error {
	recs, err := store.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		return err
	}
	var students []uuid.UUID
	for _, r := range recs {
		if r.Type != (domain.AccountOpened{}).EventType() || len(students) == 2 {
			continue
		}
		e, err := reg.DecodeRecord(r)
		if err != nil {
			return err
		}
		if a := e.(domain.AccountOpened); a.Profile == domain.ProfileStudent {
			students = append(students, a.Account)
		}
	}
	last := recs[len(recs)-1].Metadata.Time
	h, err := commands.New(commands.Config{Store: store, Registry: reg, Shredder: subjectkeys.NewMemory(),
		Now: func() time.Time { return last.Add(48 * time.Hour) }})
	if err != nil {
		return err
	}
	for i, s := range students {
		if _, err := h.EraseSubject(ctx, commands.Request{System: true}, domain.EraseSubject{Subject: s, Reason: "demande", Basis: "RGPD art. 17"}); err != nil {
			return err
		}
		if i == 0 {
			if _, err := h.RecordScrub(ctx, commands.Request{System: true}, domain.RecordScrub{Subject: s}); err != nil {
				return err
			}
		}
	}
	return nil
}

// sliceLog is a log made of the records before a batch.
type sliceLog []domain.Record

func (l sliceLog) ReadAll(_ context.Context, after domain.Position, limit int) ([]domain.Record, error) {
	i, _ := slices.BinarySearchFunc(l, after, func(r domain.Record, p domain.Position) int {
		switch {
		case r.Position.Less(p):
			return -1
		case p.Less(r.Position):
			return 1
		}
		return 0
	})
	if i < len(l) && l[i].Position == after {
		i++
	}
	j := len(l)
	if limit > 0 {
		j = min(j, i+limit)
	}
	return l[i:j], nil
}

func (sliceLog) Wait(context.Context, domain.Position) error { return nil }

// BenchmarkApply measures each reducer applying a batch of the runner's
// size, taken from the middle of a simulated history, to read models that
// hold the history before it (in memory: the reducer's own work, decoding
// the events and the documents it reads and encoding those it writes,
// without a database). Compare runs with benchstat.
func BenchmarkApply(b *testing.B) {
	recs, err := benchHistory()
	if err != nil {
		b.Fatal(err)
	}
	if len(recs) < 2*benchBatch {
		b.Fatalf("%d events simulated", len(recs))
	}
	ctx := context.Background()
	reg := domain.NewRegistry()
	start := len(recs) / 2
	before, batch := sliceLog(recs[:start]), recs[start:start+benchBatch]
	for _, red := range projections.Reducers(domain.Paris()) {
		b.Run(red.Name(), func(b *testing.B) {
			docs := projections.NewMemoryDocs()
			runner, err := projector.NewRunner(projector.RunnerConfig{
				Log: before, Docs: docs, Gens: docs, Registry: reg, Locker: docs, Reducers: []projections.Reducer{red},
			})
			if err != nil {
				b.Fatal(err)
			}
			ns := projections.Namespace(red.Name(), 1)
			if _, err := runner.CatchUp(ctx, red, ns, nil); err != nil {
				b.Fatal(err)
			}
			reader := docs.Reader(ns)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				bt := projections.NewBatch(reader)
				if err := projections.ApplyAll(ctx, reg, red, bt, batch); err != nil {
					b.Fatal(err)
				}
				if _, err := bt.Changes(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
		})
	}
}
