package portal

import (
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The head's page of the consultation trail: who (teachers, personnel,
// inspectors) read which student's file, what and when (docs/privacy.md).

func (p *Portal) consultationPages() []page {
	return []page{
		{method: "GET", path: "/consultations", profiles: []domain.Profile{domain.ProfilePersonnel}, handle: p.consultationsPage},
	}
}

// consultationsPageSize is how many entries the page lists at a time.
const consultationsPageSize = 50

// consultationRow is one entry in words.
type consultationRow struct {
	Reader, Profile, Student, What string
	Last                           time.Time
	Count                          int
}

type consultationsData struct {
	Rows []consultationRow
	// Older is the next page's link, when there is one.
	Older string
}

func (p *Portal) consultationsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	uai := v.Me.Establishment
	if err := web.MayReadConsultations(v.principal, uai); err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	l, err := p.cfg.Queries.Consultations(r.Context(), uai, projections.ConsultationFilter{},
		projections.Page{After: after, Limit: consultationsPageSize})
	if err != nil {
		return err
	}
	n := p.names()
	data := consultationsData{Rows: make([]consultationRow, 0, len(l.Items))}
	for _, e := range l.Items {
		row := consultationRow{Reader: n.of(r, e.Reader), Profile: v.Label("profile", e.Profile),
			What: v.T("consultation.what." + e.What), Last: e.Last, Count: e.Count}
		if e.Student != uuid.Nil {
			row.Student = n.of(r, e.Student)
		}
		data.Rows = append(data.Rows, row)
	}
	if l.Next != "" {
		data.Older = "/consultations?after=" + url.QueryEscape(l.Next)
	}
	return p.ok(w, r, v, "consultations", "title.consultations", data)
}
