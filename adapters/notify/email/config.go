// Package email delivers the ledger's notifications by e-mail: a Sender
// that hands one message at a time to an SMTP relay and says what became
// of it (sent, to retry, refused for good), and Templates that write the
// messages in French (the default) or English, as a plain-text part and an
// HTML part of one multipart/alternative message.
//
// The package decides nothing about who is told what or when: a delivery
// process reads the outcome and retries or gives up.
package email

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"
)

// TLSPolicy says whether the connection to the relay must be encrypted.
type TLSPolicy string

const (
	// TLSMandatory refuses to send unless the relay accepts STARTTLS.
	TLSMandatory TLSPolicy = "mandatory"
	// TLSOpportunistic uses STARTTLS when the relay offers it and sends in
	// clear text otherwise.
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSNone never encrypts: for a relay on the same host, and tests.
	TLSNone TLSPolicy = "none"
)

// DefaultTimeout bounds one delivery (connection, dialogue and data) when
// Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config is how the Sender reaches its relay and whom its messages come
// from.
type Config struct {
	// Host and Port are the relay's (port 587 for submission with
	// STARTTLS, 25 for a local relay).
	Host string
	Port int
	// TLS is the encryption policy; empty means TLSMandatory.
	TLS TLSPolicy
	// TLSConfig overrides the TLS client settings (trusted roots, server
	// name); nil verifies the relay's certificate against the system's
	// roots for Host.
	TLSConfig *tls.Config
	// Username and Password authenticate to the relay (SMTP AUTH, the
	// strongest mechanism both sides know); both empty means no
	// authentication.
	Username string
	Password string
	// From is the sender's address and FromName its display name
	// ("Vie scolaire — Collège Jean Moulin").
	From     string
	FromName string
	// Timeout bounds one delivery; zero means DefaultTimeout. A context
	// deadline that comes sooner wins.
	Timeout time.Duration
	// HELO is the name the Sender gives itself; empty means the host name.
	HELO string
}

// Validate checks the configuration and says what is wrong with it, every
// problem at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Host) == "" {
		errs = append(errs, errors.New("the relay host is empty"))
	} else if strings.ContainsAny(c.Host, " \t\r\n/") {
		errs = append(errs, fmt.Errorf("the relay host %q is not a host name or address", c.Host))
	} else if _, _, err := net.SplitHostPort(c.Host); err == nil {
		errs = append(errs, fmt.Errorf("the relay host %q holds a port: give it in Port", c.Host))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("the relay port %d is not between 1 and 65535", c.Port))
	}
	switch c.TLS {
	case "", TLSMandatory, TLSOpportunistic, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("the TLS policy %q is none of %q, %q, %q", c.TLS, TLSMandatory, TLSOpportunistic, TLSNone))
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("the relay's user and password go together: give both or neither"))
	}
	if c.Username != "" && c.TLS == TLSNone {
		errs = append(errs, errors.New("a password is never sent in clear text: authentication needs the TLS policy mandatory or opportunistic"))
	}
	if c.From == "" {
		errs = append(errs, errors.New("the sender address (from) is empty"))
	} else if a, err := mail.ParseAddress(c.From); err != nil || a.Name != "" || a.Address != c.From {
		errs = append(errs, fmt.Errorf("the sender address %q is not a bare e-mail address", c.From))
	}
	if hasControl(c.FromName) {
		errs = append(errs, errors.New("the sender's name holds control characters"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("the timeout %s is negative", c.Timeout))
	}
	if c.HELO != "" && strings.ContainsAny(c.HELO, " \t\r\n") {
		errs = append(errs, fmt.Errorf("the HELO name %q holds spaces", c.HELO))
	}
	if len(errs) > 0 {
		return fmt.Errorf("email: configuration: %w", errors.Join(errs...))
	}
	return nil
}

func (c Config) policy() TLSPolicy {
	if c.TLS == "" {
		return TLSMandatory
	}
	return c.TLS
}

func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// hasControl reports whether s holds a control character (a line break
// among them).
func hasControl(s string) bool {
	return strings.IndexFunc(s, isControl) >= 0
}
