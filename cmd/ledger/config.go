package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/casserver"
	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Config is the configuration of a subcommand, parsed once from its flags
// and LEDGER_* variables: a flag given on the command line beats its
// variable, and a value that does not parse stops the program. Adapters
// receive these values; none reads the environment.
type Config struct {
	// Store is where the log lives: sqlite:PATH, postgres://... or
	// esdb://... (esdb+discover:// for a cluster).
	Store string
	// ReadModels is where the read models live when not beside the log:
	// sqlite:PATH or postgres://... (required with esdb).
	ReadModels string
	// LogLevel is debug, info, warn or error; LogFormat text or json.
	LogLevel, LogFormat string
	// ActWindow and PlanWindow bound the dates commands take, in school
	// years before and after the current one (docs/api.md, "Dates").
	ActWindow, PlanWindow domain.DateWindow
	// CommandCache bounds the decoded events the command handlers keep
	// from the streams they read last (0: none).
	CommandCache int

	// Addr is the server's listen address.
	Addr string
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration
	// CASTicketLifetime is how long a CAS service ticket waits for its
	// validation (docs/sso.md).
	CASTicketLifetime time.Duration
	// StartTimeout bounds how long serve waits at start for stores that
	// are unavailable (refusing connections, out of slots): it retries
	// with a growing wait until then (0: it does not wait).
	StartTimeout time.Duration
	// SealEvery is how often the server seals the log (0: never).
	SealEvery time.Duration
	// SecureCookies marks session cookies Secure (serving behind TLS).
	SecureCookies bool
	// AllowedOrigins lists the origins whose pages may open a live socket
	// (empty: the server's own host).
	AllowedOrigins []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (addresses or CIDR prefixes; none by default).
	TrustedProxies []string
	// Demo seeds the demo establishment when serving.
	Demo bool
	// OIDCProvider makes the ledger the OpenID provider of the school's
	// services (on with Demo); OIDCIssuer is its public URL. Its clients
	// are the registry's (docs/sso.md).
	OIDCProvider bool
	OIDCIssuer   string
	// SSO is the single sign-on configuration file (docs/sso.md);
	// sso is what it says, once read and checked.
	SSO string
	sso *ssoConfig
	// Metrics serves the Prometheus metrics at /metrics: on AdminAddr when
	// it is set (which implies Metrics), else on Addr.
	Metrics   bool
	AdminAddr string
	// AccessLog writes one line per request to the log (on by default:
	// operations.md, "Access log").
	AccessLog bool
	// Retention runs `ledger retention apply` (without its compaction)
	// every night at RetentionHour, school time (on by default:
	// docs/privacy.md, "Retention").
	Retention     bool
	RetentionHour int
	// Bus carries live updates between the server's nodes. Its database is
	// the store's when the store is Postgres and none is given. Its
	// deployment, when not given, is named by serve after the read
	// models' database (deployment.go).
	Bus bus.Config

	// Import holds the settings of directory imports: `ledger import`'s,
	// and the defaults of the feeds uploaded to the server.
	Import ImportConfig

	// Timeouts are the deadlines of the server's requests: ordinary ones,
	// and uploads and exports.
	Timeouts web.Timeouts

	// Notify configures the channels that reach families outside the
	// portal (notify.go); all off unless configured.
	Notify NotifyConfig

	// SmallCount is the smallest count of school-life acts the evaluators'
	// indicators show: smaller ones are hidden (docs/privacy.md, "Small
	// counts"); 1 hides nothing.
	SmallCount int

	scope scope
}

// ImportConfig holds the settings of directory imports.
type ImportConfig struct {
	// Grace is how long an account missing from full feeds stays open.
	Grace time.Duration
	// MaxRejected is the share of malformed records above which a feed is
	// refused whole.
	MaxRejected float64
	// MaxBytes bounds a feed uploaded to the server, and what the archives
	// of one import may hold uncompressed.
	MaxBytes int64
	// MaxSkipped, MaxChanges and GuardMin set the guards (guardFlags).
	MaxSkipped, MaxChanges float64
	GuardMin               int
	// WatchSettle is how long a delivery stays unchanged before
	// `ledger import --watch` takes it; WatchInterval how often it looks.
	WatchSettle, WatchInterval time.Duration
}

// Options returns the import options the settings give.
func (c ImportConfig) Options() directoryimport.Options {
	o := directoryimport.DefaultOptions()
	o.Grace, o.MaxRejected = c.Grace, c.MaxRejected
	o.MaxSkipped, o.MaxChanges, o.GuardMin = c.MaxSkipped, c.MaxChanges, c.GuardMin
	if c.MaxBytes > 0 {
		o.MaxArchiveBytes = c.MaxBytes
	}
	return o
}

// guardFlags registers the settings of the directory import guards:
// `ledger import --max-skipped...`, and as serve's defaults of uploaded
// feeds, `--import-max-skipped...` (prefix "import-"). One variable each
// sets both.
func (c *ImportConfig) guardFlags(fs *flagSet, prefix string) {
	fs.share(&c.MaxSkipped, prefix+"max-skipped", "LEDGER_IMPORT_MAX_SKIPPED", directoryimport.DefaultMaxSkipped,
		"refuse a feed that would leave out more than this share of its people (of one file, or of the feed), unless forced: 5% or 0.05")
	fs.share(&c.MaxChanges, prefix+"max-changes", "LEDGER_IMPORT_MAX_CHANGES", directoryimport.DefaultMaxChanges,
		"refuse a feed that would rename, flag missing or close more than this share of the existing accounts it covers, unless forced: 10% or 0.1")
	c.GuardMin = directoryimport.DefaultGuardMin
	parse := func(s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a count such as 0 or 10", s)
		}
		return n, nil
	}
	fs.bind(&value[int]{p: &c.GuardMin, parse: parse, format: strconv.Itoa}, prefix+"guard-min", "LEDGER_IMPORT_GUARD_MIN",
		"the skip and mass-change guards trip only from this many people or accounts (a feed leaving out everyone always trips)", false)
}

// scope says which settings a subcommand takes besides the shared ones.
type scope int

const (
	scopeShared scope = iota
	scopeServe
	scopeImport
)

// DefaultStore is the embedded default store.
const DefaultStore = "sqlite:ledger.db"

// DefaultStartTimeout is how long serve waits at start for unavailable
// stores: long enough for a database restarted beside it (a container
// started at the same time, a failover), short enough that a wrong host
// shows soon.
const DefaultStartTimeout = 2 * time.Minute

// flags registers the settings of scope on fs.
func (c *Config) flags(fs *flagSet, sc scope) {
	c.scope = sc
	fs.string(&c.Store, "store", "LEDGER_STORE", DefaultStore, "event store: sqlite:PATH, postgres://... or esdb://host:2113?tls=false")
	fs.string(&c.ReadModels, "readmodels", "LEDGER_READMODELS", "", "read-model store when not the event store's database: sqlite:PATH or postgres://...")
	fs.string(&c.LogLevel, "log-level", "LEDGER_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	fs.string(&c.LogFormat, "log-format", "LEDGER_LOG_FORMAT", "text", "log format: text or json")
	fs.window(&c.ActWindow, "act-window", "LEDGER_ACT_WINDOW", domain.DefaultActsWindow, "school years before and after the current one that roll calls, sanctions and incidents may be dated in: BEFORE,AFTER")
	fs.window(&c.PlanWindow, "plan-window", "LEDGER_PLAN_WINDOW", domain.DefaultPlansWindow, "school years before and after the current one that homework, timetables, bookings and publications may be dated in: BEFORE,AFTER")
	switch sc {
	case scopeServe:
		fs.string(&c.Addr, "addr", "LEDGER_ADDR", ":8080", "listen address")
		fs.count(&c.CommandCache, "command-cache", "LEDGER_COMMAND_CACHE", commands.DefaultCacheEvents, "decoded events the command handlers keep from the streams they read last, 0 for none")
		fs.duration(&c.ShutdownTimeout, "shutdown-timeout", "LEDGER_SHUTDOWN_TIMEOUT", 15*time.Second, "graceful shutdown limit")
		fs.duration(&c.StartTimeout, "start-timeout", "LEDGER_START_TIMEOUT", DefaultStartTimeout, "how long to wait at start for unavailable stores, retrying (0: do not wait)")
		fs.duration(&c.SealEvery, "seal-every", "LEDGER_SEAL_EVERY", 10*time.Minute, "how often the server seals the log, 0 to never")
		fs.boolean(&c.SecureCookies, "secure-cookies", "LEDGER_SECURE_COOKIES", "mark session cookies Secure, behind TLS")
		fs.proxies(&c.TrustedProxies, "trusted-proxy", "LEDGER_TRUSTED_PROXIES", "a reverse proxy (10.0.0.5 or 10.0.0.0/8) whose X-Forwarded-For names the client, for sign-in throttling; repeatable (comma-separated in the variable)")
		fs.list(&c.AllowedOrigins, "allowed-origin", "LEDGER_ALLOWED_ORIGINS", "an origin (https://ent.example.fr) whose pages may open live sockets; repeatable (comma-separated in the variable)")
		fs.boolean(&c.Demo, "demo", "LEDGER_DEMO", "seed a demo establishment whose accounts can sign in at once")
		fs.boolean(&c.OIDCProvider, "oidc-provider", "LEDGER_OIDC_PROVIDER", "be the OpenID provider of the school's services at /.well-known/openid-configuration and /oidc/ (on with --demo)")
		fs.string(&c.OIDCIssuer, "oidc-issuer", "LEDGER_OIDC_ISSUER", "", "the OpenID provider's issuer: the ledger's public https URL, without path (with --demo: the host each request comes to)")
		fs.string(&c.SSO, "sso", "LEDGER_SSO", "", "single sign-on configuration file, YAML or JSON: identity providers and the service provider's key (docs/sso.md)")
		fs.boolean(&c.Metrics, "metrics", "LEDGER_METRICS", "serve Prometheus metrics at /metrics, on the listen address unless --admin-addr is set")
		fs.string(&c.AdminAddr, "admin-addr", "LEDGER_ADMIN_ADDR", "", "a second listen address, for /metrics and /readyz only (implies --metrics; then /metrics is not on --addr)")
		c.AccessLog = true
		fs.boolean(&c.AccessLog, "access-log", "LEDGER_ACCESS_LOG", "log one line per request: method, route, status, duration, bytes, account id, request and correlation ids (default true; --access-log=false to turn off)")
		c.Retention = true
		fs.boolean(&c.Retention, "retention", "LEDGER_RETENTION", "expire the personal data past its retention every night, as 'ledger retention apply' without the compaction (default true; --retention=false to turn off)")
		fs.count(&c.RetentionHour, "retention-hour", "LEDGER_RETENTION_HOUR", 3, "the hour (0 to 23, school time) retention runs at")
		fs.choice(&c.Bus.Kind, "bus", "LEDGER_BUS", bus.GoChannel, "live-update transport between nodes", bus.GoChannel, bus.Postgres, bus.NATS)
		fs.string(&c.Bus.PostgresDSN, "bus-postgres", "LEDGER_BUS_POSTGRES", "", "database of the postgres bus (default: the store's, when it is postgres://...)")
		fs.string(&c.Bus.NATSURL, "nats-url", "LEDGER_NATS_URL", bus.DefaultNATSURL, "NATS server of the nats bus")
		fs.string(&c.Bus.Node, "node", "LEDGER_NODE", "", "this node's name on the bus, unique among the running nodes (default host-pid-random)")
		fs.deployment(&c.Bus.Deployment, "deployment", "LEDGER_DEPLOYMENT", "this deployment's name, the same on all its nodes: the bus's subjects, stream and tables are named after it (default: after the read models' database)")
		fs.duration(&c.Bus.Retention, "bus-retention", "LEDGER_BUS_RETENTION", bus.DefaultRetention, "how long the bus keeps a message")
		fs.days(&c.Import.Grace, "import-grace", "LEDGER_IMPORT_GRACE", directoryimport.DefaultGrace, "grace period of uploaded directory feeds: 30d, 72h...")
		fs.share(&c.Import.MaxRejected, "import-max-rejected", "LEDGER_IMPORT_MAX_REJECTED", directoryimport.DefaultMaxRejected, "share of malformed records above which an uploaded feed is refused: 5% or 0.05")
		fs.bytes(&c.Import.MaxBytes, "max-import-bytes", "LEDGER_MAX_IMPORT_BYTES", web.DefaultMaxImportBytes, "largest directory feed upload, in bytes")
		c.Import.guardFlags(fs, "import-")
		fs.duration(&c.Timeouts.Request, "request-timeout", "LEDGER_REQUEST_TIMEOUT", web.DefaultRequestTimeout, "deadline of a request (uploads, exports and live sockets excepted): past it the request stops and answers 503")
		fs.count(&c.SmallCount, "small-count", "LEDGER_SMALL_COUNT", projections.DefaultSmallCount, "smallest count of school-life acts the indicators show: smaller ones read \"< N\" (CSV, pages) or null (API); 1 shows every count")
		fs.duration(&c.CASTicketLifetime, "cas-ticket-lifetime", "LEDGER_CAS_TICKET_LIFETIME", casserver.DefaultTicketLifetime, "how long a CAS service ticket may wait for the service to validate it, from 10s to 5m")
		fs.duration(&c.Timeouts.Long, "long-request-timeout", "LEDGER_LONG_REQUEST_TIMEOUT", web.DefaultLongRequestTimeout, "deadline of uploads of directory feeds and of exports")
		c.Notify.flags(fs)
	case scopeImport:
		fs.days(&c.Import.Grace, "grace", "LEDGER_IMPORT_GRACE", directoryimport.DefaultGrace, "how long an account missing from full feeds stays open before it is closed: 30d, 72h...")
		fs.share(&c.Import.MaxRejected, "max-rejected", "LEDGER_IMPORT_MAX_REJECTED", directoryimport.DefaultMaxRejected, "refuse the whole feed when more than this share of records is malformed: 5% or 0.05")
		c.Import.guardFlags(fs, "")
		fs.bytes(&c.Import.MaxBytes, "max-import-bytes", "LEDGER_MAX_IMPORT_BYTES", web.DefaultMaxImportBytes, "largest size of the files of the archives (.zip, .tar.gz) of one import, uncompressed, in bytes")
		fs.duration(&c.Import.WatchSettle, "watch-settle", "LEDGER_IMPORT_WATCH_SETTLE", directoryimport.DefaultWatchSettle, "with --watch: how long a delivery must stay unchanged before it is imported")
		fs.duration(&c.Import.WatchInterval, "watch-interval", "LEDGER_IMPORT_WATCH_INTERVAL", directoryimport.DefaultWatchInterval, "with --watch: how often the directory is looked at")
	}
}

// Validate checks the configuration and completes what follows from it:
// the bus database is the store's unless one is given.
func (c *Config) Validate() error {
	var errs []error
	kind, loc, err := parseStore(c.Store)
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
	if c.StartTimeout < 0 {
		errs = append(errs, fmt.Errorf("start timeout %s is negative", c.StartTimeout))
	}
	if c.scope == scopeServe {
		if c.Bus.PostgresDSN == "" && kind == storePostgres {
			c.Bus.PostgresDSN = loc
		}
		// A copy: the bus's defaults that follow from the deployment (its
		// NATS stream) are filled once serve has named it.
		b := c.Bus
		if c.Bus.Kind == bus.Postgres && c.Bus.PostgresDSN == "" {
			errs = append(errs, errors.New("the postgres bus needs --bus-postgres (LEDGER_BUS_POSTGRES) or a postgres:// store"))
		} else if err := b.Validate(); err != nil {
			errs = append(errs, err)
		}
		if c.AdminAddr != "" {
			c.Metrics = true
		}
		if c.RetentionHour > 23 {
			errs = append(errs, fmt.Errorf("retention hour %d is not an hour from 0 to 23", c.RetentionHour))
		}
		if c.CASTicketLifetime < casserver.MinTicketLifetime || c.CASTicketLifetime > casserver.MaxTicketLifetime {
			errs = append(errs, fmt.Errorf("CAS ticket lifetime %s is not between %s and %s", c.CASTicketLifetime, casserver.MinTicketLifetime, casserver.MaxTicketLifetime))
		}
		if c.Demo {
			c.OIDCProvider = true
		}
		if c.SSO != "" {
			s, err := readSSOFile(c.SSO)
			if err != nil {
				errs = append(errs, err)
			}
			c.sso = s
		}
		if err := c.Notify.check(c.Demo, c.Store); err != nil {
			errs = append(errs, err)
		}
		if c.SmallCount < 1 {
			errs = append(errs, fmt.Errorf("small count %d is not at least 1 (1 shows every count)", c.SmallCount))
		}
		if c.Import.MaxBytes <= 0 {
			errs = append(errs, fmt.Errorf("largest upload %d is not a positive number of bytes", c.Import.MaxBytes))
		}
		if c.Timeouts.Request <= 0 || c.Timeouts.Long <= 0 {
			errs = append(errs, fmt.Errorf("request timeouts %s and %s must be positive", c.Timeouts.Request, c.Timeouts.Long))
		} else if err := c.Timeouts.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.scope == scopeImport {
		if c.Import.MaxBytes <= 0 {
			errs = append(errs, fmt.Errorf("largest import %d is not a positive number of bytes", c.Import.MaxBytes))
		}
		if c.Import.WatchSettle < 0 || c.Import.WatchInterval <= 0 {
			errs = append(errs, fmt.Errorf("watch settle interval %s must not be negative, and poll interval %s must be positive",
				c.Import.WatchSettle, c.Import.WatchInterval))
		}
	}
	if c.scope == scopeServe || c.scope == scopeImport {
		opts := c.Import.Options()
		if err := opts.Validate(); err != nil {
			errs = append(errs, err)
		}
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

// newFlagSet returns the flag set of a subcommand, with the shared settings
// and those of scope registered. Its usage goes to m.flagOut: help asked
// for prints there; a flag error is returned, not printed.
func (m *Main) newFlagSet(name string, c *Config, sc scope) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet("ledger "+name, flag.ContinueOnError)}
	fs.SetOutput(m.flagOutput())
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ledger %s [FLAGS]\n\n", name)
		fs.printFlags()
	}
	c.flags(fs, sc)
	return fs
}

// flagOutput is where flag sets print their usage.
func (m *Main) flagOutput() io.Writer {
	if m.flagOut == nil {
		return io.Discard
	}
	return m.flagOut
}

// printFlags prints the flags and, under them, the LEDGER_* variables
// that set them.
func (fs *flagSet) printFlags() {
	out := fs.Output()
	fmt.Fprintln(out, "flags:")
	fs.PrintDefaults()
	if len(fs.bound) == 0 {
		return
	}
	fmt.Fprintln(out, "\nvariables (a flag not given is read from its variable, when set):")
	seen := map[string]bool{}
	for _, b := range fs.bound {
		if seen[b.variable] {
			continue
		}
		seen[b.variable] = true
		var flags []string
		for _, o := range fs.bound {
			if o.variable == b.variable {
				flags = append(flags, "--"+o.flag)
			}
		}
		fmt.Fprintf(out, "  %-28s %s\n", b.variable, strings.Join(flags, ", "))
	}
}

// configure completes c from the environment and validates it; the
// configured hook, when set, sees the result before the subcommand runs.
func (m *Main) configure(name string, c *Config, fs *flagSet) error {
	err := errors.Join(fs.applyEnv(m.getenv), c.Validate())
	if err != nil {
		return &usageError{cmd: name, err: err}
	}
	if m.configured != nil {
		return m.configured(name, c)
	}
	return nil
}

// parse parses args into c and validates it; serve adds the server's
// settings. Positional arguments are refused unless rest is given to
// receive them.
func (m *Main) parse(c *Config, name string, args []string, serve bool, extra func(fs *flagSet), rest ...*[]string) error {
	sc := scopeShared
	if serve {
		sc = scopeServe
	}
	fs := m.newFlagSet(name, c, sc)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs.FlagSet, name, args); err != nil {
		return err
	}
	if len(rest) > 0 {
		*rest[0] = fs.Args()
	} else if fs.NArg() > 0 {
		return usageErrorf(name, "unexpected arguments %q", fs.Args())
	}
	return m.configure(name, c, fs)
}

// parseFlags parses args with fs, the flags of command cmd: errHelp when
// help was asked for (and printed), a *usageError saying what is wrong
// with a flag.
func parseFlags(fs *flag.FlagSet, cmd string, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	if err != nil {
		msg, _ := flagMessage(fs, err)
		return &usageError{cmd: cmd, err: errors.New(msg)}
	}
	return nil
}

// flagMessage rewrites an error of flag.FlagSet.Parse plainly, naming the
// flag as it is written and what its value should be: "unknown flag
// --x", "--seal-every: "5x" is not a duration such as 5m or 1h". ok is
// false when err is not one. fs, when given, tells the type of a flag of
// the standard library's whose value did not parse.
func flagMessage(fs *flag.FlagSet, err error) (msg string, ok bool) {
	if err == nil {
		return "", false
	}
	msg = err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + strings.TrimPrefix(name, "-"), true
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + strings.TrimPrefix(name, "-") + " needs a value", true
	}
	if arg, ok := strings.CutPrefix(msg, "bad flag syntax: "); ok {
		return fmt.Sprintf("%q is not a flag", arg), true
	}
	// invalid value "V" for flag -NAME: WHY, invalid boolean value "V"
	// for -NAME: WHY.
	rest, ok := strings.CutPrefix(msg, "invalid value ")
	boolean := false
	if !ok {
		if rest, boolean = strings.CutPrefix(msg, "invalid boolean value "); !boolean {
			return msg, false
		}
	}
	quoted, qerr := strconv.QuotedPrefix(rest)
	if qerr != nil {
		return msg, false
	}
	value, _ := strconv.Unquote(quoted)
	rest = strings.TrimPrefix(strings.TrimPrefix(rest[len(quoted):], " for flag -"), " for -")
	name, why, _ := strings.Cut(rest, ": ")
	if why == "parse error" || why == "value out of range" || why == "" {
		why = fmt.Sprintf("%q is not a valid value", value)
		if boolean {
			why = fmt.Sprintf("%q is not a boolean: use true or false", value)
		} else if fs != nil {
			if f := fs.Lookup(name); f != nil {
				why = expected(f, value)
			}
		}
	}
	return "--" + name + ": " + why, true
}

// dateFlag reads the value of flag name of command cmd, a date.
func dateFlag(cmd, name, value string) (domain.Date, error) {
	if value == "" {
		return domain.Date{}, usageErrorf(cmd, "--%s is required: a date such as 2026-09-01", name)
	}
	d, err := domain.ParseDate(value)
	if err != nil {
		return domain.Date{}, usageErrorf(cmd, "--%s: %q is not a date such as 2026-09-01", name, value)
	}
	return d, nil
}

// expected says what a value of flag f should have been, for the flag
// types of the standard library.
func expected(f *flag.Flag, value string) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			return fmt.Sprintf("%q is not a boolean: use true or false", value)
		case int, int64, uint, uint64:
			return fmt.Sprintf("%q is not a whole number such as 4", value)
		case float64:
			return fmt.Sprintf("%q is not a number such as 0.5", value)
		case time.Duration:
			return fmt.Sprintf("%q is not a duration such as 5m or 1h", value)
		}
	}
	return fmt.Sprintf("%q is not a valid value", value)
}

// flagSet is a subcommand's flags, each setting bound to the LEDGER_*
// variable that sets it when its flag is not given.
type flagSet struct {
	*flag.FlagSet
	bound []binding
}

// binding ties a flag to its variable.
type binding struct {
	flag, variable string
	// list: the variable holds comma-separated values, one Set each.
	list bool
}

// bind registers v as flag name, set by variable when the flag is absent.
func (fs *flagSet) bind(v flag.Value, name, variable, usage string, list bool) {
	fs.Var(v, name, usage+" ("+variable+")")
	fs.bound = append(fs.bound, binding{flag: name, variable: variable, list: list})
}

// applyEnv sets every bound flag that the command line did not give from
// its variable, when that is set. Errors name the variable.
func (fs *flagSet) applyEnv(getenv func(string) string) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, b := range fs.bound {
		v := getenv(b.variable)
		if given[b.flag] || v == "" {
			continue
		}
		values := []string{v}
		if b.list {
			values = nil
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					values = append(values, s)
				}
			}
		}
		for _, s := range values {
			if err := fs.Set(b.flag, s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", b.variable, err))
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (fs *flagSet) string(p *string, name, variable, def, usage string) {
	*p = def
	fs.bind(&value[string]{p: p, parse: func(s string) (string, error) { return s, nil }, format: func(s string) string { return s }}, name, variable, usage, false)
}

func (fs *flagSet) deployment(p *string, name, variable, usage string) {
	parse := func(s string) (string, error) { return s, bus.CheckDeployment(s) }
	fs.bind(&value[string]{p: p, parse: parse, format: func(s string) string { return s }}, name, variable, usage, false)
}

func (fs *flagSet) duration(p *time.Duration, name, variable string, def time.Duration, usage string) {
	*p = def
	fs.bind(&value[time.Duration]{p: p, parse: parseDuration, format: time.Duration.String}, name, variable, usage, false)
}

func (fs *flagSet) days(p *time.Duration, name, variable string, def time.Duration, usage string) {
	*p = def
	fs.bind(&value[time.Duration]{p: p, parse: parseDays, format: formatDays}, name, variable, usage, false)
}

func (fs *flagSet) share(p *float64, name, variable string, def float64, usage string) {
	*p = def
	fs.bind(&value[float64]{p: p, parse: directoryimport.ParseShare, format: func(f float64) string { return strconv.FormatFloat(100*f, 'g', -1, 64) + "%" }}, name, variable, usage, false)
}

func (fs *flagSet) bytes(p *int64, name, variable string, def int64, usage string) {
	*p = def
	fs.bind(&value[int64]{p: p, parse: parseBytes, format: func(n int64) string { return strconv.FormatInt(n, 10) }}, name, variable, usage, false)
}

func (fs *flagSet) window(p *domain.DateWindow, name, variable string, def domain.DateWindow, usage string) {
	*p = def
	format := func(w domain.DateWindow) string { return strconv.Itoa(w.Before) + "," + strconv.Itoa(w.After) }
	fs.bind(&value[domain.DateWindow]{p: p, parse: parseWindow, format: format}, name, variable, usage, false)
}

func (fs *flagSet) boolean(p *bool, name, variable, usage string) {
	fs.bind(boolValue{p}, name, variable, usage, false)
}

func (fs *flagSet) choice(p *string, name, variable, def, usage string, choices ...string) {
	*p = def
	parse := func(s string) (string, error) {
		for _, c := range choices {
			if s == c {
				return s, nil
			}
		}
		return "", fmt.Errorf("%q is not %s", s, orList(choices))
	}
	fs.bind(&value[string]{p: p, parse: parse, format: func(s string) string { return s }}, name, variable, usage+": "+orList(choices), false)
}

func (fs *flagSet) list(p *[]string, name, variable, usage string) {
	parse := func(s string) ([]string, error) { return append(*p, s), nil }
	fs.bind(&value[[]string]{p: p, parse: parse, format: func(l []string) string { return strings.Join(l, ",") }}, name, variable, usage, true)
}

// proxies is a list of addresses and CIDR prefixes, each checked as read.
func (fs *flagSet) proxies(p *[]string, name, variable, usage string) {
	parse := func(s string) ([]string, error) {
		if _, err := web.ParseTrustedProxies([]string{s}); err != nil {
			return nil, err
		}
		return append(*p, strings.TrimSpace(s)), nil
	}
	fs.bind(&value[[]string]{p: p, parse: parse, format: func(l []string) string { return strings.Join(l, ",") }}, name, variable, usage, true)
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// value is a flag.Value of type T.
type value[T any] struct {
	p      *T
	parse  func(string) (T, error)
	format func(T) string
}

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.p = x
	return nil
}

func (v *value[T]) String() string {
	// flag.PrintDefaults calls String on a zero value.
	if v == nil || v.p == nil {
		return ""
	}
	return v.format(*v.p)
}

// boolValue is a boolean flag that takes the usual spellings.
type boolValue struct{ p *bool }

func (b boolValue) Set(s string) error {
	v, err := parseBool(s)
	if err != nil {
		return err
	}
	*b.p = v
	return nil
}

func (b boolValue) String() string {
	if b.p == nil {
		return "false"
	}
	return strconv.FormatBool(*b.p)
}

// IsBoolFlag lets --demo stand for --demo=true.
func (b boolValue) IsBoolFlag() bool { return true }

// parseBool reads 1/0, true/false, yes/no or on/off, in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: use 1/0, true/false, yes/no or on/off", s)
}

// parseDuration reads a duration (15s, 10m).
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 5m or 1h", s)
	}
	return d, nil
}

// parseDays reads a duration, with "d" for days (30d).
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a number of days or a duration such as 30d or 72h", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a number of days or a duration such as 30d or 72h", s)
	}
	return d, nil
}

// formatDays writes a whole number of days as 30d.
func formatDays(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// parseWindow reads a date window, BEFORE,AFTER in school years (1,0).
func parseWindow(s string) (domain.DateWindow, error) {
	before, after, ok := strings.Cut(s, ",")
	b, berr := strconv.Atoi(strings.TrimSpace(before))
	a, aerr := strconv.Atoi(strings.TrimSpace(after))
	w := domain.DateWindow{Before: b, After: a}
	// Ten years either way is already more than any school keeps open.
	if !ok || berr != nil || aerr != nil || w.Validate() != nil || b > 10 || a > 10 {
		return domain.DateWindow{}, fmt.Errorf("date window %q is not BEFORE,AFTER: school years from 0 to 10 (like 1,0)", s)
	}
	return w, nil
}

// commandsConfig returns the command handlers' configuration over store.
func (c *Config) commandsConfig(store commands.EventStore, reg *domain.Registry, log *slog.Logger) commands.Config {
	acts, plans := c.ActWindow, c.PlanWindow
	cache := c.CommandCache
	if cache == 0 {
		cache = -1 // commands.Config: negative is none, 0 the default
	}
	if c.scope != scopeServe {
		cache = 0 // one-shot commands: the default
	}
	return commands.Config{Store: store, Registry: reg, Logger: log, ActWindow: &acts, PlanWindow: &plans, CacheEvents: cache}
}

func (fs *flagSet) count(p *int, name, variable string, def int, usage string) {
	*p = def
	parse := func(s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a count such as 0 or 1000", s)
		}
		return n, nil
	}
	fs.bind(&value[int]{p: p, parse: parse, format: strconv.Itoa}, name, variable, usage, false)
}

// parseBytes reads a positive number of bytes.
func parseBytes(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive number of bytes such as 33554432", s)
	}
	return n, nil
}
