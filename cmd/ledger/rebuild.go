package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// eventCounter is implemented by stores that can count their events cheaply.
type eventCounter interface {
	CountEvents(ctx context.Context) (int64, error)
}

// countEvents returns the log's size, or 0 when the store cannot tell.
func countEvents(ctx context.Context, store eventStore) int {
	if c, ok := store.(eventCounter); ok {
		if n, err := c.CountEvents(ctx); err == nil {
			return int(n)
		}
	}
	return 0
}

// rebuild rebuilds projections beside their live generations and swaps them
// in: `ledger rebuild [NAME...]`, every projection when none is named.
func (m *Main) rebuild(ctx context.Context, args []string) error {
	var cfg Config
	var names []string
	err := m.parse(&cfg, "rebuild", args, false, func(fs *flagSet) {
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: ledger rebuild [FLAGS] [NAME...]\n\nRebuilds the named projections (all when none is named) beside the live ones, then swaps them in.")
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	}, &names)
	if err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if len(names) == 0 {
		for _, r := range a.runner.Reducers() {
			names = append(names, r.Name())
		}
	}
	total := countEvents(ctx, a.store)
	var errs []error
	for _, name := range names {
		if _, ok := a.runner.Reducer(name); !ok {
			var known []string
			for _, r := range a.runner.Reducers() {
				known = append(known, r.Name())
			}
			return fmt.Errorf("rebuild: no projection %q (known: %s)", name, strings.Join(known, ", "))
		}
		p := newProgress(m.stderr, "rebuild "+name, total)
		done := 0
		err := a.runner.Rebuild(ctx, name, func(n int) { done = n; p.Update(n) })
		p.Done(done)
		if err != nil {
			errs = append(errs, fmt.Errorf("rebuild %s: %w", name, err))
			continue
		}
		fmt.Fprintf(m.stdout, "%s rebuilt from %d events and swapped in\n", name, done)
	}
	return errors.Join(errs...)
}
