package web

// The consultation trail: every read of a child's file by someone who is
// neither the child nor one of their relatives (teachers, personnel,
// inspectors) is noted in memory, where repeated reads of the same file by
// the same reader fold into one entry (first and last time, count), and
// written as events now and then: every flush period, when the entries
// reach their bound, and at shutdown. A crash loses what was not written
// yet: at most one period's reads (docs/privacy.md, "Consultation trail").

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// Defaults of the trail.
const (
	// DefaultTrailEvery is how often the trail is written.
	DefaultTrailEvery = time.Minute
	// DefaultTrailMax bounds the entries held before they are written
	// early.
	DefaultTrailMax = 10000
	// trailWriteTimeout bounds the last write, at shutdown.
	trailWriteTimeout = 10 * time.Second
)

// TrailWriter appends a batch of the trail (commands.Handlers).
type TrailWriter interface {
	RecordConsultations(ctx context.Context, req commands.Request, cmd domain.RecordConsultations) (commands.Result, error)
}

// TrailConfig configures a Trail.
type TrailConfig struct {
	Writer TrailWriter
	// Every is how often Run writes (DefaultTrailEvery when 0); Max the
	// entries held before Run writes early (DefaultTrailMax when 0).
	Every  time.Duration
	Max    int
	Now    func() time.Time
	Logger *slog.Logger
}

// Trail gathers the consultations of children's files. A nil *Trail
// records nothing, so that handlers need not ask.
type Trail struct {
	cfg     TrailConfig
	mu      sync.Mutex
	pending map[trailKey]*domain.Consultation
	// full is signalled when pending reaches cfg.Max.
	full chan struct{}
}

// trailKey is one reader's reads of one file of one kind.
type trailKey struct {
	uai     string
	reader  uuid.UUID
	student uuid.UUID
	what    string
}

// NewTrail returns an empty trail.
func NewTrail(cfg TrailConfig) (*Trail, error) {
	if cfg.Writer == nil {
		return nil, errors.New("trail: Writer is required")
	}
	if cfg.Every < 0 || cfg.Max < 0 {
		return nil, errors.New("trail: Every and Max must not be negative")
	}
	if cfg.Every == 0 {
		cfg.Every = DefaultTrailEvery
	}
	if cfg.Max == 0 {
		cfg.Max = DefaultTrailMax
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Trail{cfg: cfg, pending: map[trailKey]*domain.Consultation{}, full: make(chan struct{}, 1)}, nil
}

// Traced reports whether p's reads of student's file enter the trail: not
// the child's own, nor their relatives'.
func Traced(p *Principal, student uuid.UUID) bool {
	a := p.Actor()
	if a.Account == student {
		return false
	}
	return !(a.Profile == domain.ProfileRelative && p.viewer().HasChild(student))
}

// ReadStudent notes that p read what of student (an account of
// establishment uai), unless p is the student or their relative.
func (t *Trail) ReadStudent(p *Principal, uai string, student uuid.UUID, what string) {
	if t == nil || p == nil || !Traced(p, student) {
		return
	}
	t.note(p, uai, student, what)
}

// ReadEstablishment notes that p exported the history of establishment
// uai, every student's file in it.
func (t *Trail) ReadEstablishment(p *Principal, uai string) {
	if t == nil || p == nil {
		return
	}
	t.note(p, uai, uuid.Nil, domain.ConsultExport)
}

func (t *Trail) note(p *Principal, uai string, student uuid.UUID, what string) {
	a := p.Actor()
	now := t.cfg.Now().UTC()
	k := trailKey{uai: uai, reader: a.Account, student: student, what: what}
	t.mu.Lock()
	c, ok := t.pending[k]
	if !ok {
		c = &domain.Consultation{Reader: a.Account, Profile: a.Profile, Function: a.Function, Student: student, What: what, First: now}
		t.pending[k] = c
	}
	c.Last = now
	c.Count++
	full := len(t.pending) >= t.cfg.Max
	t.mu.Unlock()
	if full {
		select {
		case t.full <- struct{}{}:
		default:
		}
	}
}

// Pending returns how many entries wait to be written.
func (t *Trail) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Flush writes what was gathered: one command per establishment, its
// consultations in the order of their first read. What an establishment's
// write refuses or fails to store is kept for the next flush.
func (t *Trail) Flush(ctx context.Context) error {
	t.mu.Lock()
	batch := t.pending
	t.pending = map[trailKey]*domain.Consultation{}
	t.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	byUAI := map[string][]domain.Consultation{}
	for k, c := range batch {
		byUAI[k.uai] = append(byUAI[k.uai], *c)
	}
	uais := make([]string, 0, len(byUAI))
	for uai := range byUAI {
		uais = append(uais, uai)
	}
	slices.Sort(uais)
	var errs []error
	for _, uai := range uais {
		cs := byUAI[uai]
		slices.SortFunc(cs, func(a, b domain.Consultation) int {
			return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.Reader.String(), b.Reader.String()),
				cmp.Compare(a.Student.String(), b.Student.String()), cmp.Compare(a.What, b.What))
		})
		_, err := t.cfg.Writer.RecordConsultations(ctx, commands.Request{System: true}, domain.RecordConsultations{Establishment: uai, Consultations: cs})
		if err != nil {
			if errors.Is(err, domain.ErrInvalid) {
				// Never writable: drop it rather than retry it forever.
				t.cfg.Logger.ErrorContext(ctx, "consultation trail refused", "uai", uai, "consultations", len(cs), "err", err)
				continue
			}
			t.restore(uai, cs)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// restore puts back consultations a flush could not write, merged with
// those noted since.
func (t *Trail) restore(uai string, cs []domain.Consultation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range cs {
		k := trailKey{uai: uai, reader: c.Reader, student: c.Student, what: c.What}
		if cur, ok := t.pending[k]; ok {
			cur.First, cur.Count = c.First, cur.Count+c.Count
			continue
		}
		c := c
		t.pending[k] = &c
	}
}

// Run writes the trail every period, and early when it is full, until ctx
// is done; then it writes what is left, on a context of its own (bounded),
// and returns.
func (t *Trail) Run(ctx context.Context) {
	tick := time.NewTicker(t.cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), trailWriteTimeout)
			defer cancel()
			if err := t.Flush(fctx); err != nil {
				t.cfg.Logger.ErrorContext(fctx, "consultation trail lost at shutdown", "consultations", t.Pending(), "err", err)
			}
			return
		case <-tick.C:
		case <-t.full:
		}
		if err := t.Flush(ctx); err != nil {
			t.cfg.Logger.WarnContext(ctx, "consultation trail not written, kept for the next try", "err", err)
		}
	}
}
