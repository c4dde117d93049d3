package http

// The portal: server-rendered pages for every profile, beside the JSON API.
// It lives in this package so that it shares the API's sign-in, sessions,
// read policy (policy.go) and error mapping (error.go); writes go through
// the same commands.Handlers, which authorize them. See docs/portal.md.
//
// Pages are html/template files embedded in the binary (templates/), parsed
// once by newPortal; static assets (CSS, the two small scripts, the icon)
// are embedded too (static/) and served with a content hash in their URL.
// Every form is a plain POST with a per-session CSRF token and an
// idempotency key generated when the form was rendered, answered by a
// redirect (303) to a page that says what was recorded.

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

//go:embed templates static
var portalFiles embed.FS

// portalCSP is the Content-Security-Policy of every page: everything from
// the ledger itself, no inline script or style, no framing, forms posted
// to the ledger only. connect-src 'self' covers the live websocket (CSP 3
// matches ws: and wss: of the page's own host).
const portalCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// chartCSP is the policy of the SVG charts: an image needs no script, and
// its presentation attributes are inline styles.
const chartCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

// Names of the portal's form fields and cookies.
const (
	fieldCSRF        = "csrf"
	fieldIdempotency = "idempotency_key"
	// loginCookie carries the sign-in form's CSRF token (there is no
	// session yet to derive it from).
	loginCookie = "ledger_login_csrf"
)

// errCSRF refuses a form whose token is missing or wrong.
var errCSRF = &httpError{status: http.StatusForbidden, typ: "csrf-token", title: "the form's security token is missing or wrong"}

// portal serves the pages.
type portal struct {
	s     *Server
	log   *slog.Logger
	mux   *http.ServeMux
	pages []page
	// tmpl holds one template set per page file, each with the layout.
	tmpl   map[string]*template.Template
	langs  *catalogue
	assets map[string]*asset
	charts *chartMaker
	// eventTypes are the wire names of every event type, for the audit's
	// filter.
	eventTypes []string
	// handler is the mux behind the portal's middleware.
	handler http.Handler
}

// page is one entry of the portal's route table.
type page struct {
	method, path string
	// public pages need no sign-in (sign-in itself, static assets).
	public bool
	// profiles may open the page; none means any signed-in account. The
	// read policy and the command layer still decide what each one sees
	// and does.
	profiles []domain.Profile
	// upload pages take a multipart/form-data POST (a feed's files): the
	// handler reads it (readUpload) and checks its CSRF token.
	upload bool
	handle func(w http.ResponseWriter, r *http.Request, v *view) error
}

// asset is an embedded static file.
type asset struct {
	name, contentType string
	body              []byte
	// hash versions the URL, so that it may be cached for good.
	hash string
}

// newPortal parses the templates and registers the pages.
func newPortal(s *Server) (*portal, error) {
	p := &portal{s: s, log: s.log, mux: http.NewServeMux(), tmpl: map[string]*template.Template{}, assets: map[string]*asset{}}
	var err error
	if p.langs, err = loadCatalogue(portalFiles); err != nil {
		return nil, err
	}
	if err := p.loadAssets(); err != nil {
		return nil, err
	}
	if err := p.parseTemplates(); err != nil {
		return nil, err
	}
	p.charts = newChartMaker()
	p.eventTypes = domain.NewRegistry().Types()
	p.pages = p.routeTable()
	for _, pg := range p.pages {
		p.register(pg)
	}
	p.handler = p.recoverer(p.headers(p.fallback(p.mux)))
	return p, nil
}

// routeTable lists every page, grouped as the files that handle them.
func (p *portal) routeTable() []page {
	var pages []page
	for _, group := range [][]page{
		p.sessionPages(),
		p.homePages(),
		p.teacherPages(),
		p.familyPages(),
		p.officePages(),
		p.disciplinePages(),
		p.messagePages(),
		p.bookingPages(),
		p.newsPages(),
		p.auditPages(),
		p.indicatorPages(),
		p.importPages(),
	} {
		pages = append(pages, group...)
	}
	return pages
}

// loadAssets reads static/ and hashes each file.
func (p *portal) loadAssets() error {
	return fs.WalkDir(portalFiles, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := portalFiles.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		rel := strings.TrimPrefix(name, "static/")
		p.assets[rel] = &asset{name: rel, contentType: assetType(rel), body: body, hash: base64.RawURLEncoding.EncodeToString(sum[:9])}
		return nil
	})
}

func assetType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return "application/octet-stream"
}

// assetURL is the versioned URL of a static file; templates call it as
// {{asset "portal.css"}}.
func (p *portal) assetURL(name string) (string, error) {
	a, ok := p.assets[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + a.name + "?v=" + a.hash, nil
}

// parseTemplates parses the layout and partials once, then each page on a
// clone of them.
func (p *portal) parseTemplates() error {
	funcs := template.FuncMap{
		"asset": p.assetURL,
		"add":   func(a, b int) int { return a + b },
		"pct":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"bind":  func(v *view, d any) bound { return bound{V: v, D: d} },
		"list":  func(s ...string) []string { return s },
	}
	base, err := template.New("portal").Funcs(funcs).ParseFS(portalFiles, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return fmt.Errorf("portal: parse layout: %w", err)
	}
	files, err := fs.Glob(portalFiles, "templates/pages/*.html")
	if err != nil {
		return err
	}
	for _, f := range files {
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(portalFiles, f); err != nil {
			return fmt.Errorf("portal: parse %s: %w", f, err)
		}
		p.tmpl[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return nil
}

// bound passes a partial template the view and its own data.
type bound struct {
	V *view
	D any
}

// register puts a page on the mux behind sign-in and the CSRF check.
func (p *portal) register(pg page) {
	p.mux.Handle(pg.method+" "+pg.path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := p.newView(r)
		if err := p.guard(w, r, pg, v); err != nil {
			if err == errRedirected {
				return
			}
			p.fail(w, r, v, err)
			return
		}
		if v.Me != nil {
			r = r.WithContext(withPrincipal(r.Context(), v.principal))
		}
		if err := pg.handle(w, r, v); err != nil {
			p.fail(w, r, v, err)
		}
	}))
}

// errRedirected tells register that guard answered with a redirect.
var errRedirected = errors.New("redirected")

// guard checks what every page needs before its handler: a same-origin
// write, a signed-in account of an allowed profile, a good CSRF token on
// every POST.
func (p *portal) guard(w http.ResponseWriter, r *http.Request, pg page, v *view) error {
	if err := p.s.csrf.Check(r); err != nil {
		return errCrossOrigin
	}
	if r.Method == http.MethodPost && !pg.upload {
		r.Body = http.MaxBytesReader(w, r.Body, p.s.cfg.MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return errBodyTooLarge.with("at most %d bytes", tooLarge.Limit)
			}
			return domain.Errorf(domain.ErrInvalid, "the form could not be read")
		}
	}
	if pg.public {
		return nil
	}
	pr, err := p.s.authenticate(r)
	if err != nil {
		if errors.Is(err, errUnauthenticated) && r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return errRedirected
		}
		return err
	}
	token, _ := requestToken(r)
	v.signedIn(pr, csrfToken(token))
	if len(pg.profiles) > 0 && !slices.Contains(pg.profiles, pr.actor.Profile) {
		return forbidden("this page is not for the %s profile", pr.actor.Profile)
	}
	if r.Method == http.MethodPost && !pg.upload && !hmac.Equal([]byte(r.PostForm.Get(fieldCSRF)), []byte(v.CSRF)) {
		return errCSRF
	}
	return nil
}

// csrfToken is the CSRF token of a session: a MAC of a fixed label keyed
// by the session's secret token. Every node computes it alike (no state to
// share), it differs for every session, and the page that holds it does
// not reveal the session token.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("ledger portal csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// randomToken returns 32 random bytes, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// headers sets the headers of every portal response.
func (p *portal) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", portalCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Accept-Language, Cookie")
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a 500 page, logged.
func (p *portal) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			p.fail(w, r, p.newView(r), fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// fallback answers unknown paths (404) and methods (405) with a page.
func (p *portal) fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		v := p.newView(r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			p.fail(w, r, v, errMethodNotAllowed.with("%s does not take %s", r.URL.Path, r.Method))
			return
		}
		p.fail(w, r, v, errNoRoute.with("%s", r.URL.Path))
	})
}

// errorPage is what the error page shows.
type errorPage struct {
	Status  int
	Slug    string
	Message string
	Detail  string
	// SignIn offers to sign in again.
	SignIn bool
}

// fail renders err as an error page with the status the API would send.
// Internal errors are logged, never shown.
func (p *portal) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	prob, he := problemOf(err)
	slug := strings.TrimPrefix(prob.Type, ProblemBase)
	switch {
	case prob.Status >= 500:
		p.log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		p.log.DebugContext(r.Context(), "page refused", "method", r.Method, "path", r.URL.Path, "status", prob.Status, "type", slug)
	}
	if prob.Status == http.StatusTooManyRequests {
		wait := defaultRetryAfter
		if he != nil && he.retryAfter > 0 {
			wait = he.retryAfter
		}
		w.Header().Set("Retry-After", fmt.Sprint(int((wait+time.Second-1)/time.Second)))
	}
	msg := prob.Title
	if key := "problem." + slug; v.Has(key) {
		msg = v.T(key)
	}
	ep := errorPage{Status: prob.Status, Slug: slug, Message: msg, Detail: prob.Detail, SignIn: prob.Status == http.StatusUnauthorized}
	w.Header().Del("Content-Disposition")
	p.render(w, r, prob.Status, v, "error", "title.error", ep)
}

// render executes a page's template into a buffer, then writes it: a
// template error becomes a plain 500 instead of half a page.
func (p *portal) render(w http.ResponseWriter, r *http.Request, status int, v *view, name, title string, data any) {
	t, ok := p.tmpl[name]
	if !ok {
		p.log.ErrorContext(r.Context(), "no such page template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Title, v.Data = v.T(title), data
	v.nav = p.nav(v)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ok renders a page with 200.
func (p *portal) ok(w http.ResponseWriter, r *http.Request, v *view, name, title string, data any) error {
	p.render(w, r, http.StatusOK, v, name, title, data)
	return nil
}

// done answers a successful form: a redirect (303) to target with the
// flash message that says what was recorded (or that it already was).
func done(w http.ResponseWriter, r *http.Request, target, flash string, res commands.Result) error {
	if res.Replayed {
		flash = "replayed"
	}
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("ok", flash)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
	return nil
}

// commandOf returns the command request of a form: the signed-in actor and
// the form's idempotency key.
func commandOf(r *http.Request) (commands.Request, error) {
	req := commands.Request{Actor: principalOf(r).actor.Account}
	if key := r.PostForm.Get(fieldIdempotency); key != "" {
		if !validIdempotencyKey(key) {
			return req, errInvalidHeader.with("the form's idempotency key is malformed")
		}
		req.IdempotencyKey = key
	}
	return req, nil
}

// localPath returns next if it is a path of this site, else "/": a
// sign-in never redirects elsewhere.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

// names looks up display names in the directory, once per id. A name
// that cannot be found shows as a short id.
type names struct {
	q     *projections.Queries
	cache map[uuid.UUID]string
}

func (p *portal) names() *names {
	return &names{q: p.s.cfg.Queries, cache: map[uuid.UUID]string{}}
}

func (n *names) of(r *http.Request, id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	if name, ok := n.cache[id]; ok {
		return name
	}
	name := id.String()[:8]
	if acc, err := n.q.Account(r.Context(), id); err == nil {
		name = acc.DisplayName
	} else if g, err := n.q.Group(r.Context(), id); err == nil {
		name = g.Name
	}
	n.cache[id] = name
	return name
}
