package subjectexport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// The summary's sections of events, in the order it shows them; each is
// spooled to a temporary file while the log is read once, then copied
// out, so that the summary is grouped by kind and memory stays bounded.
var sections = []string{
	"school_life", "textbook", "messaging", "connections", "bookings", "news", "directory", "privacy",
}

// sectionOf returns the section of an event type.
func (x *Exporter) sectionOf(typ string) string {
	if cur, ok := x.cfg.Registry.Current(typ); ok && cur == (domain.UserConnected{}).EventType() {
		return "connections"
	}
	area, _ := x.cfg.Registry.Area(typ)
	switch area {
	case domain.AreaSchoolLife:
		return "school_life"
	case domain.AreaTextbook:
		return "textbook"
	case domain.AreaMessaging:
		return "messaging"
	case domain.AreaBooking:
		return "bookings"
	case domain.AreaNews:
		return "news"
	case domain.AreaPrivacy:
		return "privacy"
	}
	return "directory"
}

const style = `body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#111}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}
h2{border-bottom:2px solid #333;page-break-after:avoid}tr{page-break-inside:avoid}.body{white-space:pre-wrap}
@media print{body{margin:0}}`

// esc escapes text for HTML.
func esc(s string) string { return template.HTMLEscapeString(s) }

// writeHTML writes the readable summary, in French.
func (x *Exporter) writeHTML(ctx context.Context, w io.Writer, acc *projections.AccountEntry) (err error) {
	ests, err := x.establishments(ctx, acc)
	if err != nil {
		return err
	}
	t := x.cfg.Words
	// The events, read once, each into its section's spool.
	spools := make(map[string]*spool, len(sections))
	defer func() {
		for _, s := range spools {
			err = errors.Join(err, s.close())
		}
	}()
	for _, name := range sections {
		s, err := newSpool(x.cfg.TempDir)
		if err != nil {
			return err
		}
		spools[name] = s
	}
	names := newNames(x.cfg.Directory, acc)
	reasons := map[string]string{}
	for _, e := range ests {
		for _, r := range e.Reasons {
			reasons[r.Code] = r.Label
		}
	}
	d := describer{x: x, subject: acc.ID, reasons: reasons}
	err = x.scan(ctx, acc.ID, func(it *Item) error {
		s := spools[x.sectionOf(it.Type)]
		s.n++
		by, err := names.of(ctx, it.Actor, it.Profile)
		if err != nil {
			return err
		}
		detail, err := d.describe(ctx, it, names)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(s.w, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			esc(x.when(it.Time)), esc(it.Label), detail, esc(by))
		return err
	})
	if err != nil {
		return err
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style></head><body>\n",
		esc(t.T("export.title", acc.DisplayName)), style)
	fmt.Fprintf(bw, "<h1>%s</h1>\n<p>%s</p>\n<p>%s</p>\n", esc(t.T("export.title", acc.DisplayName)),
		esc(t.T("export.intro")), esc(t.T("export.generated", x.when(x.cfg.Now()))))
	x.identity(bw, acc, ests)
	if acc.Profile == domain.ProfileStudent {
		fmt.Fprintf(bw, "<h2>%s</h2>\n", esc(t.T("export.section.file")))
		err := x.studentFile(ctx, acc, func(f *projections.StudentFile) error {
			c := f.Counts
			counts := t.N("export.n.absences", c.Absences) + ", " + t.N("export.n.unjustified", c.AbsencesUnjustified) + " ; " +
				t.N("export.n.lateness", c.Lateness) + " ; " + t.N("export.n.punishments", c.Punishments) + " ; " +
				t.N("export.n.sanctions", c.Sanctions) + " ; " + t.N("export.n.incidents", c.Incidents) + "."
			fmt.Fprintf(bw, "<p>%s</p>\n", esc(counts))
			return nil
		})
		if err != nil {
			return err
		}
	}
	head := fmt.Sprintf("<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
		esc(t.T("export.col.when")), esc(t.T("export.col.what")), esc(t.T("export.col.detail")), esc(t.T("export.col.by")))
	for _, name := range sections {
		s := spools[name]
		fmt.Fprintf(bw, "<h2>%s</h2>\n", esc(t.T("export.section."+name)))
		if s.n == 0 {
			fmt.Fprintf(bw, "<p>%s</p>\n", esc(t.T("export.none")))
			continue
		}
		fmt.Fprintf(bw, "<p>%s</p>\n<table>\n%s", esc(t.N("export.count", s.n)), head)
		if err := s.copyTo(bw); err != nil {
			return err
		}
		bw.WriteString("</table>\n")
		if err := flush(bw, w); err != nil {
			return err
		}
	}
	bw.WriteString("</body></html>\n")
	return flush(bw, w)
}

// identity writes the person's directory entry.
func (x *Exporter) identity(bw *bufio.Writer, acc *projections.AccountEntry, ests []projections.EstablishmentEntry) {
	t := x.cfg.Words
	fmt.Fprintf(bw, "<h2>%s</h2>\n<table>\n", esc(t.T("export.section.identity")))
	row := func(key, value string) {
		if value != "" {
			fmt.Fprintf(bw, "<tr><th>%s</th><td>%s</td></tr>\n", esc(t.T(key)), esc(value))
		}
	}
	row("export.field.name", acc.DisplayName)
	row("export.field.profile", t.Label("profile", acc.Profile))
	if acc.Function != "" {
		row("export.field.function", t.Label("function", acc.Function))
	}
	for _, p := range acc.Posts {
		row("export.field.post", strings.TrimSpace(p.Label+" "+p.DisciplineLabel))
	}
	row("export.field.mef", acc.ShownMEF())
	for _, e := range ests {
		row("export.field.establishment", e.Name+" ("+e.UAI+")")
	}
	for _, g := range acc.Groups {
		s := g.Shown() + " — " + t.Label("role", g.Role)
		if g.Subject != "" {
			s += " (" + g.Subject + ")"
		}
		row("export.field.group", s)
	}
	for _, l := range acc.Relatives {
		row("export.field.relative", link(t, l))
	}
	for _, l := range acc.Children {
		row("export.field.child", link(t, l))
	}
	row("export.field.external_id", acc.ExternalID)
	row("export.field.id", acc.ID.String())
	bw.WriteString("</table>\n")
}

// link writes a relative's or a child's link.
func link(t Words, l projections.AccountLink) string {
	s := l.DisplayName
	if l.Relation != "" {
		s += ", " + t.Label("relation", l.Relation)
	}
	if l.LegalGuardian {
		s += ", " + t.T("export.legal_guardian")
	}
	return s
}

// when writes an instant in the establishments' zone, in French.
func (x *Exporter) when(at time.Time) string {
	t := at.In(x.cfg.Location)
	return x.cfg.Words.T("fmt.when", x.cfg.Words.Date(domain.DateOf(t)), fmt.Sprintf("%02d:%02d", t.Hour(), t.Minute()))
}

// spool is a section of the summary written to a temporary file.
type spool struct {
	f *os.File
	w *bufio.Writer
	n int
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "ledger-export-*.html")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriter(f)}, nil
}

func (s *spool) copyTo(w io.Writer) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	_, err := io.Copy(w, s.f)
	return err
}

func (s *spool) close() error {
	return errors.Join(s.f.Close(), os.Remove(s.f.Name()))
}

// names finds the names the summary shows: the person's, their family's,
// the staff's and teachers'. Another student's is never shown (an
// incident or a group names other children). It keeps a bounded cache.
type names struct {
	dir     Directory
	subject *projections.AccountEntry
	cache   map[uuid.UUID]string
}

const namesCached = 512

func newNames(dir Directory, subject *projections.AccountEntry) *names {
	return &names{dir: dir, subject: subject, cache: make(map[uuid.UUID]string)}
}

// of returns the name to show of account, whose profile is given when
// known (an event's metadata).
func (n *names) of(ctx context.Context, account uuid.UUID, profile domain.Profile) (string, error) {
	switch {
	case account == uuid.Nil || profile == domain.ProfileSystem:
		return "", nil
	case account == n.subject.ID:
		return n.subject.DisplayName, nil
	}
	if s, ok := n.cache[account]; ok {
		return s, nil
	}
	acc, err := n.dir.Account(ctx, account)
	name := ""
	switch {
	case errors.Is(err, domain.ErrUnknownAccount):
	case err != nil:
		return "", err
	case acc.Profile == domain.ProfileStudent && !n.family(account):
		// Another child: not named.
	default:
		name = acc.DisplayName
	}
	if len(n.cache) >= namesCached {
		clear(n.cache)
	}
	n.cache[account] = name
	return name, nil
}

// family reports whether account is a relative or child of the person.
func (n *names) family(account uuid.UUID) bool {
	for _, l := range n.subject.Relatives {
		if l.Account == account {
			return true
		}
	}
	for _, l := range n.subject.Children {
		if l.Account == account {
			return true
		}
	}
	return false
}
