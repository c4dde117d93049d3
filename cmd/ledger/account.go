package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

const accountUsage = `usage:
  ledger account create --establishment UAI --profile PROFILE [--function F] --name "Display Name"
                        --login LOGIN (--password-stdin | --password-file FILE) [--id UUID]
  ledger account password --login LOGIN [--id UUID] (--password-stdin | --password-file FILE)

create opens an account in the directory and gives it a login and password,
so that its user can sign in at once; it prints the account id. password
sets a new password for a login (ending the account's sessions); with --id
it sets the login and password of that account, replacing its login.

Passwords are read from standard input or a file (first line), never from a
flag, which any user could read in the process list. At least 10
characters.`

// account runs "ledger account create|password".
func (m *Main) account(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(m.stderr, accountUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "create":
		return m.accountCreate(ctx, args[1:])
	case "password":
		return m.accountPassword(ctx, args[1:])
	}
	fmt.Fprintln(m.stderr, accountUsage)
	return fmt.Errorf("ledger account: unknown command %q", args[0])
}

// passwordSource is where a command reads a password from.
type passwordSource struct {
	stdin bool
	file  string
}

func (p *passwordSource) flags(fs *flag.FlagSet) {
	fs.BoolVar(&p.stdin, "password-stdin", false, "read the password from standard input (its first line)")
	fs.StringVar(&p.file, "password-file", "", "read the password from the first line of `FILE`")
}

// read returns the first line of the chosen source, without its line end.
func (p *passwordSource) read(stdin io.Reader) (string, error) {
	var r io.Reader
	switch {
	case p.stdin && p.file != "":
		return "", domain.Errorf(domain.ErrInvalid, "give --password-stdin or --password-file, not both")
	case p.stdin:
		r = stdin
	case p.file != "":
		f, err := os.Open(p.file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		defer f.Close()
		r = f
	default:
		return "", domain.Errorf(domain.ErrInvalid, "no password: give --password-stdin or --password-file (never on the command line)")
	}
	// Enough for the longest password allowed and its line end.
	b, err := io.ReadAll(io.LimitReader(r, auth.MaxPasswordBytes+3))
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	line, _, found := bytes.Cut(b, []byte("\n"))
	if !found && len(b) > auth.MaxPasswordBytes {
		return "", domain.Errorf(auth.ErrPasswordPolicy, "at most %d bytes", auth.MaxPasswordBytes)
	}
	return string(bytes.TrimSuffix(line, []byte("\r"))), nil
}

// openAuth returns the sign-in service. Credentials belong with the log,
// not with the read models (which may be dropped and rebuilt): they live in
// the event store's database, or, for an EventStoreDB store, in the
// --readmodels database, the only SQL one. close closes what openAuth
// opened (the service first), never the event store.
//
// serve can use it to give adapters/web its Auth.
func openAuth(ctx context.Context, cfg *Config, store eventStore, acfg auth.Config) (svc *auth.Service, closeAuth func() error, err error) {
	switch s := store.(type) {
	case *sqlite.Store:
		svc, err := auth.NewSQLite(s.DB(), s.WithTx, acfg)
		if err != nil {
			return nil, nil, err
		}
		return svc, svc.Close, nil
	case *postgres.Store:
		svc, err := auth.NewPostgres(s.Pool(), acfg)
		if err != nil {
			return nil, nil, err
		}
		return svc, svc.Close, nil
	case esdbStore:
	default:
		return nil, nil, fmt.Errorf("store %T keeps no credentials", store)
	}
	switch {
	case strings.HasPrefix(cfg.ReadModels, "sqlite:"):
		db, err := sqlite.Open(ctx, strings.TrimPrefix(cfg.ReadModels, "sqlite:"))
		if err != nil {
			return nil, nil, fmt.Errorf("open credentials database: %w", err)
		}
		svc, err := auth.NewSQLite(db.DB(), db.WithTx, acfg)
		if err != nil {
			return nil, nil, errors.Join(err, db.Close())
		}
		return svc, func() error { return errors.Join(svc.Close(), db.Close()) }, nil
	case strings.HasPrefix(cfg.ReadModels, "postgres://"), strings.HasPrefix(cfg.ReadModels, "postgresql://"):
		pg, err := postgres.Open(ctx, cfg.ReadModels)
		if err != nil {
			return nil, nil, fmt.Errorf("open credentials database: %w", err)
		}
		if err := pg.Migrate(ctx); err != nil {
			return nil, nil, errors.Join(fmt.Errorf("migrate credentials database: %w", err), pg.Close())
		}
		svc, err := auth.NewPostgres(pg.Pool(), acfg)
		if err != nil {
			return nil, nil, errors.Join(err, pg.Close())
		}
		return svc, func() error { return errors.Join(svc.Close(), pg.Close()) }, nil
	}
	return nil, nil, errors.New("an EventStoreDB store keeps credentials in --readmodels sqlite:PATH or postgres://...")
}

// openAccounts opens and migrates the store and the sign-in service on it;
// closeAll closes both.
func (m *Main) openAccounts(ctx context.Context, cfg *Config) (store eventStore, svc *auth.Service, closeAll func(), err error) {
	log := cfg.logger(m.stderr)
	store, err = openStore(ctx, cfg.Store, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		_ = store.Close()
		return nil, nil, nil, fmt.Errorf("migrate: %w", err)
	}
	svc, closeAuth, err := openAuth(ctx, cfg, store, auth.Config{Logger: log})
	if err != nil {
		_ = store.Close()
		return nil, nil, nil, err
	}
	return store, svc, func() { _ = closeAuth(); _ = store.Close() }, nil
}

func (m *Main) accountCreate(ctx context.Context, args []string) error {
	var (
		cfg                    Config
		pw                     passwordSource
		uai, profile, function string
		name, login, idText    string
	)
	err := m.parse(&cfg, "account create", args, false, func(fs *flagSet) {
		fs.StringVar(&uai, "establishment", "", "`UAI` of the account's establishment (none for inspectors, evaluators, global admins)")
		fs.StringVar(&profile, "profile", "", "student, relative, teacher, personnel, guest, inspector, evaluator or admin")
		fs.StringVar(&function, "function", "", "personnel's function: head, deputy, cpe, secretary, other")
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&login, "login", "", "sign-in name (case-insensitive, unique)")
		fs.StringVar(&idText, "id", "", "account `UUID` (default: a new one); running create again with the same id after a failure finishes it")
		pw.flags(fs.FlagSet)
	})
	if err != nil {
		return err
	}
	if profile == "" || name == "" || login == "" {
		return domain.Errorf(domain.ErrInvalid, "ledger account create: --profile, --name and --login are required")
	}
	id := uuid.New()
	if idText != "" {
		if id, err = uuid.Parse(idText); err != nil || id == uuid.Nil {
			return domain.Errorf(domain.ErrInvalid, "ledger account create: --id %q is not a UUID", idText)
		}
	}
	// Everything that can be refused is refused before the password is
	// read and the account opened.
	if !domain.Profile(profile).Valid() || !domain.Function(function).Valid() {
		return domain.Errorf(domain.ErrInvalid, "ledger account create: profile %q or function %q is unknown", profile, function)
	}
	if err := auth.ValidateLogin(login); err != nil {
		return err
	}
	password, err := pw.read(os.Stdin)
	if err != nil {
		return fmt.Errorf("ledger account create: %w", err)
	}
	if err := auth.ValidatePassword(password); err != nil {
		return err
	}

	store, svc, closeAll, err := m.openAccounts(ctx, &cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	holder, _, err := svc.Account(ctx, login)
	switch {
	case err == nil && holder != id:
		return domain.Errorf(auth.ErrLoginTaken, "%q (account %s)", login, holder)
	case err != nil && domain.CodeOf(err) != domain.CodeNotFound:
		return err
	}

	log := cfg.logger(m.stderr)
	sealed, err := sealingFor(store, domain.NewRegistry(), log)
	if err != nil {
		return err
	}
	defer sealed.close()
	h, err := commands.New(sealed.seal(cfg.commandsConfig(store, sealed.reg, log)))
	if err != nil {
		return err
	}
	// The key makes a second run with the same --id find the account its
	// first run opened instead of failing: it then sets the credentials.
	_, err = h.OpenAccount(ctx, commands.Request{System: true, IdempotencyKey: "ledger account create " + id.String()}, domain.OpenAccount{
		Account: id, Establishment: uai, Profile: domain.Profile(profile), Function: domain.Function(function), DisplayName: name,
	})
	if err != nil {
		return fmt.Errorf("ledger account create: %w", err)
	}
	if err := svc.SetPassword(ctx, id, login, password); err != nil {
		return fmt.Errorf("ledger account create: account %s is open but has no credentials (run again with --id %s): %w", id, id, err)
	}
	fmt.Fprintln(m.stdout, id)
	return nil
}

func (m *Main) accountPassword(ctx context.Context, args []string) error {
	var (
		cfg           Config
		pw            passwordSource
		login, idText string
	)
	err := m.parse(&cfg, "account password", args, false, func(fs *flagSet) {
		fs.StringVar(&login, "login", "", "sign-in name of the account")
		fs.StringVar(&idText, "id", "", "account `UUID`: give it this login (its first, or a new one) and password")
		pw.flags(fs.FlagSet)
	})
	if err != nil {
		return err
	}
	if login == "" {
		return domain.Errorf(domain.ErrInvalid, "ledger account password: --login is required")
	}
	if err := auth.ValidateLogin(login); err != nil {
		return err
	}
	password, err := pw.read(os.Stdin)
	if err != nil {
		return fmt.Errorf("ledger account password: %w", err)
	}
	if err := auth.ValidatePassword(password); err != nil {
		return err
	}

	store, svc, closeAll, err := m.openAccounts(ctx, &cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	var id uuid.UUID
	if idText == "" {
		if id, login, err = svc.Account(ctx, login); err != nil {
			return err
		}
	} else {
		if id, err = uuid.Parse(idText); err != nil {
			return domain.Errorf(domain.ErrInvalid, "ledger account password: --id %q is not a UUID", idText)
		}
		if err := mustBeOpenAccount(ctx, store, id); err != nil {
			return err
		}
	}
	if err := svc.SetPassword(ctx, id, login, password); err != nil {
		return fmt.Errorf("ledger account password: %w", err)
	}
	fmt.Fprintln(m.stdout, id)
	return nil
}

// mustBeOpenAccount checks that the directory has account id, not closed.
func mustBeOpenAccount(ctx context.Context, store eventStore, id uuid.UUID) error {
	recs, err := store.ReadStream(ctx, domain.AccountStream(id), 0)
	if err != nil {
		return err
	}
	reg := domain.NewRegistry()
	var acc domain.Account
	for _, r := range recs {
		e, err := reg.DecodeRecord(r)
		if err != nil {
			return err
		}
		acc.Apply(e)
	}
	switch {
	case !acc.Exists:
		return domain.Errorf(domain.ErrUnknownAccount, "%s", id)
	case acc.Closed:
		return domain.Errorf(domain.ErrAccountClosed, "%s", id)
	}
	return nil
}
