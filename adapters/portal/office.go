package portal

import (
	"errors"
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) officePages() []page {
	return []page{
		{method: "POST", path: "/office/absences/{lesson}/{student}/decision", profiles: []domain.Profile{domain.ProfilePersonnel},
			handle: p.onForm(decisionForm, p.showOffice, p.decideJustification)},
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

// decisionForm is the form of an absence's decision; the office's page
// has one for each absence awaiting a decision.
var decisionForm = formSpec{
	named: func(r *http.Request) string {
		return "decide-" + r.PathValue("lesson") + "-" + r.PathValue("student")
	},
	fields: []string{"accept_reason", "refuse_reason", "comment"},
}

// officeHome is the dashboard of the establishment's personnel: the day's
// absences and lateness, the roll calls not done, the justifications
// awaiting a decision (with the forms to decide).
func (p *Portal) officeHome(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showOffice(w, r, v, http.StatusOK)
}

// showOffice renders the office's day with status (a refused decision's).
func (p *Portal) showOffice(w http.ResponseWriter, r *http.Request, v *view, status int) error {
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
	p.render(w, r, status, v, "office", "title.office", data)
	return nil
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
	// The reason is chosen in the list of the button pressed.
	field := "refuse_reason"
	switch f.Str("decision") {
	case "accept":
		cmd.Accept, field = true, "accept_reason"
	case "refuse":
	default:
		return domain.Errorf(domain.ErrInvalid, "decision: accept or refuse")
	}
	if cmd.ReasonCode = f.Str(field); cmd.ReasonCode == "" {
		return atField(domain.Errorf(domain.ErrInvalid, "no reason chosen"), field, v.T("form.choose_reason"))
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.DecideJustification(r.Context(), req, cmd)
	if errors.Is(err, domain.ErrUnknownReason) || errors.Is(err, domain.ErrReasonJustifies) || errors.Is(err, domain.ErrReasonDoesNotJustify) {
		return atField(err, field, "")
	}
	if err != nil {
		return err
	}
	flash := "refused"
	if cmd.Accept {
		flash = "accepted"
	}
	return done(w, r, "/", flash, res)
}
