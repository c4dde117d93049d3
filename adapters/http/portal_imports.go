package http

import (
	"crypto/hmac"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/domain"
)

// The portal's directory import: an administrator uploads a feed (the
// fields of POST /api/v1/imports), the import runs as them, and the report
// page shows what it did. The report page is also open to the inspectors
// habilitated for the feed's establishments, with a link to the audit.

func (p *portal) importPages() []page {
	if p.s.cfg.Importer == nil {
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

func (p *portal) importForm(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := mayImport(v.principal); err != nil {
		return err
	}
	return p.ok(w, r, v, "imports", "title.imports", importFormData{
		Formats:     []directoryimport.Format{directoryimport.FormatAAF, directoryimport.FormatCSV},
		Profiles:    []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel},
		Modes:       []directoryimport.Mode{directoryimport.ModeAuto, directoryimport.ModeFull, directoryimport.ModeDelta},
		MaxMiB:      p.s.cfg.MaxImportBytes >> 20,
		MaxRejected: 100 * p.s.cfg.ImportDefaults.MaxRejected,
	})
}

// postImport runs an uploaded import and shows its report. The form's
// idempotency key fixes the correlation id: a second submit of the same
// form shows the first one's report.
func (p *portal) postImport(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := mayImport(v.principal); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(importTimeout))
	u, err := p.s.readUpload(w, r)
	if err != nil {
		return err
	}
	defer u.cleanup()
	if !hmac.Equal([]byte(u.fields.Get(fieldCSRF)), []byte(v.CSRF)) {
		return errCSRF
	}
	key := u.fields.Get(fieldIdempotency)
	if key != "" && !validIdempotencyKey(key) {
		return errInvalidHeader.with("the form's idempotency key is malformed")
	}
	_ = rc.SetWriteDeadline(time.Now().Add(importTimeout))
	rep, replayed, err := p.s.runImport(r.Context(), v.principal, u, key)
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
	Report    *ImportReport
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

func (p *portal) importReport(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := pathID(r, "correlation")
	if err != nil {
		return err
	}
	kept, err := p.s.keptImport(r.Context(), id)
	if err != nil {
		return err
	}
	if err := mayReadImport(v.principal, kept.Report); err != nil {
		return err
	}
	rep := kept.Report
	data := importReportData{Report: kept, Failed: rep.Failed, NewImport: mayImport(v.principal) == nil}
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
		if mayAudit(v.principal, uai) == nil {
			day := domain.DateOf(rep.Started.In(p.s.cfg.Location))
			q := auditQuery{UAI: uai, Actor: rep.Actor, From: day, To: domain.DateOf(rep.Finished.In(p.s.cfg.Location))}
			if acc, err := p.s.cfg.Queries.Account(r.Context(), rep.Actor); err == nil && acc.Establishment == uai {
				q.Subjects = []uuid.UUID{rep.Actor}
			}
			data.AuditURL = "/audit?" + q.Encode()
		}
	}
	return p.ok(w, r, v, "import", "title.import", data)
}
