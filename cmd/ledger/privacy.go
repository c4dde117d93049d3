package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// sealing is the crypto-shredding of a store (docs/privacy.md): the
// registry that opens personal fields, and the cipher the handlers seal
// them with (nil on EventStoreDB, which has no table for the keys).
type sealing struct {
	reg    *domain.Registry
	cipher *subjectkeys.Cipher
	close  func() error
}

// sealingFor wires the subjects' keys of the event store's database.
func sealingFor(store eventStore, reg *domain.Registry, log interface{ Warn(string, ...any) }) (sealing, error) {
	var keys *subjectkeys.SQL
	switch s := store.(type) {
	case *sqlite.Store:
		keys = subjectkeys.NewSQLite(s.DB(), s.WithTx)
	case *postgres.Store:
		keys = subjectkeys.NewPostgres(s.Pool())
	default:
		log.Warn("personal data is stored unencrypted: this event store has no table for the subjects' keys", "store", fmt.Sprintf("%T", store))
		return sealing{reg: reg, close: func() error { return nil }}, nil
	}
	c, err := subjectkeys.New(keys, reg)
	if err != nil {
		return sealing{}, errors.Join(err, keys.Close())
	}
	return sealing{reg: reg.WithOpener(c), cipher: c, close: keys.Close}, nil
}

// seal sets the sealer and shredder of a commands configuration.
func (s sealing) seal(cc commands.Config) commands.Config {
	if s.cipher != nil {
		cc.Sealer, cc.Shredder, cc.RecordShredder = s.cipher, s.cipher, s.cipher
	}
	cc.Registry = s.reg
	return cc
}

// privacyVerbs are the verbs of `ledger privacy`: what the ledger does
// for a person's rights over their data (docs/privacy.md). A verb is one
// entry here and its own file (privacy_export.go).
func privacyVerbs() map[string]func(m *Main, ctx context.Context, args []string) error {
	return map[string]func(m *Main, ctx context.Context, args []string) error{
		"export": (*Main).privacyExport,
		"erase":  (*Main).privacyErase,
		"reseal": (*Main).privacyReseal,
	}
}

// privacy runs `ledger privacy VERB`.
func (m *Main) privacy(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, privacyUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	run, ok := privacyVerbs()[args[0]]
	if !ok {
		return usageErrorf("privacy", "unknown command %q", args[0])
	}
	return run(m, ctx, args[1:])
}

const privacyUsage = `usage: ledger privacy VERB [FLAGS]

What the ledger does for a person's rights over their data (GDPR); see
docs/privacy.md.

  export   write everything the ledger holds about a person (access and
           portability), as a JSON archive or a French HTML summary
  erase    erase a person's personal data by destroying their key
           (crypto-shredding); history stays verifiable
  reseal   copy a store written before sealing into a new store with
           every personal field sealed, checked and verified`
