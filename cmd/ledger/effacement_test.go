package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

type fakeDue []projections.DueEffacement

func (f fakeDue) DueEffacements(_ context.Context, day domain.Date) ([]projections.DueEffacement, error) {
	var out []projections.DueEffacement
	for _, d := range f {
		if !day.Before(d.EffacedOn) {
			out = append(out, d)
		}
	}
	return out, nil
}

type fakeEffacer struct {
	calls   []domain.EffaceSanction
	keys    []string
	refuse  map[uuid.UUID]error
	replays map[uuid.UUID]bool
}

func (f *fakeEffacer) EffaceSanction(_ context.Context, req commands.Request, cmd domain.EffaceSanction) (commands.Result, error) {
	f.calls = append(f.calls, cmd)
	f.keys = append(f.keys, req.IdempotencyKey)
	if !req.System {
		return commands.Result{}, errors.New("not as the ledger")
	}
	if err := f.refuse[cmd.Sanction]; err != nil {
		return commands.Result{}, err
	}
	return commands.Result{Replayed: f.replays[cmd.Sanction]}, nil
}

// TestEffaceDue: the sanctions due are effaced as the ledger, on today,
// with a key naming each sanction; one effaced since on a decision or
// already recorded is not counted; a dry run records nothing.
func TestEffaceDue(t *testing.T) {
	student := uuid.New()
	warning, exclusion, decided, again, later := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	due := fakeDue{
		{Student: student, Sanction: warning, Kind: domain.SanctionWarning, EffacedOn: domain.MustDate("2026-09-01")},
		{Student: student, Sanction: exclusion, Kind: domain.SanctionTemporaryExclusion, EffacedOn: domain.MustDate("2026-11-04")},
		{Student: student, Sanction: decided, Kind: domain.SanctionReprimand, EffacedOn: domain.MustDate("2026-09-01")},
		{Student: student, Sanction: again, Kind: domain.SanctionReprimand, EffacedOn: domain.MustDate("2026-09-01")},
		{Student: student, Sanction: later, Kind: domain.SanctionClassExclusion, EffacedOn: domain.MustDate("2027-01-15")},
	}
	today := domain.MustDate("2026-12-07")
	var out bytes.Buffer
	dry := &fakeEffacer{}
	n, err := effaceDue(context.Background(), due, dry, today, true, &out)
	if err != nil || n != 4 || len(dry.calls) != 0 || strings.Count(out.String(), "would efface") != 4 {
		t.Fatalf("dry run: %d, %v, %d calls:\n%s", n, err, len(dry.calls), out.String())
	}
	h := &fakeEffacer{refuse: map[uuid.UUID]error{decided: domain.Errorf(domain.ErrSanctionEffaced, "x")}, replays: map[uuid.UUID]bool{again: true}}
	n, err = effaceDue(context.Background(), due, h, today, false, &out)
	if err != nil || n != 2 {
		t.Fatalf("effaced %d, %v; want 2", n, err)
	}
	if len(h.calls) != 4 {
		t.Fatalf("%d effacements asked, want 4 (not the one due in January)", len(h.calls))
	}
	for i, c := range h.calls {
		if c.Basis != domain.EffacementDue || c.Date != today || c.Student != student || h.keys[i] != "effacement-"+c.Sanction.String() {
			t.Fatalf("effacement %+v, key %q", c, h.keys[i])
		}
	}
	boom := &fakeEffacer{refuse: map[uuid.UUID]error{exclusion: errors.New("store down")}}
	if _, err := effaceDue(context.Background(), due, boom, today, false, &out); err == nil || !strings.Contains(err.Error(), exclusion.String()) {
		t.Fatalf("a failure is not reported: %v", err)
	}
	if len(boom.calls) != 4 {
		t.Fatalf("a failure stopped the others: %d calls", len(boom.calls))
	}
}
