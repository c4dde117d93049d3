package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/web"
)

// errConfigured stops a subcommand once its configuration is read.
var errConfigured = errors.New("configured")

// configOf runs "ledger ARGS..." with env until its configuration is
// validated, and returns it; nothing is opened.
func configOf(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	var got *Config
	m := NewMain(io.Discard, io.Discard, func(k string) string { return env[k] })
	m.configured = func(_ string, c *Config) error {
		got = c
		return errConfigured
	}
	err := m.Run(context.Background(), args)
	if errors.Is(err, errConfigured) {
		return got, nil
	}
	if err == nil {
		t.Fatalf("ledger %v ran without reading its configuration", args)
	}
	return nil, err
}

// setting is one LEDGER_* setting: a value for its variable and one for its
// flag, and how each reads in the configuration.
type setting struct {
	variable        string
	env, flag       string
	envWant, flagOK string
	get             func(c *Config) string
}

// settings lists every setting by flag name. The scopes' flags must all be
// here (TestFlagBeatsVariable checks).
var settings = map[string]setting{
	"store":               {"LEDGER_STORE", "sqlite:env.db", "sqlite:flag.db", "sqlite:env.db", "sqlite:flag.db", func(c *Config) string { return c.Store }},
	"readmodels":          {"LEDGER_READMODELS", "sqlite:env-rm.db", "sqlite:flag-rm.db", "sqlite:env-rm.db", "sqlite:flag-rm.db", func(c *Config) string { return c.ReadModels }},
	"log-level":           {"LEDGER_LOG_LEVEL", "warn", "error", "warn", "error", func(c *Config) string { return c.LogLevel }},
	"log-format":          {"LEDGER_LOG_FORMAT", "json", "text", "json", "text", func(c *Config) string { return c.LogFormat }},
	"act-window":          {"LEDGER_ACT_WINDOW", "2,0", " 3 , 1 ", "2,0", "3,1", func(c *Config) string { return fmt.Sprintf("%d,%d", c.ActWindow.Before, c.ActWindow.After) }},
	"plan-window":         {"LEDGER_PLAN_WINDOW", "0,2", "1,1", "0,2", "1,1", func(c *Config) string { return fmt.Sprintf("%d,%d", c.PlanWindow.Before, c.PlanWindow.After) }},
	"addr":                {"LEDGER_ADDR", ":8081", ":8082", ":8081", ":8082", func(c *Config) string { return c.Addr }},
	"shutdown-timeout":    {"LEDGER_SHUTDOWN_TIMEOUT", "3s", "4s", "3s", "4s", func(c *Config) string { return c.ShutdownTimeout.String() }},
	"start-timeout":       {"LEDGER_START_TIMEOUT", "30s", "0", "30s", "0s", func(c *Config) string { return c.StartTimeout.String() }},
	"seal-every":          {"LEDGER_SEAL_EVERY", "5m", "0", "5m0s", "0s", func(c *Config) string { return c.SealEvery.String() }},
	"secure-cookies":      {"LEDGER_SECURE_COOKIES", "on", "false", "true", "false", func(c *Config) string { return fmt.Sprint(c.SecureCookies) }},
	"command-cache":       {"LEDGER_COMMAND_CACHE", "1000", "0", "1000", "0", func(c *Config) string { return fmt.Sprint(c.CommandCache) }},
	"trusted-proxy":       {"LEDGER_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7", "::1", "10.0.0.0/8|192.0.2.7", "::1", func(c *Config) string { return strings.Join(c.TrustedProxies, "|") }},
	"allowed-origin":      {"LEDGER_ALLOWED_ORIGINS", "https://a.example, https://b.example", "https://c.example", "https://a.example|https://b.example", "https://c.example", func(c *Config) string { return strings.Join(c.AllowedOrigins, "|") }},
	"demo":                {"LEDGER_DEMO", "yes", "off", "true", "false", func(c *Config) string { return fmt.Sprint(c.Demo) }},
	"oidc-provider":       {"LEDGER_OIDC_PROVIDER", "on", "false", "true", "false", func(c *Config) string { return fmt.Sprint(c.OIDCProvider) }},
	"oidc-issuer":         {"LEDGER_OIDC_ISSUER", "https://env.example", "https://flag.example", "https://env.example", "https://flag.example", func(c *Config) string { return c.OIDCIssuer }},
	"sso":                 {"LEDGER_SSO", "testdata/sso/env.yaml", "testdata/sso/flag.json", "testdata/sso/env.yaml", "testdata/sso/flag.json", func(c *Config) string { return c.SSO }},
	"metrics":             {"LEDGER_METRICS", "1", "0", "true", "false", func(c *Config) string { return fmt.Sprint(c.Metrics) }},
	"admin-addr":          {"LEDGER_ADMIN_ADDR", "127.0.0.1:9091", "127.0.0.1:9092", "127.0.0.1:9091", "127.0.0.1:9092", func(c *Config) string { return c.AdminAddr }},
	"access-log":          {"LEDGER_ACCESS_LOG", "off", "on", "false", "true", func(c *Config) string { return fmt.Sprint(c.AccessLog) }},
	"retention":           {"LEDGER_RETENTION", "off", "on", "false", "true", func(c *Config) string { return fmt.Sprint(c.Retention) }},
	"retention-hour":      {"LEDGER_RETENTION_HOUR", "4", "22", "4", "22", func(c *Config) string { return fmt.Sprint(c.RetentionHour) }},
	"bus":                 {"LEDGER_BUS", "nats", "gochannel", "nats", "gochannel", func(c *Config) string { return c.Bus.Kind }},
	"bus-postgres":        {"LEDGER_BUS_POSTGRES", "postgres://env/bus", "postgres://flag/bus", "postgres://env/bus", "postgres://flag/bus", func(c *Config) string { return c.Bus.PostgresDSN }},
	"nats-url":            {"LEDGER_NATS_URL", "nats://env:4222", "nats://flag:4222", "nats://env:4222", "nats://flag:4222", func(c *Config) string { return c.Bus.NATSURL }},
	"node":                {"LEDGER_NODE", "env-node", "flag-node", "env-node", "flag-node", func(c *Config) string { return c.Bus.Node }},
	"deployment":          {"LEDGER_DEPLOYMENT", "lycee-env", "lycee-flag", "lycee-env", "lycee-flag", func(c *Config) string { return c.Bus.Deployment }},
	"bus-retention":       {"LEDGER_BUS_RETENTION", "2h", "3h", "2h0m0s", "3h0m0s", func(c *Config) string { return c.Bus.Retention.String() }},
	"import-grace":        {"LEDGER_IMPORT_GRACE", "10d", "72h", "240h0m0s", "72h0m0s", func(c *Config) string { return c.Import.Grace.String() }},
	"import-max-rejected": {"LEDGER_IMPORT_MAX_REJECTED", "10%", "0.2", "0.1", "0.2", func(c *Config) string { return fmt.Sprint(c.Import.MaxRejected) }},
	"max-import-bytes":    {"LEDGER_MAX_IMPORT_BYTES", "1000", "2000", "1000", "2000", func(c *Config) string { return fmt.Sprint(c.Import.MaxBytes) }},
	"grace":               {"LEDGER_IMPORT_GRACE", "10d", "72h", "240h0m0s", "72h0m0s", func(c *Config) string { return c.Import.Grace.String() }},
	"max-rejected":        {"LEDGER_IMPORT_MAX_REJECTED", "10%", "0.2", "0.1", "0.2", func(c *Config) string { return fmt.Sprint(c.Import.MaxRejected) }},
	"import-max-skipped":  {"LEDGER_IMPORT_MAX_SKIPPED", "2%", "0.3", "0.02", "0.3", func(c *Config) string { return fmt.Sprint(c.Import.MaxSkipped) }},
	"import-max-changes":  {"LEDGER_IMPORT_MAX_CHANGES", "20%", "0.4", "0.2", "0.4", func(c *Config) string { return fmt.Sprint(c.Import.MaxChanges) }},
	"import-guard-min":    {"LEDGER_IMPORT_GUARD_MIN", "25", " 3 ", "25", "3", func(c *Config) string { return fmt.Sprint(c.Import.GuardMin) }},
	"max-skipped":         {"LEDGER_IMPORT_MAX_SKIPPED", "2%", "0.3", "0.02", "0.3", func(c *Config) string { return fmt.Sprint(c.Import.MaxSkipped) }},
	"max-changes":         {"LEDGER_IMPORT_MAX_CHANGES", "20%", "0.4", "0.2", "0.4", func(c *Config) string { return fmt.Sprint(c.Import.MaxChanges) }},
	"guard-min":           {"LEDGER_IMPORT_GUARD_MIN", "25", "0", "25", "0", func(c *Config) string { return fmt.Sprint(c.Import.GuardMin) }},
	"watch-settle":        {"LEDGER_IMPORT_WATCH_SETTLE", "2m", "0", "2m0s", "0s", func(c *Config) string { return c.Import.WatchSettle.String() }},
	"watch-interval":      {"LEDGER_IMPORT_WATCH_INTERVAL", "5m", "10s", "5m0s", "10s", func(c *Config) string { return c.Import.WatchInterval.String() }},

	// Request deadlines.
	"request-timeout":      {"LEDGER_REQUEST_TIMEOUT", "1m", "45s", "1m0s", "45s", func(c *Config) string { return c.Timeouts.Request.String() }},
	"long-request-timeout": {"LEDGER_LONG_REQUEST_TIMEOUT", "3h", "40m", "3h0m0s", "40m0s", func(c *Config) string { return c.Timeouts.Long.String() }},

	// Single sign-on.
	"cas-ticket-lifetime": {"LEDGER_CAS_TICKET_LIFETIME", "1m", "45s", "1m0s", "45s", func(c *Config) string { return c.CASTicketLifetime.String() }},

	// Notifications.
	"vapid-public-key":   {"LEDGER_VAPID_PUBLIC_KEY", "env-pub", "flag-pub", "env-pub", "flag-pub", func(c *Config) string { return c.Notify.VAPIDPublic }},
	"vapid-private-key":  {"LEDGER_VAPID_PRIVATE_KEY", "env-priv", "flag-priv", "env-priv", "flag-priv", func(c *Config) string { return c.Notify.VAPIDPrivate }},
	"notify-contact":     {"LEDGER_NOTIFY_CONTACT", "mailto:env@example.fr", "mailto:flag@example.fr", "mailto:env@example.fr", "mailto:flag@example.fr", func(c *Config) string { return c.Notify.Contact }},
	"smtp-host":          {"LEDGER_SMTP_HOST", "smtp.env.example", "smtp.flag.example", "smtp.env.example", "smtp.flag.example", func(c *Config) string { return c.Notify.SMTPHost }},
	"smtp-port":          {"LEDGER_SMTP_PORT", "25", "2525", "25", "2525", func(c *Config) string { return fmt.Sprint(c.Notify.SMTPPort) }},
	"smtp-tls":           {"LEDGER_SMTP_TLS", "none", "opportunistic", "none", "opportunistic", func(c *Config) string { return c.Notify.SMTPTLS }},
	"smtp-user":          {"LEDGER_SMTP_USER", "env-user", "flag-user", "env-user", "flag-user", func(c *Config) string { return c.Notify.SMTPUser }},
	"smtp-password":      {"LEDGER_SMTP_PASSWORD", "env-pw", "flag-pw", "env-pw", "flag-pw", func(c *Config) string { return c.Notify.SMTPPassword }},
	"smtp-from":          {"LEDGER_SMTP_FROM", "env@example.fr", "flag@example.fr", "env@example.fr", "flag@example.fr", func(c *Config) string { return c.Notify.SMTPFrom }},
	"smtp-from-name":     {"LEDGER_SMTP_FROM_NAME", "Collège env", "Collège flag", "Collège env", "Collège flag", func(c *Config) string { return c.Notify.SMTPFromName }},
	"sms-url":            {"LEDGER_SMS_URL", "https://sms.env.example", "https://sms.flag.example", "https://sms.env.example", "https://sms.flag.example", func(c *Config) string { return c.Notify.SMSURL }},
	"sms-method":         {"LEDGER_SMS_METHOD", "PUT", "POST", "PUT", "POST", func(c *Config) string { return c.Notify.SMSMethod }},
	"sms-format":         {"LEDGER_SMS_FORMAT", "form", "json", "form", "json", func(c *Config) string { return c.Notify.SMSFormat }},
	"sms-payload":        {"LEDGER_SMS_PAYLOAD", "to={{to}}&text={{text}}", "n={{to}}&t={{text}}", "to={{to}}&text={{text}}", "n={{to}}&t={{text}}", func(c *Config) string { return c.Notify.SMSPayload }},
	"sms-auth-header":    {"LEDGER_SMS_AUTH_HEADER", "X-Env-Key", "X-Flag-Key", "X-Env-Key", "X-Flag-Key", func(c *Config) string { return c.Notify.SMSAuthHeader }},
	"sms-auth":           {"LEDGER_SMS_AUTH", "env-secret", "flag-secret", "env-secret", "flag-secret", func(c *Config) string { return c.Notify.SMSAuth }},
	"portal-url":         {"LEDGER_PORTAL_URL", "https://env.example", "https://flag.example", "https://env.example", "https://flag.example", func(c *Config) string { return c.Notify.PortalURL }},
	"notify-digest-hour": {"LEDGER_NOTIFY_DIGEST_HOUR", "7", "20", "7", "20", func(c *Config) string { return fmt.Sprint(c.Notify.DigestHour) }},
	"notify-outbox":      {"LEDGER_NOTIFY_OUTBOX", "env-outbox", "flag-outbox", "env-outbox", "flag-outbox", func(c *Config) string { return c.Notify.Outbox }},

	// Indicators.
	"small-count": {"LEDGER_SMALL_COUNT", "10", " 3 ", "10", "3", func(c *Config) string { return fmt.Sprint(c.SmallCount) }},
}

// subcommandArgs runs each subcommand as far as its configuration: the
// arguments it needs besides the setting under test.
var subcommandArgs = map[string][]string{
	"serve":            {"serve"},
	"migrate":          {"migrate"},
	"account create":   {"account", "create"},
	"account password": {"account", "password"},
	"import aaf":       {"import", "aaf", "feed-dir"},
	"import csv":       {"import", "csv", "--profile", "student", "students.csv"},
	"simulate":         {"simulate"},
	"rebuild":          {"rebuild"},
	"indicators":       {"indicators"},
	"verify":           {"verify"},
}

// TestFlagBeatsVariable shows, for every setting of every subcommand, the
// variable taking effect alone and the flag beating it.
func TestFlagBeatsVariable(t *testing.T) {
	t.Parallel()
	for name, args := range subcommandArgs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := configOf(t, nil, args...)
			if err != nil {
				t.Fatal(err)
			}
			// The settings are those the subcommand registers.
			var probe Config
			fs := NewMain(io.Discard, io.Discard, nil).newFlagSet(name, &probe, c.scope)
			if len(fs.bound) < 4 {
				t.Fatalf("%s binds %d settings", name, len(fs.bound))
			}
			for _, b := range fs.bound {
				s, ok := settings[b.flag]
				if !ok {
					t.Errorf("--%s (%s) is not in the settings table", b.flag, b.variable)
					continue
				}
				if s.variable != b.variable {
					t.Errorf("--%s is bound to %s, want %s", b.flag, b.variable, s.variable)
					continue
				}
				env := map[string]string{s.variable: s.env}
				c, err := configOf(t, env, args...)
				if err != nil {
					t.Fatalf("%s=%q: %v", s.variable, s.env, err)
				}
				if got := s.get(c); got != s.envWant {
					t.Errorf("%s=%q alone gives %q, want %q", s.variable, s.env, got, s.envWant)
				}
				withFlag := append(append([]string(nil), args...), "--"+b.flag+"="+s.flag)
				c, err = configOf(t, env, withFlag...)
				if err != nil {
					t.Fatalf("%v with %s=%q: %v", withFlag, s.variable, s.env, err)
				}
				if got := s.get(c); got != s.flagOK {
					t.Errorf("--%s=%s with %s=%q gives %q, want the flag's %q", b.flag, s.flag, s.variable, s.env, got, s.flagOK)
				}
			}
		})
	}
}

// TestBusDatabaseFollowsStore: the postgres bus uses the store's database
// when none is given, the store as the flags and variables resolve it.
func TestBusDatabaseFollowsStore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		dsn     string
		wantErr string
	}{
		{name: "store variable", env: map[string]string{"LEDGER_STORE": "postgres://env/db", "LEDGER_BUS": "postgres"}, dsn: "postgres://env/db"},
		{name: "store flag", args: []string{"--store", "postgres://flag/db", "--bus", "postgres"}, dsn: "postgres://flag/db"},
		{name: "store flag beats store variable", env: map[string]string{"LEDGER_STORE": "postgres://env/db", "LEDGER_BUS": "postgres"},
			args: []string{"--store", "postgres://flag/db"}, dsn: "postgres://flag/db"},
		{name: "sqlite store flag beats a postgres store variable", env: map[string]string{"LEDGER_STORE": "postgres://env/db", "LEDGER_BUS": "postgres"},
			args: []string{"--store", "sqlite:flag.db"}, wantErr: "needs --bus-postgres"},
		{name: "bus database variable beats the store", env: map[string]string{"LEDGER_BUS_POSTGRES": "postgres://bus/db", "LEDGER_BUS": "postgres"},
			args: []string{"--store", "postgres://flag/db"}, dsn: "postgres://bus/db"},
		{name: "bus database flag beats its variable and the store", env: map[string]string{"LEDGER_BUS_POSTGRES": "postgres://bus-env/db", "LEDGER_STORE": "postgres://env/db"},
			args: []string{"--bus", "postgres", "--bus-postgres", "postgres://bus-flag/db"}, dsn: "postgres://bus-flag/db"},
		{name: "gochannel bus keeps the store's database for nothing", env: map[string]string{"LEDGER_STORE": "postgres://env/db"}, dsn: "postgres://env/db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := configOf(t, tc.env, append([]string{"serve"}, tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Bus.PostgresDSN != tc.dsn {
				t.Fatalf("bus database %q, want %q", c.Bus.PostgresDSN, tc.dsn)
			}
		})
	}
}

// TestAdminAddrImpliesMetrics: an admin listener exists to serve the
// metrics, so setting it turns them on, from its flag or its variable.
func TestAdminAddrImpliesMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want bool
	}{
		{"neither", nil, nil, false},
		{"admin flag", nil, []string{"--admin-addr", "127.0.0.1:9090"}, true},
		{"admin variable", map[string]string{"LEDGER_ADMIN_ADDR": "127.0.0.1:9090"}, nil, true},
		{"admin variable beats metrics off", map[string]string{"LEDGER_ADMIN_ADDR": "127.0.0.1:9090", "LEDGER_METRICS": "off"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := configOf(t, tc.env, append([]string{"serve"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if c.Metrics != tc.want {
				t.Errorf("metrics %v, want %v", c.Metrics, tc.want)
			}
		})
	}
}

// TestBooleanSpellings: the usual spellings in any case, from a variable or
// a flag; anything else stops the program naming the variable and the
// spellings.
func TestBooleanSpellings(t *testing.T) {
	t.Parallel()
	accepted := map[string]bool{
		"1": true, "true": true, "TRUE": true, "True": true, "yes": true, "Yes": true, "on": true, "ON": true,
		"0": false, "false": false, "FALSE": false, "no": false, "NO": false, "off": false, "Off": false,
	}
	for _, b := range []struct {
		flag, variable string
		get            func(*Config) bool
	}{
		{"demo", "LEDGER_DEMO", func(c *Config) bool { return c.Demo }},
		{"secure-cookies", "LEDGER_SECURE_COOKIES", func(c *Config) bool { return c.SecureCookies }},
		{"metrics", "LEDGER_METRICS", func(c *Config) bool { return c.Metrics }},
	} {
		t.Run(b.variable, func(t *testing.T) {
			t.Parallel()
			for spelling, want := range accepted {
				c, err := configOf(t, map[string]string{b.variable: spelling}, "serve")
				if err != nil {
					t.Fatalf("%s=%s: %v", b.variable, spelling, err)
				}
				if b.get(c) != want {
					t.Errorf("%s=%s gives %v", b.variable, spelling, b.get(c))
				}
				c, err = configOf(t, nil, "serve", "--"+b.flag+"="+spelling)
				if err != nil {
					t.Fatalf("--%s=%s: %v", b.flag, spelling, err)
				}
				if b.get(c) != want {
					t.Errorf("--%s=%s gives %v", b.flag, spelling, b.get(c))
				}
			}
			if c, err := configOf(t, nil, "serve", "--"+b.flag); err != nil || !b.get(c) {
				t.Errorf("--%s alone: %v", b.flag, err)
			}
			for _, bad := range []string{"2", "maybe", "y", "n", "tru", "oui", " "} {
				_, err := configOf(t, map[string]string{b.variable: bad}, "serve")
				if err == nil {
					t.Errorf("%s=%q accepted", b.variable, bad)
					continue
				}
				for _, want := range []string{b.variable, "1/0, true/false, yes/no or on/off"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s=%q: error %q does not say %q", b.variable, bad, err, want)
					}
				}
				if _, err := configOf(t, nil, "serve", "--"+b.flag+"="+bad); err == nil {
					t.Errorf("--%s=%q accepted", b.flag, bad)
				}
			}
		})
	}
}

// TestBadValuesStop: a variable that does not parse stops the program with
// its name, even when it is not a boolean.
func TestBadValuesStop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args     []string
		variable string
		value    string
	}{
		{[]string{"serve"}, "LEDGER_SEAL_EVERY", "often"},
		{[]string{"serve"}, "LEDGER_ACT_WINDOW", "1"},
		{[]string{"serve"}, "LEDGER_ACT_WINDOW", "-1,0"},
		{[]string{"import", "aaf", "dir"}, "LEDGER_PLAN_WINDOW", "1,100"},
		{[]string{"serve"}, "LEDGER_PLAN_WINDOW", "one,two"},
		{[]string{"serve"}, "LEDGER_REQUEST_TIMEOUT", "soon"},
		{[]string{"serve"}, "LEDGER_LONG_REQUEST_TIMEOUT", "later"},
		{[]string{"serve"}, "LEDGER_BUS", "kafka"},
		{[]string{"serve"}, "LEDGER_COMMAND_CACHE", "-5"},
		{[]string{"serve"}, "LEDGER_TRUSTED_PROXIES", "proxy.example"},
		{[]string{"serve"}, "LEDGER_BUS_RETENTION", "a while"},
		{[]string{"serve"}, "LEDGER_DEPLOYMENT", "two\nlines"},
		{[]string{"serve"}, "LEDGER_MAX_IMPORT_BYTES", "-1"},
		{[]string{"serve"}, "LEDGER_IMPORT_MAX_REJECTED", "150%"},
		{[]string{"serve"}, "LEDGER_IMPORT_GRACE", "a month"},
		{[]string{"serve"}, "LEDGER_START_TIMEOUT", "soon"},
		{[]string{"import", "aaf", "dir"}, "LEDGER_IMPORT_GRACE", "a month"},
		{[]string{"import", "aaf", "dir"}, "LEDGER_IMPORT_MAX_REJECTED", "150%"},
		{[]string{"import", "aaf", "dir"}, "LEDGER_IMPORT_MAX_SKIPPED", "-5%"},
		{[]string{"serve"}, "LEDGER_IMPORT_MAX_CHANGES", "lots"},
		{[]string{"import", "csv", "--profile", "student", "s.csv"}, "LEDGER_IMPORT_GUARD_MIN", "-1"},
		{[]string{"import", "aaf", "dir"}, "LEDGER_MAX_IMPORT_BYTES", "0"},
		{[]string{"import", "aaf", "--watch", "dir"}, "LEDGER_IMPORT_WATCH_SETTLE", "a while"},
		{[]string{"import", "aaf", "--watch", "dir"}, "LEDGER_IMPORT_WATCH_INTERVAL", "often"},
	} {
		var stderr bytes.Buffer
		m := NewMain(io.Discard, &stderr, func(k string) string {
			if k == tc.variable {
				return tc.value
			}
			return ""
		})
		m.configured = func(string, *Config) error { return errConfigured }
		err := m.Run(context.Background(), tc.args)
		if err == nil || errors.Is(err, errConfigured) || !strings.Contains(err.Error(), tc.variable) {
			t.Errorf("ledger %v with %s=%q: %v, want an error naming %s", tc.args, tc.variable, tc.value, err, tc.variable)
		}
	}
}

// TestRequestTimeoutsValidated: deadlines are positive, and the long one,
// of uploads and exports, is not shorter than the ordinary one.
func TestRequestTimeoutsValidated(t *testing.T) {
	t.Parallel()
	c, err := configOf(t, nil, "serve")
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeouts.Request != web.DefaultRequestTimeout || c.Timeouts.Long != web.DefaultLongRequestTimeout {
		t.Errorf("default timeouts %+v", c.Timeouts)
	}
	for _, args := range [][]string{
		{"--request-timeout", "0"},
		{"--request-timeout", "-5s"},
		{"--long-request-timeout", "0s"},
		{"--request-timeout", "2m", "--long-request-timeout", "1m"},
	} {
		if _, err := configOf(t, nil, append([]string{"serve"}, args...)...); err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("serve %v: %v, want a refused timeout", args, err)
		}
	}
}
