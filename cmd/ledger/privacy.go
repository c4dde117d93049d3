package main

import (
	"context"
	"fmt"
)

// privacyVerbs are the verbs of `ledger privacy`: what the ledger does
// for a person's rights over their data (docs/privacy.md). A verb is one
// entry here and its own file (privacy_export.go).
func privacyVerbs() map[string]func(m *Main, ctx context.Context, args []string) error {
	return map[string]func(m *Main, ctx context.Context, args []string) error{
		"export": (*Main).privacyExport,
		// "erase": the right to erasure, in its own file.
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
           portability), as a JSON archive or a French HTML summary`
