package main

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/adapters/notify/email"
	"github.com/schoollife/ledger/domain"
)

// letterRelay is an in-process SMTP server keeping the messages it
// accepts.
type letterRelay struct {
	mu   sync.Mutex
	msgs [][]byte
	to   []string
}

type letterSession struct{ r *letterRelay }

func (s letterSession) Reset()                               {}
func (s letterSession) Logout() error                        { return nil }
func (s letterSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s letterSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.to = append(s.r.to, to)
	return nil
}
func (s letterSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.msgs = append(s.r.msgs, b)
	return err
}

type addressBook map[uuid.UUID]string

func (b addressBook) EmailOf(_ context.Context, id uuid.UUID) (string, error) { return b[id], nil }

func TestEmailLetters(t *testing.T) {
	relay := &letterRelay{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return letterSession{relay}, nil }))
	srv.Domain = "relay.test"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); l.Close(); <-done })

	addr := l.Addr().(*net.TCPAddr)
	sender, err := email.NewSender(email.Config{Host: addr.IP.String(), Port: addr.Port, TLS: email.TLSNone,
		From: "vie-scolaire@college.example.fr", FromName: "Vie scolaire"})
	if err != nil {
		t.Fatal(err)
	}
	parent, unknown := uuid.New(), uuid.New()
	m := &emailLetters{sender: sender, addresses: addressBook{parent: "helene.muller@example.fr"},
		unsubscribe: "https://ent.example.fr/preferences"}
	w, err := letters.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := w.Text(letters.Letter{Template: domain.LetterUnjustifiedAbsences, Student: "Léa Müller", Class: "5e B",
		From: domain.MustDate("2026-11-01"), To: domain.MustDate("2026-11-30"), HalfDays: 4,
		Absences: []letters.Absence{{Date: domain.MustDate("2026-11-02"), Slot: domain.Slot{Start: "08:00", End: "09:00"}, Subject: "Mathématiques <b>"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.MailLetter(context.Background(), unknown, "Sans adresse", text); err == nil {
		t.Fatal("a letter went to a guardian without an address")
	}
	if err := m.MailLetter(context.Background(), parent, "Hélène Müller", text); err != nil {
		t.Fatal(err)
	}
	relay.mu.Lock()
	defer relay.mu.Unlock()
	if len(relay.msgs) != 1 || len(relay.to) != 1 || relay.to[0] != "helene.muller@example.fr" {
		t.Fatalf("relay got %d messages for %v", len(relay.msgs), relay.to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(relay.msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Absences non justifiées de Léa Müller" {
		t.Fatalf("subject %q %v", subject, err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	for _, want := range []string{"Madame, Monsieur,", "– lundi 2 novembre 2026, 08:00–09:00, Mathématiques <b>",
		"<li>lundi 2 novembre 2026, 08:00–09:00, Mathématiques &lt;b&gt;</li>", "article L. 131-8"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the message lacks %q:\n%s", want, body)
		}
	}
}
