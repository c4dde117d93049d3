package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// dueLister lists the sanctions whose effacement date has come.
type dueLister interface {
	DueEffacements(ctx context.Context, day domain.Date) ([]projections.DueEffacement, error)
}

// effacer records effacements.
type effacer interface {
	EffaceSanction(ctx context.Context, req commands.Request, cmd domain.EffaceSanction) (commands.Result, error)
}

// effaceDue records, as the ledger, the effacement of every sanction whose
// date has come by today (Code de l'éducation, art. R. 511-13, IV). Each
// effacement's idempotency key names the sanction, so that two nodes, or a
// run interrupted and run again, record it once. It returns how many it
// recorded; with dryRun it records none and returns how many it would.
func effaceDue(ctx context.Context, q dueLister, h effacer, today domain.Date, dryRun bool, w io.Writer) (int, error) {
	due, err := q.DueEffacements(ctx, today)
	if err != nil {
		return 0, fmt.Errorf("list the sanctions due for effacement: %w", err)
	}
	n := 0
	var errs []error
	for _, d := range due {
		if dryRun {
			fmt.Fprintf(w, "would efface %s %s of student %s (due %s)\n", d.Kind, d.Sanction, d.Student, d.EffacedOn)
			n++
			continue
		}
		req := commands.Request{System: true, IdempotencyKey: "effacement-" + d.Sanction.String()}
		res, err := h.EffaceSanction(ctx, req, domain.EffaceSanction{Student: d.Student, Sanction: d.Sanction, Date: today, Basis: domain.EffacementDue})
		switch {
		case errors.Is(err, domain.ErrSanctionEffaced):
			// Effaced on a decision since the read model was written.
		case err != nil:
			errs = append(errs, fmt.Errorf("efface sanction %s: %w", d.Sanction, err))
		case !res.Replayed:
			fmt.Fprintf(w, "effaced %s %s of student %s (due %s)\n", d.Kind, d.Sanction, d.Student, d.EffacedOn)
			n++
		}
	}
	return n, errors.Join(errs...)
}

// sanctions runs `ledger sanctions efface-due`.
func (m *Main) sanctions(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, sanctionsUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "efface-due" {
		fmt.Fprintln(m.stderr, sanctionsUsage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	var cfg Config
	var dryRun bool
	err := m.parse(&cfg, "sanctions efface-due", args[1:], false, func(fs *flagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "list the sanctions due for effacement without recording anything")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), sanctionsUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	})
	if err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	// The list is read from the student files as the servers keep them: one
	// that lags can only leave a sanction for the next run, since the
	// ledger refuses an effacement before its day.
	today := domain.DateOf(time.Now().In(a.loc))
	n, err := effaceDue(ctx, a.queries, a.commands, today, dryRun, m.stdout)
	if dryRun {
		fmt.Fprintf(m.stdout, "%s due for effacement on %s\n", plural(n, "sanction"), today)
		return err
	}
	fmt.Fprintf(m.stdout, "%s effaced on %s\n", plural(n, "sanction"), today)
	if n == 0 || a.cipher == nil {
		return err
	}
	// Their keys are destroyed: no byte of their reasons may stay in the
	// read models or the files.
	return errors.Join(err, a.scrub(ctx, m.stdout, m.stderr))
}

const sanctionsUsage = `usage: ledger sanctions efface-due [--dry-run] [FLAGS]

Records the effacement from the students' administrative files of every
sanction whose date has come (Code de l'éducation, art. R. 511-13, IV: the
avertissement, blâme and mesure de responsabilisation at the end of the
school year, the temporary exclusions a year after they were pronounced),
destroys the key of each one's reason and council minutes, then rebuilds
the projections and compacts the database as 'ledger privacy erase' does.
'ledger serve' does it on its own every hour (without the compaction); see
docs/discipline.md.`

// effaceDaily runs effaceDue at start and then every period (an hour: the
// list is small, and a sanction leaves the files within the hour its day
// begins, or as soon as its read model has caught up), on the one node that
// holds the effacer lock.
func (a *app) effaceDaily(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		held, release, ok, err := a.docs.TryAcquire(ctx, "effacer")
		if err == nil && ok {
			today := domain.DateOf(time.Now().In(a.loc))
			n, err := effaceDue(held, a.queries, a.commands, today, false, io.Discard)
			release()
			if err != nil {
				a.log.Warn("effacement of sanctions due", "err", err)
			} else if n > 0 {
				a.log.Info("sanctions effaced from the students' files", "count", n, "day", today.String())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// plural writes n things in English.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
