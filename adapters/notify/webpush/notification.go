package webpush

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	lib "github.com/SherClockHolmes/webpush-go"
)

// MaxPayloadSize is the largest payload Send encrypts, in bytes. The
// encrypted body is one aes128gcm record that always fills
// lib.MaxRecordSize (4096 bytes, the size every push service must accept,
// RFC 8030 section 7.2): the content-coding header (a 16-byte salt, the
// 4-byte record size, the key id's length and the 65-byte ephemeral
// public key), the 16-byte AES-GCM tag and the 1-byte padding delimiter
// leave 3,993 bytes for the payload.
const MaxPayloadSize = int(lib.MaxRecordSize) - headerSize - gcmTagSize - 1

const (
	headerSize = 16 + 4 + 1 + 65
	gcmTagSize = 16
)

// Bounds of a Notification's fields. Even at their bounds, with every
// character four bytes long, the JSON stays under 2.5 KB, well within
// MaxPayloadSize.
const (
	MaxTitleRunes = 80
	MaxBodyRunes  = 200
	MaxURLBytes   = 512
	MaxTagBytes   = 64
)

// ErrInvalidNotification is wrapped by Encode's errors.
var ErrInvalidNotification = errors.New("invalid notification")

// Notification is what the portal's service worker shows: a title, a
// line of text and the page to open when it is clicked, for example
// {"title":"Léa absente","body":"08:00 Mathématiques","url":"/absences"}.
// The text reaches the user's screen as is: it is written in French, for
// the person who receives it.
type Notification struct {
	// Title is the first line, at most MaxTitleRunes characters.
	Title string `json:"title"`
	// Body is the text under it, at most MaxBodyRunes characters; may be
	// empty.
	Body string `json:"body,omitempty"`
	// URL is the portal page to open: an absolute path ("/absences/…"),
	// never another site, at most MaxURLBytes bytes.
	URL string `json:"url"`
	// Tag, when set, makes a newer notification with the same tag replace
	// the older one on the device (the Notifications API's tag). Letters,
	// digits, '-', '_', '.' and ':' only, at most MaxTagBytes bytes.
	Tag string `json:"tag,omitempty"`
}

// Encode checks n and returns its JSON, at most MaxPayloadSize bytes.
func (n Notification) Encode() ([]byte, error) {
	if err := n.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidNotification, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode notification: %w", err)
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(out) > MaxPayloadSize {
		return nil, fmt.Errorf("%w: %d bytes of JSON, more than %d", ErrInvalidNotification, len(out), MaxPayloadSize)
	}
	return out, nil
}

func (n Notification) validate() error {
	if strings.TrimSpace(n.Title) == "" {
		return errors.New("title is empty")
	}
	if err := checkText("title", n.Title, MaxTitleRunes); err != nil {
		return err
	}
	if err := checkText("body", n.Body, MaxBodyRunes); err != nil {
		return err
	}
	if err := checkPath(n.URL); err != nil {
		return err
	}
	if len(n.Tag) > MaxTagBytes {
		return fmt.Errorf("tag is %d bytes, more than %d", len(n.Tag), MaxTagBytes)
	}
	for _, r := range n.Tag {
		if !isTagRune(r) {
			return fmt.Errorf("tag has the character %q", r)
		}
	}
	return nil
}

// checkText refuses invalid UTF-8, control and format characters (which
// could reorder or hide text on screen) and text longer than max runes.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%s is %d characters, more than %d", field, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%s has the control character %U", field, r)
		}
	}
	return nil
}

// checkPath accepts an absolute path on the portal, with an optional query
// and fragment: no scheme, no host, no "//" that a browser would read as
// another host, no backslash, nothing outside printable ASCII.
func checkPath(p string) error {
	if p == "" {
		return errors.New("url is empty")
	}
	if len(p) > MaxURLBytes {
		return fmt.Errorf("url is %d bytes, more than %d", len(p), MaxURLBytes)
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return fmt.Errorf("url %q is not an absolute path on the portal", p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return fmt.Errorf("url has the byte %#02x at %d", c, i)
		}
	}
	u, err := url.Parse(p)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil {
		return fmt.Errorf("url %q names another site", p)
	}
	return nil
}

func isTagRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '-' || r == '_' || r == '.' || r == ':'
}
