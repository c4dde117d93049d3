package api

// Timetable imports uploaded by administrators: POST
// /api/v1/timetable-imports takes an EDT or UDT export (and, optionally,
// STS-web's export) as multipart/form-data with the import's settings, runs
// the import and answers its report. Timetable exports weigh a few
// megabytes and plan in seconds: the import runs within the request, under
// the long deadline, rather than as a job (docs/timetable.md).

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/timetableimport"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// TimetableImporter runs timetable imports: timetableimport's Importer.
type TimetableImporter interface {
	Run(ctx context.Context, src timetableimport.Source, opts timetableimport.Options) (*timetableimport.Report, error)
}

var _ TimetableImporter = (*timetableimport.Importer)(nil)

// MaxTimetableUpload bounds an uploaded timetable (its export and STS-web's
// together), read in memory.
const MaxTimetableUpload = 32 << 20

var timetableForm = []param{
	{name: "file", format: "binary", required: true, doc: "the export: EDT's XML export for digital workspaces or UnDeuxTemps' XML export"},
	{name: "format", format: "edt,udt", required: true, doc: "the export's format"},
	{name: "uai", format: "uai", required: true, doc: "the establishment the timetable is for"},
	{name: "zone", format: "A,B,C", required: true, doc: "the establishment's holiday zone"},
	{name: "sts", format: "binary", doc: "STS-web's teaching-service export (sts_emp_UAI_YEAR.xml): its subject nomenclature maps the export's subject codes to the directory's"},
	{name: "from", format: "date", doc: "first date the import changes (default: tomorrow); lessons before it are never touched"},
	{name: "week_a", format: "date", doc: "a day of a week A (default: the rentrée), for exports that give alternating weeks by letter (UDT)"},
	{name: "saturday_classes", format: "boolean", doc: "the establishment teaches on Saturday mornings"},
	{name: "dry_run", format: "boolean", doc: "plan and report, write nothing"},
	{name: "max_unmatched", format: "string", doc: "refuse the import above this share of unmatched classes and groups, or of unreadable courses: 5% or 0.05 (default 5%)"},
	{name: "force", format: "boolean", doc: "import what matched however much did not"},
}

func (s *Server) timetableImportRoutes() []route {
	if s.cfg.Timetables == nil {
		return nil
	}
	return []route{{
		method: "POST", path: "/api/v1/timetable-imports", tag: "directory", status: http.StatusOK,
		summary: "Import a timetable (an EDT or UDT export) as the signed-in administrator and answer the import's report: " +
			"classes, groups, teachers and subjects matched to the directory by their codes (what is not is listed and left out; " +
			"too much refuses the import whole, `refused` in the report, nothing written), weekly courses made dated lessons over " +
			"the school calendar, and only the changes from `from` on written, never a lesson with a roll call. Re-importing the " +
			"same export writes nothing",
		profiles: "administrators",
		form:     timetableForm, response: typeOf[timetableimport.Report](),
		timeout: web.TimeoutLong,
		handle:  s.postTimetableImport,
	}}
}

func (s *Server) postTimetableImport(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalOf(r)
	if err := web.MayImport(p); err != nil {
		return err
	}
	fields, files, err := readTimetableUpload(w, r)
	if err != nil {
		return err
	}
	set := timetableimport.Settings{
		Format: fields.Get("format"), UAI: fields.Get("uai"), Zone: fields.Get("zone"), From: fields.Get("from"),
		WeekA: fields.Get("week_a"),
	}
	for name, p := range map[string]*bool{"saturday_classes": &set.SaturdayClasses, "dry_run": &set.DryRun, "force": &set.Force} {
		if v := fields.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return domain.Errorf(domain.ErrInvalid, "%s %q is not true or false", name, v)
			}
			*p = b
		}
	}
	if v := fields.Get("max_unmatched"); v != "" {
		if set.MaxUnmatched, err = directoryimport.ParseShare(v); err != nil {
			return domain.Errorf(domain.ErrInvalid, "max_unmatched: %v", err)
		}
	}
	opts, err := set.Options(s.cfg.Now())
	if err != nil {
		return err
	}
	opts.Actor = p.Actor().Account
	export, ok := files["file"]
	if !ok {
		return domain.Errorf(domain.ErrInvalid, "the export is required: a file part named \"file\"")
	}
	if sts, ok := files["sts"]; ok {
		opts.STS = &sts
	}
	rep, err := s.cfg.Timetables.Run(r.Context(), export, opts)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, rep)
}

// readTimetableUpload reads the form's fields and its two files (file,
// sts), in memory, within MaxTimetableUpload.
func readTimetableUpload(w http.ResponseWriter, r *http.Request) (url.Values, map[string]timetableimport.Source, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, nil, web.ErrNotMultipart.With("Content-Type %q", r.Header.Get("Content-Type"))
	}
	if r.ContentLength > MaxTimetableUpload {
		return nil, nil, web.ErrBodyTooLarge.With("at most %d bytes", MaxTimetableUpload)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxTimetableUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, domain.Errorf(domain.ErrInvalid, "the upload could not be read: %v", err)
	}
	fields := url.Values{}
	files := map[string]timetableimport.Source{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return fields, files, nil
		}
		if err == nil && n >= 50 {
			err = domain.Errorf(domain.ErrInvalid, "more than 50 parts")
		}
		var b []byte
		if err == nil {
			b, err = io.ReadAll(part)
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, nil, web.ErrBodyTooLarge.With("at most %d bytes", tooLarge.Limit)
			}
			var de *domain.Error
			if errors.As(err, &de) {
				return nil, nil, err
			}
			return nil, nil, domain.Errorf(domain.ErrInvalid, "the upload could not be read: %v", err)
		}
		name := part.FormName()
		if part.FileName() == "" {
			if len(b) > 4<<10 {
				return nil, nil, domain.Errorf(domain.ErrInvalid, "field %q is longer than 4096 bytes", name)
			}
			fields[name] = append(fields[name], string(b))
			continue
		}
		if name != "file" && name != "sts" {
			return nil, nil, domain.Errorf(domain.ErrInvalid, "a file part named %q: name the export \"file\" and STS-web's \"sts\"", name)
		}
		if _, dup := files[name]; dup {
			return nil, nil, domain.Errorf(domain.ErrInvalid, "two file parts named %q", name)
		}
		files[name] = timetableimport.Source{Name: part.FileName(), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}}
	}
}
