package portal

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// The portal's directory import: an administrator uploads a feed (the
// fields of POST /api/v1/imports), the import runs as them, and the report
// page shows what it did. The report page is also open to the inspectors
// habilitated for the feed's establishments, with a link to the audit.

func (p *Portal) importPages() []page {
	if p.cfg.Imports == nil {
		return nil
	}
	admins := []domain.Profile{domain.ProfileAdmin}
	return []page{
		{method: "GET", path: "/imports", profiles: admins, handle: p.importForm},
		{method: "POST", path: "/imports", profiles: admins, upload: true, handle: p.postImport},
		{method: "GET", path: "/imports/{correlation}", profiles: []domain.Profile{domain.ProfileAdmin, domain.ProfileInspector}, handle: p.importReport},
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
}

func (p *Portal) importForm(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayImport(v.principal); err != nil {
		return err
	}
	return p.ok(w, r, v, "imports", "title.imports", importFormData{
		Formats:     []directoryimport.Format{directoryimport.FormatAAF, directoryimport.FormatCSV},
		Profiles:    []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel},
		Modes:       []directoryimport.Mode{directoryimport.ModeAuto, directoryimport.ModeFull, directoryimport.ModeDelta},
		MaxMiB:      p.cfg.Imports.MaxBytes() >> 20,
		MaxRejected: 100 * p.cfg.Imports.Defaults().MaxRejected,
	})
}

// postImport runs an uploaded import and shows its report. The form's
// idempotency key fixes the correlation id: a second submit of the same
// form shows the first one's report.
func (p *Portal) postImport(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayImport(v.principal); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(web.ImportTimeout))
	u, err := p.cfg.Imports.ReadUpload(w, r)
	if err != nil {
		return err
	}
	defer u.Cleanup()
	if !web.SameToken(u.Field(fieldCSRF), v.CSRF) {
		return web.ErrCSRF
	}
	key := u.Field(fieldIdempotency)
	if key != "" && !web.ValidIdempotencyKey(key) {
		return web.ErrInvalidHeader.With("the form's idempotency key is malformed")
	}
	_ = rc.SetWriteDeadline(time.Now().Add(web.ImportTimeout))
	rep, replayed, err := p.cfg.Imports.RunImport(r.Context(), v.principal, u, key)
	if rep == nil {
		return err
	}
	flash := "imported"
	if replayed {
		flash = "replayed"
	}
	http.Redirect(w, r, "/imports/"+rep.CorrelationID.String()+"?ok="+flash, http.StatusSeeOther)
	return nil
}

// importReportData is the report page.
type importReportData struct {
	Report    *web.ImportReport
	Importer  string
	Status    string
	Counts    []importCount
	Failed    []directoryimport.Failure
	AuditURL  string
	NewImport bool
}

// importCount is a kind of change: planned and applied.
type importCount struct {
	Kind             directoryimport.ChangeKind
	Planned, Applied int
}

func (p *Portal) importReport(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := web.PathID(r, "correlation")
	if err != nil {
		return err
	}
	kept, err := p.cfg.Imports.KeptImport(r.Context(), id)
	if err != nil {
		return err
	}
	if err := web.MayReadImport(v.principal, kept.Report); err != nil {
		return err
	}
	rep := kept.Report
	data := importReportData{Report: kept, Failed: rep.Failed, NewImport: web.MayImport(v.principal) == nil}
	switch {
	case rep.Refused != "":
		data.Status = "refused"
	case rep.DryRun:
		data.Status = "dry_run"
	default:
		data.Status = "applied"
	}
	data.Importer = v.T("audit.system")
	if rep.Actor != uuid.Nil {
		data.Importer = p.names().of(r, rep.Actor)
	}
	for _, k := range directoryimport.ChangeKinds {
		data.Counts = append(data.Counts, importCount{Kind: k, Planned: rep.Planned[k], Applied: rep.Applied[k]})
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
	return p.ok(w, r, v, "import", "title.import", data)
}
