package http

import (
	"net/http"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *portal) officePages() []page {
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
func (p *portal) officeHome(w http.ResponseWriter, r *http.Request, v *view) error {
	uai := v.Me.Establishment
	if err := mayReadOffice(v.principal, uai); err != nil {
		return err
	}
	o, err := p.s.cfg.Queries.Office(r.Context(), uai, p.s.now())
	if err != nil {
		return err
	}
	est, err := p.s.cfg.Queries.Establishment(r.Context(), uai)
	if err != nil {
		return err
	}
	data := officeData{Office: o, Head: v.principal.actor.IsHead(uai)}
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
func (p *portal) decideJustification(w http.ResponseWriter, r *http.Request, v *view) error {
	lesson, err := pathID(r, "lesson")
	if err != nil {
		return err
	}
	student, err := pathID(r, "student")
	if err != nil {
		return err
	}
	f := formOf(r)
	cmd := domain.DecideJustification{Lesson: lesson, Student: student, Comment: f.str("comment")}
	switch f.str("decision") {
	case "accept":
		cmd.Accept, cmd.ReasonCode = true, f.str("accept_reason")
	case "refuse":
		cmd.ReasonCode = f.str("refuse_reason")
	default:
		return domain.Errorf(domain.ErrInvalid, "decision: accept or refuse")
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.s.cfg.Commands.DecideJustification(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	flash := "refused"
	if cmd.Accept {
		flash = "accepted"
	}
	return done(w, r, "/", flash, res)
}
