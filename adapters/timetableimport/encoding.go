package timetableimport

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// DefaultMaxBytes bounds an export's size: real ones are a few megabytes.
const DefaultMaxBytes = 64 << 20

// declared matches the encoding an XML declaration names.
var declared = regexp.MustCompile(`^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']`)

// readUTF8 reads an export whole and returns it as UTF-8, whatever its
// declaration says: exports declare ISO-8859-1 and are written in UTF-8,
// or the reverse, and carry byte-order marks. The bytes decide: valid
// UTF-8 is UTF-8; anything else is read as Windows-1252 (a superset of
// ISO-8859-1's printable characters, which French exports use). A
// declaration that disagrees with the bytes is reported as a warning.
func readUTF8(r io.Reader, max int64) ([]byte, []Warning, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) > max {
		return nil, nil, fmt.Errorf("the file is larger than %d bytes", max)
	}
	var warns []Warning
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		d, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(b)
		if err != nil {
			return nil, nil, fmt.Errorf("UTF-16: %w", err)
		}
		b = d
	}
	label := ""
	if m := declared.FindSubmatch(b[:min(len(b), 200)]); m != nil {
		label = strings.ToUpper(strings.TrimSpace(string(m[1])))
	}
	declaredUTF8 := label == "" || label == "UTF-8" || label == "UTF8" || strings.HasPrefix(label, "UTF-16")
	if utf8.Valid(b) {
		if !declaredUTF8 && !isASCII(b) {
			warns = append(warns, Warning{Message: fmt.Sprintf("declared %s but written in UTF-8: read as UTF-8", label)})
		}
		return b, warns, nil
	}
	d, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return nil, nil, fmt.Errorf("decode: %w", err)
	}
	if declaredUTF8 {
		warns = append(warns, Warning{Message: "declared UTF-8 but not valid UTF-8: read as ISO-8859-1 (Windows-1252)"})
	}
	return d, warns, nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// newDecoder returns an XML decoder over UTF-8 bytes: the declaration's
// encoding is ignored, readUTF8 has decided it.
func newDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	d.Strict = true
	return d
}

// element is one XML element read whole: its attributes and children, by
// local name. Exports are attribute-oriented; a few values are text.
type element struct {
	Name     string
	Line     int
	Attrs    map[string]string
	Children []*element
	Text     string
}

func (e *element) attr(name string) string { return strings.TrimSpace(e.Attrs[name]) }

// children returns the children named name.
func (e *element) children(name string) []*element {
	var out []*element
	for _, c := range e.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// walk reads the document and calls visit for every element whose name is
// in entities, read whole with its subtree; elements with other names are
// descended into. The first element of a name whose entity holds children
// of the same name (EDT's <Cours> list of <Cours>) is a list, not an
// entity: list reports whether an element is one.
func walk(d *xml.Decoder, entities map[string]bool, list func(name string, attrs []xml.Attr) bool, visit func(*element) error) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		se, ok := tok.(xml.StartElement)
		if !ok || !entities[se.Name.Local] || list(se.Name.Local, se.Attr) {
			continue
		}
		line, _ := d.InputPos()
		e, err := readElement(d, se, line, 0)
		if err != nil {
			return err
		}
		if err := visit(e); err != nil {
			return err
		}
	}
}

// maxDepth bounds the nesting of one entity.
const maxDepth = 16

func readElement(d *xml.Decoder, se xml.StartElement, line, depth int) (*element, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: elements nested more than %d deep", line, maxDepth)
	}
	e := &element{Name: se.Name.Local, Line: line, Attrs: make(map[string]string, len(se.Attr))}
	for _, a := range se.Attr {
		e.Attrs[a.Name.Local] = a.Value
	}
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("line %d: <%s> is not closed", line, e.Name)
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			l, _ := d.InputPos()
			c, err := readElement(d, t, l, depth+1)
			if err != nil {
				return nil, err
			}
			e.Children = append(e.Children, c)
		case xml.CharData:
			if text.Len() < 4096 {
				text.Write(t)
			}
		case xml.EndElement:
			e.Text = strings.TrimSpace(text.String())
			return e, nil
		}
	}
}
