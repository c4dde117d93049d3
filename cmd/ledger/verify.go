package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
)

// errTampered is returned when `ledger verify` finds a broken history.
var errTampered = errors.New("the stored history does not verify")

// verify checks that nothing in the stored log was edited, deleted,
// inserted or reordered, and with --seal seals what is not yet sealed.
func (m *Main) verify(ctx context.Context, args []string) error {
	var cfg Config
	var seal bool
	err := m.parse(&cfg, "verify", args, false, func(fs *flagSet) {
		fs.BoolVar(&seal, "seal", false, "after a successful check, seal the events not yet sealed")
	})
	if err != nil {
		return err
	}
	log := cfg.logger(m.stderr)
	store, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer store.Close()
	v, ok := store.(verifier)
	if !ok {
		return fmt.Errorf("verify: the %T store keeps no hash chain the ledger can check", store)
	}
	rep, err := v.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(m.stdout, "events %d, streams %d, seals %d (%d events sealed)\n", rep.Events, rep.Streams, rep.Seals, rep.Sealed)
	if !rep.OK() {
		p := rep.First()
		fmt.Fprintf(m.stdout, "BROKEN: %s\n", p)
		if n := rep.Found; n > 1 {
			fmt.Fprintf(m.stdout, "(%d problems in all)\n", n)
		}
		return errTampered
	}
	fmt.Fprintln(m.stdout, "history intact")
	if seal {
		s, sealed, err := v.Seal(ctx)
		if err != nil {
			return fmt.Errorf("seal: %w", err)
		}
		if !sealed {
			fmt.Fprintln(m.stdout, "nothing new to seal")
			return nil
		}
		fmt.Fprintf(m.stdout, "seal %d up to %s: %s\n", s.Seq, s.UpTo, hex.EncodeToString(s.Hash))
	}
	return nil
}
