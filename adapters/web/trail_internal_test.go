package web

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// trailWrites keeps the batches a trail writes.
type trailWrites struct {
	mu      sync.Mutex
	batches []domain.RecordConsultations
	written chan struct{}
}

func (w *trailWrites) RecordConsultations(_ context.Context, req commands.Request, cmd domain.RecordConsultations) (commands.Result, error) {
	if !req.System {
		return commands.Result{}, domain.Errorf(domain.ErrForbidden, "not the system")
	}
	if _, err := cmd.Decide(domain.SystemActor()); err != nil {
		return commands.Result{}, err
	}
	w.mu.Lock()
	w.batches = append(w.batches, cmd)
	w.mu.Unlock()
	select {
	case w.written <- struct{}{}:
	default:
	}
	return commands.Result{}, nil
}

func (w *trailWrites) all() []domain.RecordConsultations {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]domain.RecordConsultations(nil), w.batches...)
}

func principalOf(acc *projections.AccountEntry) *Principal {
	return &Principal{actor: acc.Viewer().Actor, account: acc}
}

const trailUAI = "0750001A"

var (
	trailStudent = uuid.MustParse("a0000000-0000-0000-0000-000000000001")
	trailTeacher = principalOf(&projections.AccountEntry{ID: uuid.MustParse("a0000000-0000-0000-0000-000000000002"), Profile: domain.ProfileTeacher, Establishment: trailUAI})
	trailParent  = principalOf(&projections.AccountEntry{ID: uuid.MustParse("a0000000-0000-0000-0000-000000000003"), Profile: domain.ProfileRelative,
		Children: []projections.AccountLink{{Account: trailStudent}}})
	trailChild     = principalOf(&projections.AccountEntry{ID: trailStudent, Profile: domain.ProfileStudent, Establishment: trailUAI})
	trailInspector = principalOf(&projections.AccountEntry{ID: uuid.MustParse("a0000000-0000-0000-0000-000000000004"), Profile: domain.ProfileInspector,
		Habilitations: []string{trailUAI}})
)

// TestTrailFoldsAndSkipsFamilies: repeated reads fold into one entry with
// their first and last time; the child's and the parent's reads are not
// noted.
func TestTrailFoldsAndSkipsFamilies(t *testing.T) {
	clock := time.Date(2006, 3, 13, 9, 0, 0, 0, time.UTC)
	w := &trailWrites{written: make(chan struct{}, 1)}
	tr, err := NewTrail(TrailConfig{Writer: w, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	tr.ReadStudent(trailTeacher, trailUAI, trailStudent, domain.ConsultFile)
	clock = clock.Add(5 * time.Minute)
	tr.ReadStudent(trailTeacher, trailUAI, trailStudent, domain.ConsultFile)
	tr.ReadStudent(trailInspector, trailUAI, trailStudent, domain.ConsultFileAsOf)
	tr.ReadStudent(trailParent, trailUAI, trailStudent, domain.ConsultFile)
	tr.ReadStudent(trailChild, trailUAI, trailStudent, domain.ConsultView)
	tr.ReadEstablishment(trailInspector, trailUAI)
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := w.all()
	if len(b) != 1 || b[0].Establishment != trailUAI || len(b[0].Consultations) != 3 {
		t.Fatalf("batches %+v, want one of 3 consultations", b)
	}
	first := b[0].Consultations[0]
	want := domain.Consultation{Reader: trailTeacher.actor.Account, Profile: domain.ProfileTeacher, Student: trailStudent, What: domain.ConsultFile,
		First: time.Date(2006, 3, 13, 9, 0, 0, 0, time.UTC), Last: time.Date(2006, 3, 13, 9, 5, 0, 0, time.UTC), Count: 2}
	if first != want {
		t.Errorf("first consultation %+v, want %+v", first, want)
	}
	for _, c := range b[0].Consultations[1:] {
		if c.Reader != trailInspector.actor.Account || c.Count != 1 {
			t.Errorf("consultation %+v, want the inspector's", c)
		}
	}
}

// TestTrailWritesAtShutdown: what Run gathered is written when its context
// ends, though the period has not come.
func TestTrailWritesAtShutdown(t *testing.T) {
	w := &trailWrites{written: make(chan struct{}, 1)}
	tr, err := NewTrail(TrailConfig{Writer: w, Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx); close(done) }()
	tr.ReadStudent(trailTeacher, trailUAI, trailStudent, domain.ConsultView)
	cancel()
	<-done
	if b := w.all(); len(b) != 1 || len(b[0].Consultations) != 1 || b[0].Consultations[0].What != domain.ConsultView {
		t.Fatalf("batches at shutdown %+v", b)
	}
	if tr.Pending() != 0 {
		t.Errorf("%d pending after shutdown", tr.Pending())
	}
}

// TestTrailWritesWhenFull: reaching Max writes at once, before the period.
func TestTrailWritesWhenFull(t *testing.T) {
	w := &trailWrites{written: make(chan struct{}, 1)}
	tr, err := NewTrail(TrailConfig{Writer: w, Every: time.Hour, Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tr.Run(ctx)
	tr.ReadStudent(trailTeacher, trailUAI, trailStudent, domain.ConsultView)
	tr.ReadStudent(trailTeacher, trailUAI, trailStudent, domain.ConsultFile)
	select {
	case <-w.written:
	case <-time.After(time.Minute):
		t.Fatal("a full trail was not written")
	}
	if b := w.all(); len(b) != 1 || len(b[0].Consultations) != 2 {
		t.Fatalf("batches %+v", b)
	}
}

// TestTrailKeepsWhatFailed: a write that fails (an outage) keeps its
// consultations for the next flush, merged with later reads.
func TestTrailKeepsWhatFailed(t *testing.T) {
	fail := &failingWriter{}
	tr, err := NewTrail(TrailConfig{Writer: fail})
	if err != nil {
		t.Fatal(err)
	}
	tr.ReadStudent(trailTeacher, trailUAI, trailStudent, domain.ConsultView)
	if err := tr.Flush(context.Background()); err == nil {
		t.Fatal("a failed write reported no error")
	}
	tr.ReadStudent(trailTeacher, trailUAI, trailStudent, domain.ConsultView)
	if tr.Pending() != 1 {
		t.Fatalf("%d pending, want 1", tr.Pending())
	}
	tr.mu.Lock()
	for _, c := range tr.pending {
		if c.Count != 2 {
			t.Errorf("count %d, want 2", c.Count)
		}
	}
	tr.mu.Unlock()
}

type failingWriter struct{}

func (failingWriter) RecordConsultations(context.Context, commands.Request, domain.RecordConsultations) (commands.Result, error) {
	return commands.Result{}, domain.Outage(domain.ErrUnavailable, context.DeadlineExceeded)
}
