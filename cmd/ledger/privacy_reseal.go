package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/reseal"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// privacyReseal runs `ledger privacy reseal --from STORE --to STORE`.
func (m *Main) privacyReseal(ctx context.Context, args []string) error {
	var (
		cfg      Config
		from, to string
		batch    int
	)
	err := m.parse(&cfg, "privacy reseal", args, false, func(fs *flagSet) {
		fs.StringVar(&from, "from", "", "the store written before sealing, copied (required): sqlite:PATH or postgres://...")
		fs.StringVar(&to, "to", "", "the new, empty store the copy is written to (required): sqlite:PATH or postgres://...")
		fs.IntVar(&batch, "batch", reseal.DefaultBatch, "events per append of the copy")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), privacyResealUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	})
	if err != nil {
		return err
	}
	if from == "" || to == "" {
		return usageErrorf("privacy reseal", "--from STORE and --to STORE are required")
	}
	if batch <= 0 {
		return usageErrorf("privacy reseal", "--batch: %d is not a positive number of events", batch)
	}
	for _, s := range []struct{ flag, spec string }{{"--from", from}, {"--to", to}} {
		kind, _, err := parseStore(s.spec)
		if err != nil {
			return usageErrorf("privacy reseal", "%s: %v", s.flag, err)
		}
		if kind == storeESDB {
			return usageErrorf("privacy reseal", "%s: an EventStoreDB store has no table for the subjects' keys: a copy is made from and to SQLite or Postgres", s.flag)
		}
	}
	if from == to {
		return usageErrorf("privacy reseal", "--from and --to name the same store: the copy goes into a new one")
	}
	rs := resealer{cfg: &cfg, log: cfg.logger(m.stderr), batch: batch, stdout: m.stdout, stderr: m.stderr}
	_, err = rs.run(ctx, from, to)
	return err
}

// resealer copies a store written before sealing into a new one.
type resealer struct {
	cfg            *Config
	log            *slog.Logger
	batch          int
	stdout, stderr io.Writer
	// progressed, when set, is told each count of events copied (tests
	// interrupt a copy with it).
	progressed func(done int)
}

// resealSide is one store of a copy, opened and migrated, with its keys,
// the cipher over them, the registry that opens through it and its
// credentials.
type resealSide struct {
	store  eventStore
	v      verifier
	dest   reseal.Destination
	keys   *subjectkeys.SQL
	cipher *subjectkeys.Cipher
	reg    *domain.Registry
	creds  *auth.Service
	closes []func() error
}

func (s *resealSide) Close() error {
	var errs []error
	for i := len(s.closes) - 1; i >= 0; i-- {
		errs = append(errs, s.closes[i]())
	}
	return errors.Join(errs...)
}

// openSide opens and migrates the store spec names: the copy needs the
// source at the current schema too, for its table of keys.
func (rs resealer) openSide(ctx context.Context, spec string, plain *domain.Registry) (*resealSide, error) {
	store, err := openStore(ctx, spec, rs.log)
	if err != nil {
		return nil, err
	}
	s := &resealSide{store: store, closes: []func() error{store.Close}}
	if err := store.Migrate(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s: %w", redact(spec), err), s.Close())
	}
	switch st := store.(type) {
	case *sqlite.Store:
		s.keys, s.dest, s.v = subjectkeys.NewSQLite(st.DB(), st.WithTx), st, st
	case *postgres.Store:
		s.keys, s.dest, s.v = subjectkeys.NewPostgres(st.Pool()), st, st
	default:
		return nil, errors.Join(fmt.Errorf("%s: the store %T has no table for the subjects' keys", redact(spec), store), s.Close())
	}
	s.closes = append(s.closes, s.keys.Close)
	if s.cipher, err = subjectkeys.New(s.keys, plain); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.reg = plain.WithOpener(s.cipher)
	creds, closeAuth, err := openAuth(ctx, &Config{Store: spec}, store, auth.Config{})
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.creds = creds
	s.closes = append(s.closes, closeAuth)
	return s, nil
}

// resealReport is what a copy did, as printed.
type resealReport struct {
	Source      tamper.Seal
	Events      int
	Resumed     int
	Rewritten   int
	Keys        int
	Erased      int
	Credentials int
	Compared    int
	Verify      tamper.VerifyReport
}

// run copies from into to, checks the copy and prints the report.
func (rs resealer) run(ctx context.Context, from, to string) (resealReport, error) {
	var rep resealReport
	plain := domain.NewRegistry()
	src, err := rs.openSide(ctx, from, plain)
	if err != nil {
		return rep, fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, err := rs.openSide(ctx, to, plain)
	if err != nil {
		return rep, fmt.Errorf("destination: %w", err)
	}
	defer dst.Close()

	// The source must verify: a copy would launder what was tampered with.
	srcRep, err := src.v.Verify(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify the source: %w", err)
	}
	if !srcRep.OK() {
		fmt.Fprintf(rs.stdout, "source BROKEN: %s\n", srcRep.First())
		return rep, fmt.Errorf("the source does not verify, nothing is copied: %w", errTampered)
	}
	seal, copyStarted, srcRep, err := rs.start(ctx, src, dst, srcRep)
	if err != nil {
		return rep, err
	}
	rep.Source, rep.Events = seal, srcRep.Events
	sealHex := hex.EncodeToString(seal.Hash)
	fmt.Fprintf(rs.stdout, "source: %d events, seal %d up to %s: %s\n", srcRep.Events, seal.Seq, seal.UpTo, sealHex)
	if copyStarted {
		fmt.Fprintf(rs.stdout, "copy %s recorded (privacy.store_resealed.v1)\n", domain.CopyID(sealHex))
	}

	// The keys move with the data: a value the source sealed is copied as
	// it is and opens with the same key; a destroyed key stays destroyed,
	// and so does the key of a person whose erasure the source records.
	erased, err := reseal.Erased(ctx, src.store, plain, seal.UpTo, srcRep.Events)
	if err != nil {
		return rep, fmt.Errorf("read the source's erasures: %w", err)
	}
	if rep.Keys, err = copyKeys(ctx, src.keys, dst.keys, erased); err != nil {
		return rep, err
	}
	for _, s := range erased {
		if err := dst.cipher.Destroy(ctx, s); err != nil {
			return rep, err
		}
	}
	dead, err := destroyed(ctx, dst.keys)
	if err != nil {
		return rep, err
	}
	rep.Erased = len(dead)
	if rep.Credentials, err = copyCredentials(ctx, src.creds, dst.creds, dead); err != nil {
		return rep, err
	}
	fmt.Fprintf(rs.stdout, "keys: %d copied; %d people erased stay erased; credentials: %d copied (none of an erased person), sessions not copied\n",
		rep.Keys, rep.Erased, rep.Credentials)

	p := newProgress(rs.stderr, "reseal", srcRep.Events)
	began := time.Now()
	done := 0
	cr, err := reseal.Copy{Source: src.store, Dest: dst.dest, Registry: plain, Sealer: dst.cipher, Head: seal.UpTo, Events: srcRep.Events,
		Batch: rs.batch, Progress: func(n int) {
			done = n
			p.Update(n)
			if rs.progressed != nil {
				rs.progressed(n)
			}
		}}.Run(ctx)
	p.Done(done)
	if err != nil {
		return rep, fmt.Errorf("copy: %w", err)
	}
	rep.Resumed, rep.Rewritten = cr.Resumed, cr.Rewritten
	took := time.Since(began)
	written := cr.Copied - cr.Resumed
	fmt.Fprintf(rs.stdout, "events: %d copied (%d there already), %d with personal fields sealed or erased, in %s (%.0f events/s)\n",
		written, cr.Resumed, cr.Rewritten, took.Round(time.Millisecond), float64(written)/max(took.Seconds(), 1e-9))
	if cr.Copied != srcRep.Events {
		return rep, fmt.Errorf("copy: %d events copied, the source has %d: was it written to meanwhile? Stop its server and run the copy again into a new store", cr.Copied, srcRep.Events)
	}

	// The check reads both logs again, the copy through a new cipher: no
	// key cached during the copy helps the copy open.
	checking := time.Now()
	dstRead, err := subjectkeys.New(dst.keys, plain)
	if err != nil {
		return rep, err
	}
	if rep.Compared, err = reseal.Check(ctx, src.store, src.reg, dst.store, plain.WithOpener(dstRead), dstRead, seal.UpTo, srcRep.Events); err != nil {
		return rep, fmt.Errorf("check the copy: %w", err)
	}
	fmt.Fprintf(rs.stdout, "check: %d events identical once opened (ids, streams, versions, metadata, payloads; erased people's data as %q), in %s\n",
		rep.Compared, subjectkeys.Placeholder, time.Since(checking).Round(time.Millisecond))
	if rep.Verify, err = sealAll(ctx, dst.v); err != nil {
		return rep, fmt.Errorf("seal the copy: %w", err)
	}
	v := rep.Verify
	fmt.Fprintf(rs.stdout, "copy: events %d, streams %d, seals %d (%d events sealed)\n", v.Events, v.Streams, v.Seals, v.Sealed)
	if !v.OK() {
		fmt.Fprintf(rs.stdout, "copy BROKEN: %s\n", v.First())
		return rep, fmt.Errorf("the copy does not verify: %w", errTampered)
	}
	fmt.Fprintln(rs.stdout, "history intact")
	if v.LastSeal != nil {
		fmt.Fprintf(rs.stdout, "seal %d up to %s: %s\n", v.LastSeal.Seq, v.LastSeal.UpTo, hex.EncodeToString(v.LastSeal.Hash))
	}
	fmt.Fprintf(rs.stdout, "serve the copy (its projections are built from its log at start, or by 'ledger rebuild'), then destroy %s and its backups: they hold the personal data in clear\n", redact(from))
	return rep, nil
}

// sealAll seals the copy to its end and verifies it. On Postgres a seal
// covers the events of transactions older than every running one: while
// one runs (in any database of the cluster) the newest events wait for
// the next seal; sealAll seals again until every event is sealed, or the
// log does not verify.
func sealAll(ctx context.Context, v verifier) (tamper.VerifyReport, error) {
	for {
		if _, _, err := v.Seal(ctx); err != nil {
			return tamper.VerifyReport{}, err
		}
		rep, err := v.Verify(ctx)
		if err != nil || !rep.OK() || rep.Sealed == rep.Events {
			return rep, err
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return rep, ctx.Err()
		case <-t.C:
		}
	}
}

// start opens the copy, or finds the copy an interrupted run began. A
// destination whose log is empty gets the first event; the source is
// sealed first, so that its last seal covers every event copied. A
// destination whose log starts with the record of a copy of this very
// source (same seal, same count, nothing written since) is resumed.
// Anything else is refused.
func (rs resealer) start(ctx context.Context, src, dst *resealSide, srcRep tamper.VerifyReport) (seal tamper.Seal, started bool, _ tamper.VerifyReport, err error) {
	n, err := dst.dest.CountEvents(ctx)
	if err != nil {
		return seal, false, srcRep, fmt.Errorf("read the destination: %w", err)
	}
	if n > 0 {
		first, err := dst.store.ReadAll(ctx, domain.Start, 1)
		if err != nil || len(first) == 0 {
			return seal, false, srcRep, fmt.Errorf("read the destination's first event: %d read, %v", len(first), err)
		}
		seal, err := rs.resume(first[0], dst, srcRep)
		return seal, false, srcRep, err
	}
	if srcRep.Events == 0 {
		return seal, false, srcRep, errors.New("the source holds no event: there is nothing to copy")
	}
	if srcRep, err = sealAll(ctx, src.v); err != nil {
		return seal, false, srcRep, fmt.Errorf("seal the source: %w", err)
	}
	if !srcRep.OK() || srcRep.LastSeal == nil {
		return seal, false, srcRep, fmt.Errorf("the source does not verify once sealed: %w", errTampered)
	}
	seal = *srcRep.LastSeal
	h, err := commands.New(rs.cfg.commandsConfig(dst.store, dst.reg, rs.log))
	if err != nil {
		return seal, false, srcRep, err
	}
	_, err = h.ResealStore(ctx, commands.Request{System: true}, domain.ResealStore{
		SourceSeal: hex.EncodeToString(seal.Hash), SourceSealSeq: seal.Seq, SourceHead: seal.UpTo.String(), Events: uint64(srcRep.Events)})
	if err != nil {
		return seal, false, srcRep, fmt.Errorf("record the copy: %w", err)
	}
	return seal, true, srcRep, nil
}

// resume accepts a destination whose first event, first, records a copy
// of the source as it is now.
func (rs resealer) resume(first domain.Record, dst *resealSide, srcRep tamper.VerifyReport) (tamper.Seal, error) {
	refuse := fmt.Errorf("the destination is not empty and not an interrupted copy of this source: a copy goes into a new, empty store")
	if first.Type != (domain.StoreResealed{}).EventType() {
		return tamper.Seal{}, refuse
	}
	e, err := dst.reg.DecodeRecord(first)
	if err != nil {
		return tamper.Seal{}, fmt.Errorf("read the destination: %w", err)
	}
	r := e.(domain.StoreResealed)
	last := srcRep.LastSeal
	switch {
	case last == nil || hex.EncodeToString(last.Hash) != r.SourceSeal:
		return tamper.Seal{}, fmt.Errorf("%w (it copies the source sealed as %s)", refuse, r.SourceSeal)
	case uint64(srcRep.Events) != r.Events || srcRep.Sealed != srcRep.Events:
		return tamper.Seal{}, fmt.Errorf("the source changed since the copy began (%d events then, %d now): start again into a new, empty store", r.Events, srcRep.Events)
	}
	fmt.Fprintf(rs.stdout, "resuming the copy %s begun at %s\n", r.Copy, first.Metadata.Time.UTC().Format(time.RFC3339))
	return *last, nil
}

// destroyed returns the people whose key is destroyed in keys.
func destroyed(ctx context.Context, keys *subjectkeys.SQL) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	err := keys.Rows(ctx, func(r subjectkeys.Row) error {
		if r.Key == nil {
			out[r.Subject] = true
		}
		return nil
	})
	return out, err
}

// keysChunk is how many keys one transaction of the copy stores.
const keysChunk = 5000

// copyKeys copies every row of the source's table of keys; the key of a
// person in erased is copied as destroyed, never written.
func copyKeys(ctx context.Context, from, to *subjectkeys.SQL, erased []uuid.UUID) (int, error) {
	var (
		rows []subjectkeys.Row
		n    int
	)
	now := time.Now().UnixMilli()
	err := from.Rows(ctx, func(r subjectkeys.Row) error {
		if r.Key != nil && slices.Contains(erased, r.Subject) {
			r.Key, r.DestroyedAt = nil, now
		}
		rows = append(rows, r)
		if len(rows) < keysChunk {
			return nil
		}
		n += len(rows)
		err := to.Put(ctx, rows)
		rows = rows[:0]
		return err
	})
	if err != nil {
		return n, fmt.Errorf("copy the keys: %w", err)
	}
	if err := to.Put(ctx, rows); err != nil {
		return n, fmt.Errorf("copy the keys: %w", err)
	}
	n += len(rows)
	// The keys of a category and period, or of a record, likewise.
	var scoped []subjectkeys.ScopedRow
	err = from.ScopedRows(ctx, func(r subjectkeys.ScopedRow) error {
		if r.Key != nil && slices.Contains(erased, r.Subject) {
			r.Key, r.DestroyedAt = nil, now
		}
		scoped = append(scoped, r)
		if len(scoped) < keysChunk {
			return nil
		}
		n += len(scoped)
		err := to.PutScoped(ctx, scoped)
		scoped = scoped[:0]
		return err
	})
	if err != nil {
		return n, fmt.Errorf("copy the scoped keys: %w", err)
	}
	if err := to.PutScoped(ctx, scoped); err != nil {
		return n, fmt.Errorf("copy the scoped keys: %w", err)
	}
	return n + len(scoped), nil
}

// copyCredentials copies the sign-in credentials, but those of erased
// people, whose login may be their name.
func copyCredentials(ctx context.Context, from, to *auth.Service, erased map[uuid.UUID]bool) (int, error) {
	var creds []auth.Credential
	err := from.Credentials(ctx, func(c auth.Credential) error {
		if !erased[c.Account] {
			creds = append(creds, c)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("copy the credentials: %w", err)
	}
	if err := to.PutCredentials(ctx, creds); err != nil {
		return 0, fmt.Errorf("copy the credentials: %w", err)
	}
	return len(creds), nil
}

const privacyResealUsage = `usage: ledger privacy reseal --from STORE --to STORE [--batch N] [FLAGS]

Copies a store written before sealing, whose personal fields are (partly)
in clear, into a new, empty store with every personal field sealed under
its subject's key (docs/privacy.md, "Stores written before sealing"). The
source must verify; it is sealed first, and the copy's log starts with
privacy.store_resealed.v1, which records the source's last seal, its count
of events and the time of the copy. Every event follows in log order with
its stream, version, id and metadata; new hashes, a new chain, new seals.
The subjects' keys move with the data; the values about people whose
erasure the source records are written as "[donnée effacée]"; credentials
are copied (but erased people's), sessions are not. The copy is then
checked: both logs are read again and compared event by event once opened,
and the copy is verified. STORE is sqlite:PATH or postgres://...; never an
EventStoreDB. A destination that is not empty is refused, unless it is an
interrupted copy of the same source: the copy then resumes. Stop the
server of the source first. --store and --readmodels are not read: --from
and --to name the stores, and the credentials are those of their own
databases.`
