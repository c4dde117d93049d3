package web

// Directory imports uploaded by administrators, for the API (POST
// /api/v1/imports) and the portal's import page alike. This is transport
// work only: the feed's files come as multipart/form-data and are streamed
// to temporary files (never whole in memory), the form's fields become a
// directoryimport.StartJob, and the import itself runs as a background job
// behind ImportJobs (directoryimport's Jobs), which keeps its progress and
// report and answers for its status.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/domain"
)

// ImportJobs runs directory imports as background jobs: directoryimport's
// Jobs.
type ImportJobs interface {
	// Start starts a job, or returns the one its idempotency key started
	// (replayed); the job owns the request's files from then on.
	Start(ctx context.Context, req directoryimport.StartJob) (job *directoryimport.Job, replayed bool, err error)
	// Status returns a job as viewer may see it.
	Status(ctx context.Context, viewer domain.Actor, id uuid.UUID) (*directoryimport.Job, error)
}

var _ ImportJobs = (*directoryimport.Jobs)(nil)

// DefaultMaxImportBytes bounds an uploaded feed unless ImportsConfig says
// otherwise: an académie's full feed weighs hundreds of megabytes.
const DefaultMaxImportBytes = 256 << 20

// ImportsConfig configures Imports.
type ImportsConfig struct {
	// Jobs runs the imports administrators upload and keeps their reports.
	Jobs ImportJobs
	// MaxBytes bounds an uploaded feed (default 256 MiB); larger ones get
	// 413. Files are streamed to temporary files.
	MaxBytes int64
	// Defaults are the settings of an uploaded import the upload does not
	// give (grace period, the guards' shares): directoryimport's defaults
	// when unset.
	Defaults *directoryimport.Options
}

// Validate checks the configuration and fills defaults.
func (c *ImportsConfig) Validate() error {
	if c.Jobs == nil {
		return errors.New("web: import Jobs are required")
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxImportBytes
	}
	if c.MaxBytes < 0 {
		return fmt.Errorf("web: MaxBytes %d is negative", c.MaxBytes)
	}
	if c.Defaults == nil {
		d := directoryimport.DefaultOptions()
		c.Defaults = &d
	}
	if err := c.Defaults.Validate(); err != nil {
		return fmt.Errorf("web: import Defaults: %w", err)
	}
	return nil
}

// Imports reads uploaded feeds and hands them to the import jobs.
type Imports struct {
	cfg ImportsConfig
}

// NewImports returns the imports of cfg.
func NewImports(cfg ImportsConfig) (*Imports, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Imports{cfg: cfg}, nil
}

// MaxBytes bounds an uploaded feed.
func (s *Imports) MaxBytes() int64 { return s.cfg.MaxBytes }

// Defaults are the settings of an upload that gives none.
func (s *Imports) Defaults() directoryimport.Options { return *s.cfg.Defaults }

// Bounds of an upload.
const (
	// maxImportFields bounds the form's parts; maxImportField a field's
	// value.
	maxImportFields = 200
	maxImportField  = 4 << 10
)

// ErrNotMultipart refuses an upload that is not multipart/form-data.
var ErrNotMultipart = &Error{status: http.StatusUnsupportedMediaType, typ: "multipart-required",
	title: "the request body must be multipart/form-data"}

// ErrImportsUnavailable answers an upload that arrives while the server
// stops: its import would not run here; another node, or this one once
// restarted, takes it.
var ErrImportsUnavailable = &Error{status: http.StatusServiceUnavailable, typ: "imports-unavailable",
	title: "directory imports are not taken now, the server is stopping: try again"}

// MayImport: directory imports are for administrators; the import then
// checks they administer every establishment the feed changes. Checked
// before the upload is read, so that nobody else has a feed spooled.
func MayImport(p *Principal) error {
	if p.actor.Profile == domain.ProfileAdmin {
		return nil
	}
	return forbidden("only administrators import directory feeds")
}

// StartImport starts the import of an upload as p. A key (an
// Idempotency-Key, a portal form's key) makes the job's id: a retry
// returns the job it started (replayed) and imports nothing again. From
// this call on the job owns the upload's files: Cleanup leaves them.
func (s *Imports) StartImport(ctx context.Context, p *Principal, u *Upload, key string) (*directoryimport.Job, bool, error) {
	req, err := s.jobRequest(p, u, key)
	if err != nil {
		return nil, false, err
	}
	u.handedOver = true
	job, replayed, err := s.cfg.Jobs.Start(ctx, req)
	if errors.Is(err, directoryimport.ErrJobsClosed) {
		return nil, false, ErrImportsUnavailable.With("%v", err)
	}
	return job, replayed, err
}

// ImportStatus returns an import job as p may see it (domain.ErrNotFound,
// domain.ErrForbidden otherwise).
func (s *Imports) ImportStatus(ctx context.Context, p *Principal, id uuid.UUID) (*directoryimport.Job, error) {
	return s.cfg.Jobs.Status(ctx, p.actor, id)
}

// jobRequest reads the upload's fields into a job request. The job checks
// what they say (format, profile, options); only their syntax is read
// here.
func (s *Imports) jobRequest(p *Principal, u *Upload, key string) (directoryimport.StartJob, error) {
	get := func(name string) string { return strings.TrimSpace(u.fields.Get(name)) }
	bad := func(format string, args ...any) error { return domain.Errorf(domain.ErrInvalid, format, args...) }
	req := directoryimport.StartJob{
		Actor: p.actor, Dir: u.dir, IdempotencyKey: key, Options: *s.cfg.Defaults,
		Format: directoryimport.Format(get("format")), Profile: domain.Profile(get("profile")), Encoding: get("encoding"),
		UAI: get("uai"),
	}
	for _, f := range u.files {
		req.Files = append(req.Files, directoryimport.File{Name: f.name, Path: f.path, Size: f.size})
	}
	if m := get("mode"); m != "" {
		req.Options.Mode = directoryimport.Mode(m)
	}
	for _, f := range []struct {
		name string
		p    *bool
	}{{"dry_run", &req.Options.DryRun}, {"force", &req.Options.Force}} {
		switch v := get(f.name); strings.ToLower(v) {
		case "":
		case "true", "1", "on", "yes":
			*f.p = true
		case "false", "0", "off", "no":
			*f.p = false
		default:
			return req, bad("%s %q is not true or false", f.name, v)
		}
	}
	for _, f := range []struct {
		name string
		p    *float64
	}{{"max_rejected", &req.Options.MaxRejected}, {"max_skipped", &req.Options.MaxSkipped}, {"max_changes", &req.Options.MaxChanges}} {
		if v := get(f.name); v != "" {
			share, err := directoryimport.ParseShare(v)
			if err != nil {
				return req, bad("%s: %v", f.name, err)
			}
			*f.p = share
		}
	}
	return req, nil
}

// Upload is a multipart/form-data request read to its end: its fields, and
// its files in a temporary directory.
type Upload struct {
	fields url.Values
	files  []uploadFile
	dir    string
	// handedOver: an import job owns the files now.
	handedOver bool
}

// uploadFile is an uploaded file, on disk.
type uploadFile struct {
	name, path string
	size       int64
}

// Field returns the value of a field.
func (u *Upload) Field(name string) string { return u.fields.Get(name) }

// Fields returns the upload's fields (not its files), for a form shown
// again as it was filled.
func (u *Upload) Fields() url.Values { return u.fields }

// Cleanup removes the upload's files, unless an import job took them.
func (u *Upload) Cleanup() {
	if u.dir != "" && !u.handedOver {
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
