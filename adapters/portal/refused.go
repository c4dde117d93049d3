package portal

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// A refused form is shown again on its own page, not on an error page:
// the page is rendered with the status the API would send (for tools; the
// page never shows it), everything typed is back in the form's fields, and
// a message in the reader's language says what happened and what to do,
// beside the field it concerns or on top of the form. What the errors say
// for developers (their details, ids, slugs) never reaches the page.

// formSpec describes a form of a page for its refusals.
type formSpec struct {
	// name tells the form from the page's others (several forms of one
	// kind on a page name themselves with an id: "reason-<lesson>").
	name string
	// named, when set, names the form of a request instead.
	named func(r *http.Request) string
	// fields are the form's fields: a message about any other field goes
	// on top of the form.
	fields []string
	// aliases are the form's fields of the command's fields whose JSON
	// name differs ("workload_minutes": "workload").
	aliases map[string]string
}

// field returns the form's field that a command's field, or a problem's
// usual field, is: "" when the form has none such.
func (s formSpec) field(name string) string {
	if a, ok := s.aliases[name]; ok {
		name = a
	}
	if slices.Contains(s.fields, name) {
		return name
	}
	return ""
}

// own returns name when the form has that field, "" otherwise.
func (s formSpec) own(name string) string {
	if slices.Contains(s.fields, name) {
		return name
	}
	return ""
}

// showFunc renders a form's page with status; the view carries the
// refused form, if any.
type showFunc func(w http.ResponseWriter, r *http.Request, v *view, status int) error

// handleFunc is a page's handler.
type handleFunc func(w http.ResponseWriter, r *http.Request, v *view) error

// refusal is a refused form being shown again.
type refusal struct {
	form string
	sent url.Values
	// top is the message on top of the form, fields those beside fields.
	top    string
	fields map[string]string
}

// onForm answers a form's POST with post, and a refusal by showing the
// form's page again (show) with the form as it was filled. An error that
// leaves no form to show (no session any more, a deadline passed, the
// page itself cannot be read, a form sent again from the browser's
// history) is an error page still.
func (p *Portal) onForm(spec formSpec, show showFunc, post handleFunc) handleFunc {
	return func(w http.ResponseWriter, r *http.Request, v *view) error {
		err := post(w, r, v)
		if err == nil {
			return nil
		}
		return p.refuse(w, r, v, spec, show, err)
	}
}

// refuse shows the refused form's page again, or returns err for the
// error page when it cannot.
func (p *Portal) refuse(w http.ResponseWriter, r *http.Request, v *view, spec formSpec, show showFunc, err error) error {
	err = web.PastDeadline(r, err)
	prob, he := web.ProblemOf(err)
	switch {
	case prob.Status == http.StatusUnauthorized, errors.Is(err, web.ErrRequestTimeout), errors.Is(err, web.ErrCSRF):
		return err
	case errors.Is(err, domain.ErrIdempotencyKey):
		// A form sent again from the browser's history with other values:
		// the error page asks to reload the page for a fresh form.
		return err
	}
	v.refused = p.refusalOf(r, v, spec, err, prob)
	web.SetRetryAfter(w.Header(), prob, he)
	if serr := show(w, r, v, prob.Status); serr != nil {
		// The page of the form cannot be shown: the error page says why
		// the form was refused.
		v.refused = nil
		w.Header().Del("Retry-After")
		p.log.DebugContext(r.Context(), "refused form's page failed", "path", r.URL.Path, "err", serr)
		return err
	}
	web.LogProblem(p.log, r, prob, err, "form failed")
	return nil
}

// refusalOf explains err to the person at the form.
func (p *Portal) refusalOf(r *http.Request, v *view, spec formSpec, err error, prob web.Problem) *refusal {
	ref := &refusal{form: spec.name, sent: r.PostForm, fields: map[string]string{}}
	if spec.named != nil {
		ref.form = spec.named(r)
	}
	field, msg := p.explain(r, v, spec, err, strings.TrimPrefix(prob.Type, web.ProblemBase))
	switch {
	case field != "" && prob.Status == http.StatusBadRequest:
		ref.fields[field] = msg
		ref.top = v.T("form.refused_field")
	case field != "":
		ref.fields[field] = msg
		ref.top = v.T("form.refused_below")
	default:
		ref.top = msg
	}
	return ref
}

// problemFields are the fields problems are usually about, when a form
// has them.
var problemFields = map[string]string{
	domain.ErrSanctionDays.Type:         "days",
	domain.ErrBookingClash.Type:         "start",
	domain.ErrDueBeforeLesson.Type:      "due",
	domain.ErrNoRecipient.Type:          "to",
	domain.ErrTooManyRecipients.Type:    "to",
	domain.ErrStudentNotInGroup.Type:    "student",
	domain.ErrNotTeacherOfGroup.Type:    "student",
	domain.ErrUnknownEntry.Type:         "entry",
	domain.ErrReasonJustifies.Type:      "refuse_reason",
	domain.ErrReasonDoesNotJustify.Type: "accept_reason",
}

// explain returns the field err is about ("" for the whole form) and
// what to tell the person.
func (p *Portal) explain(r *http.Request, v *view, spec formSpec, err error, slug string) (field, msg string) {
	var pin *pinned
	if errors.As(err, &pin) && pin.msg != "" {
		return spec.field(pin.field), pin.msg
	}
	if name, want, ok := web.FieldOf(err); ok {
		return spec.field(name), v.T("form.want." + want)
	}
	var de *domain.Error
	if errors.As(err, &de) {
		switch {
		case de.Field != "" && de.Rule == domain.RuleTooLong:
			return spec.field(de.Field), v.T("form.rule.too-long", de.Limit)
		case de.Field != "" && de.Rule != "":
			return spec.field(de.Field), v.T("form.rule." + string(de.Rule))
		case de.Holder != nil:
			h := de.Holder
			start, end := h.Start.In(p.cfg.Location), h.End.In(p.cfg.Location)
			return spec.own("start"), v.T("form.booking_clash", p.names().of(r, h.By), v.Short(domain.DateOf(start)), start.Format("15:04"), end.Format("15:04"))
		}
	}
	msg = v.T("form.refused")
	if key := "problem." + slug; v.Has(key) {
		msg = v.T(key)
	}
	if pin != nil {
		return spec.field(pin.field), msg
	}
	return spec.field(problemFields[slug]), msg
}

// pinned is an error a handler knows the field of, with what to tell
// the person when the problem's own message is not enough.
type pinned struct {
	err   error
	field string
	msg   string
}

func (e *pinned) Error() string { return e.field + ": " + e.err.Error() }
func (e *pinned) Unwrap() error { return e.err }

// atField pins err to a field of the form, with msg (or, when msg is
// "", the message of err's problem).
func atField(err error, field, msg string) error {
	if err == nil {
		return nil
	}
	return &pinned{err: err, field: field, msg: msg}
}

// Refused reports whether form is the refused form being shown again.
func (v *view) Refused(form string) bool { return v.refused != nil && v.refused.form == form }

// Typed returns what the refused form had in a field, or def (the fresh
// form's value) when form is not the one refused.
func (v *view) Typed(form, name string, def any) string {
	if !v.Refused(form) {
		if def == nil {
			return ""
		}
		return fmt.Sprint(def)
	}
	return v.refused.sent.Get(name)
}

// Picked reports whether value was chosen in a field (a select, radio
// buttons, checkboxes) of the refused form, or def when form is not the
// one refused.
func (v *view) Picked(form, name string, value any, def bool) bool {
	if !v.Refused(form) {
		return def
	}
	return slices.Contains(v.refused.sent[name], fmt.Sprint(value))
}

// DateInput is the type of a date field: "date", or "text" when the
// refused form's value is not a date a date input can show (what was
// typed is shown as it was, to be corrected).
func (v *view) DateInput(form, name string) string {
	if s := v.Typed(form, name, nil); s != "" {
		if _, err := domain.ParseDate(s); err != nil {
			return "text"
		}
	}
	return "date"
}

// FieldProblem is the message beside a field of the refused form.
func (v *view) FieldProblem(form, name string) string {
	if !v.Refused(form) {
		return ""
	}
	return v.refused.fields[name]
}

// FormProblem is the message on top of the refused form.
func (v *view) FormProblem(form string) string {
	if !v.Refused(form) {
		return ""
	}
	return v.refused.top
}
