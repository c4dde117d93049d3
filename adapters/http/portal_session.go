package http

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

func (p *portal) sessionPages() []page {
	return []page{
		{method: "GET", path: "/login", public: true, handle: p.loginPage},
		{method: "POST", path: "/login", public: true, handle: p.login},
		{method: "POST", path: "/logout", handle: p.logout},
		{method: "GET", path: "/static/{name...}", public: true, handle: p.static},
	}
}

// loginData is what the sign-in page shows.
type loginData struct {
	Login, Next, Token string
	// Error is the key of the message of a failed sign-in.
	Error string
}

// loginPage shows the sign-in form. Its CSRF token is a random value also
// set in a cookie scoped to /login: a page of another site can neither
// read it nor set it, so it cannot sign a victim in to its own account.
func (p *portal) loginPage(w http.ResponseWriter, r *http.Request, v *view) error {
	if pr, err := p.s.authenticate(r); err == nil && pr != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return p.showLogin(w, r, v, http.StatusOK, loginData{Next: localPath(r.URL.Query().Get("next"))})
}

func (p *portal) showLogin(w http.ResponseWriter, r *http.Request, v *view, status int, d loginData) error {
	d.Token = randomToken()
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: d.Token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: p.s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
	p.render(w, r, status, v, "login", "title.login", d)
	return nil
}

// login checks the form's token and the credentials, records the
// connection, opens a session and sets its cookie, as POST
// /api/v1/session does.
func (p *portal) login(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	d := loginData{Login: strings.TrimSpace(r.PostForm.Get("login")), Next: localPath(r.PostForm.Get("next"))}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostForm.Get(fieldCSRF))) {
		return errCSRF
	}
	password := r.PostForm.Get("password")
	if d.Login == "" || password == "" {
		d.Error = "login.missing"
		return p.showLogin(w, r, v, http.StatusBadRequest, d)
	}
	id, err := p.s.cfg.Auth.Authenticate(ctx, d.Login, password, clientAddr(r))
	switch {
	case errors.Is(err, p.s.cfg.AuthErrors.RateLimited):
		wait := defaultRetryAfter
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) {
			wait = ra.RetryAfter()
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		d.Error = "login.limited"
		return p.showLogin(w, r, v, http.StatusTooManyRequests, d)
	case errors.Is(err, p.s.cfg.AuthErrors.BadCredentials):
		d.Error = "login.bad"
		return p.showLogin(w, r, v, http.StatusUnauthorized, d)
	case err != nil:
		return err
	}
	acc, err := p.s.openAccount(ctx, id)
	if errors.Is(err, errUnauthenticated) {
		d.Error = "login.bad"
		return p.showLogin(w, r, v, http.StatusUnauthorized, d)
	}
	if err != nil {
		return err
	}
	req := commands.Request{Actor: id, CorrelationID: uuid.New()}
	if _, err := p.s.cfg.Commands.RecordConnection(ctx, req, domain.RecordConnection{Method: domain.SignInPassword}); err != nil {
		if domain.CodeOf(err) != "" {
			d.Error = "login.bad"
			return p.showLogin(w, r, v, http.StatusUnauthorized, d)
		}
		return err
	}
	if !acc.Activated {
		p.s.activate(r, req, id)
	}
	token, expires, err := p.s.cfg.Auth.NewSession(ctx, id, KindSession)
	if err != nil {
		return err
	}
	http.SetCookie(w, p.s.sessionCookie(token, expires))
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, Secure: p.s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

// logout revokes the session and clears its cookie.
func (p *portal) logout(w http.ResponseWriter, r *http.Request, _ *view) error {
	if token, _ := requestToken(r); token != "" {
		if err := p.s.cfg.Auth.Revoke(r.Context(), token); err != nil && !errors.Is(err, p.s.cfg.AuthErrors.Unauthenticated) {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: p.s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/login?ok=signedout", http.StatusSeeOther)
	return nil
}

// static serves an embedded asset. A URL with the asset's hash may be
// cached for good; without it, for a short while.
func (p *portal) static(w http.ResponseWriter, r *http.Request, _ *view) error {
	a, ok := p.assets[r.PathValue("name")]
	if !ok {
		return errNoRoute.with("%s", r.URL.Path)
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Del("Vary")
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	_, _ = w.Write(a.body)
	return nil
}
