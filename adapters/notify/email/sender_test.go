package email

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

var lea = Absence{
	Student:    "Léa Martin",
	Feminine:   true,
	Start:      time.Date(2026, 12, 7, 8, 0, 0, 0, paris()),
	Lesson:     "Mathématiques",
	DeclareURL: "https://ent.college-jean-moulin.fr/absences/3f2a/motif",
}

func paris() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}

func templates(t *testing.T) *Templates {
	t.Helper()
	tpl, err := NewTemplates(paris())
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func sender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func absenceMessage(t *testing.T, lang Lang, a Absence) Message {
	t.Helper()
	c, err := templates(t).Absence(lang, a)
	if err != nil {
		t.Fatal(err)
	}
	return Message{
		To:                mail.Address{Name: "Claire Martin", Address: "claire.martin@example.org"},
		Content:           c,
		UnsubscribeURL:    "https://ent.college-jean-moulin.fr/notifications/desabonner?t=abc123",
		UnsubscribeMailto: "mailto:desabonnement@college-jean-moulin.fr?subject=abc123",
	}
}

// parsed is a received message read back with the standard library.
type parsed struct {
	header mail.Header
	text   string
	html   string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", mediaType)
	}
	p := parsed{header: m.Header}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct, cparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(cparams["charset"], "utf-8") {
			t.Errorf("part %s: charset %q, want UTF-8", ct, cparams["charset"])
		}
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	if p.text == "" || p.html == "" {
		t.Fatalf("want both parts, got text %q and html %q", p.text, p.html)
	}
	return p
}

func decode(t *testing.T, h string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h)
	if err != nil {
		t.Fatalf("decode %q: %v", h, err)
	}
	return s
}

func TestSendAbsenceInFrench(t *testing.T) {
	r := newRelay(t)
	r.accept = &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as 4F2A1B"}
	s := sender(t, r.config())

	out, err := s.Send(context.Background(), absenceMessage(t, French, lea))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if out.Status != Sent || out.QueueID != "4F2A1B" {
		t.Fatalf("outcome = %+v, want sent with queue id 4F2A1B", out)
	}
	if !strings.HasSuffix(out.MessageID, "@college-jean-moulin.fr") {
		t.Errorf("MessageID = %q, want one on the sender's domain", out.MessageID)
	}

	got := r.messages()
	if len(got) != 1 {
		t.Fatalf("the relay received %d messages, want 1", len(got))
	}
	env := got[0]
	if env.from != "vie-scolaire@college-jean-moulin.fr" || len(env.to) != 1 || env.to[0] != "claire.martin@example.org" {
		t.Errorf("envelope from %q to %q", env.from, env.to)
	}
	m := parse(t, env.data)

	from, err := mail.ParseAddress(m.header.Get("From"))
	if err != nil {
		t.Fatal(err)
	}
	if from.Name != "Vie scolaire — Collège Jean Moulin" || from.Address != "vie-scolaire@college-jean-moulin.fr" {
		t.Errorf("From = %+v", from)
	}
	to, err := mail.ParseAddress(m.header.Get("To"))
	if err != nil {
		t.Fatal(err)
	}
	if to.Name != "Claire Martin" || to.Address != "claire.martin@example.org" {
		t.Errorf("To = %+v", to)
	}
	if raw := m.header.Get("Subject"); !strings.HasPrefix(raw, "=?UTF-8?") {
		t.Errorf("Subject %q is not an encoded word", raw)
	}
	if subj := decode(t, m.header.Get("Subject")); subj != "Léa Martin est absente — lundi 7 décembre, 08:00, Mathématiques" {
		t.Errorf("Subject = %q", subj)
	}
	if id := m.header.Get("Message-ID"); id != "<"+out.MessageID+">" {
		t.Errorf("Message-ID = %q, want <%s>", id, out.MessageID)
	}
	if got := m.header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	unsub := m.header.Get("List-Unsubscribe")
	for _, want := range []string{
		"<https://ent.college-jean-moulin.fr/notifications/desabonner?t=abc123>",
		"<mailto:desabonnement@college-jean-moulin.fr?subject=abc123>",
	} {
		if !strings.Contains(unsub, want) {
			t.Errorf("List-Unsubscribe = %q, want it to hold %s", unsub, want)
		}
	}
	if got := m.header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if _, err := m.header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}

	for _, want := range []string{"Léa Martin est absente depuis le lundi 7 décembre à 08:00 (Mathématiques).", lea.DeclareURL} {
		if !strings.Contains(m.text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.text)
		}
	}
	for _, want := range []string{`<html lang="fr">`, "<strong>Léa Martin</strong> est absente", `<a href="` + lea.DeclareURL + `">Indiquer le motif de cette absence</a>`} {
		if !strings.Contains(m.html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.html)
		}
	}
}

func TestSendAbsenceInEnglish(t *testing.T) {
	r := newRelay(t)
	out, err := sender(t, r.config()).Send(context.Background(), absenceMessage(t, English, lea))
	if err != nil || out.Status != Sent {
		t.Fatalf("Send = %+v, %v", out, err)
	}
	if out.QueueID != "" {
		t.Errorf("QueueID = %q from %q, want none", out.QueueID, out.Response)
	}
	m := parse(t, r.messages()[0].data)
	if subj := decode(t, m.header.Get("Subject")); subj != "Léa Martin is absent — Monday 7 December, 08:00, Mathématiques" {
		t.Errorf("Subject = %q", subj)
	}
	if !strings.Contains(m.text, "Léa Martin has been absent since Monday 7 December at 08:00 (Mathématiques).") {
		t.Errorf("text part:\n%s", m.text)
	}
	if !strings.Contains(m.html, "Give the reason for this absence") {
		t.Errorf("HTML part:\n%s", m.html)
	}
}

// Hostile values reach the recipient as text: no header of their own, no
// markup in the HTML part, no extra recipient.
func TestSendHostileValues(t *testing.T) {
	r := newRelay(t)
	a := lea
	a.Student = "<script>alert(1)</script> Léa\r\nBcc: victim@example.org"
	a.Lesson = "Maths\r\n\r\n<b>gras</b>"
	msg := absenceMessage(t, French, a)
	msg.To.Name = "Claire\r\nX-Injected: 1"
	msg.Content.Subject += "\r\nCc: other@example.org\n\rX-Injected: 2"

	out, err := sender(t, r.config()).Send(context.Background(), msg)
	if err != nil || out.Status != Sent {
		t.Fatalf("Send = %+v, %v", out, err)
	}
	got := r.messages()
	if len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != "claire.martin@example.org" {
		t.Fatalf("the relay received %+v, want one message to one recipient", got)
	}
	m := parse(t, got[0].data)
	for _, h := range []string{"Bcc", "Cc", "X-Injected"} {
		if v, ok := m.header[h]; ok {
			t.Errorf("header %s: %q was injected", h, v)
		}
	}
	subj := decode(t, m.header.Get("Subject"))
	if strings.ContainsAny(subj, "\r\n") {
		t.Errorf("Subject %q holds a line break", subj)
	}
	if !strings.HasPrefix(subj, "<script>alert(1)</script> Léa Bcc: victim@example.org est absente") {
		t.Errorf("Subject = %q, want the name on one line", subj)
	}
	to, err := mail.ParseAddress(m.header.Get("To"))
	if err != nil || to.Name != "Claire X-Injected: 1" {
		t.Errorf("To = %+v, %v", to, err)
	}
	if strings.Contains(m.html, "<script>") || strings.Contains(m.html, "<b>") {
		t.Errorf("HTML part holds markup from the data:\n%s", m.html)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; Léa Bcc: victim@example.org", "&lt;b&gt;gras&lt;/b&gt;"} {
		if !strings.Contains(m.html, want) {
			t.Errorf("HTML part lacks the escaped %q:\n%s", want, m.html)
		}
	}
}

func TestSendRefusals(t *testing.T) {
	tests := []struct {
		name     string
		refusal  *smtp.SMTPError
		status   Status
		code     int
		enhanced string
	}{
		{"unknown recipient", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}, Permanent, 550, "5.1.1"},
		{"greylisted", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Try again later"}, Retryable, 451, "4.7.1"},
		{"mailbox full", &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"}, Retryable, 452, "4.2.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRelay(t)
			r.refuse["claire.martin@example.org"] = tt.refusal
			out, err := sender(t, r.config()).Send(context.Background(), absenceMessage(t, French, lea))
			if err == nil {
				t.Fatalf("Send = %+v without an error", out)
			}
			if out.Status != tt.status || out.Code != tt.code || out.EnhancedCode != tt.enhanced {
				t.Errorf("outcome = %+v, want %s %d %s", out, tt.status, tt.code, tt.enhanced)
			}
			if len(r.messages()) != 0 {
				t.Errorf("the relay received a refused message")
			}
		})
	}
}

func TestSendDataRefused(t *testing.T) {
	r := newRelay(t)
	r.accept = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"}
	out, err := sender(t, r.config()).Send(context.Background(), absenceMessage(t, French, lea))
	if err == nil || out.Status != Permanent || out.Code != 554 {
		t.Fatalf("Send = %+v, %v; want permanent 554", out, err)
	}
}

func TestSendRelayDown(t *testing.T) {
	r := newRelay(t)
	cfg := r.config()
	cfg.Port = closedPort(t)
	out, err := sender(t, cfg).Send(context.Background(), absenceMessage(t, French, lea))
	if err == nil || out.Status != Retryable {
		t.Fatalf("Send = %+v, %v; want retryable", out, err)
	}
	if out.MessageID == "" {
		t.Errorf("the outcome has no Message-ID")
	}
}

// A relay that accepts the connection and never greets: the context's end
// stops the delivery, which may be tried again.
func TestSendCancelledWhileRelaySilent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	cfg := Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TLS: TLSNone, From: "vie-scolaire@college-jean-moulin.fr", Timeout: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := sender(t, cfg).Send(ctx, absenceMessage(t, French, lea))
		done <- result{out, err}
	}()
	conn := <-accepted
	defer conn.Close()
	cancel()
	res := <-done
	if res.out.Status != Retryable || !errors.Is(res.err, context.Canceled) {
		t.Fatalf("Send = %+v, %v; want retryable, cancelled", res.out, res.err)
	}
}

// A relay that never greets within the configured timeout.
func TestSendTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c) // until the client gives up
		}
	}()
	cfg := Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TLS: TLSNone, From: "vie-scolaire@college-jean-moulin.fr", Timeout: 100 * time.Millisecond}
	out, err := sender(t, cfg).Send(context.Background(), absenceMessage(t, French, lea))
	var ne net.Error
	if out.Status != Retryable || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Send = %+v, %v; want retryable after a timeout", out, err)
	}
}

func TestSendMandatoryTLSWithoutSTARTTLS(t *testing.T) {
	r := newRelay(t)
	cfg := r.config()
	cfg.TLS = TLSMandatory
	out, err := sender(t, cfg).Send(context.Background(), absenceMessage(t, French, lea))
	if err == nil || out.Status != Retryable || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %+v, %v; want retryable for want of STARTTLS", out, err)
	}
	if len(r.messages()) != 0 {
		t.Errorf("a message went in clear text")
	}
}

func TestSendInvalidMessage(t *testing.T) {
	valid := absenceMessage(t, French, lea)
	tests := []struct {
		name   string
		change func(*Message)
	}{
		{"recipient", func(m *Message) { m.To.Address = "claire.martin" }},
		{"recipient with a header", func(m *Message) { m.To.Address = "claire@example.org\r\nBcc: x@example.org" }},
		{"empty subject", func(m *Message) { m.Content.Subject = " \r\n" }},
		{"empty text", func(m *Message) { m.Content.Text = "" }},
		{"empty html", func(m *Message) { m.Content.HTML = "" }},
		{"no unsubscribe", func(m *Message) { m.UnsubscribeURL = "" }},
		{"unsubscribe over http", func(m *Message) { m.UnsubscribeURL = "http://ent.example.org/u" }},
		{"unsubscribe with a header", func(m *Message) { m.UnsubscribeURL = "https://ent.example.org/u>\r\nBcc: x@example.org" }},
		{"unsubscribe mailto of no address", func(m *Message) { m.UnsubscribeMailto = "mailto:nobody" }},
		{"unsubscribe mailto of another scheme", func(m *Message) { m.UnsubscribeMailto = "https://ent.example.org/u" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRelay(t)
			m := valid
			tt.change(&m)
			out, err := sender(t, r.config()).Send(context.Background(), m)
			if err == nil || out.Status != Permanent {
				t.Fatalf("Send = %+v, %v; want permanent", out, err)
			}
			if len(r.messages()) != 0 {
				t.Errorf("the relay received an invalid message")
			}
		})
	}
}

func TestQueueID(t *testing.T) {
	tests := []struct{ response, want string }{
		{"2.0.0 Ok: queued as 4F2A1B3C", "4F2A1B3C"},
		{"OK id=1abc2d-000123-XY", "1abc2d-000123-XY"},
		{"2.0.0 OK: queued", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := queueID(tt.response); got != tt.want {
			t.Errorf("queueID(%q) = %q, want %q", tt.response, got, tt.want)
		}
	}
}
