package portal

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) officePages() []page {
	return []page{
		{method: "POST", path: "/office/absences/{lesson}/{student}/decision", profiles: []domain.Profile{domain.ProfilePersonnel}, handle: p.decideJustification},
	}
}

// officeData is the school-life office's day.
type officeData struct {
	Office *projections.Office
	// Justifying and Refusing are the establishment's reasons that
	// justify an absence and those that do not.
	Justifying, Refusing []domain.JustificationReason
	Head                 bool
}

// officeHome is the dashboard of the establishment's personnel: the day's
// absences and lateness, the roll calls not done, the justifications
// awaiting a decision (with the forms to decide).
func (p *Portal) officeHome(w http.ResponseWriter, r *http.Request, v *view) error {
	uai := v.Me.Establishment
	if err := web.MayReadOffice(v.principal, uai); err != nil {
		return err
	}
	// The oldest page of the absences awaiting a decision: deciding them
	// brings the next.
	o, err := p.cfg.Queries.Office(r.Context(), uai, p.now(), projections.Page{Limit: web.MaxListLimit})
	if err != nil {
		return err
	}
	est, err := p.cfg.Queries.Establishment(r.Context(), uai)
	if err != nil {
		return err
	}
	data := officeData{Office: o, Head: v.principal.Actor().IsHead(uai)}
	for _, reason := range est.Reasons {
		if reason.Justifies {
			data.Justifying = append(data.Justifying, reason)
		} else {
			data.Refusing = append(data.Refusing, reason)
		}
	}
	return p.ok(w, r, v, "office", "title.office", data)
}

// decideJustification accepts or refuses an absence's justification.
func (p *Portal) decideJustification(w http.ResponseWriter, r *http.Request, v *view) error {
	lesson, err := web.PathID(r, "lesson")
	if err != nil {
		return err
	}
	student, err := web.PathID(r, "student")
	if err != nil {
		return err
	}
	f := web.FormOf(r)
	cmd := domain.DecideJustification{Lesson: lesson, Student: student, Comment: f.Str("comment")}
	switch f.Str("decision") {
	case "accept":
		cmd.Accept, cmd.ReasonCode = true, f.Str("accept_reason")
	case "refuse":
		cmd.ReasonCode = f.Str("refuse_reason")
	default:
		return domain.Errorf(domain.ErrInvalid, "decision: accept or refuse")
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.DecideJustification(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	flash := "refused"
	if cmd.Accept {
		flash = "accepted"
	}
	return done(w, r, "/", flash, res)
}
