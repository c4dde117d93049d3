package http

// Directory imports uploaded by administrators: POST /api/v1/imports takes
// the feed's files as multipart/form-data, streamed to temporary files
// (never whole in memory), runs the import as the signed-in administrator
// and answers with its report; the reports are kept (ImportReports) and
// read back by correlation id. The portal's import page (portal_imports.go)
// shares the upload and the reports.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// DefaultMaxImportBytes bounds an uploaded feed unless Config says
// otherwise: an académie's full feed weighs hundreds of megabytes.
const DefaultMaxImportBytes = 256 << 20

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
	// importTimeout is how long an upload and its import may take, beyond
	// the server's read and write timeouts.
	importTimeout = 2 * time.Hour
)

// errNotMultipart refuses an upload that is not multipart/form-data.
var errNotMultipart = &httpError{status: http.StatusUnsupportedMediaType, typ: "multipart-required",
	title: "the request body must be multipart/form-data"}

// ImportReport is a kept import report: the report, with its lists cut to
// their first entries when they were long.
type ImportReport struct {
	*directoryimport.Report
	// Truncated is set when a list was cut (the import's response had it
	// whole).
	Truncated bool `json:"truncated,omitempty"`
}

// importForm lists the upload's fields, for the document.
var importForm = []param{
	{name: "file", format: "binary", required: true, doc: "a file of the feed; repeat the part for each file (AAF: the feed's XML files, CSV: the export)"},
	{name: "format", format: "aaf,csv", required: true, doc: "the files' format"},
	{name: "profile", format: "student,relative,teacher,personnel", doc: "CSV: the profile of the file's persons"},
	{name: "encoding", format: "string", doc: "CSV: the files' encoding (UTF-8 by default; ISO-8859-15, ISO-8859-1, windows-1252)"},
	{name: "mode", format: "auto,full,delta", doc: "full, delta, or auto (AAF: from the ENT_Complet_/ENT_Delta_ file names; CSV: full)"},
	{name: "dry_run", format: "boolean", doc: "compute and report the changes, write nothing"},
	{name: "max_rejected", format: "string", doc: "refuse the whole feed above this share of malformed records: 5% or 0.05 (default 5%)"},
}

func (s *Server) importRoutes() []route {
	if s.cfg.Importer == nil {
		return nil
	}
	return []route{
		{
			method: "POST", path: "/api/v1/imports", tag: "directory", status: http.StatusCreated,
			summary: "Import a directory feed (AAF XML files or a CSV export) as the signed-in administrator: only changes are written, " +
				"under one correlation id; answers with the report (201 applied, 200 dry run, 422 refused whole: nothing written)",
			profiles: "administrators of every establishment the feed changes",
			form:     importForm, response: typeOf[directoryimport.Report](),
			others: []int{http.StatusOK, http.StatusUnprocessableEntity},
			handle: s.postImport,
		},
		{
			method: "GET", path: "/api/v1/imports/{correlation}", tag: "directory", status: http.StatusOK,
			summary:  "The kept report of a directory import, by its correlation id",
			profiles: "the administrator who imported, administrators and habilitated inspectors of every establishment of the feed",
			response: typeOf[ImportReport](),
			handle:   s.getImport,
		},
	}
}

// mayImport: directory imports are for administrators; the importer then
// checks they administer every establishment the feed changes.
func mayImport(p *principal) error {
	if p.actor.Profile == domain.ProfileAdmin {
		return nil
	}
	return forbidden("only administrators import directory feeds")
}

// mayReadImport: a kept report, for whom imported it, the administrators
// and the inspectors of every establishment of the feed.
func mayReadImport(p *principal, rep *directoryimport.Report) error {
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

func (s *Server) postImport(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if err := mayImport(p); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(importTimeout)) // not every writer supports it
	u, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	defer u.cleanup()
	var key string
	if vs, ok := r.Header[headerIdempotencyKey]; ok {
		if key = vs[0]; len(vs) > 1 || !validIdempotencyKey(key) {
			return errInvalidHeader.with("one key of 1 to %d visible ASCII characters", maxIdempotencyKey)
		}
	}
	_ = rc.SetWriteDeadline(time.Now().Add(importTimeout))
	rep, replayed, err := s.runImport(r.Context(), p, u, key)
	if rep == nil {
		return err
	}
	if replayed {
		w.Header().Set(headerReplayed, "true")
	}
	return reply(w, importStatus(rep), rep)
}

// importStatus is the status of an import's response.
func importStatus(rep *directoryimport.Report) int {
	switch {
	case rep.Refused != "":
		return http.StatusUnprocessableEntity
	case rep.DryRun:
		return http.StatusOK
	}
	return http.StatusCreated
}

// runImport imports an upload as p and keeps the report. A key (an
// Idempotency-Key, a portal form's key) fixes the correlation id: a retry
// finds the kept report and imports nothing again (replayed). It returns a
// report, or the error of an import refused to its actor (not kept) or
// that could not run; a refused feed is a report.
func (s *Server) runImport(ctx context.Context, p *principal, u *upload, key string) (*directoryimport.Report, bool, error) {
	sources, opts, err := s.importOptions(u)
	if err != nil {
		return nil, false, err
	}
	opts.Actor = p.actor.Account
	if key != "" {
		opts.CorrelationID = domain.DeterministicID("directory-import", p.actor.Account.String(), key)
		kept, err := s.keptImport(ctx, opts.CorrelationID)
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
		if kerr := s.keepImport(context.WithoutCancel(ctx), rep); kerr != nil {
			s.log.ErrorContext(ctx, "keep import report", "correlation_id", rep.CorrelationID, "err", kerr)
		}
		return nil, false, err
	}
	if err := s.keepImport(context.WithoutCancel(ctx), rep); err != nil {
		return nil, false, err
	}
	return rep, false, nil
}

// importOptions reads the upload's fields into sources and options.
func (s *Server) importOptions(u *upload) ([]directoryimport.Source, directoryimport.Options, error) {
	opts := *s.cfg.ImportDefaults
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

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "correlation")
	if err != nil {
		return err
	}
	kept, err := s.keptImport(r.Context(), id)
	if err != nil {
		return err
	}
	if err := mayReadImport(principalOf(r), kept.Report); err != nil {
		return err
	}
	return reply(w, http.StatusOK, kept)
}

// keepImport keeps a report, its long lists cut.
func (s *Server) keepImport(ctx context.Context, rep *directoryimport.Report) error {
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
	return s.cfg.ImportReports.Update(ctx, importsNamespace, func(tx projections.DocTx) error {
		return tx.Put(ctx, []projections.Doc{{Coll: importsColl, Key: rep.CorrelationID.String(), Value: doc}})
	})
}

// keptImport returns a kept report (domain.ErrNotFound when there is none).
func (s *Server) keptImport(ctx context.Context, id uuid.UUID) (*ImportReport, error) {
	kept := ImportReport{}
	ok, err := projections.GetJSON(ctx, s.cfg.ImportReports.Reader(importsNamespace), importsColl, id.String(), &kept)
	if err != nil {
		return nil, err
	}
	if !ok || kept.Report == nil {
		return nil, domain.Errorf(domain.ErrNotFound, "no import report %s", id)
	}
	return &kept, nil
}

// upload is a multipart/form-data request read to its end: its fields, and
// its files in a temporary directory.
type upload struct {
	fields url.Values
	files  []uploadFile
	dir    string
}

// uploadFile is an uploaded file, on disk.
type uploadFile struct {
	name, path string
	size       int64
}

// cleanup removes the upload's files.
func (u *upload) cleanup() {
	if u.dir != "" {
		_ = os.RemoveAll(u.dir)
	}
}

// readUpload reads a multipart/form-data body of at most MaxImportBytes:
// files (parts named file) are streamed to temporary files, other parts
// are short fields.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (u *upload, err error) {
	mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "multipart/form-data" {
		return nil, errNotMultipart.with("Content-Type %q", r.Header.Get("Content-Type"))
	}
	limit := s.cfg.MaxImportBytes
	if r.ContentLength > limit {
		return nil, errBodyTooLarge.with("at most %d bytes", limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, domain.Errorf(domain.ErrInvalid, "the upload could not be read: %v", err)
	}
	u = &upload{fields: url.Values{}}
	defer func() {
		if err != nil {
			u.cleanup()
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				err = errBodyTooLarge.with("at most %d bytes", tooLarge.Limit)
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
func (u *upload) save(part io.Reader, filename string, i int) error {
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
