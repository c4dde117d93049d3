package portal

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// The portal's directory import: an administrator uploads a feed (the
// fields of POST /api/v1/imports), which starts an import job as them; the
// job's page follows it while it runs, refreshing itself, then shows its
// report. The job's page is also open to the inspectors habilitated for
// the feed's establishments, with a link to the audit.

func (p *Portal) importPages() []page {
	if p.cfg.Imports == nil {
		return nil
	}
	admins := []domain.Profile{domain.ProfileAdmin}
	return []page{
		{method: "GET", path: "/imports", profiles: admins, handle: p.importForm},
		// A large feed over a slow line: the long deadline.
		{method: "POST", path: "/imports", profiles: admins, upload: true, timeout: web.TimeoutLong, handle: p.postImport},
		{method: "GET", path: "/imports/{correlation}", profiles: []domain.Profile{domain.ProfileAdmin, domain.ProfileInspector}, handle: p.importJob},
	}
}

// importFormData is the upload form.
type importFormData struct {
	Formats  []directoryimport.Format
	Profiles []domain.Profile
	Modes    []directoryimport.Mode
	// Encodings are those of a CSV file besides UTF-8, the default.
	Encodings []string
	// MaxMiB is the upload's size limit.
	MaxMiB int64
	// MaxRejected is the default share of rejected records, in percent.
	MaxRejected float64
	// Sent is the refused form's fields, shown again as they were typed
	// (nil on a fresh form); Error says in plain words why it was refused.
	Sent  url.Values
	Error string
}

// Typed returns the value a refused form had for a field.
func (d importFormData) Typed(name string) string { return d.Sent.Get(name) }

// DryRun reports whether the dry run box is ticked: by default, or as the
// refused form had it.
func (d importFormData) DryRun() bool { return d.Sent == nil || d.Sent.Get("dry_run") != "" }

// Force reports whether the force box is ticked: never by default.
func (d importFormData) Force() bool { return d.Sent.Get("force") != "" }

func (p *Portal) importFormOf(sent url.Values, why string) importFormData {
	return importFormData{
		Formats:     []directoryimport.Format{directoryimport.FormatAAF, directoryimport.FormatCSV, directoryimport.FormatONDE},
		Profiles:    []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel},
		Modes:       []directoryimport.Mode{directoryimport.ModeAuto, directoryimport.ModeFull, directoryimport.ModeDelta},
		Encodings:   directoryimport.Encodings[1:],
		MaxMiB:      p.cfg.Imports.MaxBytes() >> 20,
		MaxRejected: 100 * p.cfg.Imports.Defaults().MaxRejected,
		Sent:        sent,
		Error:       why,
	}
}

func (p *Portal) importForm(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayImport(v.principal); err != nil {
		return err
	}
	return p.ok(w, r, v, "imports", "title.imports", p.importFormOf(nil, ""))
}

// postImport starts an import job of the upload and sends the
// administrator to the job's page. The form's idempotency key makes the
// job's id: a second submit of the same form leads to the first one's
// job. A form the import refuses is shown again as it was filled (but for
// its files, which a browser never fills in again).
func (p *Portal) postImport(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayImport(v.principal); err != nil {
		return err
	}
	u, err := p.cfg.Imports.ReadUpload(w, r)
	if errors.Is(err, web.ErrBodyTooLarge) {
		return p.refuseImport(w, r, v, http.StatusRequestEntityTooLarge, nil, v.T("imports.too_large", p.cfg.Imports.MaxBytes()>>20))
	}
	if err != nil {
		return err
	}
	defer u.Cleanup() // unless the job took the files
	if !web.SameToken(u.Field(fieldCSRF), v.CSRF) {
		return web.ErrCSRF
	}
	key := u.Field(fieldIdempotency)
	if key != "" && !web.ValidIdempotencyKey(key) {
		return web.ErrInvalidHeader.With("the form's idempotency key is malformed")
	}
	job, replayed, err := p.cfg.Imports.StartImport(r.Context(), v.principal, u, key)
	switch {
	case errors.Is(err, web.ErrImportsUnavailable):
		return p.refuseImport(w, r, v, http.StatusServiceUnavailable, u.Fields(), v.T("imports.unavailable"))
	case errors.Is(err, domain.ErrInvalid):
		return p.refuseImport(w, r, v, http.StatusBadRequest, u.Fields(), v.T("imports.invalid"))
	case err != nil:
		return err
	}
	flash := "import_started"
	if replayed {
		flash = "replayed"
	}
	http.Redirect(w, r, "/imports/"+job.ID.String()+"?ok="+flash, http.StatusSeeOther)
	return nil
}

// refuseImport shows the form again, with what was typed and why it was
// refused.
func (p *Portal) refuseImport(w http.ResponseWriter, r *http.Request, v *view, status int, sent url.Values, why string) error {
	if sent == nil {
		sent = url.Values{}
	}
	p.render(w, r, status, v, "imports", "title.imports", p.importFormOf(sent, why))
	return nil
}

// importJob shows a job: its progress while it is live, its report once
// it ended.
func (p *Portal) importJob(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := web.PathID(r, "correlation")
	if err != nil {
		return err
	}
	job, err := p.cfg.Imports.ImportStatus(r.Context(), v.principal, id)
	if err != nil {
		return err
	}
	if job.State.Live() {
		return p.ok(w, r, v, "import_job", "title.import_job", p.importProgressOf(v, job))
	}
	return p.ok(w, r, v, "import", "title.import", p.importReportOf(r, v, job))
}

// importProgressData is the page of a live job.
type importProgressData struct {
	Job *directoryimport.Job
	// Queued: the job waits its turn (another import runs).
	Queued bool
	// Phase says what the job does now, in words.
	Phase string
	// Lines are the job's figures so far.
	Lines []importLine
}

// importLine is a figure of a live job.
type importLine struct{ Label, Value string }

func (p *Portal) importProgressOf(v *view, job *directoryimport.Job) importProgressData {
	pr := job.Progress
	d := importProgressData{Job: job, Queued: job.State == directoryimport.JobQueued}
	switch {
	case d.Queued:
		d.Phase = v.T("imports.phase.queued")
	case pr.Phase == directoryimport.PhaseLoad:
		d.Phase = v.T("imports.phase.load")
	case pr.Phase == directoryimport.PhaseApply:
		d.Phase = v.T("imports.phase.apply")
	default:
		d.Phase = v.T("imports.phase.parse")
	}
	d.Lines = append(d.Lines, importLine{v.T("imports.progress.read"), v.T("imports.progress.read_value", v.Dec(pr.ReadPercent, 0), v.Dec(float64(pr.BytesTotal)/(1<<20), 1))})
	if pr.Records > 0 {
		d.Lines = append(d.Lines, importLine{v.T("imports.progress.records"), fmt.Sprint(pr.Records)})
	}
	if pr.ChangesTotal > 0 {
		d.Lines = append(d.Lines, importLine{v.T("imports.progress.changes"), v.T("imports.progress.changes_value", pr.Changes, pr.ChangesTotal)})
	}
	if !job.DryRun {
		d.Lines = append(d.Lines, importLine{v.T("imports.events"), fmt.Sprint(pr.Events)})
	}
	return d
}

// importReportData is the page of an ended job.
type importReportData struct {
	Job *directoryimport.Job
	// Report is the job's report: nil when the job failed or was refused
	// before it had one.
	Report   *directoryimport.Report
	Importer string
	When     time.Time
	// Status is applied, dry_run, refused or failed; Why says in plain
	// words why a job was refused or failed.
	Status string
	Why    string
	// Guards say, in plain words, what the guards found: why the import
	// was refused, or what it was forced past (Forced); Forceable: forcing
	// would let a refused import through.
	Guards    []string
	Forced    bool
	Forceable bool
	Totals    string
	Files     []importFile
	Rejected  []importIssue
	Skipped   []importIssue
	Counts    []importCount
	Failed    []importFailure
	AuditURL  string
	NewImport bool
}

// importFile is a file of the report: what it held, what became of it,
// and why some was rejected or set aside.
type importFile struct {
	directoryimport.FileReport
	Reasons []string
}

// importIssue is a rejected record or a part set aside, in words.
type importIssue struct {
	directoryimport.Place
	ID, Reason string
}

// importCount is a kind of change: planned and applied.
type importCount struct {
	Kind             directoryimport.ChangeKind
	Planned, Applied int
}

// importFailure is a change the ledger refused: its kind and whom it was
// for.
type importFailure struct {
	Kind directoryimport.ChangeKind
	Who  string
}

func (p *Portal) importReportOf(r *http.Request, v *view, job *directoryimport.Job) importReportData {
	rep := job.Report
	data := importReportData{Job: job, Report: rep, When: job.Created, NewImport: web.MayImport(v.principal) == nil}
	switch {
	case job.State == directoryimport.JobFailed:
		data.Status, data.Why = "failed", v.T("imports.failed_why")
	case job.State == directoryimport.JobRefused || (rep != nil && rep.Refused != ""):
		data.Status, data.Why = "refused", refusedWhy(v, job)
	case job.DryRun:
		data.Status = "dry_run"
	default:
		data.Status = "applied"
	}
	data.Importer = v.T("audit.system")
	if job.Actor != uuid.Nil {
		data.Importer = p.names().of(r, job.Actor)
	}
	if rep == nil {
		return data
	}
	data.When = rep.Started
	data.Forceable = len(rep.Guards) > 0
	for _, g := range rep.Guards {
		data.Guards = append(data.Guards, guardWords(v, g))
		data.Forced = data.Forced || g.Forced
		data.Forceable = data.Forceable && !g.Unforceable && !g.Forced
	}
	t := rep.Totals
	data.Totals = v.T("imports.totals_value", t.Created, t.Changed, t.Unchanged, t.Removed, t.Skipped)
	for _, f := range rep.Files {
		file := importFile{FileReport: f}
		for _, rc := range f.Reasons {
			key := "imports.reason_count.part"
			switch {
			case rc.Rejected:
				key = "imports.reason_count.rejected"
			case rc.Whole:
				key = "imports.reason_count.whole"
			}
			file.Reasons = append(file.Reasons, v.N(key, rc.Count, reasonSummary(v, rc.Code)))
		}
		data.Files = append(data.Files, file)
	}
	for _, is := range rep.Rejected {
		data.Rejected = append(data.Rejected, importIssue{Place: is.Place, ID: is.ID, Reason: issueWords(v, is)})
	}
	for _, is := range rep.Skipped {
		data.Skipped = append(data.Skipped, importIssue{Place: is.Place, ID: is.ID, Reason: issueWords(v, is)})
	}
	for _, k := range directoryimport.ChangeKinds {
		data.Counts = append(data.Counts, importCount{Kind: k, Planned: rep.Planned[k], Applied: rep.Applied[k]})
	}
	for _, f := range rep.Failed {
		data.Failed = append(data.Failed, importFailure{Kind: f.Change.Kind, Who: changeSubject(f.Change)})
	}
	// The audit's timeline of the importer on the day of the import, for an
	// inspector of the feed's establishment.
	if len(rep.Establishments) > 0 && rep.Actor != uuid.Nil && rep.Events > 0 {
		uai := rep.Establishments[0]
		if web.MayAudit(v.principal, uai) == nil {
			day := domain.DateOf(rep.Started.In(p.cfg.Location))
			q := auditQuery{UAI: uai, Actor: rep.Actor, From: day, To: domain.DateOf(rep.Finished.In(p.cfg.Location))}
			if acc, err := p.cfg.Queries.Account(r.Context(), rep.Actor); err == nil && acc.Establishment == uai {
				q.Subjects = []uuid.UUID{rep.Actor}
			}
			data.AuditURL = "/audit?" + q.Encode()
		}
	}
	return data
}

// issueWords says an issue in the reader's language: its reason's words
// with its arguments, which are the feed's data (ids, values, places).
func issueWords(v *view, is directoryimport.Issue) string {
	key := "imports.issue." + string(is.Code)
	if is.Code == "" || !v.Has(key) {
		return v.T("imports.reason.unknown")
	}
	switch is.Code {
	case directoryimport.ReasonCSVSyntax:
		return v.T(key) // the CSV reader's own words are a developer's
	case directoryimport.ReasonProfileChange:
		args := make([]any, len(is.Args))
		for i, a := range is.Args {
			args[i] = v.Label("profile", domain.Profile(a))
		}
		return v.T(key, args...)
	}
	args := make([]any, len(is.Args))
	for i, a := range is.Args {
		args[i] = a
	}
	return v.T(key, args...)
}

// reasonSummary says what the issues of a reason share.
func reasonSummary(v *view, code directoryimport.ReasonCode) string {
	if key := "imports.reason." + string(code); v.Has(key) {
		return v.T(key)
	}
	return v.T("imports.reason.unknown")
}

// percent writes a share as the page's language writes percentages:
// 12,5 in French.
func percent(v *view, n, of int) string {
	if of == 0 {
		return v.Dec(0, 1)
	}
	return v.Dec(100*float64(n)/float64(of), 1)
}

// guardWords says what a guard found, in the reader's words.
func guardWords(v *view, g directoryimport.Guard) string {
	limit := v.Dec(100*g.Limit, 1)
	var s string
	switch g.Kind {
	case directoryimport.GuardRejected:
		if g.File != "" {
			s = v.T("imports.guard.rejected_file", g.File, g.Count, g.Of, percent(v, g.Count, g.Of), limit)
		} else {
			s = v.T("imports.guard.rejected", g.Count, g.Of, percent(v, g.Count, g.Of), limit)
		}
	case directoryimport.GuardSkipped:
		if g.File != "" {
			s = v.T("imports.guard.skipped_file", g.File, g.Count, g.Of, percent(v, g.Count, g.Of), limit)
		} else {
			s = v.T("imports.guard.skipped", g.Count, g.Of, percent(v, g.Count, g.Of), limit)
		}
	case directoryimport.GuardChanges:
		if g.Category != "" {
			s = v.T("imports.guard.changes_category", v.T("imports.category."+string(g.Category)), g.Count, g.Of,
				percent(v, g.Count, g.Of), limit, g.Renamed, g.Flagged, g.Closed)
		} else {
			s = v.T("imports.guard.changes", g.Count, g.Of, percent(v, g.Count, g.Of), limit, g.Renamed, g.Flagged, g.Closed)
		}
	case directoryimport.GuardParts:
		s = v.T("imports.guard.parts", v.T("imports.category."+string(g.Category)), partList(g.Missing), partList(g.Present))
	case directoryimport.GuardEncoding:
		m := g.Encoding
		switch {
		case m == nil:
			s = v.T("imports.refused.unreadable")
		case m.UTF8:
			s = v.T("imports.guard.encoding_utf8", g.File, m.Declared, m.Count, m.Line, m.Sample, m.Garbled)
		case m.Declared == "":
			s = v.T("imports.guard.encoding_none", g.File, m.Line, m.Garbled, m.Guess, m.Sample)
		default:
			s = v.T("imports.guard.encoding_declared", g.File, m.Declared, m.Line, m.Garbled, m.Guess, m.Sample)
		}
	default:
		s = v.T("imports.refused.unreadable")
	}
	if g.Unforceable {
		s += " " + v.T("imports.guard.unforceable")
	}
	return s
}

// partList writes part numbers as the file names do: 0000, 0002.
func partList(parts []int) string {
	s := make([]string, len(parts))
	for i, n := range parts {
		s[i] = fmt.Sprintf("%04d", n)
	}
	return strings.Join(s, ", ")
}

// refusedWhy says why a feed was refused, in the reader's words: the
// importer's own message is for developers and logs. A refusal by the
// guards is said by them (Guards).
func refusedWhy(v *view, job *directoryimport.Job) string {
	switch {
	case job.Code == domain.CodeForbidden:
		return v.T("imports.refused.forbidden")
	case job.Report != nil && job.Report.Archive != nil && v.Has("imports.archive."+string(job.Report.Archive.Code)):
		a := job.Report.Archive
		args := make([]any, len(a.Args))
		for i, s := range a.Args {
			args[i] = s
		}
		return v.T("imports.archive."+string(a.Code), args...)
	case job.Report != nil && len(job.Report.Guards) > 0:
		return v.T("imports.guards_refused")
	}
	return v.T("imports.refused.unreadable")
}

// changeSubject names what a change is about: a person, a group, an
// establishment.
func changeSubject(c directoryimport.Change) string {
	for _, s := range []string{c.DisplayName, c.GroupName, c.EstablishmentName, c.ExternalID, c.Establishment} {
		if s != "" {
			return s
		}
	}
	return ""
}
