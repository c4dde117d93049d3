package web

// Directory imports uploaded by administrators, for the API (POST
// /api/v1/imports) and the portal's import page alike: the feed's files
// come as multipart/form-data, streamed to temporary files (never whole in
// memory); the import runs as the signed-in administrator; the reports are
// kept (ImportsConfig.Reports) and read back by correlation id.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Importer runs directory imports: adapters/directoryimport's Importer.
type Importer interface {
	Import(ctx context.Context, sources []directoryimport.Source, opts directoryimport.Options) (*directoryimport.Report, error)
}

// DefaultMaxImportBytes bounds an uploaded feed unless ImportsConfig says
// otherwise: an académie's full feed weighs hundreds of megabytes.
const DefaultMaxImportBytes = 256 << 20

// ImportsConfig configures Imports.
type ImportsConfig struct {
	// Importer runs the directory imports administrators upload.
	Importer Importer
	// Reports keeps the imports' reports (namespace imports@1): the
	// read-model store, so that they outlive the process and every node
	// reads them. In memory when unset.
	Reports projections.DocStore
	// MaxBytes bounds an uploaded feed (default 256 MiB); larger ones get
	// 413. Files are streamed to temporary files.
	MaxBytes int64
	// Defaults are the settings of an uploaded import the upload does not
	// give (grace period, rejected share): directoryimport's defaults when
	// unset.
	Defaults *directoryimport.Options
	Logger   *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *ImportsConfig) Validate() error {
	if c.Importer == nil {
		return errors.New("web: Importer is required")
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxImportBytes
	}
	if c.MaxBytes < 0 {
		return fmt.Errorf("web: MaxBytes %d is negative", c.MaxBytes)
	}
	if c.Reports == nil {
		c.Reports = projections.NewMemoryDocs()
	}
	if c.Defaults == nil {
		d := directoryimport.DefaultOptions()
		c.Defaults = &d
	}
	if err := c.Defaults.Validate(); err != nil {
		return fmt.Errorf("web: import Defaults: %w", err)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Imports runs uploaded imports and keeps their reports.
type Imports struct {
	cfg ImportsConfig
	log *slog.Logger
}

// NewImports returns the imports of cfg.
func NewImports(cfg ImportsConfig) (*Imports, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Imports{cfg: cfg, log: cfg.Logger}, nil
}

// MaxBytes bounds an uploaded feed.
func (s *Imports) MaxBytes() int64 { return s.cfg.MaxBytes }

// Defaults are the settings of an upload that gives none.
func (s *Imports) Defaults() directoryimport.Options { return *s.cfg.Defaults }

// Where import reports are kept: one small document per import, keyed by
// its correlation id.
const (
	importsNamespace = "imports@1"
	importsColl      = "reports"
)

// Bounds of an upload and of a kept report.
const (
	// maxImportFields bounds the form's parts; maxImportField a field's
	// value.
	maxImportFields = 200
	maxImportField  = 4 << 10
	// maxKeptIssues bounds each list of a kept report (rejected, skipped,
	// failed, a dry run's changes): the response has them all.
	maxKeptIssues = 1000
	// ImportTimeout is how long an upload and its import may take, beyond
	// the server's read and write timeouts.
	ImportTimeout = 2 * time.Hour
)

// ErrNotMultipart refuses an upload that is not multipart/form-data.
var ErrNotMultipart = &Error{status: http.StatusUnsupportedMediaType, typ: "multipart-required",
	title: "the request body must be multipart/form-data"}

// ImportReport is a kept import report: the report, with its lists cut to
// their first entries when they were long.
type ImportReport struct {
	*directoryimport.Report
	// Truncated is set when a list was cut (the import's response had it
	// whole).
	Truncated bool `json:"truncated,omitempty"`
}

// MayImport: directory imports are for administrators; the importer then
// checks they administer every establishment the feed changes.
func MayImport(p *Principal) error {
	if p.actor.Profile == domain.ProfileAdmin {
		return nil
	}
	return forbidden("only administrators import directory feeds")
}

// MayReadImport: a kept report, for whom imported it, the administrators
// and the inspectors of every establishment of the feed.
func MayReadImport(p *Principal, rep *directoryimport.Report) error {
	a := p.actor
	if rep.Actor != uuid.Nil && a.Account == rep.Actor {
		return nil
	}
	all := func(may func(string) bool) bool {
		if len(rep.Establishments) == 0 {
			return may("")
		}
		for _, uai := range rep.Establishments {
			if !may(uai) {
				return false
			}
		}
		return true
	}
	if (a.Profile == domain.ProfileAdmin && all(a.IsAdmin)) || (a.Profile == domain.ProfileInspector && all(a.Habilitated)) {
		return nil
	}
	return forbidden("%s may not read the report of import %s", a.Profile, rep.CorrelationID)
}

// RunImport imports an upload as p and keeps the report. A key (an
// Idempotency-Key, a portal form's key) fixes the correlation id: a retry
// finds the kept report and imports nothing again (replayed). It returns a
// report, or the error of an import refused to its actor (not kept) or
// that could not run; a refused feed is a report.
func (s *Imports) RunImport(ctx context.Context, p *Principal, u *Upload, key string) (*directoryimport.Report, bool, error) {
	sources, opts, err := s.importOptions(u)
	if err != nil {
		return nil, false, err
	}
	opts.Actor = p.actor.Account
	if key != "" {
		opts.CorrelationID = domain.DeterministicID("directory-import", p.actor.Account.String(), key)
		kept, err := s.KeptImport(ctx, opts.CorrelationID)
		if err == nil {
			return kept.Report, true, nil
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return nil, false, err
		}
	}
	rep, err := s.cfg.Importer.Import(ctx, sources, opts)
	switch {
	case rep == nil, errors.Is(err, domain.ErrForbidden):
		return nil, false, err
	case err != nil && !errors.Is(err, directoryimport.ErrRefused):
		// It stopped midway (the store, the context): keep what it did, and
		// fail; running it again finishes the job.
		if kerr := s.KeepImport(context.WithoutCancel(ctx), rep); kerr != nil {
			s.log.ErrorContext(ctx, "keep import report", "correlation_id", rep.CorrelationID, "err", kerr)
		}
		return nil, false, err
	}
	if err := s.KeepImport(context.WithoutCancel(ctx), rep); err != nil {
		return nil, false, err
	}
	return rep, false, nil
}

// importOptions reads the upload's fields into sources and options.
func (s *Imports) importOptions(u *Upload) ([]directoryimport.Source, directoryimport.Options, error) {
	opts := *s.cfg.Defaults
	get := func(name string) string { return strings.TrimSpace(u.fields.Get(name)) }
	bad := func(format string, args ...any) error {
		return domain.Errorf(domain.ErrInvalid, format, args...)
	}
	format := directoryimport.Format(get("format"))
	if format != directoryimport.FormatAAF && format != directoryimport.FormatCSV {
		return nil, opts, bad("format %q is not aaf or csv", format)
	}
	profile := domain.Profile(get("profile"))
	if format == directoryimport.FormatCSV {
		switch profile {
		case domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel:
		default:
			return nil, opts, bad("profile %q is not student, relative, teacher or personnel", profile)
		}
	}
	if m := get("mode"); m != "" {
		opts.Mode = directoryimport.Mode(m)
	}
	if v := get("dry_run"); v != "" {
		switch strings.ToLower(v) {
		case "true", "1", "on", "yes":
			opts.DryRun = true
		case "false", "0", "off", "no":
			opts.DryRun = false
		default:
			return nil, opts, bad("dry_run %q is not true or false", v)
		}
	}
	if v := get("max_rejected"); v != "" {
		share, err := directoryimport.ParseShare(v)
		if err != nil {
			return nil, opts, bad("max_rejected: %v", err)
		}
		opts.MaxRejected = share
	}
	if err := opts.Validate(); err != nil {
		return nil, opts, err
	}
	if len(u.files) == 0 {
		return nil, opts, bad("no file: send the feed's files as parts named file")
	}
	files := slices.Clone(u.files)
	slices.SortStableFunc(files, func(a, b uploadFile) int { return strings.Compare(a.name, b.name) })
	sources := make([]directoryimport.Source, 0, len(files))
	for _, f := range files {
		sources = append(sources, directoryimport.Source{
			Name: f.name, Format: format, Profile: profile, Encoding: get("encoding"), Size: f.size,
			Open: func() (io.ReadCloser, error) { return os.Open(f.path) },
		})
	}
	return sources, opts, nil
}

// KeepImport keeps a report, its long lists cut.
func (s *Imports) KeepImport(ctx context.Context, rep *directoryimport.Report) error {
	kept := ImportReport{Report: new(directoryimport.Report)}
	*kept.Report = *rep
	cut := func(n int) int {
		if n > maxKeptIssues {
			kept.Truncated = true
			return maxKeptIssues
		}
		return n
	}
	kept.Rejected = kept.Rejected[:cut(len(kept.Rejected))]
	kept.Skipped = kept.Skipped[:cut(len(kept.Skipped))]
	kept.Failed = kept.Failed[:cut(len(kept.Failed))]
	kept.Changes = kept.Changes[:cut(len(kept.Changes))]
	doc, err := json.Marshal(kept)
	if err != nil {
		return err
	}
	return s.cfg.Reports.Update(ctx, importsNamespace, func(tx projections.DocTx) error {
		return tx.Put(ctx, []projections.Doc{{Coll: importsColl, Key: rep.CorrelationID.String(), Value: doc}})
	})
}

// KeptImport returns a kept report (domain.ErrNotFound when there is none).
func (s *Imports) KeptImport(ctx context.Context, id uuid.UUID) (*ImportReport, error) {
	kept := ImportReport{}
	ok, err := projections.GetJSON(ctx, s.cfg.Reports.Reader(importsNamespace), importsColl, id.String(), &kept)
	if err != nil {
		return nil, err
	}
	if !ok || kept.Report == nil {
		return nil, domain.Errorf(domain.ErrNotFound, "no import report %s", id)
	}
	return &kept, nil
}

// Upload is a multipart/form-data request read to its end: its fields, and
// its files in a temporary directory.
type Upload struct {
	fields url.Values
	files  []uploadFile
	dir    string
}

// uploadFile is an uploaded file, on disk.
type uploadFile struct {
	name, path string
	size       int64
}

// Field returns the value of a field.
func (u *Upload) Field(name string) string { return u.fields.Get(name) }

// Cleanup removes the upload's files.
func (u *Upload) Cleanup() {
	if u.dir != "" {
		_ = os.RemoveAll(u.dir)
	}
}

// ReadUpload reads a multipart/form-data body of at most MaxBytes:
// files (parts named file) are streamed to temporary files, other parts
// are short fields.
func (s *Imports) ReadUpload(w http.ResponseWriter, r *http.Request) (u *Upload, err error) {
	mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "multipart/form-data" {
		return nil, ErrNotMultipart.With("Content-Type %q", r.Header.Get("Content-Type"))
	}
	limit := s.cfg.MaxBytes
	if r.ContentLength > limit {
		return nil, ErrBodyTooLarge.With("at most %d bytes", limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, domain.Errorf(domain.ErrInvalid, "the upload could not be read: %v", err)
	}
	u = &Upload{fields: url.Values{}}
	defer func() {
		if err != nil {
			u.Cleanup()
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				err = ErrBodyTooLarge.With("at most %d bytes", tooLarge.Limit)
			}
		}
	}()
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return u, nil
		}
		if err != nil {
			return u, uploadError(err)
		}
		if n >= maxImportFields {
			return u, domain.Errorf(domain.ErrInvalid, "more than %d parts", maxImportFields)
		}
		name := part.FormName()
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, maxImportField+1))
			if err != nil {
				return u, uploadError(err)
			}
			if len(b) > maxImportField {
				return u, domain.Errorf(domain.ErrInvalid, "field %q is longer than %d bytes", name, maxImportField)
			}
			u.fields.Add(name, string(b))
			continue
		}
		if name != "file" {
			return u, domain.Errorf(domain.ErrInvalid, "a file part named %q: name the parts of files \"file\"", name)
		}
		if err := u.save(part, part.FileName(), len(u.files)); err != nil {
			return u, err
		}
	}
}

// save streams one file part to the upload's directory.
func (u *Upload) save(part io.Reader, filename string, i int) error {
	if u.dir == "" {
		dir, err := os.MkdirTemp("", "ledger-import-")
		if err != nil {
			return err
		}
		u.dir = dir
	}
	name := filepath.Base(strings.ReplaceAll(filename, "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = fmt.Sprintf("file-%d", i+1)
	}
	path := filepath.Join(u.dir, strconv.Itoa(i))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	size, err := io.Copy(f, part)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uploadError(err)
	}
	u.files = append(u.files, uploadFile{name: name, path: path, size: size})
	return nil
}

// uploadError classifies an error reading the body: too large, or
// malformed.
func uploadError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return domain.Errorf(domain.ErrInvalid, "the upload could not be read: %v", err)
}
