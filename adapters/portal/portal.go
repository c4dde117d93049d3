// Package portal is the ledger's pages for every profile, served at /
// beside the JSON API: server-rendered html/template pages, their static
// files, messages in French and English (i18n.go), charts and CSV exports.
// It shares sign-in, sessions, CSRF tokens, the read policy and the error
// mapping with the API through adapters/web; writes go through the same
// commands.Handlers, which authorize them. See docs/portal.md.
//
// Pages are html/template files embedded in the binary (templates/), parsed
// once by New; static assets (CSS, the two small scripts, the icon) are
// embedded too (static/) and served with a content hash in their URL.
// Every form is a plain POST with a per-session CSRF token and an
// idempotency key generated when the form was rendered, answered by a
// redirect (303) to a page that says what was recorded.
package portal

import (
	"bytes"
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

	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/adapters/portal/chart"
	"github.com/schoollife/ledger/adapters/portal/i18n"
	"github.com/schoollife/ledger/adapters/web"
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

// DefaultMaxBodyBytes bounds forms unless Config says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Config configures the portal.
type Config struct {
	Commands *commands.Handlers
	Queries  *projections.Queries
	// Sessions signs in and authenticates (shared with the API).
	Sessions *web.Sessions
	// Imports, when set, starts the directory imports administrators upload
	// on the import page as background jobs, and reads their status and report.
	Imports *web.Imports
	Logger  *slog.Logger
	// MaxBodyBytes bounds posted forms (default 1 MiB); larger ones get
	// 413. Uploads are bounded by Imports.
	MaxBodyBytes int64
	// Now is the clock of "today" in pages (time.Now by default).
	Now func() time.Time
	// Location is the establishments' time zone (Europe/Paris by default).
	Location *time.Location
	// Timeouts are the deadlines of requests (web's defaults when zero).
	Timeouts web.Timeouts
	// SmallCount is the smallest count of school-life acts the indicators
	// show: smaller ones (from 1) are hidden (projections.SuppressSmallCounts;
	// projections.DefaultSmallCount when 0, 1 hides nothing).
	SmallCount int
	// Trail, when set, gathers the reads of children's files by those who
	// are neither the child nor their relatives (docs/privacy.md).
	Trail *web.Trail
	// Erasures, when set, records the erasures of persons' data
	// administrators ask for on the erasure page and runs their scrubs.
	Erasures web.ErasureJobs
	// SSO, when set, offers the identity providers on the sign-in page and
	// their administration (sso.go).
	SSO SSO
	// Notifications, when set, serves "Mes notifications" and the office's
	// undelivered notifications (docs/notifications.md).
	Notifications *web.Notifications
	// Letters, when set, writes the office's letters to families (the
	// pages under /office/letters).
	Letters *letters.Office
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	switch {
	case c.Commands == nil:
		return errors.New("portal: Commands is required")
	case c.Queries == nil:
		return errors.New("portal: Queries is required")
	case c.Sessions == nil:
		return errors.New("portal: Sessions is required")
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("portal: MaxBodyBytes %d is negative", c.MaxBodyBytes)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = domain.Paris()
	}
	if c.SmallCount == 0 {
		c.SmallCount = projections.DefaultSmallCount
	}
	if c.SmallCount < 0 {
		return fmt.Errorf("portal: SmallCount %d is negative", c.SmallCount)
	}
	if err := c.Timeouts.Validate(); err != nil {
		return fmt.Errorf("portal: %w", err)
	}
	return nil
}

// Portal serves the pages.
type Portal struct {
	cfg   Config
	log   *slog.Logger
	dec   web.Decoder
	csrf  *http.CrossOriginProtection
	mux   *http.ServeMux
	pages []page
	// tmpl holds one template set per page file, each with the layout.
	tmpl   map[string]*template.Template
	langs  *i18n.Catalogue
	assets map[string]*asset
	charts *chart.Maker
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
	// handler reads it (web.Imports.ReadUpload) and checks its CSRF token.
	upload bool
	// timeout is the page's deadline class: uploads and CSV downloads run
	// under the long one.
	timeout web.Timeout
	handle  func(w http.ResponseWriter, r *http.Request, v *view) error
}

// asset is an embedded static file.
type asset struct {
	name, contentType string
	body              []byte
	// hash versions the URL, so that it may be cached for good.
	hash string
}

// New parses the templates and registers the pages.
func New(cfg Config) (*Portal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Portal{
		cfg: cfg, log: cfg.Logger, csrf: http.NewCrossOriginProtection(), mux: http.NewServeMux(),
		dec:  web.Decoder{MaxBodyBytes: cfg.MaxBodyBytes, Location: cfg.Location},
		tmpl: map[string]*template.Template{}, assets: map[string]*asset{},
	}
	var err error
	if p.langs, err = i18n.Load(portalFiles, "templates/i18n"); err != nil {
		return nil, err
	}
	if err := p.loadAssets(); err != nil {
		return nil, err
	}
	if err := p.parseTemplates(); err != nil {
		return nil, err
	}
	p.charts = chart.NewMaker()
	p.eventTypes = domain.NewRegistry().Types()
	p.pages = p.routeTable()
	for _, pg := range p.pages {
		p.register(pg)
	}
	fail := func(w http.ResponseWriter, r *http.Request, err error) { p.fail(w, r, p.newView(r), err) }
	notFound := func(r *http.Request) string { return r.URL.Path }
	p.handler = web.Recover(fail, web.Headers(pageHeaders(), web.Fallback(fail, p.mux, notFound)))
	return p, nil
}

// Handler returns the pages, to be mounted at /.
func (p *Portal) Handler() http.Handler { return p.handler }

// now is the portal's clock.
func (p *Portal) now() time.Time { return p.cfg.Now() }

// routeTable lists every page, grouped as the files that handle them.
func (p *Portal) routeTable() []page {
	var pages []page
	for _, group := range [][]page{
		p.sessionPages(),
		p.homePages(),
		p.teacherPages(),
		p.familyPages(),
		p.officePages(),
		p.alertPages(),
		p.letterPages(),
		p.disciplinePages(),
		p.messagePages(),
		p.bookingPages(),
		p.newsPages(),
		p.servicesPages(),
		p.auditPages(),
		p.indicatorPages(),
		p.importPages(),
		p.privacyPages(),
		p.erasurePages(),
		p.consultationPages(),
		p.ssoPages(),
		p.notificationPages(),
	} {
		pages = append(pages, group...)
	}
	return pages
}

// loadAssets reads static/ and hashes each file.
func (p *Portal) loadAssets() error {
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
func (p *Portal) assetURL(name string) (string, error) {
	a, ok := p.assets[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + a.name + "?v=" + a.hash, nil
}

// parseTemplates parses the layout and partials once, then each page on a
// clone of them.
func (p *Portal) parseTemplates() error {
	funcs := template.FuncMap{
		"asset": p.assetURL,
		"add":   func(a, b int) int { return a + b },
		"pct":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"bind":  func(v *view, d any) bound { return bound{V: v, D: d} },
		"list":  func(s ...string) []string { return s },
		// links writes a typed text with its web addresses as safe links.
		"links": linkify,
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

// register puts a page on the mux behind its deadline, sign-in and the
// CSRF check.
func (p *Portal) register(pg page) {
	p.mux.Handle(pg.method+" "+pg.path, web.WithDeadline(p.cfg.Timeouts, pg.timeout, p.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := p.newView(r)
		if err := p.guard(w, r, pg, v); err != nil {
			if err == errRedirected {
				return
			}
			p.fail(w, r, v, err)
			return
		}
		if v.Me != nil {
			r = r.WithContext(web.WithPrincipal(r.Context(), v.principal))
		}
		if err := pg.handle(w, r, v); err != nil {
			p.fail(w, r, v, err)
		}
	})))
}

// errRedirected tells register that guard answered with a redirect.
var errRedirected = errors.New("redirected")

// guard checks what every page needs before its handler: a same-origin
// write, a signed-in account of an allowed profile, a good CSRF token on
// every POST.
func (p *Portal) guard(w http.ResponseWriter, r *http.Request, pg page, v *view) error {
	if err := p.csrf.Check(r); err != nil {
		return web.ErrCrossOrigin
	}
	if r.Method == http.MethodPost && !pg.upload {
		if err := p.dec.Form(w, r); err != nil {
			return err
		}
	}
	if pg.public {
		return nil
	}
	pr, err := p.cfg.Sessions.Authenticate(r)
	if err != nil {
		if errors.Is(err, web.ErrUnauthenticated) && r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return errRedirected
		}
		return err
	}
	token, _ := web.RequestToken(r)
	v.signedIn(pr, web.CSRFToken(token))
	if len(pg.profiles) > 0 && !slices.Contains(pg.profiles, pr.Actor().Profile) {
		return domain.Errorf(domain.ErrForbidden, "this page is not for the %s profile", pr.Actor().Profile)
	}
	if r.Method == http.MethodPost && !pg.upload && !web.SameToken(r.PostForm.Get(fieldCSRF), v.CSRF) {
		return web.ErrCSRF
	}
	return nil
}

// pageHeaders are those of every portal response.
func pageHeaders() http.Header {
	return http.Header{
		"Content-Security-Policy":    {portalCSP},
		"X-Content-Type-Options":     {"nosniff"},
		"Referrer-Policy":            {"no-referrer"},
		"X-Frame-Options":            {"DENY"},
		"Cross-Origin-Opener-Policy": {"same-origin"},
		"Permissions-Policy":         {"camera=(), microphone=(), geolocation=()"},
		"Cache-Control":              {"no-store"},
		"Vary":                       {"Accept-Language, Cookie"},
	}
}

// errorPage is what the error page shows.
type errorPage struct {
	Slug    string
	Message string
	// SignIn offers to sign in again.
	SignIn bool
}

// fail renders err as an error page with the status the API would send:
// the problem's message in the reader's language, never its details
// (developer text, ids). Internal errors are logged, never shown. A
// refused form shows its own page instead (refused.go).
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	err = web.PastDeadline(r, err)
	prob, he := web.ProblemOf(err)
	slug := strings.TrimPrefix(prob.Type, web.ProblemBase)
	web.LogProblem(p.log, r, prob, err, "page failed")
	web.SetRetryAfter(w.Header(), prob, he)
	msg := v.T("form.refused")
	if key := "problem." + slug; v.Has(key) {
		msg = v.T(key)
	}
	ep := errorPage{Slug: slug, Message: msg, SignIn: prob.Status == http.StatusUnauthorized}
	w.Header().Del("Content-Disposition")
	p.render(w, r, prob.Status, v, "error", "title.error", ep)
}

// render executes a page's template into a buffer, then writes it: a
// template error becomes a plain 500 instead of half a page.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, v *view, name, title string, data any) {
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
func (p *Portal) ok(w http.ResponseWriter, r *http.Request, v *view, name, title string, data any) error {
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

// commandOf returns the command request of a form: the signed-in actor,
// the form's idempotency key and the request id's correlation id.
func commandOf(r *http.Request) (commands.Request, error) {
	req := commands.Request{Actor: web.PrincipalOf(r).Actor().Account, CorrelationID: web.Correlation(r.Context())}
	if key := r.PostForm.Get(fieldIdempotency); key != "" {
		if !web.ValidIdempotencyKey(key) {
			return req, web.ErrInvalidHeader.With("the form's idempotency key is malformed")
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

func (p *Portal) names() *names {
	return &names{q: p.cfg.Queries, cache: map[uuid.UUID]string{}}
}

func (n *names) of(r *http.Request, id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	if name, ok := n.cache[id]; ok {
		return name
	}
	// Nobody the directory knows (a read model behind, an account of
	// another deployment): a dash, never an id, on a page.
	name := "—"
	if acc, err := n.q.Account(r.Context(), id); err == nil {
		name = acc.DisplayName
	} else if g, err := n.q.Group(r.Context(), id); err == nil {
		name = g.Shown()
	}
	n.cache[id] = name
	return name
}
