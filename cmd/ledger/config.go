package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Config is the configuration shared by the subcommands, parsed once from
// flags and LEDGER_* environment variables (flags win).
type Config struct {
	// Store is where the log lives: sqlite:PATH, postgres://... or
	// esdb://... (esdb+discover:// for a cluster).
	Store string
	// ReadModels is where the read models live when not beside the log:
	// sqlite:PATH or postgres://... (required with esdb).
	ReadModels string
	// Addr is the server's listen address.
	Addr string
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration
	// SealEvery is how often the server seals the log (0: never).
	SealEvery time.Duration
	// SecureCookies marks session cookies Secure (serving behind TLS).
	SecureCookies bool
	// AllowedOrigins lists the origins whose pages may open a live socket
	// (empty: the server's own host).
	AllowedOrigins []string
	// LogLevel is debug, info, warn or error; LogFormat text or json.
	LogLevel, LogFormat string

	// envErrs holds environment values that did not parse.
	envErrs []error
}

// envDuration reads a duration variable, remembering a bad value for
// Validate.
func (c *Config) envDuration(getenv func(string) string, name string, def time.Duration) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q is not a duration (like 15s or 10m)", name, v))
		return def
	}
	return d
}

// DefaultStore is the embedded default store.
const DefaultStore = "sqlite:ledger.db"

// flags registers the shared flags on fs, with defaults taken from the
// environment.
func (c *Config) flags(fs *flag.FlagSet, getenv func(string) string, serve bool) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Store, "store", env("LEDGER_STORE", DefaultStore), "event store: sqlite:PATH, postgres://... or esdb://host:2113?tls=false (LEDGER_STORE)")
	fs.StringVar(&c.ReadModels, "readmodels", env("LEDGER_READMODELS", ""), "read-model store when not the event store's database: sqlite:PATH or postgres://... (LEDGER_READMODELS)")
	fs.StringVar(&c.LogLevel, "log-level", env("LEDGER_LOG_LEVEL", "info"), "log level: debug, info, warn, error (LEDGER_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("LEDGER_LOG_FORMAT", "text"), "log format: text or json (LEDGER_LOG_FORMAT)")
	if serve {
		fs.StringVar(&c.Addr, "addr", env("LEDGER_ADDR", ":8080"), "listen address (LEDGER_ADDR)")
		c.ShutdownTimeout = c.envDuration(getenv, "LEDGER_SHUTDOWN_TIMEOUT", 15*time.Second)
		fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown limit (LEDGER_SHUTDOWN_TIMEOUT)")
		c.SealEvery = c.envDuration(getenv, "LEDGER_SEAL_EVERY", 10*time.Minute)
		fs.Func("allowed-origin", "an origin (https://ent.example.fr) whose pages may open live sockets; repeatable (LEDGER_ALLOWED_ORIGINS, comma-separated)", func(v string) error {
			c.AllowedOrigins = append(c.AllowedOrigins, v)
			return nil
		})
		if v := getenv("LEDGER_ALLOWED_ORIGINS"); v != "" {
			c.AllowedOrigins = strings.Split(v, ",")
		}
		fs.BoolVar(&c.SecureCookies, "secure-cookies", getenv("LEDGER_SECURE_COOKIES") == "true", "mark session cookies Secure, behind TLS (LEDGER_SECURE_COOKIES=true)")
		fs.DurationVar(&c.SealEvery, "seal-every", c.SealEvery, "how often the server seals the log, 0 to never (LEDGER_SEAL_EVERY)")
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	errs := append([]error(nil), c.envErrs...)
	kind, _, err := parseStore(c.Store)
	if err != nil {
		errs = append(errs, err)
	}
	if kind == storeESDB && c.ReadModels == "" {
		errs = append(errs, errors.New("an esdb:// store needs --readmodels sqlite:PATH or postgres://..."))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log format %q is not text or json", c.LogFormat))
	}
	if c.SealEvery < 0 {
		errs = append(errs, fmt.Errorf("seal interval %s is negative", c.SealEvery))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout %s is negative", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// storeKind is the kind of event store a --store value names.
type storeKind string

const (
	storeSQLite   storeKind = "sqlite"
	storePostgres storeKind = "postgres"
	storeESDB     storeKind = "esdb"
)

// parseStore splits a --store value into its kind and location.
func parseStore(s string) (storeKind, string, error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(s, "sqlite:")
		if path == "" {
			return "", "", errors.New("store sqlite: needs a path (sqlite:ledger.db)")
		}
		return storeSQLite, path, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return storePostgres, s, nil
	case strings.HasPrefix(s, "esdb://"), strings.HasPrefix(s, "esdb+discover://"):
		return storeESDB, s, nil
	}
	return "", "", fmt.Errorf("store %q is not sqlite:PATH, postgres://... or esdb://...", s)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q is not debug, info, warn or error", s)
	}
	return l, nil
}

// logger builds the program's logger.
func (c *Config) logger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parse parses args into c and validates it. Positional arguments are
// refused unless rest is given to receive them.
func (m *Main) parse(c *Config, name string, args []string, serve bool, extra func(fs *flag.FlagSet), rest ...*[]string) error {
	fs := flag.NewFlagSet("ledger "+name, flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	c.flags(fs, m.getenv, serve)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if len(rest) > 0 {
		*rest[0] = fs.Args()
	} else if fs.NArg() > 0 {
		return fmt.Errorf("ledger %s: unexpected arguments %q", name, fs.Args())
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("ledger %s: %w", name, err)
	}
	return nil
}
