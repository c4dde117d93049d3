package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/schoollife/ledger/adapters/web"
)

func (p *Portal) sessionPages() []page {
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
	// Providers are the identity providers offered above the form.
	Providers []SSOProvider
}

// loginPage shows the sign-in form. Its CSRF token is a random value also
// set in a cookie scoped to /login: a page of another site can neither
// read it nor set it, so it cannot sign a victim in to its own account.
func (p *Portal) loginPage(w http.ResponseWriter, r *http.Request, v *view) error {
	if pr, err := p.cfg.Sessions.Authenticate(r); err == nil && pr != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return p.showLogin(w, r, v, http.StatusOK, loginData{Next: localPath(r.URL.Query().Get("next"))})
}

func (p *Portal) showLogin(w http.ResponseWriter, r *http.Request, v *view, status int, d loginData) error {
	d.Token = web.RandomToken()
	if p.cfg.SSO != nil {
		for _, pr := range p.cfg.SSO.Providers() {
			if d.Next != "/" {
				pr.Path += "?" + url.Values{"next": {d.Next}}.Encode()
			}
			d.Providers = append(d.Providers, pr)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: d.Token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: p.cfg.Sessions.SecureCookies(), SameSite: http.SameSiteStrictMode,
	})
	p.render(w, r, status, v, "login", "title.login", d)
	return nil
}

// login checks the form's token, then signs in as POST /api/v1/session
// does (web.Sessions.SignIn) and sets the session cookie.
func (p *Portal) login(w http.ResponseWriter, r *http.Request, v *view) error {
	d := loginData{Login: strings.TrimSpace(r.PostForm.Get("login")), Next: localPath(r.PostForm.Get("next"))}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || !web.SameToken(c.Value, r.PostForm.Get(fieldCSRF)) {
		return web.ErrCSRF
	}
	password := r.PostForm.Get("password")
	if d.Login == "" || password == "" {
		d.Error = "login.missing"
		return p.showLogin(w, r, v, http.StatusBadRequest, d)
	}
	in, err := p.cfg.Sessions.SignIn(r, d.Login, password, web.KindSession)
	var he *web.Error
	switch {
	case errors.Is(err, web.ErrRateLimited) && errors.As(err, &he):
		w.Header().Set("Retry-After", web.RetryAfter(he))
		d.Error = "login.limited"
		return p.showLogin(w, r, v, http.StatusTooManyRequests, d)
	case errors.Is(err, web.ErrBadCredentials):
		d.Error = "login.bad"
		return p.showLogin(w, r, v, http.StatusUnauthorized, d)
	case err != nil:
		return err
	}
	http.SetCookie(w, p.cfg.Sessions.Cookie(in.Token, in.Expires))
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, Secure: p.cfg.Sessions.SecureCookies(), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

// logout revokes the session and clears its cookie.
func (p *Portal) logout(w http.ResponseWriter, r *http.Request, _ *view) error {
	token, _ := web.RequestToken(r)
	next := "/login?ok=signedout"
	if p.cfg.SSO != nil && token != "" {
		// Signed in through a provider: its single logout next, which
		// comes back to the sign-in page.
		if u, ok := p.cfg.SSO.SignOutURL(r.Context(), web.SessionID(token)); ok {
			next = u
		}
	}
	if err := p.cfg.Sessions.SignOut(r, token); err != nil {
		return err
	}
	http.SetCookie(w, p.cfg.Sessions.ClearCookie())
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// static serves an embedded asset. A URL with the asset's hash may be
// cached for good; without it, for a short while.
func (p *Portal) static(w http.ResponseWriter, r *http.Request, _ *view) error {
	a, ok := p.assets[r.PathValue("name")]
	if !ok {
		return web.ErrNoRoute.With("%s", r.URL.Path)
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
