package directoryimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// Encodings. An AAF file declares its encoding; a CSV file says nothing,
// so the caller names it (UTF-8 by default). Either way the bytes must
// match: a file of UTF-8 bytes read as ISO-8859-15 turns every "é" into
// "Ã©", one of ISO-8859-15 bytes read as UTF-8 turns them into "�", and
// either renames everyone. byteCheck watches the raw bytes as the parser
// reads them (one pass, no second read of the file); the importer compares
// what it saw with the declared encoding (FileReport.encodingMismatch).

// Encodings lists the encodings a feed may be read in, by their usual
// names.
var Encodings = []string{"UTF-8", "ISO-8859-15", "ISO-8859-1", "windows-1252"}

// charmapOf returns the single-byte charmap of an encoding label, nil for
// UTF-8 (and ASCII); false when the label is not supported.
func charmapOf(label string) (*charmap.Charmap, bool) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-15", "iso8859-15", "iso_8859-15", "latin-9", "latin9":
		return charmap.ISO8859_15, true
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1":
		return charmap.ISO8859_1, true
	case "windows-1252", "cp1252":
		return charmap.Windows1252, true
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return nil, true
	}
	return nil, false
}

// CheckEncoding reports whether label is an encoding feeds may be read in.
func CheckEncoding(label string) error {
	if _, ok := charmapOf(label); !ok {
		return fmt.Errorf("encoding %q is not supported (%s)", label, strings.Join(Encodings, ", "))
	}
	return nil
}

// isUTF8 reports whether label names UTF-8 (or says nothing).
func isUTF8(label string) bool {
	cm, ok := charmapOf(label)
	return ok && cm == nil
}

// charsetReader decodes the encodings besides UTF-8.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	cm, ok := charmapOf(label)
	switch {
	case !ok:
		return nil, CheckEncoding(label)
	case cm == nil:
		return input, nil
	}
	return cm.NewDecoder().Reader(input), nil
}

// byteCheck passes a file's bytes through and notes, as UTF-8 sees them,
// the valid multibyte sequences and the invalid bytes: how many, the line
// of the first of each and the bytes around it.
type byteCheck struct {
	r     io.Reader
	start bool // past the first bytes
	bom   bool // the file starts with a UTF-8 byte order mark
	line  int  // newlines seen
	// pend holds a sequence cut by the end of a read.
	pend  [utf8.UTFMax]byte
	npend int

	multi, invalid         int
	multiLine, invalidLine int
	multiSample, badSample []byte
	// c1 is set when an invalid byte is one windows-1252 prints and the
	// ISO-8859 encodings do not (0x80 to 0x9F: €, œ, ’...).
	c1 bool
}

func (c *byteCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.scan(p[:n])
	if errors.Is(err, io.EOF) && c.npend > 0 {
		c.bad(c.pend[:c.npend], 0)
		c.npend = 0
	}
	return n, err
}

// seqLen is the length of the UTF-8 sequence lead byte x starts.
func seqLen(x byte) int {
	switch {
	case x >= 0xC2 && x <= 0xDF:
		return 2
	case x >= 0xE0 && x <= 0xEF:
		return 3
	case x >= 0xF0 && x <= 0xF4:
		return 4
	}
	return 1
}

func (c *byteCheck) scan(b []byte) {
	if !c.start && len(b) > 0 {
		c.start = true
		c.bom = bytes.HasPrefix(b, []byte("\xEF\xBB\xBF"))
	}
	if c.npend > 0 && len(b) > 0 {
		// Complete the sequence the last read cut.
		need := seqLen(c.pend[0])
		take := min(need-c.npend, len(b))
		seq := append(c.pend[:c.npend:c.npend], b[:take]...)
		switch {
		case len(seq) < need && !utf8.FullRune(seq): // still cut: b was shorter
			copy(c.pend[:], seq)
			c.npend = len(seq)
			return
		case utf8.Valid(seq):
			c.good(seq, 0, len(seq))
			b = b[take:]
		default:
			c.bad(seq, 0) // the lead byte; what follows is scanned again
		}
		c.npend = 0
	}
	for i := 0; i < len(b); {
		x := b[i]
		if x < utf8.RuneSelf {
			if x == '\n' {
				c.line++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:]) {
				c.npend = copy(c.pend[:], b[i:])
				return
			}
			c.bad(b, i)
			i++
			continue
		}
		c.good(b, i, size)
		i += size
	}
}

func (c *byteCheck) good(b []byte, i, size int) {
	c.multi++
	if c.multi == 1 {
		c.multiLine, c.multiSample = c.line+1, sample(b, i, i+size)
	}
}

func (c *byteCheck) bad(b []byte, i int) {
	c.invalid++
	c.c1 = c.c1 || (b[i] >= 0x80 && b[i] <= 0x9F)
	if c.invalid == 1 {
		c.invalidLine, c.badSample = c.line+1, sample(b, i, i+1)
	}
}

// sample copies the word around b[i:j]: up to the markup, separators or
// 40 bytes either way.
func sample(b []byte, i, j int) []byte {
	stop := func(x byte) bool { return strings.IndexByte("<>$;,\"\t\r\n", x) >= 0 }
	from, to := i, j
	for from > 0 && i-from < 40 && !stop(b[from-1]) {
		from--
	}
	for to < len(b) && to-j < 40 && !stop(b[to]) {
		to++
	}
	return bytes.Clone(bytes.TrimSpace(b[from:to]))
}

// EncodingMismatch is what a file's bytes say against its encoding.
type EncodingMismatch struct {
	// Declared is the encoding the file declares or the caller gave
	// (empty: none, read as UTF-8).
	Declared string `json:"declared"`
	// UTF8 is set when the bytes are UTF-8 under a single-byte encoding;
	// else they are not UTF-8 under UTF-8 (or nothing).
	UTF8 bool `json:"utf8"`
	// Count places of the kind, the first on Line.
	Count int `json:"count"`
	Line  int `json:"line"`
	// Sample is the bytes of the first place read as what they seem to
	// be (UTF-8, or Guess); Garbled, the same read as declared.
	Sample  string `json:"sample"`
	Garbled string `json:"garbled"`
	// Guess is the single-byte encoding bytes that are not UTF-8 seem to
	// be in: windows-1252 when some are its own characters, else
	// ISO-8859-15.
	Guess string `json:"guess,omitempty"`
}

// encodingMismatch compares what the file's bytes showed with its
// declared encoding; nil when they match.
func (fr *FileReport) encodingMismatch() *EncodingMismatch {
	c := fr.check
	if c == nil {
		return nil
	}
	cm, ok := charmapOf(fr.declared)
	if !ok {
		return nil // refused as unsupported already
	}
	declared := strings.ToUpper(fr.declared)
	if cm != nil {
		if c.multi == 0 {
			return nil
		}
		return &EncodingMismatch{Declared: declared, UTF8: true, Count: c.multi, Line: c.multiLine,
			Sample: strings.ToValidUTF8(string(c.multiSample), "\uFFFD"), Garbled: decodeWith(cm, c.multiSample)}
	}
	if c.invalid == 0 {
		return nil
	}
	if fr.declared == "" && fr.Format == FormatAAF {
		declared = "UTF-8" // XML without a declaration is UTF-8
	}
	guess, cm := "ISO-8859-15", charmap.ISO8859_15
	if c.c1 {
		guess, cm = "windows-1252", charmap.Windows1252
	}
	return &EncodingMismatch{Declared: declared, Count: c.invalid, Line: c.invalidLine, Guess: guess,
		Sample: decodeWith(cm, c.badSample), Garbled: strings.ToValidUTF8(string(c.badSample), "\uFFFD")}
}

func decodeWith(e encoding.Encoding, b []byte) string {
	s, err := e.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(s)
}

// String says the mismatch in words.
func (m *EncodingMismatch) String() string {
	if m.UTF8 {
		return fmt.Sprintf("it declares %s but its bytes are UTF-8 (%d sequence(s), the first on line %d: %q would read %q)",
			m.Declared, m.Count, m.Line, m.Sample, m.Garbled)
	}
	// Not the count: a file that cannot be read is not read to its end.
	said := "no encoding is given, so it is read as UTF-8,"
	if m.Declared != "" {
		said = "it declares " + m.Declared
	}
	return fmt.Sprintf("%s but its bytes are not UTF-8 (first on line %d: %q, which in %s reads %q)",
		said, m.Line, m.Garbled, m.Guess, m.Sample)
}
