package readstore

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Postgres text cannot hold NUL, and jsonb, whose strings are text, refuses
// the JSON escape \u0000; yet a message subject may contain it, and a
// document the store refuses stops its projection for good. So on Postgres
// documents and keys are encoded on the way in and decoded on the way out,
// in ways that keep them readable by SQL (docs/read-models.md, "Storage"):
//
//   - in documents, the character NUL is stored as U+FFFF followed by "0",
//     and U+FFFF itself as U+FFFF twice. U+FFFF is a noncharacter, which
//     no text should contain, so ad hoc queries see every other string as
//     it is; the escape only has to be unambiguous, not pretty.
//   - in keys, byte 0x00 is stored as 0x01 0x01 and byte 0x01 as 0x01
//     0x02. The code preserves byte order (0x01 0x01 < 0x01 0x02 < 0x02),
//     so range scans and their bounds work on encoded keys unchanged.
//
// A document also has its lone UTF-16 surrogate escapes (which jsonb
// refuses) and invalid UTF-8 bytes replaced by U+FFFD, which is what
// encoding/json decodes them to anyway. Migration 0101 encoded the rows
// written before.

const (
	pgEsc    = "\uffff"
	pgEsc0   = pgEsc + "0"
	pgEscEsc = pgEsc + pgEsc
	pgNUL    = `\u0000`
)

// pgEncodeDoc returns doc, valid JSON, in the form jsonb stores. It returns
// doc itself when nothing needs encoding.
func pgEncodeDoc(doc []byte) []byte {
	if bytes.IndexByte(doc, '\\') < 0 && !bytes.Contains(doc, []byte(pgEsc)) && utf8.Valid(doc) {
		return doc
	}
	var (
		out  []byte
		last int // doc[:last] is in out
	)
	replace := func(i, n int, with string) {
		if out == nil {
			out = make([]byte, 0, len(doc)+16)
		}
		out = append(out, doc[last:i]...)
		out = append(out, with...)
		last = i + n
	}
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '\\' && i+1 < len(doc) && doc[i+1] == 'u' && i+6 <= len(doc):
			cp, ok := hex4(doc[i+2 : i+6])
			switch {
			case !ok:
				i += 2 // not JSON; Put checked it is, but never loop on it
			case cp == 0:
				replace(i, 6, pgEsc0)
				i += 6
			case cp == 0xFFFF:
				replace(i, 6, pgEscEsc)
				i += 6
			case cp >= 0xD800 && cp < 0xDC00 && lowSurrogateAt(doc, i+6):
				i += 12 // a pair: jsonb takes it
			case cp >= 0xD800 && cp <= 0xDFFF:
				replace(i, 6, `\ufffd`)
				i += 6
			default:
				i += 6
			}
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(doc[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				replace(i, 1, string(utf8.RuneError))
			case r == 0xFFFF:
				replace(i, n, pgEscEsc)
			}
			i += n
		}
	}
	if out == nil {
		return doc
	}
	return append(out, doc[last:]...)
}

// lowSurrogateAt says whether doc[i:] starts with the escape of a low
// surrogate.
func lowSurrogateAt(doc []byte, i int) bool {
	if i+6 > len(doc) || doc[i] != '\\' || doc[i+1] != 'u' {
		return false
	}
	cp, ok := hex4(doc[i+2 : i+6])
	return ok && cp >= 0xDC00 && cp <= 0xDFFF
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// pgDecodeDoc undoes pgEncodeDoc on a document read from jsonb, which
// writes U+FFFF as itself, never escaped.
func pgDecodeDoc(doc []byte) []byte {
	i := bytes.Index(doc, []byte(pgEsc))
	if i < 0 {
		return doc
	}
	out := make([]byte, 0, len(doc)+8)
	for i >= 0 {
		out = append(out, doc[:i]...)
		doc = doc[i+len(pgEsc):]
		switch {
		case bytes.HasPrefix(doc, []byte(pgEsc)):
			out = append(out, pgEsc...)
			doc = doc[len(pgEsc):]
		case bytes.HasPrefix(doc, []byte("0")):
			out = append(out, pgNUL...)
			doc = doc[1:]
		default: // not written by pgEncodeDoc: keep it
			out = append(out, pgEsc...)
		}
		i = bytes.Index(doc, []byte(pgEsc))
	}
	return append(out, doc...)
}

// pgEncodeKey returns k without NUL, in the same order among encoded keys
// as k among keys.
func pgEncodeKey(k string) string {
	if strings.IndexByte(k, 0) < 0 && strings.IndexByte(k, 1) < 0 {
		return k
	}
	var b strings.Builder
	b.Grow(len(k) + 4)
	for i := 0; i < len(k); i++ {
		switch c := k[i]; c {
		case 0:
			b.WriteString("\x01\x01")
		case 1:
			b.WriteString("\x01\x02")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pgDecodeKey undoes pgEncodeKey.
func pgDecodeKey(k string) string {
	if strings.IndexByte(k, 1) < 0 {
		return k
	}
	var b strings.Builder
	b.Grow(len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c == 1 && i+1 < len(k) {
			i++
			c = k[i] - 1 // 0x01 0x01 is NUL, 0x01 0x02 is 0x01
		}
		b.WriteByte(c)
	}
	return b.String()
}
