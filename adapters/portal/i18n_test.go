package portal

import (
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/portal/i18n"
	"github.com/schoollife/ledger/domain"
)

// TestPortalMessages checks the message catalogue: both languages have
// the same keys with the same format verbs, and every key the templates
// and the Go code ask for, and every value of the enumerations they label,
// has a message.
func TestPortalMessages(t *testing.T) {
	c, err := i18n.Load(portalFiles, "templates/i18n")
	if err != nil {
		t.Fatal(err)
	}
	fr, en := c.Langs()[0], c.Langs()[1]
	if fr.Code != "fr" || en.Code != "en" {
		t.Fatalf("languages %s, %s", fr.Code, en.Code)
	}
	verbs := regexp.MustCompile(`%(\[\d+\])?[0-9]*[sdvgf]`)
	for k, v := range fr.Messages() {
		e, ok := en.Messages()[k]
		switch {
		case !ok:
			t.Errorf("%s: no English message", k)
		case v == "" || e == "":
			t.Errorf("%s: empty message", k)
		case len(verbs.FindAllString(v, -1)) != len(verbs.FindAllString(e, -1)) && !strings.HasPrefix(k, "fmt."):
			t.Errorf("%s: %q and %q take different arguments", k, v, e)
		}
	}
	for k := range en.Messages() {
		if _, ok := fr.Messages()[k]; !ok {
			t.Errorf("%s: no French message", k)
		}
	}

	var used []string
	inTemplates := regexp.MustCompile(`\bT "([^"]+)"`)
	err = fs.WalkDir(portalFiles, "templates", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".html") {
			return err
		}
		b, err := portalFiles.ReadFile(name)
		for _, m := range inTemplates.FindAllStringSubmatch(string(b), -1) {
			used = append(used, m[1])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	inGo := regexp.MustCompile(`\.T\("([a-z_.]*[a-z_])"[,)]`)
	files, _ := filepath.Glob("portal*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inGo.FindAllStringSubmatch(string(b), -1) {
			used = append(used, m[1])
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use: is the pattern right?", len(used))
	}
	enum := func(kind string, values ...any) {
		for _, v := range values {
			used = append(used, kind+"."+fmt.Sprint(v))
		}
	}
	enum("profile", domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel,
		domain.ProfileGuest, domain.ProfileInspector, domain.ProfileEvaluator, domain.ProfileAdmin)
	enum("function", domain.FunctionHead, domain.FunctionDeputy, domain.FunctionCPE, domain.FunctionSecretary,
		domain.FunctionEducationAssistant, domain.FunctionOther)
	for _, r := range domain.Relations() {
		enum("relation", r)
	}
	enum("link", "legal", "legal_rank", "financial", "contact")
	enum("absence", domain.AbsenceUnjustified, domain.AbsenceDeclared, domain.AbsenceJustified, domain.AbsenceRefused, domain.AbsenceCancelledState)
	enum("punishment", domain.PunishmentDetention, domain.PunishmentExtraWork, domain.PunishmentLessonExclusion)
	enum("sanction", domain.SanctionWarning, domain.SanctionReprimand, domain.SanctionResponsibility, domain.SanctionTemporaryExclusion, domain.SanctionPermanentExclusion)
	enum("seriousness", domain.SeriousnessMinor, domain.SeriousnessSerious, domain.SeriousnessGrave)
	enum("role", domain.RoleStudent, domain.RoleTeacher, domain.RoleHeadTeacher)
	for _, typ := range domain.NewRegistry().Types() {
		used = append(used, "event."+typ)
	}
	for _, typ := range liveTypes {
		used = append(used, "event."+typ)
	}
	for _, f := range auditFields {
		used = append(used, "field."+f)
	}
	slices.Sort(used)
	for _, k := range slices.Compact(used) {
		if !fr.Has(k) {
			t.Errorf("%s: used but not in the catalogue", k)
		}
	}
}

func TestPortalLanguage(t *testing.T) {
	c, err := i18n.Load(portalFiles, "templates/i18n")
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]string{
		"":                          "fr",
		"fr-FR,fr;q=0.9":            "fr",
		"en-US,en;q=0.9":            "en",
		"en-GB,fr;q=0.5":            "en",
		"de-DE,de;q=0.9":            "fr",
		"de-DE,en;q=0.8,fr;q=0.5":   "en",
		"it,fr-BE;q=0.9,en;q=0.5":   "fr",
		"not a language;;q=oops,,,": "fr",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Accept-Language", header)
		}
		if got := c.Match(r).Code; got != want {
			t.Errorf("Accept-Language %q: %s, want %s", header, got, want)
		}
	}
	fr, en := c.Langs()[0], c.Langs()[1]
	d := domain.MustDate("2006-03-14")
	if got := fr.Date(d); got != "mardi 14 mars 2006" {
		t.Errorf("French date %q", got)
	}
	if got := en.Date(d); got != "Tuesday 14 March 2006" {
		t.Errorf("English date %q", got)
	}
	if got := fr.Short(d); got != "14/03/2006" {
		t.Errorf("French short date %q", got)
	}
	if got := en.Short(d); got != "14 Mar 2006" {
		t.Errorf("English short date %q", got)
	}
}
