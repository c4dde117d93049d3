package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

const testUAI = "0131234A"

// MustLedgerFile returns the store flag of a new SQLite ledger with one
// establishment registered.
func MustLedgerFile(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	es, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	h, err := commands.New(commands.Config{Store: es, Registry: domain.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.RegisterEstablishment(ctx, commands.Request{System: true}, domain.RegisterEstablishment{
		UAI: testUAI, Name: "Lycée Marie Curie", Kind: domain.KindLycee, Departement: "13",
	})
	if err != nil {
		t.Fatal(err)
	}
	return "sqlite:" + path
}

// MustFile writes a file in a temporary directory and returns its path.
func MustFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runAccount runs "ledger account ARGS..." in process and returns its
// standard output. Until main.go lists the subcommand, it calls it
// directly.
func runAccount(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := NewMain(&stdout, &stderr, func(string) string { return "" })
	listed := slices.ContainsFunc(m.subcommands(), func(sc subcommand) bool { return sc.name == "account" })
	var err error
	if listed {
		err = m.Run(context.Background(), append([]string{"account"}, args...))
	} else {
		err = m.account(context.Background(), args)
	}
	if err != nil {
		t.Logf("ledger account %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), err
}

// MustSignIn authenticates on the ledger file as the server would.
func MustSignIn(t *testing.T, store, login, password string) (uuid.UUID, error) {
	t.Helper()
	ctx := context.Background()
	es, err := sqlite.Open(ctx, strings.TrimPrefix(store, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	svc, err := auth.NewSQLite(es.DB(), es.WithTx, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	return svc.Authenticate(ctx, login, password, "127.0.0.1")
}

// MustAccount returns the directory state of an account in the ledger file.
func MustAccount(t *testing.T, store string, id uuid.UUID) domain.Account {
	t.Helper()
	ctx := context.Background()
	es, err := sqlite.Open(ctx, strings.TrimPrefix(store, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	recs, err := es.ReadStream(ctx, domain.AccountStream(id), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Names are sealed: read them as the ledger does, with the keys.
	sealed, err := sealingFor(es, domain.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer sealed.close()
	var acc domain.Account
	for _, r := range recs {
		e, err := sealed.reg.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		acc.Apply(e)
	}
	return acc
}

func TestAccountCreateThenSignIn(t *testing.T) {
	t.Parallel()
	store := MustLedgerFile(t)
	out, err := runAccount(t, "create", "--store", store, "--establishment", testUAI, "--profile", "teacher",
		"--name", "Marie Curie", "--login", "Marie.Curie", "--password-file", MustFile(t, "radium et polonium\n"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("output %q is not an account id", out)
	}
	acc := MustAccount(t, store, id)
	if !acc.Exists || acc.Profile != domain.ProfileTeacher || acc.Establishment != testUAI || acc.DisplayName != "Marie Curie" || acc.Activated {
		t.Errorf("account in the log: %+v", acc)
	}
	for _, login := range []string{"Marie.Curie", "marie.curie"} {
		if got, err := MustSignIn(t, store, login, "radium et polonium"); err != nil || got != id {
			t.Errorf("sign in as %s: %s, %v; want %s", login, got, err, id)
		}
	}
	if _, err := MustSignIn(t, store, "marie.curie", "radium et polonium\n"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("the line end became part of the password: %v", err)
	}

	// The same login for another account is refused before anything is
	// opened.
	other := uuid.New()
	_, err = runAccount(t, "create", "--store", store, "--establishment", testUAI, "--profile", "teacher",
		"--name", "Autre Curie", "--login", "MARIE.CURIE", "--password-file", MustFile(t, "another password\n"), "--id", other.String())
	if !errors.Is(err, auth.ErrLoginTaken) || exitCode(err) != 3 {
		t.Errorf("login taken: %v (exit %d), want ErrLoginTaken, exit 3", err, exitCode(err))
	}
	if MustAccount(t, store, other).Exists {
		t.Error("account opened although its login was taken")
	}

	// A new password ends the old one.
	out, err = runAccount(t, "password", "--store", store, "--login", "MARIE.curie", "--password-file", MustFile(t, "nouveau mot de passe"))
	if err != nil || strings.TrimSpace(out) != id.String() {
		t.Fatalf("password: %q, %v", out, err)
	}
	if _, err := MustSignIn(t, store, "marie.curie", "radium et polonium"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old password after a reset: %v", err)
	}
	if got, err := MustSignIn(t, store, "Marie.Curie", "nouveau mot de passe"); err != nil || got != id {
		t.Errorf("new password: %s, %v", got, err)
	}
	if _, err := runAccount(t, "password", "--store", store, "--login", "nobody", "--password-file", MustFile(t, "nouveau mot de passe")); domain.CodeOf(err) != domain.CodeNotFound {
		t.Errorf("password of an unknown login: %v, want not found", err)
	}

	// With --id, the account gets the login given: here a new one.
	if _, err := runAccount(t, "password", "--store", store, "--id", id.String(), "--login", "m.curie", "--password-file", MustFile(t, "troisième mot de passe")); err != nil {
		t.Fatal(err)
	}
	if got, err := MustSignIn(t, store, "M.Curie", "troisième mot de passe"); err != nil || got != id {
		t.Errorf("renamed login: %s, %v", got, err)
	}
	if _, err := MustSignIn(t, store, "marie.curie", "troisième mot de passe"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old login after a rename: %v", err)
	}
	if _, err := runAccount(t, "password", "--store", store, "--id", uuid.NewString(), "--login", "ghost", "--password-file", MustFile(t, "nouveau mot de passe")); !errors.Is(err, domain.ErrUnknownAccount) {
		t.Errorf("password of an account not in the directory: %v, want ErrUnknownAccount", err)
	}
}

// TestAccountPasswordStdin: an evaluator (no establishment) with a given
// id and a password piped in with a CRLF line end.
func TestAccountPasswordStdin(t *testing.T) {
	store := MustLedgerFile(t)
	f, err := os.Open(MustFile(t, "indicateurs 2007\r\nignored second line\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = stdin })

	id := uuid.New()
	out, err := runAccount(t, "create", "--store", store, "--profile", "evaluator", "--name", "Évaluateur",
		"--login", "eval", "--password-stdin", "--id", id.String())
	if err != nil || strings.TrimSpace(out) != id.String() {
		t.Fatalf("create: %q, %v; want %s", out, err, id)
	}
	if got, err := MustSignIn(t, store, "EVAL", "indicateurs 2007"); err != nil || got != id {
		t.Errorf("sign in: %s, %v", got, err)
	}
}

func TestAccountRefuses(t *testing.T) {
	t.Parallel()
	store := MustLedgerFile(t)
	good := MustFile(t, "long enough password\n")
	base := []string{"create", "--store", store, "--establishment", testUAI, "--profile", "teacher", "--name", "N", "--login", "n"}
	for _, tc := range []struct {
		name string
		args []string
		want error
	}{
		{"no password source", base, domain.ErrInvalid},
		{"two password sources", append(slices.Clone(base), "--password-file", good, "--password-stdin"), domain.ErrInvalid},
		{"short password", append(slices.Clone(base), "--password-file", MustFile(t, "short\n")), auth.ErrPasswordPolicy},
		{"bad login", append(slices.Clone(base[:len(base)-1]), "n n", "--password-file", good), auth.ErrInvalidLogin},
		{"bad profile", []string{"create", "--store", store, "--profile", "wizard", "--name", "N", "--login", "n", "--password-file", good}, domain.ErrInvalid},
		{"unknown establishment", []string{"create", "--store", store, "--establishment", "0999999Z", "--profile", "teacher", "--name", "N", "--login", "n", "--password-file", good}, domain.ErrUnknownEstablishment},
	} {
		_, err := runAccount(t, tc.args...)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A password flag does not exist: it would show in ps.
	if _, err := runAccount(t, append(slices.Clone(base), "--password", "long enough password")...); err == nil || !strings.Contains(err.Error(), "unknown flag --password") {
		t.Errorf("--password: %v, want an unknown flag", err)
	}
	if _, err := runAccount(t, "delete"); err == nil {
		t.Error("unknown account command accepted")
	}
	// Nothing was signed in by any of these.
	if _, err := MustSignIn(t, store, "n", "long enough password"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("sign in after refusals: %v", err)
	}
}
