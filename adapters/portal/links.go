package portal

import (
	"html/template"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// linkRE finds what looks like a web address in a text: http:// or
// https:// and what follows up to a space, a quote or an angle bracket.
var linkRE = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'` + "`" + `]+`)

// linkTrailing are the characters a sentence puts after an address, not
// part of it.
const linkTrailing = ".,;:!?)]}»\u00a0"

// linkify writes a text typed by someone (homework, a message, news) as
// HTML: every character escaped, and each http or https address a link
// that opens in the same tab, sends no referrer, and gives the site no
// hold on the page or credit from it. Nothing else becomes a link (no
// javascript:, data: or relative address). The address shown may break
// after its slashes, dots, question marks and ampersands (<wbr>), so that a
// long one wraps on a phone.
func linkify(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range linkRE.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		for end > start {
			r, size := utf8.DecodeLastRuneInString(text[start:end])
			if !strings.ContainsRune(linkTrailing, r) {
				break
			}
			end -= size
		}
		// A closing parenthesis that closes one opened in the address stays.
		if end < m[1] && text[end] == ')' && strings.Count(text[start:end], "(") > strings.Count(text[start:end], ")") {
			end++
		}
		raw := text[start:end]
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		b.WriteString(template.HTMLEscapeString(text[last:start]))
		b.WriteString(`<a href="`)
		b.WriteString(template.HTMLEscapeString(u.String()))
		b.WriteString(`" rel="noopener noreferrer nofollow">`)
		b.WriteString(breakable(raw))
		b.WriteString(`</a>`)
		last = end
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String()) //nolint:gosec // every part of text is escaped above
}

// breakable escapes an address for display, with a <wbr> after each
// slash, dot, question mark and ampersand.
func breakable(raw string) string {
	var b strings.Builder
	for _, r := range raw {
		b.WriteString(template.HTMLEscapeString(string(r)))
		if strings.ContainsRune("/.?&=", r) {
			b.WriteString("<wbr>")
		}
	}
	return b.String()
}
