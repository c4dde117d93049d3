package email

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// relay is an in-process SMTP server that records what it accepts and
// refuses the recipients it is told to.
type relay struct {
	mu       sync.Mutex
	received []envelope
	refuse   map[string]*smtp.SMTPError
	accept   *smtp.SMTPError // the answer to the data, nil for the default
	addr     *net.TCPAddr
}

type envelope struct {
	from string
	to   []string
	data []byte
}

func newRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{refuse: map[string]*smtp.SMTPError{}}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{relay: r}, nil
	}))
	s.Domain = "relay.test"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().(*net.TCPAddr)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		// Close the listener too: the server only knows it once Serve
		// has started.
		s.Close()
		l.Close()
		<-done
	})
	return r
}

func (r *relay) messages() []envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]envelope(nil), r.received...)
}

// config is a Sender's configuration for the relay, in clear text.
func (r *relay) config() Config {
	return Config{
		Host:     r.addr.IP.String(),
		Port:     r.addr.Port,
		TLS:      TLSNone,
		From:     "vie-scolaire@college-jean-moulin.fr",
		FromName: "Vie scolaire — Collège Jean Moulin",
	}
}

type session struct {
	relay *relay
	from  string
	to    []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.relay.mu.Lock()
	refusal := s.relay.refuse[to]
	s.relay.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	s.relay.mu.Lock()
	defer s.relay.mu.Unlock()
	s.relay.received = append(s.relay.received, envelope{from: s.from, to: s.to, data: buf.Bytes()})
	if s.relay.accept != nil {
		return s.relay.accept
	}
	return nil
}

// closedPort is a port nothing listens on any more.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
