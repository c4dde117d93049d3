package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// PlanReader reads the delivery plan (projections.Queries.Plan).
type PlanReader interface {
	Plan(ctx context.Context, after string, limit int) ([]projections.Planned, string, error)
}

// Recorder appends outcomes to the log (commands.Handlers).
type Recorder interface {
	RecordNotificationOutcomes(ctx context.Context, req commands.Request, cmd domain.RecordNotificationOutcomes) (commands.Result, error)
}

// Names gives a student's name as their family reads it, when a message
// is written (the plan holds ids only).
type Names interface {
	DisplayName(ctx context.Context, account uuid.UUID) (string, error)
}

// planCursor names the process's cursor in the plan.
const planCursor = "notifyplan.v1"

// Config configures a Process.
type Config struct {
	Store  *Store
	Plan   PlanReader
	Record Recorder
	Names  Names
	// Channels are the channels configured; a person's preferences choose
	// among them.
	Channels map[Channel]Deliverer
	// Now is the clock (time.Now when nil); Loc the establishments' time
	// zone, for quiet hours and the digest's hour.
	Now func() time.Time
	Loc *time.Location
	// DigestHour is when the daily digest leaves (0 to 23; 18 when
	// DigestHourSet is false).
	DigestHour    int
	DigestHourSet bool
	// Lease is how long a claimed delivery is this process's alone (2
	// minutes when 0): one that dies holding it leaves it to another
	// after that.
	Lease time.Duration
	// Attempts bounds the attempts at one delivery before it is a dead
	// letter (6 when 0).
	Attempts int
	// Backoff is the wait after the first failed attempt (30 s when 0),
	// doubled after each further one up to MaxBackoff (1 h when 0), each
	// wait drawn at random between its half and itself (jitter), so that
	// deliveries failing together are not retried together.
	Backoff, MaxBackoff time.Duration
	// Jitter draws a wait in [d/2, d] (crypto/rand when nil; tests fix it).
	Jitter func(d time.Duration) time.Duration
	// Owner names this process in leases (random when empty).
	Owner string
	// Batch bounds the deliveries claimed, and the plan's entries read, at
	// once (200 when 0); Workers the messages sent at once (8 when 0).
	Batch, Workers int
	// MaxAge is how old an act may be and still be sent (2 days when 0):
	// the plan of a ledger whose notifications are turned on late, or
	// rebuilt, starts at the beginning of the log, and nobody is told
	// today of last year's absences.
	MaxAge time.Duration
	// Poll is how often an idle process looks for work (1 s when 0).
	Poll   time.Duration
	Logger *slog.Logger
}

// Validate checks the configuration and fills its defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.Store == nil || c.Plan == nil || c.Record == nil || c.Names == nil {
		errs = append(errs, errors.New("delivery: the store, the plan, the recorder and the names are required"))
	}
	for ch, d := range c.Channels {
		if !ch.Valid() || d == nil {
			errs = append(errs, fmt.Errorf("delivery: channel %q", ch))
		}
	}
	if c.DigestHour < 0 || c.DigestHour > 23 {
		errs = append(errs, fmt.Errorf("delivery: digest hour %d, want 0 to 23", c.DigestHour))
	}
	if c.Lease < 0 || c.Attempts < 0 || c.Backoff < 0 || c.MaxBackoff < 0 || c.Batch < 0 || c.Workers < 0 || c.Poll < 0 || c.MaxAge < 0 {
		errs = append(errs, errors.New("delivery: negative setting"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Loc == nil {
		c.Loc = domain.Paris()
	}
	if !c.DigestHourSet && c.DigestHour == 0 {
		c.DigestHour = 18
	}
	c.Lease = or(c.Lease, 2*time.Minute)
	c.Backoff = or(c.Backoff, 30*time.Second)
	c.MaxBackoff = or(c.MaxBackoff, time.Hour)
	c.Poll = or(c.Poll, time.Second)
	c.MaxAge = or(c.MaxAge, 48*time.Hour)
	if c.Attempts == 0 {
		c.Attempts = 6
	}
	if c.Batch == 0 {
		c.Batch = 200
	}
	if c.Workers == 0 {
		c.Workers = 8
	}
	if c.Jitter == nil {
		c.Jitter = cryptoJitter
	}
	if c.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.Owner = hex.EncodeToString(b[:])
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// cryptoJitter draws a wait in [d/2, d].
func cryptoJitter(d time.Duration) time.Duration {
	half := d / 2
	if half <= 0 {
		return d
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(half)+1))
	if err != nil {
		return d
	}
	return half + time.Duration(n.Int64())
}

// Process is the delivery process: it turns the plan into deliveries, sends
// what is due, and records the outcomes in the log. Several may run on
// several nodes at once: each delivery is sent by the one that claimed
// it.
type Process struct {
	cfg Config
	w   writer
}

// New checks cfg and returns a process.
func New(cfg Config) (*Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Process{cfg: cfg, w: writer{loc: cfg.Loc}}, nil
}

// Run steps until ctx ends, waiting Poll when there is nothing to do or a
// step failed (a failed step is logged and tried again).
func (p *Process) Run(ctx context.Context) error {
	for {
		n, err := p.Step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			p.cfg.Logger.Warn("notification delivery", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		t := time.NewTimer(p.cfg.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Step plans, sends and records once; it returns how much it did.
func (p *Process) Step(ctx context.Context) (int, error) {
	planned, err := p.PlanOnce(ctx)
	if err != nil {
		return 0, err
	}
	sent, err := p.SendOnce(ctx)
	if err != nil {
		return planned, err
	}
	recorded, err := p.RecordOnce(ctx)
	return planned + sent + recorded, err
}

// PlanOnce turns the next entries of the plan into deliveries, one per
// channel the person chose among those configured, and moves the cursor,
// in one transaction.
func (p *Process) PlanOnce(ctx context.Context) (int, error) {
	after, err := p.cfg.Store.Cursor(ctx, planCursor)
	if err != nil {
		return 0, err
	}
	entries, last, err := p.cfg.Plan.Plan(ctx, after, p.cfg.Batch)
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	var ds []Delivery
	oldest := p.cfg.Now().Add(-p.cfg.MaxAge)
	for _, e := range entries {
		if e.Time.Before(oldest) {
			continue
		}
		due, digest := p.due(e)
		data, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("plan entry: %w", err)
		}
		for _, ch := range e.Preferences.Channels {
			if _, ok := p.cfg.Channels[ch]; !ok {
				continue
			}
			ds = append(ds, Delivery{
				Key:       Key{Notification: e.Notification, Channel: ch, Recipient: e.Recipient},
				EventType: e.Type, Category: string(e.Category), Establishment: e.Establishment, Students: e.Students,
				Digest: digest, Data: data, Due: due,
			})
		}
	}
	if _, err := p.cfg.Store.Enqueue(ctx, planCursor, last, ds, p.cfg.Now()); err != nil {
		return 0, err
	}
	return len(entries), nil
}

// due returns when a planned message leaves: with the day's digest, at
// the end of the quiet hours it falls in, or at once.
func (p *Process) due(e projections.Planned) (time.Time, bool) {
	t := e.Time.In(p.cfg.Loc)
	if e.Preferences.Mode(e.Category) == domain.NotifyDigest {
		d := time.Date(t.Year(), t.Month(), t.Day(), p.cfg.DigestHour, 0, 0, 0, p.cfg.Loc)
		if !d.After(t) {
			d = d.AddDate(0, 0, 1)
		}
		return d.UTC(), true
	}
	if end, quiet := e.Preferences.Quiet(t); quiet {
		return end.UTC(), false
	}
	return e.Time.UTC(), false
}

// group is what one message carries: one delivery, or a digest's.
type group struct {
	ch        Channel
	recipient uuid.UUID
	ds        []Delivery
}

// SendOnce claims what is due and sends it, a digest's deliveries in one
// message per person and channel.
func (p *Process) SendOnce(ctx context.Context) (int, error) {
	now := p.cfg.Now()
	ds, err := p.cfg.Store.Claim(ctx, p.cfg.Owner, now, p.cfg.Lease, p.cfg.Batch)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	var groups []*group
	digests := map[string]*group{}
	for _, d := range ds {
		if !d.Digest {
			groups = append(groups, &group{ch: d.Channel, recipient: d.Recipient, ds: []Delivery{d}})
			continue
		}
		k := string(d.Channel) + "|" + d.Recipient.String()
		if g, ok := digests[k]; ok {
			g.ds = append(g.ds, d)
			continue
		}
		g := &group{ch: d.Channel, recipient: d.Recipient, ds: []Delivery{d}}
		digests[k] = g
		groups = append(groups, g)
	}
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, p.cfg.Workers)
		mu   sync.Mutex
		errs []error
	)
	for _, g := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := p.send(ctx, g); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(ds), errors.Join(errs...)
}

// send sends one group's message and records its result on each of its
// deliveries.
func (p *Process) send(ctx context.Context, g *group) error {
	ch, ok := p.cfg.Channels[g.ch]
	if !ok {
		return p.settle(ctx, g, Result{Verdict: Never, Reason: domain.FailNoAddress, Detail: "channel not configured"})
	}
	m, err := p.message(ctx, g)
	if err != nil {
		return p.settle(ctx, g, Result{Verdict: Again, Detail: err.Error()})
	}
	return p.settle(ctx, g, ch.Deliver(ctx, g.recipient, m))
}

// message writes a group's message.
func (p *Process) message(ctx context.Context, g *group) (Message, error) {
	items := make([]Message, 0, len(g.ds))
	var lang domain.NotifyLang
	for _, d := range g.ds {
		var e projections.Planned
		if err := json.Unmarshal(d.Data, &e); err != nil {
			return Message{}, fmt.Errorf("delivery %s: %w", d.Key.ID(), err)
		}
		name := ""
		if len(e.Students) > 0 {
			n, err := p.cfg.Names.DisplayName(ctx, e.Students[0])
			if err != nil {
				return Message{}, fmt.Errorf("name of %s: %w", e.Students[0], err)
			}
			name = n
		}
		m := p.w.write(e, name)
		m.Key = d.Key
		m.Path = OpenPath(d.Notification, d.Channel, m.Path)
		lang = m.Lang
		items = append(items, m)
	}
	if !g.ds[0].Digest {
		return items[0], nil
	}
	m := p.w.digest(lang, items)
	m.Key = g.ds[0].Key
	return m, nil
}

// settle records r on each delivery of g: sent, failed for good, retried
// after a back-off with jitter, or a dead letter after the last attempt.
func (p *Process) settle(ctx context.Context, g *group, r Result) error {
	now := p.cfg.Now()
	var errs []error
	for _, d := range g.ds {
		var err error
		switch r.Verdict {
		case Done:
			_, err = p.cfg.Store.Finish(ctx, p.cfg.Owner, d.Key, Sent, "", now)
		case Never:
			_, err = p.cfg.Store.Finish(ctx, p.cfg.Owner, d.Key, Failed, r.Reason+": "+r.Detail, now)
		default:
			if d.Attempts >= p.cfg.Attempts {
				_, err = p.cfg.Store.Finish(ctx, p.cfg.Owner, d.Key, Dead, domain.FailExhausted+": "+r.Detail, now)
				break
			}
			wait := max(p.backoff(d.Attempts), r.RetryAfter)
			_, err = p.cfg.Store.Retry(ctx, p.cfg.Owner, d.Key, now.Add(wait), r.Detail, now)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if r.Verdict != Done {
		p.cfg.Logger.Info("notification not delivered", "channel", g.ch, "recipient", g.recipient,
			"deliveries", len(g.ds), "attempts", g.ds[0].Attempts, "reason", r.Reason, "detail", r.Detail)
	}
	return errors.Join(errs...)
}

// backoff is the wait after attempt n (1 for the first): Backoff doubled
// n-1 times, at most MaxBackoff, drawn between its half and itself.
func (p *Process) backoff(n int) time.Duration {
	d := p.cfg.Backoff
	for i := 1; i < n && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return p.cfg.Jitter(min(d, p.cfg.MaxBackoff))
}

// RecordOnce appends the outcomes of finished deliveries to the log, in
// one command per establishment for up to 500 of them. A batch chosen
// before a crash is appended again under the same idempotency keys: it is
// recorded once.
func (p *Process) RecordOnce(ctx context.Context) (int, error) {
	batch, ds, err := p.cfg.Store.Unrecorded(ctx, uuid.NewString(), 500)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	byUAI := map[string][]domain.NotificationOutcome{}
	var order []string
	for _, d := range ds {
		if !domain.ValidUAI(d.Establishment) {
			p.cfg.Logger.Warn("notification outcome without an establishment: not recorded", "delivery", d.Key.ID())
			continue
		}
		if _, ok := byUAI[d.Establishment]; !ok {
			order = append(order, d.Establishment)
		}
		byUAI[d.Establishment] = append(byUAI[d.Establishment], outcome(d))
	}
	for _, uai := range order {
		all := byUAI[uai]
		for i := 0; len(all) > 0; i++ {
			n := min(len(all), domain.MaxOutcomesPerCommand)
			req := commands.Request{System: true, IdempotencyKey: "notify-outcomes:" + batch + ":" + uai + ":" + strconv.Itoa(i)}
			if _, err := p.cfg.Record.RecordNotificationOutcomes(ctx, req,
				domain.RecordNotificationOutcomes{Establishment: uai, Outcomes: all[:n]}); err != nil {
				return 0, fmt.Errorf("record %d outcomes of %s: %w", n, uai, err)
			}
			all = all[n:]
		}
	}
	if err := p.cfg.Store.MarkRecorded(ctx, batch); err != nil {
		return 0, err
	}
	return len(ds), nil
}

// outcome is a finished delivery as the log records it.
func outcome(d Delivery) domain.NotificationOutcome {
	o := domain.NotificationOutcome{
		Kind: domain.OutcomeSent, Notification: d.Notification, Act: d.EventType, Category: domain.NotifyCategory(d.Category),
		Channel: d.Channel, Recipient: d.Recipient, Students: d.Students, Attempts: d.Attempts, Digest: d.Digest, At: d.Updated,
	}
	if d.State != Sent {
		o.Kind = domain.OutcomeFailed
		o.Reason, _, _ = strings.Cut(d.LastError, ":")
		if d.State == Dead {
			o.Reason = domain.FailExhausted
		}
	}
	return o
}
