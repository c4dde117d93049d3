// Package commands is the ledger's write side: one handler per command that
// loads the streams it needs, resolves and authorizes the actor, decides
// with the domain's pure rules and appends with an explicit expected
// version. A version conflict is retried a bounded number of times; an
// idempotency key makes a retried command return its original result and
// record nothing twice.
package commands

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// Config configures the handlers.
type Config struct {
	Store    EventStore
	Registry *domain.Registry
	// Now is the server clock stamped on events (time.Now by default; the
	// simulator sets its own).
	Now func() time.Time
	// Retries bounds the attempts after a version conflict (default 5).
	Retries int
	Logger  *slog.Logger
	// CacheEvents bounds the decoded events kept from the streams read
	// last (DefaultCacheEvents when 0; negative: no cache). See
	// streamCache.
	CacheEvents int
	// ActWindow and PlanWindow bound the dates of commands, in school
	// years around the handlers' today (domain.Calendar); nil: the
	// defaults, domain.DefaultActsWindow and DefaultPlansWindow.
	ActWindow, PlanWindow *domain.DateWindow
	// Observer, when set, is told each command's outcome and retries.
	Observer Observer
	// Sealer, when set, seals the personal fields of every event before
	// it is appended (docs/privacy.md); nil: they are stored as written.
	Sealer Sealer
	// Shredder destroys the key of a person once their erasure is
	// recorded (EraseSubject); nil: erasures are refused.
	Shredder Shredder
	// RecordShredder destroys the key of a sanction's texts once its
	// effacement is recorded (EffaceSanction); nil: they stay readable
	// where the log is read (the files hide them all the same).
	RecordShredder RecordShredder
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Store == nil {
		return errors.New("commands: Store is required")
	}
	if c.Registry == nil {
		return errors.New("commands: Registry is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Retries == 0 {
		c.Retries = 5
	}
	if c.Retries < 0 {
		return fmt.Errorf("commands: Retries %d is negative", c.Retries)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.CacheEvents == 0 {
		c.CacheEvents = DefaultCacheEvents
	}
	if c.ActWindow == nil {
		c.ActWindow = &domain.DefaultActsWindow
	}
	if c.PlanWindow == nil {
		c.PlanWindow = &domain.DefaultPlansWindow
	}
	return errors.Join(c.ActWindow.Validate(), c.PlanWindow.Validate())
}

// Handlers runs the ledger's commands.
type Handlers struct {
	store   EventStore
	reg     *domain.Registry
	now     func() time.Time
	retries int
	log     *slog.Logger
	cache   *streamCache // nil: none
	// acts and plans are the date windows of validate.
	acts, plans domain.DateWindow
	observer    Observer       // nil: none
	sealer      Sealer         // nil: none
	shredder    Shredder       // nil: no erasure
	records     RecordShredder // nil: effacements destroy no key
}

// New returns handlers over a store.
func New(cfg Config) (*Handlers, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handlers{store: cfg.Store, reg: cfg.Registry, now: cfg.Now, retries: cfg.Retries, log: cfg.Logger,
		acts: *cfg.ActWindow, plans: *cfg.PlanWindow, observer: cfg.Observer, sealer: cfg.Sealer, shredder: cfg.Shredder,
		records: cfg.RecordShredder}
	if cfg.CacheEvents > 0 {
		h.cache = newStreamCache(cfg.CacheEvents)
	}
	return h, nil
}

// Store returns the store the handlers read and append to.
func (h *Handlers) Store() EventStore { return h.store }

// WithStore returns handlers like h (registry, clock, retries, date
// windows, observer) over another store, with a stream cache of their own:
// the cache holds what was read through its store. The directory import
// runs the handlers over a store that batches its appends.
func (h *Handlers) WithStore(s EventStore) *Handlers {
	c := *h
	c.store = s
	if h.cache != nil {
		c.cache = newStreamCache(h.cache.max)
	}
	return &c
}

// PrepareSubjects gets ready the keys of subjects whose personal fields the
// next commands will seal (a directory import's accounts), when the sealer
// can do it in bulk; otherwise each key is read or created as it is needed.
func (h *Handlers) PrepareSubjects(ctx context.Context, subjects []uuid.UUID) error {
	p, ok := h.sealer.(SubjectPreparer)
	if !ok || len(subjects) == 0 {
		return nil
	}
	if err := p.Prepare(ctx, subjects); err != nil {
		return fmt.Errorf("prepare the keys of %d subjects: %w", len(subjects), err)
	}
	return nil
}

// StreamAppend is one append of a batch: events for Stream if its version
// matches Expected, checked and stored as Append would.
type StreamAppend struct {
	Stream   string
	Expected domain.ExpectedVersion
	Events   []domain.Envelope
}

// Request is who issues a command and how it is traced.
type Request struct {
	// Actor is the account issuing the command. Ignored when System is set.
	Actor uuid.UUID
	// System marks the ledger acting on its own (imports, bootstrap).
	System bool
	// CorrelationID links the events of one user action or import; a new one
	// is made when unset.
	CorrelationID uuid.UUID
	// CausationID is the message that caused this command (defaults to the
	// correlation id).
	CausationID uuid.UUID
	// IdempotencyKey, when set, names one act: a retry of the same command
	// with the same fields by the same actor returns the original result
	// and appends nothing; any other request with the key is refused with
	// domain.ErrIdempotencyKey. Keys are global, not per actor.
	IdempotencyKey string
}

// Result tells what a command appended.
type Result struct {
	// ID is the entity the command created or acted on (lesson, message,
	// booking, ...).
	ID            uuid.UUID       `json:"id"`
	Stream        string          `json:"stream"`
	Version       uint64          `json:"version"`
	Position      domain.Position `json:"position"`
	Events        []uuid.UUID     `json:"events"`
	CorrelationID uuid.UUID       `json:"correlation_id"`
	// Replayed is set when an idempotency key matched an earlier command.
	Replayed bool `json:"replayed,omitempty"`
}

// call is one command in flight.
type call struct {
	h           *Handlers
	req         Request
	actor       domain.Actor
	command     string
	correlation uuid.UUID
	// request is the fingerprint of the command when it has an
	// idempotency key (see fingerprint).
	request string
}

// begin resolves the actor of req: an account that exists and is open.
// payload is the command's fields, fingerprinted when req has an
// idempotency key.
func (h *Handlers) begin(ctx context.Context, req Request, command string, payload any) (*call, error) {
	c := &call{h: h, req: req, command: command, correlation: req.CorrelationID}
	if c.correlation == uuid.Nil {
		c.correlation = uuid.New()
	}
	if req.IdempotencyKey != "" {
		fp, err := fingerprint(req, command, payload)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", command, err)
		}
		c.request = fp
	}
	if req.System {
		c.actor = domain.SystemActor()
		return c, nil
	}
	var acc domain.Account
	if _, err := h.load(ctx, domain.AccountStream(req.Actor), &acc); err != nil {
		return nil, fmt.Errorf("%s: load actor: %w", command, err)
	}
	if !acc.Exists || acc.Closed {
		return nil, domain.Errorf(domain.ErrForbidden, "account %s is unknown or closed", req.Actor)
	}
	c.actor = acc.Actor()
	if c.actor.ReadOnly() && command != CmdRecordConnection && command != CmdActivateAccount && command != CmdRecordServiceAccess {
		return nil, domain.Errorf(domain.ErrForbidden, "%s never writes", c.actor.Profile)
	}
	return c, nil
}

// load folds stream into agg and returns its records (their payloads
// may be left out: handlers read versions, ids and metadata). It reads
// from the store what follows the stream's cached prefix.
func (h *Handlers) load(ctx context.Context, stream string, agg domain.Aggregate) ([]domain.Record, error) {
	s, err := h.read(ctx, stream)
	if err != nil {
		return nil, err
	}
	for _, e := range s.events {
		agg.Apply(e)
	}
	return s.recs, nil
}

// read returns the decoded events of stream, through the cache.
func (h *Handlers) read(ctx context.Context, stream string) (*cachedStream, error) {
	prefix := h.cache.get(stream)
	if prefix == nil {
		prefix = &cachedStream{}
	}
	from := uint64(len(prefix.recs))
	recs, err := h.store.ReadStream(ctx, stream, from)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(recs) == 0 {
		return prefix, nil
	}
	if recs[0].Version != from+1 {
		// Not the continuation of the cached prefix (a store that was
		// replaced under the handlers): read the whole stream again.
		if from == 0 {
			return nil, fmt.Errorf("read %s: first version %d, want 1", stream, recs[0].Version)
		}
		if recs, err = h.store.ReadStream(ctx, stream, 0); err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		prefix, from = &cachedStream{}, 0
	}
	// New slices: the cached entry is shared and never grows in place.
	s := &cachedStream{
		recs:   make([]domain.Record, len(prefix.recs), len(prefix.recs)+len(recs)),
		events: make([]domain.Event, len(prefix.events), len(prefix.events)+len(recs)),
	}
	copy(s.recs, prefix.recs)
	copy(s.events, prefix.events)
	for i, r := range recs {
		if r.Version != from+uint64(i)+1 {
			return nil, fmt.Errorf("read %s: version %d after %d", stream, r.Version, from+uint64(i))
		}
		e, err := h.reg.DecodeRecord(r)
		if err != nil {
			return nil, err
		}
		r.Data = nil
		s.recs = append(s.recs, r)
		s.events = append(s.events, e)
	}
	h.cache.put(stream, s)
	return s, nil
}

// newID returns id, or, when unset, a new id: derived from the idempotency
// key when there is one, so that a retried command targets the same stream.
func (c *call) newID(id uuid.UUID) uuid.UUID {
	if id != uuid.Nil {
		return id
	}
	if c.req.IdempotencyKey != "" {
		return domain.DeterministicID("entity", c.actor.Account.String(), c.req.IdempotencyKey)
	}
	return uuid.New()
}

// fingerprint identifies a request with an idempotency key: the command,
// who issues it and its fields (path parameters included, as the adapters
// put them in the command), so that the API and the portal fingerprint
// one act alike whatever the spelling of the body. It is stored in the
// metadata of the events the command appends (domain.Metadata.Request).
func fingerprint(req Request, command string, payload any) (string, error) {
	fields, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	actor := req.Actor.String()
	if req.System {
		actor = "system"
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(command), []byte(actor), fields} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]), nil
}

// eventID returns the id of the i-th event the command appends. With an
// idempotency key it derives from the key alone, not the actor: another
// account's request with the same key meets these ids (in the stream, or
// as a duplicate event elsewhere) and is refused, never recorded beside.
func (c *call) eventID(i int) uuid.UUID {
	if c.req.IdempotencyKey == "" {
		return uuid.New()
	}
	return domain.DeterministicID("event", c.req.IdempotencyKey, strconv.Itoa(i))
}

// legacyEventID is eventID as it was before keys were global (per actor):
// a retry of a command recorded then is still recognized.
func (c *call) legacyEventID(i int) uuid.UUID {
	return domain.DeterministicID("event", c.actor.Account.String(), c.req.IdempotencyKey, strconv.Itoa(i))
}

// replayed looks in a loaded stream for the events of an earlier run of the
// same request; it returns domain.ErrIdempotencyKey when the key was used
// for another request.
func (c *call) replayed(id uuid.UUID, stream string, recs []domain.Record) (Result, bool, error) {
	if c.req.IdempotencyKey == "" {
		return Result{}, false, nil
	}
	eventID := c.eventID
	first, legacy := eventID(0), c.legacyEventID(0)
	for i, r := range recs {
		if r.ID == legacy {
			eventID = c.legacyEventID
		} else if r.ID != first {
			continue
		}
		if err := c.sameRequest(r.Metadata); err != nil {
			return Result{}, false, err
		}
		res := Result{ID: id, Stream: stream, CorrelationID: r.Metadata.CorrelationID, Replayed: true}
		for j := i; j < len(recs) && recs[j].ID == eventID(j-i); j++ {
			res.Events = append(res.Events, recs[j].ID)
			res.Version, res.Position = recs[j].Version, recs[j].Position
		}
		return res, true, nil
	}
	return Result{}, false, nil
}

// sameRequest tells whether the event md belongs to was recorded by this
// very request. Events recorded before fingerprints have none: their
// command and actor are all there is to compare.
func (c *call) sameRequest(md domain.Metadata) error {
	switch {
	case md.Command != c.command:
		return domain.Errorf(domain.ErrIdempotencyKey, "key %q was used for %s", c.req.IdempotencyKey, md.Command)
	case md.Request != "" && md.Request != c.request,
		md.Request == "" && md.Actor != c.actor.Account:
		return domain.Errorf(domain.ErrIdempotencyKey, "key %q was used for another %s request", c.req.IdempotencyKey, c.command)
	}
	return nil
}

// execute runs the load-decide-append cycle on one stream, retrying on a
// version conflict. newAgg returns a fresh aggregate; decide reads it.
func execute[A any, P interface {
	*A
	domain.Aggregate
}](ctx context.Context, c *call, id uuid.UUID, stream string, decide func(ctx context.Context, agg P) (string, []domain.Event, error)) (Result, error) {
	for attempt := 0; ; attempt++ {
		agg := P(new(A))
		recs, err := c.h.load(ctx, stream, agg)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", c.command, err)
		}
		if res, ok, err := c.replayed(id, stream, recs); ok || err != nil {
			return res, err
		}
		uai, events, err := decide(ctx, agg)
		if err != nil {
			return Result{}, err
		}
		res, err := c.append(ctx, id, stream, domain.Exact(uint64(len(recs))), uai, events)
		if errors.Is(err, domain.ErrVersionConflict) && attempt < c.h.retries {
			c.h.log.DebugContext(ctx, "version conflict, retrying", "command", c.command, "stream", stream, "attempt", attempt+1)
			c.h.retried(c.command)
			Backoff(ctx, attempt)
			continue
		}
		return res, err
	}
}

// Backoff sleeps a little after a version conflict, more after each
// attempt (1, 2, 4... ms, up to 64), with jitter, or until ctx ends. The
// handlers use it between attempts; the load tool too, to retry as they do.
func Backoff(ctx context.Context, attempt int) {
	d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
	d += rand.N(d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// append encodes and appends events with their metadata.
func (c *call) append(ctx context.Context, id uuid.UUID, stream string, expected domain.ExpectedVersion, establishment string, events []domain.Event) (Result, error) {
	res := Result{ID: id, Stream: stream, CorrelationID: c.correlation}
	if len(events) == 0 {
		return res, nil
	}
	causation := c.req.CausationID
	if causation == uuid.Nil {
		causation = c.correlation
	}
	md := c.actor.MetadataFor(establishment)
	md.CorrelationID, md.CausationID, md.Command, md.Request = c.correlation, causation, c.command, c.request
	md.Time = c.h.now().UTC().Truncate(time.Microsecond)
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		if c.h.sealer != nil {
			sealed, err := c.h.sealer.Seal(ctx, md, e)
			if err != nil {
				return Result{}, fmt.Errorf("%s: %w", c.command, err)
			}
			e = sealed
		}
		typ, data, err := c.h.reg.Encode(e)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", c.command, err)
		}
		envs[i] = domain.Envelope{ID: c.eventID(i), Type: typ, Data: data, Metadata: md}
		res.Events = append(res.Events, envs[i].ID)
	}
	ar, err := c.h.store.Append(ctx, stream, expected, envs)
	if err != nil {
		if c.req.IdempotencyKey != "" && errors.Is(err, domain.ErrDuplicateEvent) {
			return Result{}, domain.Errorf(domain.ErrIdempotencyKey, "key %q was used for another request", c.req.IdempotencyKey)
		}
		return Result{}, fmt.Errorf("%s: %w", c.command, err)
	}
	res.Version, res.Position = ar.Version, ar.Position
	return res, nil
}

// loadInto folds a stream other than the command's target (for
// authorization and cross-checks).
func (c *call) loadInto(ctx context.Context, stream string, agg domain.Aggregate) error {
	if _, err := c.h.load(ctx, stream, agg); err != nil {
		return fmt.Errorf("%s: %w", c.command, err)
	}
	return nil
}
