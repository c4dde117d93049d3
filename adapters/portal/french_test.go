package portal

import (
	"bytes"
	"encoding/csv"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/portal/i18n"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// enumKinds maps each enumeration of the domain whose values can reach a
// page to the catalogue's kind of its labels (kind.value).
var enumKinds = map[string]string{
	"Profile": "profile", "Function": "function", "Role": "role", "Relation": "relation",
	"AbsenceState": "absence", "PunishmentKind": "punishment", "SanctionKind": "sanction",
	"Seriousness": "seriousness", "ProtagonistRole": "protagonist", "ResourceKind": "resource",
	"BookingState": "booking", "GroupKind": "group_kind", "EstablishmentKind": "establishment_kind",
	"SignInMethod": "signin", "FieldRule": "form.rule",
	"SanctionAuthority": "authority", "EffacementBasis": "effacement",
	"ExportFormat": "export_format", "RetentionCategory": "retention", "ServiceKind": "service_kind", "IdentityMatch": "identity_match",
	"NotifyCategory": "notify_category", "NotifyMode": "notify_mode", "NotifyChannel": "notify_channel",
	"NotifyLang": "notify_lang",
	"AlertKind":  "alert_kind", "AlertAction": "alert_action", "LatenessPeriod": "lateness_period",
	"HalfDayCounting": "half_day_rule", "LetterTemplate": "letter_template", "LetterChannel": "letter_channel",
}

// enumsOffPages are the domain's enumerations that never reach a page:
// error codes and areas are the API's and the logs'.
var enumsOffPages = []string{"Area", "Code", "expectKind"}

// domainEnums reads the domain package's source and returns the values of
// each type that has string constants: the enumerations, derived from the
// domain itself, so that a value added there needs its label here.
func domainEnums(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "../../domain", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	enums := map[string][]string{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					typ, ok := vs.Type.(*ast.Ident)
					if !ok {
						continue
					}
					for i := range vs.Names {
						if i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						enums[typ.Name] = append(enums[typ.Name], v)
					}
				}
			}
		}
	}
	return enums
}

// TestEveryCodeHasAFrenchLabel walks every enumeration of the domain, the
// event types of the registry and the reasons establishments start with:
// each value that can reach a page has a French label, so that no code is
// ever shown.
func TestEveryCodeHasAFrenchLabel(t *testing.T) {
	c, err := i18n.Load(portalFiles, "templates/i18n")
	if err != nil {
		t.Fatal(err)
	}
	fr := c.Langs()[0]
	enums := domainEnums(t)
	if len(enums) < 10 {
		t.Fatalf("found %d enumerations in the domain: is the parser right?", len(enums))
	}
	checked := 0
	for typ, values := range enums {
		kind, ok := enumKinds[typ]
		if !ok {
			if !slices.Contains(enumsOffPages, typ) {
				t.Errorf("domain.%s: an enumeration the portal neither labels nor declares off its pages", typ)
			}
			continue
		}
		for _, v := range values {
			if v == "" { // the zero value: "none", never shown
				continue
			}
			checked++
			if !fr.Has(kind + "." + v) {
				t.Errorf("domain.%s %q: no French label %s.%s", typ, v, kind, v)
			}
		}
	}
	for _, typ := range domain.NewRegistry().Types() {
		checked++
		if !fr.Has("event." + typ) {
			t.Errorf("event type %s: no French label", typ)
		}
	}
	for _, r := range domain.DefaultReasons() {
		checked++
		if !fr.Has("reason_code." + r.Code) {
			t.Errorf("reason %s: no French label", r.Code)
		}
	}
	for _, h := range projections.IndicatorHeader() {
		checked++
		if !fr.Has("csv.indicators." + h) {
			t.Errorf("indicator column %s: no French header", h)
		}
	}
	for _, h := range auditCSVFrench {
		checked++
		if !fr.Has("csv.audit." + h) {
			t.Errorf("timeline column %s: no French header", h)
		}
	}
	for _, l := range []projections.Level{projections.LevelAll, projections.LevelDepartement, projections.LevelEstablishment} {
		checked++
		if !fr.Has("level." + string(l)) {
			t.Errorf("level %s: no French label", l)
		}
	}
	if checked < 80 {
		t.Fatalf("checked only %d codes", checked)
	}
}

// TestNoPluralInParentheses: counts go through the plural-aware N, never
// "message(s)".
func TestNoPluralInParentheses(t *testing.T) {
	c, err := i18n.Load(portalFiles, "templates/i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Langs() {
		for k, m := range l.Messages() {
			if strings.Contains(m, "(s)") {
				t.Errorf("%s %s: %q writes a plural in parentheses", l.Code, k, m)
			}
		}
	}
}

func TestFrenchNumbersAndPlurals(t *testing.T) {
	c, err := i18n.Load(portalFiles, "templates/i18n")
	if err != nil {
		t.Fatal(err)
	}
	fr, en := c.Langs()[0], c.Langs()[1]
	today := domain.MustDate("2026-12-01")
	for _, tt := range []struct{ got, want string }{
		{fr.N("home.unread", 0), "0 message non lu"},
		{fr.N("home.unread", 1), "1 message non lu"},
		{fr.N("home.unread", 3), "3 messages non lus"},
		{fr.N("home.unread", 12345), "12\u202f345 messages non lus"},
		{en.N("home.unread", 0), "0 unread messages"},
		{en.N("home.unread", 1), "1 unread message"},
		{en.N("home.unread", 12345), "12,345 unread messages"},
		{fr.N("file.days", 2), "2 jours"},
		{fr.Int(int64(1234567)), "1\u202f234\u202f567"},
		{fr.Int(42), "42"},
		{fr.Pct(12.5), "12,5\u202f%"},
		{fr.Pct(100), "100\u202f%"},
		{en.Pct(12.5), "12.5%"},
		{fr.Dec(3.25, 2), "3,25"},
		{fr.Day(domain.MustDate("2026-12-07"), today), "lundi 7 décembre"},
		{fr.Day(domain.MustDate("2025-12-08"), today), "lundi 8 décembre 2025"},
		{en.Day(domain.MustDate("2026-12-07"), today), "Monday 7 December"},
		{fr.MonthYear(2026, 12), "déc. 2026"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}

// TestPortalCSVFormats reads both forms of each CSV download: the
// spreadsheet's (semicolons, BOM, French headers and values) by default,
// the tools' with ?format=rfc4180.
func TestPortalCSVFormats(t *testing.T) {
	w := newWorld(t)
	lea := w.Accounts[asStudent].String()
	frDate := regexp.MustCompile(`^\d\d/\d\d/\d{4}$`)
	for _, tt := range []struct {
		name, path string
		// toolHeader and frHeader are the first columns of each header.
		toolHeader, frHeader []string
	}{
		{"indicators", "/indicators.csv?from=2006-03-01&to=2006-03-31&granularity=week", []string{"period", "from", "to", "level"}, []string{"Période", "Du", "Au", "Niveau"}},
		{"timeline", "/audit/timeline.csv?subject=" + lea, []string{"position", "time", "type", "actor"}, []string{"N° dans le journal", "Date et heure", "Acte", "Identifiant de l'auteur"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			who := asEvaluator
			if tt.name == "timeline" {
				who = asInspector
			}
			tool := visit(t, w.srv, get(tt.path+"&format=rfc4180", who))
			if tool.status != http.StatusOK || strings.HasPrefix(tool.body, "\ufeff") {
				t.Fatalf("tools' CSV: %d, starts %q", tool.status, tool.body[:min(len(tool.body), 10)])
			}
			toolRows, err := csv.NewReader(strings.NewReader(tool.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(toolRows[0][:len(tt.toolHeader)], tt.toolHeader) {
				t.Errorf("tools' header %q", toolRows[0])
			}

			sheet := visit(t, w.srv, get(tt.path, who))
			if sheet.status != http.StatusOK || !strings.HasPrefix(sheet.body, "\ufeff") {
				t.Fatalf("spreadsheet CSV: %d, no byte order mark: %.40q", sheet.status, sheet.body)
			}
			r := csv.NewReader(strings.NewReader(strings.TrimPrefix(sheet.body, "\ufeff")))
			r.Comma = ';'
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rows[0][:len(tt.frHeader)], tt.frHeader) {
				t.Errorf("spreadsheet header %q", rows[0])
			}
			if len(rows) != len(toolRows) || len(rows) < 2 {
				t.Fatalf("%d rows for the spreadsheet, %d for tools", len(rows), len(toolRows))
			}
			for i, row := range rows[1:] {
				toolRow := toolRows[i+1]
				switch tt.name {
				case "indicators":
					if !frDate.MatchString(row[0]) || !frDate.MatchString(row[1]) {
						t.Errorf("row %d: dates %q %q", i, row[0], row[1])
					}
					if row[3] != "Tous les établissements" {
						t.Errorf("row %d: level %q", i, row[3])
					}
					for j, h := range projections.IndicatorHeader() {
						if strings.HasPrefix(h, "share_") && row[j] != strings.Replace(toolRow[j], ".", ",", 1) {
							t.Errorf("row %d, %s: %q for %q", i, h, row[j], toolRow[j])
						}
					}
				case "timeline":
					if strings.Contains(row[2], ".v1") || row[2] == "" {
						t.Errorf("row %d: act %q is not in words", i, row[2])
					}
					if !regexp.MustCompile(`^\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$`).MatchString(row[1]) {
						t.Errorf("row %d: time %q", i, row[1])
					}
				}
			}
		})
	}
	r := visit(t, w.srv, get("/indicators.csv?from=2006-03-01&to=2006-03-31&format=xlsx", asEvaluator))
	mustPage(t, r, http.StatusBadRequest)
}

// TestCSVCellsAreNotFormulas: a text opening as a formula is neutralized
// for spreadsheets, numbers are kept, tools get the text as it is.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	sheet, tool := csvFormat{}, csvFormat{Tool: true}
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+33 6":                    "'+33 6", "@SUM(A1)": "'@SUM(A1)", "-1": "-1", "-1,5": "-1,5", "Léa": "Léa", "": "",
	} {
		if got := sheet.cell(in); got != want {
			t.Errorf("spreadsheet %q: %q, want %q", in, got, want)
		}
		if got := tool.cell(in); got != in {
			t.Errorf("tools %q: %q", in, got)
		}
	}
}

// TestTimelineNamesTheAct: a decision about an absence says which
// absence, and codes are shown as words.
func TestTimelineNamesTheAct(t *testing.T) {
	w := newWorld(t)
	lea := w.Accounts[asStudent]
	w.Must(w.H.DecideJustification(w.Ctx, webtest.As(w.Accounts[asCPE]), domain.DecideJustification{
		Lesson: w.Lesson, Student: lea, Accept: true, ReasonCode: "rdv-medical",
	}))
	w.CatchUp()
	r := visit(t, w.srv, get("/audit?subject="+lea.String(), asInspector))
	mustPage(t, r, http.StatusOK,
		"Justificatif accepté — absence du mardi 14 mars, 08:00, Mathématiques, Léa",
		"motif retenu : Rendez-vous médical",
		"Système",
	)
	for _, code := range []string{"motif : rdv-medical", "rôle : student", "Le ledger", "code motif"} {
		if strings.Contains(r.body, code) {
			t.Errorf("the timeline shows %q", code)
		}
	}
	// The same act named in the spreadsheet's CSV.
	r = visit(t, w.srv, get("/audit/timeline.csv?subject="+lea.String(), asInspector))
	if !bytes.Contains([]byte(r.body), []byte("Justificatif accepté — absence du mardi 14 mars, 08:00, Mathématiques, Léa")) {
		t.Errorf("the CSV does not name the act:\n%s", r.body)
	}
}

// TestDisciplineListsWhatTheTeacherGave: the discipline page lists the
// reader's punishments and incidents, the most recent first, paged.
func TestDisciplineListsWhatTheTeacherGave(t *testing.T) {
	w := newWorld(t)
	teacher := webtest.As(w.Accounts[asTeacher])
	lea := w.Accounts[asStudent]
	r := visit(t, w.srv, get("/discipline", asTeacher))
	mustPage(t, r, http.StatusOK, "Vous n&#39;avez encore donné aucune punition")
	for i := range givenPage + 2 {
		w.Must(w.H.GivePunishment(w.Ctx, teacher, domain.GivePunishment{
			Student: lea, Group: w.Class, Kind: domain.PunishmentDetention, Date: domain.MustDate("2006-03-14"),
			Reason: "Bavardage " + strconv.Itoa(i),
		}))
	}
	w.Must(w.H.ReportIncident(w.Ctx, teacher, domain.ReportIncident{
		Establishment: w.UAI, OccurredAt: w.Clock().Add(-time.Hour), Place: "Couloir", Seriousness: domain.SeriousnessSerious,
		Description: "Bousculade", Protagonists: []domain.Protagonist{{Account: lea, Role: domain.ProtagonistAuthor}},
	}))
	w.CatchUp()
	r = visit(t, w.srv, get("/discipline", asTeacher))
	mustPage(t, r, http.StatusOK, "Ce que vous avez enregistré", "Incident · Sérieux", "Couloir — Bousculade", "Léa (Auteur)",
		"Retenue", "Bavardage 21", "(6A)", "mardi 14 mars", "Plus anciens")
	if strings.Index(r.body, "Bousculade") > strings.Index(r.body, "Bavardage 21") ||
		strings.Index(r.body, "Bavardage 21") > strings.Index(r.body, "Bavardage 20") {
		t.Fatalf("not the most recent first:\n%s", r.body)
	}
	if strings.Contains(r.body, "Bavardage 2<") || strings.Contains(r.body, "Bavardage 0<") {
		t.Fatalf("the first page holds the oldest acts")
	}
	older := regexp.MustCompile(`href="(/discipline\?before=[^"]+)"`).FindStringSubmatch(r.body)
	if older == nil {
		t.Fatal("no link to the older acts")
	}
	r = visit(t, w.srv, get(strings.ReplaceAll(older[1], "&amp;", "&"), asTeacher))
	// 23 acts: the second page holds the three oldest.
	mustPage(t, r, http.StatusOK, "Bavardage 2<", "Bavardage 1<", "Bavardage 0<", "Plus récents")
	if strings.Contains(r.body, "Bavardage 3<") || strings.Contains(r.body, "Plus anciens") {
		t.Fatalf("the second page is not the rest:\n%s", r.body)
	}
	// Another teacher's page lists none of them.
	mustPage(t, visit(t, w.srv, get("/discipline", asCPE)), http.StatusOK, "aucune punition")
	mustPage(t, visit(t, w.srv, get("/discipline?before=nope", asTeacher)), http.StatusBadRequest)
}

// TestPortalLinksInTexts: an address in a message becomes a safe link on
// the page, and markup around it stays text.
func TestPortalLinksInTexts(t *testing.T) {
	w := newWorld(t)
	r := visit(t, w.srv, get("/messages/"+w.Message.String(), asRelative))
	mustPage(t, r, http.StatusOK)
	if strings.Contains(r.body, `rel="noopener noreferrer nofollow"`) {
		t.Fatal("a message without an address shows a link")
	}
	w.Must(w.H.PublishArticle(w.Ctx, webtest.As(w.Accounts[asTeacher]), domain.PublishArticle{
		Article: webtest.ID("links article"), Establishment: w.UAI, Title: "Sortie",
		Body: `Programme : https://musee.example.fr/visite?classe=6A&jour=mardi. <img src=x onerror=alert(1)> javascript:alert(2)`,
	}))
	w.CatchUp()
	r = visit(t, w.srv, get("/news", asStudent))
	mustPage(t, r, http.StatusOK,
		`<a href="https://musee.example.fr/visite?classe=6A&amp;jour=mardi" rel="noopener noreferrer nofollow">`,
		`&lt;img src=x onerror=alert(1)&gt; javascript:alert(2)`)
	if strings.Contains(r.body, "<img src=x") || strings.Contains(r.body, `href="javascript`) {
		t.Fatalf("hostile text became markup:\n%s", r.body)
	}
}

// TestFeedInWords: a notification shows its day as a sentence says it and
// its codes as words.
func TestFeedInWords(t *testing.T) {
	w := newWorld(t)
	w.Must(w.H.GivePunishment(w.Ctx, webtest.As(w.Accounts[asTeacher]), domain.GivePunishment{
		Student: w.Accounts[asStudent], Group: w.Class, Kind: domain.PunishmentExtraWork, Date: domain.MustDate("2006-03-14"), Reason: "Oubli",
	}))
	w.CatchUp()
	r := visit(t, w.srv, get("/feed", asRelative))
	mustPage(t, r, http.StatusOK, "Devoir supplémentaire, mardi 14 mars", "Absence</strong> — Léa — <span>mardi 14 mars 08:00 Mathématiques</span>", "Avertissement, lundi 13 mars")
	for _, code := range []string{"2006-03-14 ", "devoir_supplementaire"} {
		if strings.Contains(r.body, ">"+code) || strings.Contains(r.body, " "+code) {
			t.Errorf("the feed shows %q", code)
		}
	}
}
