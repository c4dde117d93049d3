package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/portal"
	"github.com/schoollife/ledger/adapters/subjectexport"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// exporter returns the exporter of persons' data over the app's log,
// read models and command handlers.
func (a *app) exporter() (*subjectexport.Exporter, error) {
	fr, err := portal.French()
	if err != nil {
		return nil, err
	}
	return subjectexport.New(subjectexport.Config{
		Log: a.store, Directory: a.queries, Registry: a.reg, Recorder: a.commands, Words: fr, Location: a.loc,
	})
}

// privacyExport runs `ledger privacy export`: the ledger, on an
// operator's request, exports a person's data; the export is recorded
// like any other (privacy.data_exported.v1, by the ledger).
func (m *Main) privacyExport(ctx context.Context, args []string) error {
	const name = "privacy export"
	var cfg Config
	var subjectText, format, out string
	err := m.parse(&cfg, name, args, false, func(fs *flagSet) {
		fs.StringVar(&subjectText, "subject", "", "the person's account id (required)")
		fs.StringVar(&format, "format", "json", "json (the archive) or html (the readable summary, in French)")
		fs.StringVar(&out, "out", "", "the file to write (default: standard output)")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), privacyExportUsage)
			fmt.Fprintln(fs.Output())
			fs.printFlags()
		}
	})
	if err != nil {
		return err
	}
	subject, err := uuid.Parse(subjectText)
	if subjectText == "" || err != nil || subject == uuid.Nil {
		return usageErrorf(name, "--subject %q is not an account id", subjectText)
	}
	f := domain.ExportFormat(format)
	if !f.Valid() {
		return usageErrorf(name, "--format %q is not json or html", format)
	}
	log := cfg.logger(m.stderr)
	a, err := openApp(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	x, err := a.exporter()
	if err != nil {
		return err
	}
	var w io.Writer = m.stdout
	var file *os.File
	if out != "" {
		if file, err = os.Create(out); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		w = file
	}
	bw := bufio.NewWriter(w)
	err = x.Export(ctx, bw, commands.Request{System: true}, subject, f)
	err = errors.Join(err, bw.Flush())
	if file != nil {
		err = errors.Join(err, file.Close())
		if err != nil {
			os.Remove(out) // an incomplete export is no export
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if out != "" {
		fmt.Fprintf(m.stderr, "wrote %s\n", out)
	}
	return nil
}

const privacyExportUsage = `usage: ledger privacy export --subject ID [--format json|html] [--out FILE] [FLAGS]

Writes everything the ledger holds about a person (GDPR art. 15 and 20):
their directory entry, their current student file, and every event of the
log about them, in log order. json is one JSON document (the archive);
html a readable summary in French, to print. The export is recorded in
the log (privacy.data_exported.v1, by the ledger). See docs/privacy.md.`
