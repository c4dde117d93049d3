package casclient

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/schoollife/ledger/adapters/sso"
	"github.com/schoollife/ledger/adapters/sso/upstream"
)

// maxResponse bounds a validation answer.
const maxResponse = 1 << 20

// flow is what a sign-in in progress keeps in its sealed cookie.
type flow struct {
	ReturnTo string `json:"r"`
}

type handler struct {
	providers map[string]*provider
	completer sso.Completer
	cookies   *upstream.StateCookies
	opts      options
	mux       *http.ServeMux
}

type provider struct {
	name     string
	settings Settings
	server   string // the CAS prefix, without a trailing slash
	callback string // the callback's path
	service  string // the callback's absolute URL, before its state
}

// New returns the handler of /sso/cas/{provider}/login and
// /sso/cas/{provider}/callback for cfg's servers.
func New(cfg Config, completer sso.Completer, opts ...Option) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if completer == nil {
		return nil, errors.New("cas: no completer")
	}
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	base, _ := upstream.CheckURL("base_url", cfg.BaseURL)
	cookies, err := upstream.StateCookiesFor(o.stateKey, "ledger_cas", base, o.stateTTL, o.now)
	if err != nil {
		return nil, fmt.Errorf("cas: %w", err)
	}
	h := &handler{providers: map[string]*provider{}, completer: completer, cookies: cookies, opts: o, mux: http.NewServeMux()}
	for _, p := range cfg.Providers {
		callback := "/sso/cas/" + p.Name + "/callback"
		h.providers[p.Name] = &provider{
			name: p.Name, settings: p.CAS, server: strings.TrimSuffix(p.CAS.URL, "/"),
			callback: callback, service: upstream.JoinPath(base, callback),
		}
	}
	h.mux.HandleFunc("GET /sso/cas/{provider}/login", h.login)
	h.mux.HandleFunc("GET /sso/cas/{provider}/callback", h.callback)
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// ServiceURL returns the service URL pattern to register at a CAS server:
// the callback, followed by a query that differs for every sign-in.
func ServiceURL(baseURL, provider string) string {
	u, err := upstream.CheckURL("base_url", baseURL)
	if err != nil {
		return ""
	}
	return upstream.JoinPath(u, "/sso/cas/"+provider+"/callback")
}

// serviceFor is the service URL of a sign-in: the same at login and at
// validation, character for character, since it is built from the
// sign-in's state alone (never from the URL the browser came back with).
func (p *provider) serviceFor(state string) string {
	return p.service + "?state=" + url.QueryEscape(state)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, provider string, reason upstream.Reason, err error) {
	h.opts.logger.WarnContext(r.Context(), "cas sign-in failed",
		slog.String("provider", provider), slog.String("reason", string(reason)), slog.Any("err", err))
	h.opts.fail(w, r, upstream.Failure{Provider: provider, Reason: reason, Err: err})
}

// login sends the browser to the CAS server's login page; the state in
// the service URL ties the way back to this browser's sealed cookie.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	p, ok := h.providers[name]
	if !ok {
		h.fail(w, r, name, upstream.ReasonUnknownProvider, errors.New("no such provider"))
		return
	}
	state := upstream.RandomToken()
	if err := h.cookies.Set(w, p.callback, name, state, flow{ReturnTo: upstream.LocalPath(r.URL.Query().Get("returnTo"))}); err != nil {
		h.fail(w, r, name, upstream.ReasonInvalid, err)
		return
	}
	q := url.Values{"service": {p.serviceFor(state)}}
	if p.settings.Renew {
		q.Set("renew", "true")
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.server+"/login?"+q.Encode(), http.StatusFound)
}

// callback validates the ticket at the server and hands the user over.
func (h *handler) callback(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	p, ok := h.providers[name]
	if !ok {
		h.fail(w, r, name, upstream.ReasonUnknownProvider, errors.New("no such provider"))
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	var f flow
	if err := h.cookies.Take(w, r, p.callback, name, state, &f); err != nil {
		h.fail(w, r, name, upstream.ReasonExpired, err)
		return
	}
	ticket := q.Get("ticket")
	if !validTicket(ticket) {
		h.fail(w, r, name, upstream.ReasonInvalid, errors.New("no service ticket, or not of the ST- form"))
		return
	}
	v, err := h.validate(r, p, p.serviceFor(state), ticket)
	if err != nil {
		reason := upstream.ReasonInvalid
		var cf *casFailure
		if !errors.As(err, &cf) && !errors.Is(err, errAnswer) {
			reason = upstream.ReasonUnavailable
		}
		h.fail(w, r, name, reason, err)
		return
	}
	id := sso.Identity{Provider: name, Protocol: sso.ProtocolCAS, Subject: v.User, Attributes: v.Attributes, SessionIndex: ticket}
	if err := upstream.CheckIdentity(id); err != nil {
		h.fail(w, r, name, upstream.ReasonInvalid, err)
		return
	}
	h.completer.Complete(w, r, id, f.ReturnTo)
}

// validTicket accepts service tickets as CAS 3.0 describes them: "ST-"
// then at most 253 more characters, printable ASCII.
func validTicket(t string) bool {
	if !strings.HasPrefix(t, "ST-") || len(t) > 256 || len(t) == 3 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return false
		}
	}
	return true
}

// errAnswer marks an answer that came but is not a CAS answer.
var errAnswer = errors.New("cas answer")

// validate asks the server whether ticket was issued for service.
func (h *handler) validate(r *http.Request, p *provider, service, ticket string) (validated, error) {
	q := url.Values{"service": {service}, "ticket": {ticket}}
	if p.settings.Renew {
		q.Set("renew", "true")
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, p.server+p.settings.validatePath()+"?"+q.Encode(), nil)
	if err != nil {
		return validated{}, fmt.Errorf("ticket validation: %w", err)
	}
	resp, err := h.opts.client.Do(req)
	if err != nil {
		// The error may quote the URL, which holds the ticket: only the
		// server is named.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return validated{}, fmt.Errorf("ticket validation at %s: %w", p.server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return validated{}, fmt.Errorf("ticket validation at %s: %w", p.server, err)
	}
	if len(body) > maxResponse {
		return validated{}, fmt.Errorf("%w: longer than %d bytes", errAnswer, maxResponse)
	}
	v, err := parseResponse(body)
	var cf *casFailure
	switch {
	case errors.As(err, &cf):
		// Some servers send their refusal with a 400 status. Their message
		// may quote the ticket, which stays out of the logs.
		cf.Message = strings.ReplaceAll(cf.Message, ticket, "ST-…")
		return validated{}, err
	case resp.StatusCode != http.StatusOK:
		return validated{}, fmt.Errorf("ticket validation at %s answered %d", p.server, resp.StatusCode)
	case err != nil:
		return validated{}, fmt.Errorf("%w: %w", errAnswer, err)
	}
	return v, nil
}
