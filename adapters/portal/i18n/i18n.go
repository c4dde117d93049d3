// Package i18n holds the portal's messages: a catalogue of French (the
// default) and English, matched to a request's Accept-Language, with the
// dates written as each language writes them.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"

	"golang.org/x/text/language"

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
	msgs map[string]string
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
		l := &Lang{Code: code, msgs: msgs}
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
