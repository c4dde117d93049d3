package main

// Reaching families outside the portal (docs/notifications.md): the
// settings of serve's delivery process, its wiring, and `ledger notify
// vapid-keys`.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/delivery"
	"github.com/schoollife/ledger/adapters/notify/email"
	"github.com/schoollife/ledger/adapters/notify/sms"
	"github.com/schoollife/ledger/adapters/notify/webpush"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// NotifyConfig configures the channels; each is off unless configured.
type NotifyConfig struct {
	// VAPIDPublic and VAPIDPrivate turn Web Push on (`ledger notify
	// vapid-keys` makes a pair); Contact is the VAPID subject (mailto:
	// or https:), required with them.
	VAPIDPublic, VAPIDPrivate, Contact string
	// SMTP turns e-mail on when its host is set.
	SMTPHost, SMTPTLS, SMTPUser, SMTPPassword, SMTPFrom, SMTPFromName string
	SMTPPort                                                          int
	// SMS turns text messages on when its URL is set (sms.GatewayConfig).
	SMSURL, SMSMethod, SMSFormat, SMSPayload, SMSAuthHeader, SMSAuth string
	// PortalURL is the portal's public address, for the links of e-mails.
	PortalURL string
	// DigestHour is when the daily digest leaves (school time).
	DigestHour int
	// Outbox is a directory where e-mails and text messages are written
	// instead of sent (development, demonstrations; --demo's default:
	// notify-outbox beside a SQLite store).
	Outbox string
}

func (n *NotifyConfig) flags(fs *flagSet) {
	fs.string(&n.VAPIDPublic, "vapid-public-key", "LEDGER_VAPID_PUBLIC_KEY", "", "Web Push: the VAPID public key ('ledger notify vapid-keys' makes a pair); push is off without it")
	fs.string(&n.VAPIDPrivate, "vapid-private-key", "LEDGER_VAPID_PRIVATE_KEY", "", "Web Push: the VAPID private key (better given in the variable)")
	fs.string(&n.Contact, "notify-contact", "LEDGER_NOTIFY_CONTACT", "", "Web Push: who push services write to about this server, mailto:address or an https URL")
	fs.string(&n.SMTPHost, "smtp-host", "LEDGER_SMTP_HOST", "", "e-mail: the SMTP relay's host; e-mail is off without it")
	fs.count(&n.SMTPPort, "smtp-port", "LEDGER_SMTP_PORT", 587, "e-mail: the SMTP relay's port")
	fs.choice(&n.SMTPTLS, "smtp-tls", "LEDGER_SMTP_TLS", string(email.TLSMandatory), "e-mail: STARTTLS policy",
		string(email.TLSMandatory), string(email.TLSOpportunistic), string(email.TLSNone))
	fs.string(&n.SMTPUser, "smtp-user", "LEDGER_SMTP_USER", "", "e-mail: the relay's user (with the password)")
	fs.string(&n.SMTPPassword, "smtp-password", "LEDGER_SMTP_PASSWORD", "", "e-mail: the relay's password (better given in the variable)")
	fs.string(&n.SMTPFrom, "smtp-from", "LEDGER_SMTP_FROM", "", "e-mail: the sender's address")
	fs.string(&n.SMTPFromName, "smtp-from-name", "LEDGER_SMTP_FROM_NAME", "Vie scolaire", "e-mail: the sender's name")
	fs.string(&n.SMSURL, "sms-url", "LEDGER_SMS_URL", "", "text messages: the gateway's URL; text messages are off without it")
	fs.string(&n.SMSMethod, "sms-method", "LEDGER_SMS_METHOD", "POST", "text messages: POST or PUT")
	fs.choice(&n.SMSFormat, "sms-format", "LEDGER_SMS_FORMAT", sms.FormatJSON, "text messages: the payload's format", sms.FormatJSON, sms.FormatForm)
	fs.string(&n.SMSPayload, "sms-payload", "LEDGER_SMS_PAYLOAD", `{"to":"{{to}}","text":"{{text}}"}`, "text messages: the payload, {{to}}, {{text}} and {{id}} standing for the number, the text and the message's id")
	fs.string(&n.SMSAuthHeader, "sms-auth-header", "LEDGER_SMS_AUTH_HEADER", "Authorization", "text messages: the header that carries the gateway's credentials")
	fs.string(&n.SMSAuth, "sms-auth", "LEDGER_SMS_AUTH", "", "text messages: the value of that header (better given in the variable)")
	fs.string(&n.PortalURL, "portal-url", "LEDGER_PORTAL_URL", "", "the portal's public address (https://ent.example.fr), for the links of e-mails")
	fs.count(&n.DigestHour, "notify-digest-hour", "LEDGER_NOTIFY_DIGEST_HOUR", 18, "the hour (0 to 23, school time) the daily digest leaves")
	fs.string(&n.Outbox, "notify-outbox", "LEDGER_NOTIFY_OUTBOX", "", "a directory where e-mails and text messages are written instead of sent (default with --demo: notify-outbox beside the SQLite store)")
}

// on reports whether any channel is configured.
func (n *NotifyConfig) on() bool {
	return n.VAPIDPublic != "" || n.SMTPHost != "" || n.SMSURL != "" || n.Outbox != ""
}

// check checks each setting alone (at parse), and gives --demo its
// outbox: notify-outbox beside a SQLite store's file, else in the
// temporary directory.
func (n *NotifyConfig) check(demo bool, store string) error {
	if demo && n.Outbox == "" {
		n.Outbox = filepath.Join(os.TempDir(), "ledger-notify-outbox")
		if kind, path, err := parseStore(store); err == nil && kind == storeSQLite {
			n.Outbox = filepath.Join(filepath.Dir(path), "notify-outbox")
		}
	}
	var errs []error
	if n.DigestHour > 23 {
		errs = append(errs, fmt.Errorf("digest hour %d is not an hour from 0 to 23", n.DigestHour))
	}
	if n.PortalURL != "" {
		if u, err := url.Parse(n.PortalURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("portal URL %q is not an http(s) address", n.PortalURL))
		}
	}
	return errors.Join(errs...)
}

// validate checks the settings that go together, when serve starts the
// channels they configure.
func (n *NotifyConfig) validate() error {
	var errs []error
	if (n.VAPIDPublic == "") != (n.VAPIDPrivate == "") {
		errs = append(errs, errors.New("web push needs both VAPID keys (LEDGER_VAPID_PUBLIC_KEY, LEDGER_VAPID_PRIVATE_KEY)"))
	}
	if n.VAPIDPublic != "" && n.Contact == "" {
		errs = append(errs, errors.New("web push needs --notify-contact (mailto:address or an https URL)"))
	}
	if n.SMTPHost != "" && n.PortalURL == "" {
		errs = append(errs, errors.New("e-mail needs --portal-url (LEDGER_PORTAL_URL), the portal's public address its links point to"))
	}
	return errors.Join(errs...)
}

// notifyStoreOf returns the delivery store of the event store's database,
// nil when it has none (EventStoreDB).
func notifyStoreOf(store eventStore) *delivery.Store {
	switch s := store.(type) {
	case *sqlite.Store:
		return delivery.NewSQLiteStore(s.DB(), s.WithTx)
	case *postgres.Store:
		return delivery.NewPostgresStore(s.Pool())
	}
	return nil
}

// names reads a student's name from the directory.
type names struct{ q *projections.Queries }

func (n names) DisplayName(ctx context.Context, id uuid.UUID) (string, error) {
	a, err := n.q.Account(ctx, id)
	if err != nil {
		return "", err
	}
	return a.DisplayName, nil
}

// startNotify starts the delivery process when a channel is configured,
// and returns what the API and the portal serve (nil when off).
func (a *app) startNotify(ctx context.Context, cfg *Config, wg *sync.WaitGroup) (*web.Notifications, error) {
	n := &cfg.Notify
	if !n.on() {
		return nil, nil
	}
	if err := n.validate(); err != nil {
		return nil, err
	}
	store := notifyStoreOf(a.store)
	if store == nil {
		a.log.Warn("notifications are off: this event store keeps no deliveries", "store", redact(cfg.Store))
		return nil, nil
	}
	a.closers = append(a.closers, store.Close)
	channels, err := a.notifyChannels(n, store)
	if err != nil {
		return nil, err
	}
	p, err := delivery.New(delivery.Config{
		Store: store, Plan: a.queries, Record: a.commands, Names: names{a.queries}, Channels: channels,
		Loc: a.loc, DigestHour: n.DigestHour, DigestHourSet: true, Logger: a.log,
	})
	if err != nil {
		return nil, err
	}
	wg.Go(func() {
		if err := p.Run(ctx); err != nil {
			a.log.Error("notification delivery stopped", "err", err)
		}
	})
	kinds := make([]string, 0, len(channels))
	for _, ch := range domain.NotifyChannels() {
		if _, ok := channels[ch]; ok {
			kinds = append(kinds, string(ch))
		}
	}
	a.log.Info("notifications on", "channels", strings.Join(kinds, ","), "outbox", n.Outbox)
	return &web.Notifications{Store: store, Commands: a.commands, Queries: a.queries, VAPIDPublicKey: n.VAPIDPublic}, nil
}

// notifyChannels builds the configured channels: the real ones, else, with
// an outbox, files (and a log for push without keys).
func (a *app) notifyChannels(n *NotifyConfig, store *delivery.Store) (map[delivery.Channel]delivery.Deliverer, error) {
	channels := map[delivery.Channel]delivery.Deliverer{}
	if n.Outbox != "" {
		if err := os.MkdirAll(n.Outbox, 0o700); err != nil {
			return nil, fmt.Errorf("notification outbox: %w", err)
		}
		channels[delivery.Email] = &delivery.File{Path: filepath.Join(n.Outbox, "email.jsonl")}
		channels[delivery.SMS] = delivery.Text{Sender: sms.NewFile(filepath.Join(n.Outbox, "sms.jsonl"), nil), Addresses: store}
		channels[delivery.Push] = delivery.Log{Logger: a.log, Channel: delivery.Push}
	}
	if n.VAPIDPublic != "" {
		keys, err := webpush.LoadVAPIDKeys(n.VAPIDPublic, n.VAPIDPrivate)
		if err != nil {
			return nil, err
		}
		s, err := webpush.NewSender(webpush.Config{Keys: keys, Contact: n.Contact})
		if err != nil {
			return nil, err
		}
		channels[delivery.Push] = delivery.WebPush{Sender: s, Store: store}
	}
	if n.SMTPHost != "" {
		s, err := email.NewSender(email.Config{
			Host: n.SMTPHost, Port: n.SMTPPort, TLS: email.TLSPolicy(n.SMTPTLS), Username: n.SMTPUser, Password: n.SMTPPassword,
			From: n.SMTPFrom, FromName: n.SMTPFromName,
		})
		if err != nil {
			return nil, err
		}
		channels[delivery.Email] = delivery.Mail{Sender: s, Addresses: store, Portal: n.PortalURL}
	}
	if n.SMSURL != "" {
		header := n.SMSAuthHeader
		if n.SMSAuth == "" {
			header = ""
		}
		g, err := sms.NewGateway(sms.GatewayConfig{
			URL: n.SMSURL, Method: n.SMSMethod, Format: n.SMSFormat, Payload: n.SMSPayload, AuthHeader: header, AuthValue: n.SMSAuth,
		})
		if err != nil {
			return nil, err
		}
		channels[delivery.SMS] = delivery.Text{Sender: g, Addresses: store}
	}
	return channels, nil
}

const notifyUsage = `usage: ledger notify vapid-keys

Prints a new VAPID key pair for Web Push, as the two variables serve reads:
LEDGER_VAPID_PUBLIC_KEY and LEDGER_VAPID_PRIVATE_KEY. Make one pair per
deployment: changing it invalidates every browser's subscription.`

// notify runs `ledger notify vapid-keys`.
func (m *Main) notify(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, notifyUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "vapid-keys" || len(args) > 1 {
		fmt.Fprintln(m.stderr, notifyUsage)
		return fmt.Errorf("unknown command %q", strings.Join(args, " "))
	}
	public, private, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.stdout, "LEDGER_VAPID_PUBLIC_KEY=%s\nLEDGER_VAPID_PRIVATE_KEY=%s\n", public, private)
	return nil
}
