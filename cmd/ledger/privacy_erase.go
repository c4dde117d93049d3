package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/erasure"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// privacyErase runs `ledger privacy erase`.
func (m *Main) privacyErase(ctx context.Context, args []string) error {
	var cfg Config
	var subject, reason, basis string
	err := m.parse(&cfg, "privacy erase", args, false, func(fs *flagSet) {
		fs.StringVar(&subject, "subject", "", "the account id of the person to erase (required)")
		fs.StringVar(&reason, "reason", "", "why: the request and its date, never the person's data (required)")
		fs.StringVar(&basis, "basis", "RGPD art. 17", "the legal basis (\"RGPD art. 17\", \"délai de conservation échu\"...)")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), privacyEraseUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	})
	if err != nil {
		return err
	}
	id, err := uuid.Parse(subject)
	if err != nil || id == uuid.Nil {
		return usageErrorf("privacy erase", "--subject: %q is not an account id", subject)
	}
	if reason == "" {
		return usageErrorf("privacy erase", "--reason is required")
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.cipher == nil {
		return errors.New("privacy erase: this event store keeps personal data unencrypted: nothing can be erased (see docs/privacy.md)")
	}
	return a.erase(ctx, domain.EraseSubject{Subject: id, Reason: reason, Basis: basis}, m.stdout, m.stderr)
}

// erase records an erasure and destroys the key (again, when it was
// recorded already: a run interrupted is finished by running it again),
// rebuilds every projection so that the read models hold placeholders,
// purges the bus messages and compacts the database so that no byte of
// the erased data remains in its files, then records the scrub
// (privacy.subject_scrubbed.v1).
func (a *app) erase(ctx context.Context, cmd domain.EraseSubject, stdout, stderr io.Writer) error {
	res, err := a.commands.EraseSubject(ctx, commands.Request{System: true}, cmd)
	switch {
	case errors.Is(err, domain.ErrSubjectErased):
		fmt.Fprintf(stdout, "erasure of %s recorded already; its key is destroyed\n", cmd.Subject)
	case err != nil:
		return err
	default:
		fmt.Fprintf(stdout, "erasure of %s recorded at %s; its key is destroyed\n", cmd.Subject, res.Position)
	}
	if err := a.scrub(ctx, stdout, stderr); err != nil {
		return err
	}
	// Every node, and a serving node that starts, know the erasure is
	// complete.
	if _, err := a.commands.RecordScrub(ctx, commands.Request{System: true}, domain.RecordScrub{Subject: cmd.Subject}); err != nil {
		return fmt.Errorf("the erasure is complete, its end is not recorded (run it again): %w", err)
	}
	return nil
}

// scrub makes destroyed keys effective in the database files: it rebuilds
// every projection, so that the read models replay with placeholders, then
// purges the bus messages and compacts the database so that no byte of
// what the keys protected remains in its files. Every act that destroys
// keys runs it afterwards; serve runs it as the erasures' background job
// (scrubbing, erasures.go).
func (a *app) scrub(ctx context.Context, stdout, stderr io.Writer) error {
	var p *progress
	done := 0
	err := a.scrubbing(ctx, stdout, offline, func(s erasure.Progress) {
		if s.Step != stepRebuild {
			return
		}
		if s.Events == 0 {
			if p != nil {
				p.Done(done)
			}
			p, done = newProgress(stderr, "rebuild "+s.Projection, s.Total), 0
			return
		}
		done = s.Events
		p.Update(done)
	})
	if p != nil {
		p.Done(done)
	}
	return err
}

// Steps of a scrub, as its progress names them.
const (
	stepRebuild = "rebuild"
	stepCompact = "compact"
)

// How a scrub compacts the database.
const (
	// offline: the operator's command; the whole file is rewritten.
	offline = false
	// online: serve's background scrub, beside the requests.
	online = true
)

// scrubbing is scrub, telling progress where it stands (a projection's
// start with Events 0, then its events) and logging how long each step
// took. A scrub online spares a SQLite store's writers the rewrite of the
// whole file (compact).
func (a *app) scrubbing(ctx context.Context, stdout io.Writer, serving bool, progress func(erasure.Progress)) error {
	total := countEvents(ctx, a.store)
	reducers := a.runner.Reducers()
	began := time.Now()
	for i, r := range reducers {
		name := r.Name()
		at := erasure.Progress{Step: stepRebuild, Projection: name, Index: i + 1, Projections: len(reducers), Total: total}
		progress(at)
		start := time.Now()
		err := a.runner.Rebuild(ctx, name, func(n int) {
			if n > 0 {
				at.Events = n
				progress(at)
			}
		})
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		a.log.InfoContext(ctx, "scrub: projection rebuilt", "projection", name, "events", at.Events, "took", time.Since(start))
	}
	fmt.Fprintf(stdout, "%d projections rebuilt\n", len(reducers))
	a.log.InfoContext(ctx, "scrub: projections rebuilt", "projections", len(reducers), "took", time.Since(began))
	progress(erasure.Progress{Step: stepCompact})
	start := time.Now()
	if err := a.compact(ctx, stdout, serving); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "scrub: database compacted", "store", fmt.Sprintf("%T", a.store), "took", time.Since(start))
	return nil
}

// compact removes from the database files the bytes the erasure made
// garbage: the read models' old generations, the key, the bus messages.
// On SQLite, the writer zeroes what it deletes (secure_delete) and only
// the write-ahead log keeps earlier images of pages: serving, the log is
// truncated, which holds appends for milliseconds, where VACUUM, which
// the operator's command runs (it also reclaims the space), holds them
// for as long as it rewrites the file (docs/privacy.md, "Erasing").
func (a *app) compact(ctx context.Context, stdout io.Writer, serving bool) error {
	switch s := a.store.(type) {
	case *sqlite.Store:
		if serving {
			if err := s.TruncateLog(ctx); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "write-ahead log truncated")
			return nil
		}
		if err := s.Compact(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "database file vacuumed, its write-ahead log truncated")
	case *postgres.Store:
		// A bus message older than a few seconds was delivered: the live
		// channel polls far more often.
		n, err := s.PurgeBus(ctx, 5*time.Second)
		if err != nil {
			return err
		}
		tables, err := s.Compact(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d bus messages purged; %d tables rewritten (VACUUM FULL)\n", n, len(tables))
	}
	return nil
}

const privacyEraseUsage = `usage: ledger privacy erase --subject ACCOUNT_ID --reason TEXT [--basis TEXT] [FLAGS]

Erases a person's personal data (crypto-shredding, docs/privacy.md): records
the erasure (privacy.subject_erased.v1, by the ledger, with its reason and
legal basis), destroys the key that encrypts the person's personal fields in
the log, rebuilds every projection so that the read models show
"[donnée effacée]", and compacts the database (SQLite: VACUUM and a
truncated write-ahead log; Postgres: bus messages purged, VACUUM FULL of the
read-model, bus and key tables), then records the end of it
(privacy.subject_scrubbed.v1). Every event stays and 'ledger verify' still
passes. Running it again finishes an interrupted erasure. Administrators
erase from the portal (/privacy/erase) or the API (POST
/api/v1/accounts/{account}/erasure): serve then rebuilds and compacts in
the background.`
