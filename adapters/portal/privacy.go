package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// The administrator's page to export a person's data on request (the
// rights of access and portability, docs/privacy.md). The export itself is
// the API's GET /api/v1/accounts/{account}/export, which checks who may
// export and records each export; students and legal guardians reach it
// from their home pages.

func (p *Portal) privacyPages() []page {
	return []page{
		{method: "GET", path: "/privacy/export", profiles: []domain.Profile{domain.ProfileAdmin}, handle: p.privacyExport},
	}
}

// privacyExportData is the page's form: the identifier typed, the format
// chosen and, for an identifier nobody has, what to check.
type privacyExportData struct {
	ID, Format string
	Unknown    bool
}

// privacyExport shows the form and, once it is sent, sends the
// administrator to the export of the person the directory knows by that
// national identifier.
func (p *Portal) privacyExport(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	d := privacyExportData{ID: strings.TrimSpace(q.Get("id")), Format: q.Get("format")}
	if d.Format != "json" {
		d.Format = "html"
	}
	if d.ID == "" {
		return p.ok(w, r, v, "privacy_export", "title.privacy_export", d)
	}
	acc, err := p.cfg.Queries.AccountByExternalID(r.Context(), d.ID)
	if err != nil {
		d.Unknown = true
		p.render(w, r, http.StatusNotFound, v, "privacy_export", "title.privacy_export", d)
		return nil
	}
	http.Redirect(w, r, "/api/v1/accounts/"+acc.ID.String()+"/export?format="+url.QueryEscape(d.Format), http.StatusSeeOther)
	return nil
}
