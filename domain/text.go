package domain

import (
	"unicode"
	"unicode/utf8"
)

// TextKind is a kind of free text a command carries, with its limits. A
// text is checked once, where a command enters the ledger, so that nothing
// the log accepts can later stop a reader: no store, projection or page
// has to cope with invalid UTF-8 or a NUL.
type TextKind struct {
	// Name is the kind's name in the `text` struct tag of command fields.
	Name string
	// MaxRunes bounds the length in characters (code points).
	MaxRunes int
	// Multiline allows tab, newline and CR LF (which browsers send for a
	// textarea); single-line texts allow no line break of any kind.
	Multiline bool
}

// Text kinds. Every string field of a command names one in its `text` tag
// (TestCommandTextTags checks it).
var (
	// TextName: names of people, groups, establishments, resources and
	// places.
	TextName = TextKind{Name: "name", MaxRunes: 200}
	// TextTitle: subjects of messages and lessons, titles of articles.
	TextTitle = TextKind{Name: "title", MaxRunes: MaxSubjectRunes}
	// TextReason: reasons, purposes and comments, one line.
	TextReason = TextKind{Name: "reason", MaxRunes: 1000}
	// TextCode: identifiers and codes (UAIs, reason codes, external ids,
	// feeds, slot times), whatever else checks their form.
	TextCode = TextKind{Name: "code", MaxRunes: 100}
	// TextBody: message bodies, homework instructions, lesson content,
	// incident descriptions, articles.
	TextBody = TextKind{Name: "text", MaxRunes: MaxBodyRunes, Multiline: true}
)

// TextKinds lists every kind, for the tags and the documentation.
var TextKinds = []TextKind{TextName, TextTitle, TextReason, TextCode, TextBody}

// textKind returns the kind named in a `text` tag.
func textKind(name string) (TextKind, bool) {
	for _, k := range TextKinds {
		if k.Name == name {
			return k, true
		}
	}
	return TextKind{}, false
}

// Check refuses s, the value of field, unless it is valid UTF-8 of at most
// k.MaxRunes characters with no control character (but tab, newline and CR
// LF in a multi-line kind) and, in a single-line kind, no line or paragraph
// separator either (U+2028, U+2029: line breaks to whoever displays them).
// The error is ErrInvalid and names the field.
func (k TextKind) Check(field, s string) error {
	// Bytes first: a 100 kB value is refused without being read to its
	// end, and no multi-byte rune can make it longer than this.
	if len(s) > utf8.UTFMax*k.MaxRunes {
		return fieldError(field, RuleTooLong, k.MaxRunes, "longer than %d characters", k.MaxRunes)
	}
	n := 0
	for i, r := range s {
		n++
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			return fieldError(field, RuleCharacters, 0, "not valid UTF-8 (byte %d)", i)
		case k.Multiline && (r == '\n' || r == '\t' || r == '\r' && i+1 < len(s) && s[i+1] == '\n'):
		case unicode.IsControl(r):
			if r == '\n' || r == '\r' || r == '\t' {
				return fieldError(field, RuleOneLine, 0, "one line only, without tab (character %d)", n)
			}
			return fieldError(field, RuleCharacters, 0, "control character %U (character %d)", r, n)
		case r == '\u2028' || r == '\u2029':
			if !k.Multiline {
				return fieldError(field, RuleOneLine, 0, "one line only (%U at character %d)", r, n)
			}
		}
	}
	if n > k.MaxRunes {
		return fieldError(field, RuleTooLong, k.MaxRunes, "%d characters long, at most %d", n, k.MaxRunes)
	}
	return nil
}

// validAt reports whether s holds a real U+FFFD at byte i, rather than an
// invalid byte that ranging over s decodes as one.
func validAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3
}
