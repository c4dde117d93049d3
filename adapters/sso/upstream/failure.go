package upstream

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
)

// Reason says why a sign-in through a provider failed, as a person can
// be told.
type Reason string

const (
	// ReasonDenied: the person cancelled, or the provider refused them.
	ReasonDenied Reason = "denied"
	// ReasonExpired: no sign-in in progress in this browser (too old,
	// already used, started elsewhere).
	ReasonExpired Reason = "expired"
	// ReasonUnknownProvider: no provider of that name is configured.
	ReasonUnknownProvider Reason = "unknown-provider"
	// ReasonUnavailable: the provider could not be reached.
	ReasonUnavailable Reason = "unavailable"
	// ReasonInvalid: what the provider answered did not pass the checks.
	ReasonInvalid Reason = "invalid"
)

// Status is the HTTP status a failure is answered with (for tools: the
// page never shows it).
func (r Reason) Status() int {
	switch r {
	case ReasonDenied:
		return http.StatusForbidden
	case ReasonUnknownProvider:
		return http.StatusNotFound
	case ReasonUnavailable:
		return http.StatusBadGateway
	default:
		return http.StatusBadRequest
	}
}

// Failure is a sign-in that failed: the provider's configured name, the
// reason, and the error for the logs (never shown to the person).
type Failure struct {
	Provider string
	Reason   Reason
	Err      error
}

// FailFunc answers a failed sign-in. The portal may give one that renders
// its own layout; Page is the default.
type FailFunc func(w http.ResponseWriter, r *http.Request, f Failure)

//go:embed failure.html
var failureHTML string

var failurePage = template.Must(template.New("failure").Parse(failureHTML))

// failureText is what a page says for each reason, in French.
var failureText = map[Reason]struct{ Title, Body string }{
	ReasonDenied: {"Connexion refusée",
		"Le service d'identification n'a pas accordé la connexion. Si vous l'avez annulée, vous pouvez recommencer."},
	ReasonExpired: {"Connexion expirée",
		"Cette connexion a expiré ou a déjà été utilisée. Recommencez depuis la page de connexion."},
	ReasonUnknownProvider: {"Service d'identification inconnu",
		"Ce service d'identification n'est pas proposé ici. Choisissez-en un sur la page de connexion."},
	ReasonUnavailable: {"Service d'identification indisponible",
		"Le service d'identification ne répond pas pour le moment. Réessayez dans quelques minutes ou choisissez un autre moyen de connexion."},
	ReasonInvalid: {"Connexion impossible",
		"La réponse du service d'identification n'a pas pu être vérifiée. Recommencez depuis la page de connexion ; si cela se reproduit, prévenez l'administrateur de l'établissement."},
}

// FailureText returns the French title and text of a reason.
func FailureText(r Reason) (title, body string) {
	t, ok := failureText[r]
	if !ok {
		t = failureText[ReasonInvalid]
	}
	return t.Title, t.Body
}

// Page is the default FailFunc: a small page in French that says what
// happened and links back to the sign-in page.
func Page(w http.ResponseWriter, _ *http.Request, f Failure) {
	title, body := FailureText(f.Reason)
	var buf bytes.Buffer
	if err := failurePage.Execute(&buf, map[string]string{"Title": title, "Body": body}); err != nil {
		http.Error(w, title, f.Reason.Status())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(f.Reason.Status())
	_, _ = w.Write(buf.Bytes())
}
