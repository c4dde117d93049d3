package portal

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

func (p *Portal) importFormOf(sent url.Values, why string) importFormData {
	return importFormData{
		Formats:     []directoryimport.Format{directoryimport.FormatAAF, directoryimport.FormatCSV},
		Profiles:    []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel},
		Modes:       []directoryimport.Mode{directoryimport.ModeAuto, directoryimport.ModeFull, directoryimport.ModeDelta},
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
	d.Lines = append(d.Lines, importLine{v.T("imports.progress.read"), v.T("imports.progress.read_value", fmt.Sprintf("%.0f", pr.ReadPercent), mib(pr.BytesTotal))})
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

// mib writes a size in mebibytes, one decimal.
func mib(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

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
	Status    string
	Why       string
	Counts    []importCount
	Failed    []importFailure
	AuditURL  string
	NewImport bool
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

// refusedWhy says why a feed was refused, in the reader's words: the
// importer's own message is for developers and logs.
func refusedWhy(v *view, job *directoryimport.Job) string {
	if job.Code == domain.CodeForbidden {
		return v.T("imports.refused.forbidden")
	}
	if rep := job.Report; rep != nil && rep.Records > 0 {
		rejected := 0
		for _, f := range rep.Files {
			rejected += f.Rejected
		}
		if share := float64(rejected) / float64(rep.Records); share > rep.MaxRejected {
			return v.T("imports.refused.rejected", rejected, rep.Records,
				fmt.Sprintf("%.1f", 100*share), fmt.Sprintf("%.1f", 100*rep.MaxRejected))
		}
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
