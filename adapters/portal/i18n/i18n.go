// Package i18n holds the portal's messages: a catalogue of French (the
// default) and English, matched to a request's Accept-Language, with the
// dates written as each language writes them.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/schoollife/ledger/domain"
)

// The portal speaks French by default and English when the browser prefers
// it (Accept-Language). Messages live in templates/i18n/{fr,en}.json, flat
// maps from a key to a text (a fmt format when the caller passes
// arguments); a test checks both files have the same keys and that every
// key the templates and the Go code use exists.

// Catalogue holds the messages of each language and matches a request's
// languages to one of them.
type Catalogue struct {
	matcher language.Matcher
	langs   []*Lang // in the matcher's order: the first is the default
}

// Lang is one language's messages.
type Lang struct {
	// Code is the language's BCP 47 code, for <html lang>.
	Code string
	tag  language.Tag
	// printer writes numbers as the language does.
	printer *message.Printer
	msgs    map[string]string
	// base is the default language's messages, for a key missing here.
	base map[string]string
}

// languages are the portal's, the default first.
var languages = []language.Tag{language.French, language.English}

// Load reads dir/{fr,en}.json of fsys.
func Load(fsys fs.FS, dir string) (*Catalogue, error) {
	c := &Catalogue{matcher: language.NewMatcher(languages)}
	for _, tag := range languages {
		code := tag.String()
		raw, err := fs.ReadFile(fsys, dir+"/"+code+".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: messages of %s: %w", code, err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("i18n: messages of %s: %w", code, err)
		}
		l := &Lang{Code: code, tag: tag, printer: message.NewPrinter(tag), msgs: msgs}
		if len(c.langs) > 0 {
			l.base = c.langs[0].msgs
		}
		c.langs = append(c.langs, l)
	}
	return c, nil
}

// Match returns the language of a request.
func (c *Catalogue) Match(r *http.Request) *Lang {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return c.langs[0]
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.langs[0]
	}
	return c.langs[i]
}

// T returns the message of key, formatted with args when there are some;
// the key itself when no language has it (a test keeps that from
// happening).
func (l *Lang) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		if m, ok = l.base[key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Has reports whether key has a message.
func (l *Lang) Has(key string) bool {
	_, ok := l.msgs[key]
	if !ok {
		_, ok = l.base[key]
	}
	return ok
}

// Label returns the message of a value of an enumeration (absence states,
// profiles, event types...): key kind.value, or the value itself.
func (l *Lang) Label(kind string, value any) string {
	s := fmt.Sprint(value)
	if key := kind + "." + s; l.Has(key) {
		return l.T(key)
	}
	return s
}

// Date writes a day in full: "mardi 14 mars 2006", "Tuesday 14 March 2006".
func (l *Lang) Date(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return l.T("fmt.date", l.T(fmt.Sprintf("weekday.%d", d.Weekday())), d.Day, l.T(fmt.Sprintf("month.%d", d.Month)), d.Year)
}

// Short writes a day briefly: "14/03/2006", "14 Mar 2006".
func (l *Lang) Short(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return l.T("fmt.short", d.Day, int(d.Month), d.Year, l.T(fmt.Sprintf("mon.%d", d.Month)))
}

// Langs returns the languages, the default first.
func (c *Catalogue) Langs() []*Lang { return c.langs }

// Messages returns the language's own messages (not the default's), for
// the tests that check the catalogue.
func (l *Lang) Messages() map[string]string { return l.msgs }

// N returns the plural message of key for the count n, formatted with the
// count (written as Int writes it, a %s of the message) and then args: the
// message key.one or key.other, as the language's plural rules choose
// ("1 message non lu", "0 message non lu", "3 messages non lus"; "0 unread
// messages" in English).
func (l *Lang) N(key string, n int, args ...any) string {
	form := "other"
	if plural.Cardinal.MatchPlural(l.tag, abs(n), 0, 0, 0, 0) == plural.One {
		form = "one"
	}
	return l.T(key+"."+form, append([]any{l.Int(n)}, args...)...)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// narrowSpace is the thin no-break space French puts between groups of
// digits and before a percent sign.
const narrowSpace = "\u202f"

// Int writes a whole number (any integer type) with the language's group
// separator: "12 345" (a narrow no-break space) in French, "12,345" in
// English.
func (l *Lang) Int(n any) string {
	return l.number(l.printer.Sprint(number.Decimal(n)))
}

// Dec writes a number with at most digits decimals and the language's
// decimal mark: "12,5" in French, "12.5" in English.
func (l *Lang) Dec(f float64, digits int) string {
	return l.number(l.printer.Sprint(number.Decimal(f, number.MaxFractionDigits(digits))))
}

// Pct writes a percentage with one decimal at most: "12,5 %", "12.5%".
func (l *Lang) Pct(f float64) string { return l.T("fmt.pct", l.Dec(f, 1)) }

// number puts the narrow no-break space in the groups of a French number
// (the printer writes a plain no-break space).
func (l *Lang) number(s string) string {
	if l.Code == "fr" {
		s = strings.ReplaceAll(s, "\u00a0", narrowSpace)
	}
	return s
}

// Day writes a day as a sentence says it: "lundi 7 décembre", with the
// year ("lundi 7 décembre 2026") when it is not the year of today.
func (l *Lang) Day(d, today domain.Date) string {
	if d.IsZero() {
		return ""
	}
	if d.Year != today.Year {
		return l.Date(d)
	}
	return l.T("fmt.day", l.T(fmt.Sprintf("weekday.%d", d.Weekday())), d.Day, l.T(fmt.Sprintf("month.%d", d.Month)))
}

// MonthYear writes a month of a year as a chart's tick: "déc. 2026",
// "Dec 2026".
func (l *Lang) MonthYear(year, month int) string {
	return l.T("fmt.month_year", l.T(fmt.Sprintf("mon.%d", month)), year)
}
