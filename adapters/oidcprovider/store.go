package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres"
)

// Store keeps what the provider shares across nodes in the event store's
// database (migrations 0430_oidc_provider, SQLite and Postgres): its
// secret, its signing keys, the sign-ins in progress with their codes,
// the access tokens. Codes and tokens are kept as their SHA-256.
type Store struct {
	read  *sql.DB
	write func(ctx context.Context, fn func(*sql.Tx) error) error
	close func() error
}

// NewSQLite returns a store on a SQLite database: read runs queries, write
// runs fn in a write transaction (adapters/sqlite's DB and WithTx).
func NewSQLite(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error) *Store {
	return &Store{read: read, write: write, close: func() error { return nil }}
}

// NewPostgres returns a store on the event store's pool. Close leaves the
// pool open.
func NewPostgres(pool *pgxpool.Pool) *Store {
	db, write := postgres.SQLDB(pool)
	return &Store{read: db, write: write, close: db.Close}
}

// Close releases what the store opened.
func (s *Store) Close() error { return s.close() }

// errNotFound is the error of a row that is not there (or no longer
// valid: a code spent or expired, a token expired).
var errNotFound = errors.New("not found")

func hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// secret returns the provider's secret, creating it on first use; the
// first node's stays.
func (s *Store) secret(ctx context.Context, now time.Time) ([32]byte, error) {
	var out [32]byte
	var key []byte
	err := s.read.QueryRowContext(ctx, `SELECT key FROM oidc_provider_secret WHERE id = 1`).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return out, err
		}
		err = s.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_provider_secret (id, key, created_at) VALUES (1, $1, $2)
				ON CONFLICT (id) DO NOTHING`, fresh, now.UnixMilli()); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT key FROM oidc_provider_secret WHERE id = 1`).Scan(&key)
		})
	}
	if err != nil {
		return out, fmt.Errorf("read the provider's secret: %w", err)
	}
	if len(key) != len(out) {
		return out, fmt.Errorf("read the provider's secret: %d bytes", len(key))
	}
	copy(out[:], key)
	return out, nil
}

// keyRow is a signing key as kept.
type keyRow struct {
	id         string
	generation int64
	algorithm  string
	der        []byte
	created    time.Time
	signsFrom  time.Time
}

// keys returns the signing keys, oldest first.
func (s *Store) keys(ctx context.Context) ([]keyRow, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, generation, algorithm, private_key, created_at, signs_from
		FROM oidc_signing_keys ORDER BY generation`)
	if err != nil {
		return nil, fmt.Errorf("read the signing keys: %w", err)
	}
	defer rows.Close()
	var out []keyRow
	for rows.Next() {
		var k keyRow
		var created, from int64
		if err := rows.Scan(&k.id, &k.generation, &k.algorithm, &k.der, &created, &from); err != nil {
			return nil, fmt.Errorf("read the signing keys: %w", err)
		}
		k.created, k.signsFrom = time.UnixMilli(created).UTC(), time.UnixMilli(from).UTC()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the signing keys: %w", err)
	}
	return out, nil
}

// addKey adds k unless a key of its generation exists (another node made
// it first), and forgets the keys of generations before drop.
func (s *Store) addKey(ctx context.Context, k keyRow, drop int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_signing_keys (id, generation, algorithm, private_key, created_at, signs_from)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (generation) DO NOTHING`,
			k.id, k.generation, k.algorithm, k.der, k.created.UnixMilli(), k.signsFrom.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM oidc_signing_keys WHERE generation < $1`, drop)
		return err
	})
	if err != nil {
		return fmt.Errorf("add signing key %d: %w", k.generation, err)
	}
	return nil
}

// dropKeys forgets the keys of generations before drop.
func (s *Store) dropKeys(ctx context.Context, drop int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM oidc_signing_keys WHERE generation < $1`, drop)
		return err
	})
}

// requestData is the checked authorization request, as kept.
type requestData struct {
	RedirectURI     string   `json:"redirect_uri"`
	State           string   `json:"state,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	Scopes          []string `json:"scopes"`
	ResponseType    string   `json:"response_type"`
	ResponseMode    string   `json:"response_mode,omitempty"`
	Challenge       string   `json:"code_challenge,omitempty"`
	ChallengeMethod string   `json:"code_challenge_method,omitempty"`
}

// storedRequest is a sign-in in progress.
type storedRequest struct {
	id, clientID string
	data         requestData
	account      string // empty until signed in
	authTime     time.Time
}

func (s *Store) saveRequest(ctx context.Context, r storedRequest, now, expires time.Time) error {
	data, err := json.Marshal(r.data)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Sign-ins abandoned and tokens expired go as new ones come.
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at < $1`, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_access_tokens WHERE expires_at < $1`, now.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, request, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, r.id, r.clientID, string(data), now.UnixMilli(), expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("save sign-in %s: %w", r.id, err)
	}
	return nil
}

type rowScanner interface{ Scan(...any) error }

func scanRequest(row rowScanner) (storedRequest, error) {
	var r storedRequest
	var data string
	var account sql.NullString
	var authTime sql.NullInt64
	if err := row.Scan(&r.id, &r.clientID, &data, &account, &authTime); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, errNotFound
		}
		return r, err
	}
	if err := json.Unmarshal([]byte(data), &r.data); err != nil {
		return r, fmt.Errorf("sign-in %s: %w", r.id, err)
	}
	r.account = account.String
	if authTime.Valid {
		r.authTime = time.UnixMilli(authTime.Int64).UTC()
	}
	return r, nil
}

const requestColumns = `id, client_id, request, account, auth_time`

// request returns a sign-in that has not expired.
func (s *Store) request(ctx context.Context, id string, now time.Time) (storedRequest, error) {
	r, err := scanRequest(s.read.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM oidc_auth_requests
		WHERE id = $1 AND expires_at > $2`, id, now.UnixMilli()))
	if err != nil {
		return r, fmt.Errorf("read sign-in %s: %w", id, err)
	}
	return r, nil
}

// signedIn sets who signed in for a sign-in, once.
func (s *Store) signedIn(ctx context.Context, id, account string, now time.Time) error {
	return s.update(ctx, fmt.Sprintf("sign-in %s", id), `UPDATE oidc_auth_requests SET account = $1, auth_time = $2
		WHERE id = $3 AND account IS NULL AND expires_at > $2`, account, now.UnixMilli(), id)
}

// saveCode keeps the hash of the one code of a signed-in sign-in.
func (s *Store) saveCode(ctx context.Context, id, code string, now, expires time.Time) error {
	return s.update(ctx, fmt.Sprintf("code of sign-in %s", id), `UPDATE oidc_auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND code_hash IS NULL AND account IS NOT NULL AND expires_at > $4`, hash(code), expires.UnixMilli(), id, now.UnixMilli())
}

func (s *Store) update(ctx context.Context, what, query string, args ...any) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != 1 {
			return errNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// spendCode marks a code used and returns its sign-in; a code spent,
// expired or unknown is errNotFound. Two nodes given one code at once: one
// spends it, the other finds it spent.
func (s *Store) spendCode(ctx context.Context, code string, now time.Time) (storedRequest, error) {
	var r storedRequest
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = scanRequest(tx.QueryRowContext(ctx, `UPDATE oidc_auth_requests SET code_used = 1
			WHERE code_hash = $1 AND code_used = 0 AND code_expires_at > $2 AND account IS NOT NULL
			RETURNING `+requestColumns, hash(code), now.UnixMilli()))
		return err
	})
	if err != nil {
		return r, fmt.Errorf("spend code: %w", err)
	}
	return r, nil
}

func (s *Store) deleteRequest(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id)
		return err
	})
}

// storedToken is an access token as kept.
type storedToken struct {
	account, clientID string
	scopes            []string
}

func (s *Store) saveToken(ctx context.Context, id string, t storedToken, now, expires time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_access_tokens (hash, account, client_id, scopes, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, hash(id), t.account, t.clientID, strings.Join(t.scopes, " "), now.UnixMilli(), expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("save access token: %w", err)
	}
	return nil
}

// token returns an access token that has not expired.
func (s *Store) token(ctx context.Context, id string, now time.Time) (storedToken, error) {
	var t storedToken
	var scopes string
	err := s.read.QueryRowContext(ctx, `SELECT account, client_id, scopes FROM oidc_access_tokens
		WHERE hash = $1 AND expires_at > $2`, hash(id), now.UnixMilli()).Scan(&t.account, &t.clientID, &scopes)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return t, errNotFound
	case err != nil:
		return t, fmt.Errorf("read access token: %w", err)
	}
	t.scopes = strings.Fields(scopes)
	return t, nil
}

func (s *Store) deleteToken(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM oidc_access_tokens WHERE hash = $1`, hash(id))
		return err
	})
}

func (s *Store) ping(ctx context.Context) error { return s.read.PingContext(ctx) }
