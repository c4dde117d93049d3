package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
)

// Message is one e-mail to one recipient.
type Message struct {
	// To is the recipient; its Name is optional.
	To mail.Address
	// Content is the subject and the two bodies (Templates.Render writes
	// them).
	Content Content
	// UnsubscribeURL is the https address that stops these notifications
	// in one click (RFC 8058: a POST with List-Unsubscribe=One-Click).
	UnsubscribeURL string
	// UnsubscribeMailto is an optional mailto: address that does the same.
	UnsubscribeMailto string
	// Key, when set, makes the Message-ID stable: the same key gives the
	// same id, so that a message a delivery process sends again (a crash
	// between sending and recording it) is one message to mail clients.
	// 16 to 64 letters, digits and hyphens.
	Key string
}

// Status is what became of a message.
type Status int

const (
	// Sent means the relay accepted the message.
	Sent Status = iota + 1
	// Retryable means the message was not sent but may be later: the relay
	// answered 4xx, could not be reached, timed out, or the context ended.
	Retryable
	// Permanent means sending it again will fail the same way: the relay
	// answered 5xx to the message (an unknown recipient, a refused
	// content), or the message itself is invalid.
	Permanent
)

func (s Status) String() string {
	switch s {
	case Sent:
		return "sent"
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Outcome is what Send knows of one delivery.
type Outcome struct {
	Status Status
	// MessageID is the Message-ID header given to the message, without
	// its angle brackets.
	MessageID string
	// QueueID is the relay's id of the message in its queue, when its
	// answer to the data names one ("queued as 4F2A1B", "id=1abc-00").
	QueueID string
	// Response is the relay's answer to the data when the message was
	// sent.
	Response string
	// Code and EnhancedCode are the relay's reply to a refused message
	// (550, "5.1.1"); zero and empty when there was none.
	Code         int
	EnhancedCode string
}

// Sender hands messages to an SMTP relay, one connection per message.
// It is safe for concurrent use.
type Sender struct {
	cfg  Config
	from mail.Address
	// domain is the right-hand side of the Message-IDs.
	domain string
}

// NewSender checks cfg and returns a Sender for it.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sender{cfg: cfg, from: mail.Address{Name: oneLine(cfg.FromName), Address: cfg.From}}
	s.domain = cfg.From[strings.LastIndexByte(cfg.From, '@')+1:]
	return s, nil
}

// Send delivers m. The error is nil exactly when the outcome is Sent;
// otherwise it says why, and the outcome says whether to try again.
func (s *Sender) Send(ctx context.Context, m Message) (Outcome, error) {
	msg, id, err := s.build(m)
	if err != nil {
		return Outcome{Status: Permanent}, fmt.Errorf("email: message: %w", err)
	}
	out := Outcome{MessageID: id}
	if err := ctx.Err(); err != nil {
		out.Status = Retryable
		return out, fmt.Errorf("email: send %s: %w", id, err)
	}

	timeout := s.cfg.timeout()
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	// The library reads the context only while dialling: closing the
	// connection when the context ends stops a dialogue in progress.
	var (
		mu    sync.Mutex
		stops []func() bool
	)
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		stops = append(stops, context.AfterFunc(ctx, func() { conn.Close() }))
		mu.Unlock()
		return conn, nil
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, stop := range stops {
			stop()
		}
	}()

	client, err := gomail.NewClient(s.cfg.Host, s.options(timeout, dial)...)
	if err != nil {
		out.Status = Permanent
		return out, fmt.Errorf("email: client: %w", err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil || msg.IsDelivered() {
		// A failure after the relay accepted the data (the reset or the
		// quit that follow) does not undo the delivery.
		out.Status = Sent
		out.Response = msg.ServerResponse()
		out.QueueID = queueID(out.Response)
		return out, nil
	}
	out.Status, out.Code, out.EnhancedCode = classify(err)
	if ctx.Err() != nil {
		out.Status = Retryable
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return out, fmt.Errorf("email: send %s: %w", id, err)
}

func (s *Sender) options(timeout time.Duration, dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithDialContextFunc(dial),
	}
	switch s.cfg.policy() {
	case TLSMandatory:
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.NoTLS))
	}
	if s.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.cfg.TLSConfig))
	}
	if s.cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	if s.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HELO))
	}
	return opts
}

// classify maps a failed delivery to its status and the relay's reply.
func classify(err error) (Status, int, string) {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch {
		case code >= 500:
			return Permanent, code, se.EnhancedStatusCode()
		case code >= 400:
			return Retryable, code, se.EnhancedStatusCode()
		}
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			// The message, not the relay, is at fault.
			return Permanent, 0, ""
		}
		// The connection broke during the transaction.
		return Retryable, 0, ""
	}
	// The failure came before the message's transaction: reaching the
	// relay, greeting it, STARTTLS, authentication. It is the relay's or
	// the configuration's, not the message's: the message may go later.
	var te *textproto.Error
	if errors.As(err, &te) {
		return Retryable, te.Code, enhancedCode(te.Msg)
	}
	return Retryable, 0, ""
}

var (
	enhancedRE = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}\b`)
	queueRE    = regexp.MustCompile(`(?i)(?:queued as|\bid=)\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)
)

func enhancedCode(msg string) string { return enhancedRE.FindString(msg) }

// queueID finds the relay's queue id in its answer to the data: Postfix
// says "2.0.0 Ok: queued as 4F2A1B", Exim "OK id=1abc-000123-XY".
func queueID(response string) string {
	if m := queueRE.FindStringSubmatch(response); m != nil {
		return m[1]
	}
	return ""
}

// build checks m and writes it as a go-mail message, with its
// Message-ID.
func (s *Sender) build(m Message) (*gomail.Msg, string, error) {
	if err := m.validate(); err != nil {
		return nil, "", err
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP), gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(&s.from)
	to := mail.Address{Name: oneLine(m.To.Name), Address: m.To.Address}
	msg.ToMailAddress(&to)
	msg.Subject(oneLine(m.Content.Subject))
	id, err := s.messageID()
	if err != nil {
		return nil, "", err
	}
	if m.Key != "" {
		id = m.Key + "@" + s.domain
	}
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	var extra []string
	if m.UnsubscribeMailto != "" {
		extra = append(extra, m.UnsubscribeMailto)
	}
	if err := msg.SetListUnsubscribeOneClick(m.UnsubscribeURL, extra...); err != nil {
		return nil, "", err
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Content.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.Content.HTML)
	return msg, id, nil
}

// messageID is a fresh id on the sender's domain: 128 random bits.
func (s *Sender) messageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	return hex.EncodeToString(b[:]) + "@" + s.domain, nil
}

func (m Message) validate() error {
	var errs []error
	if m.Key != "" && !validKey(m.Key) {
		errs = append(errs, fmt.Errorf("the message key %q is not 16 to 64 letters, digits and hyphens", m.Key))
	}
	if a, err := mail.ParseAddress(m.To.Address); err != nil || a.Address != m.To.Address {
		errs = append(errs, fmt.Errorf("the recipient %q is not an e-mail address", m.To.Address))
	}
	if oneLine(m.Content.Subject) == "" {
		errs = append(errs, errors.New("the subject is empty"))
	}
	if strings.TrimSpace(m.Content.Text) == "" {
		errs = append(errs, errors.New("the text part is empty"))
	}
	if strings.TrimSpace(m.Content.HTML) == "" {
		errs = append(errs, errors.New("the HTML part is empty"))
	}
	if err := checkHeaderURI(m.UnsubscribeURL, "https"); err != nil {
		errs = append(errs, fmt.Errorf("the unsubscribe address: %w", err))
	}
	if m.UnsubscribeMailto != "" {
		if err := checkHeaderURI(m.UnsubscribeMailto, "mailto"); err != nil {
			errs = append(errs, fmt.Errorf("the unsubscribe mailto: %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkHeaderURI accepts an absolute URI of the scheme that can stand in
// a header between angle brackets as it is: printable ASCII, no space,
// no bracket, no comma.
func checkHeaderURI(raw, scheme string) error {
	if raw == "" {
		return errors.New("empty")
	}
	for _, r := range raw {
		if r <= ' ' || r > '~' || strings.ContainsRune("<>,\"", r) {
			return fmt.Errorf("%q holds a character a header cannot carry", raw)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != scheme {
		return fmt.Errorf("%q is not a %s: address", raw, scheme)
	}
	switch scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", raw)
		}
	case "mailto":
		addr, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return err
		}
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
			return fmt.Errorf("%q is not a mailto: of one address", raw)
		}
	}
	return nil
}

// oneLine makes a header value of s: every run of spaces and control
// characters (line breaks among them) becomes one space, so that a value
// cannot open a header of its own.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || isControl(r) }), " ")
}

func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// validKey reports whether k may stand before the @ of a Message-ID.
func validKey(k string) bool {
	if len(k) < 16 || len(k) > 64 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
