package sso

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/schoollife/ledger/adapters/postgres"
)

// Errors of the Store.
var (
	// ErrUnknownRequest: no request of this ledger has that id (never
	// sent, already answered, or expired).
	ErrUnknownRequest = errors.New("sso: no pending request has that id")
	// ErrReplayed: the assertion was already accepted, on some node.
	ErrReplayed = errors.New("sso: assertion already used")
)

// UnmatchedRetention is how long an unmatched identity stays listed after
// its last attempt.
const UnmatchedRetention = 30 * 24 * time.Hour

// Store keeps, in the ledger's database (migration 0400_sso), what single
// sign-on shares across nodes: the pending requests, the assertions
// already accepted, and the unmatched identities.
type Store struct {
	db     *sql.DB
	write  func(ctx context.Context, fn func(*sql.Tx) error) error
	unique func(error) bool
	close  func() error
	now    func() time.Time
}

// NewSQLite returns a Store on a SQLite database: read runs queries, write
// runs fn in a write transaction (adapters/sqlite's DB and WithTx).
func NewSQLite(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error) *Store {
	return &Store{db: read, write: write, unique: sqliteUnique, now: time.Now}
}

func sqliteUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// NewPostgres returns a Store on pool, which it shares. Close leaves the
// pool open.
func NewPostgres(pool *pgxpool.Pool) *Store {
	db, write := postgres.SQLDB(pool)
	return &Store{db: db, write: write, unique: pgUnique, close: db.Close, now: time.Now}
}

func pgUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// WithClock sets the Store's clock (tests).
func (s *Store) WithClock(now func() time.Time) *Store {
	s.now = now
	return s
}

// Close releases what the Store opened.
func (s *Store) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// PendingRequest is an authentication request this ledger sent.
type PendingRequest struct {
	ID       string
	Provider string
	// ReturnTo is the local path to go to once signed in.
	ReturnTo string
}

// SaveRequest records a request sent to a provider, until it expires.
// Expired requests are dropped on the way.
func (s *Store) SaveRequest(ctx context.Context, req PendingRequest, expires time.Time) error {
	now := s.now().UnixMilli()
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_requests WHERE expires_at < $1`, now); err != nil {
			return fmt.Errorf("drop expired requests: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_requests (id, provider, return_to, expires_at) VALUES ($1, $2, $3, $4)`,
			req.ID, req.Provider, req.ReturnTo, expires.UnixMilli())
		if err != nil {
			return fmt.Errorf("save request: %w", err)
		}
		return nil
	})
}

// PeekRequest returns a pending, unexpired request (ErrUnknownRequest if
// there is none).
func (s *Store) PeekRequest(ctx context.Context, id string) (PendingRequest, error) {
	req := PendingRequest{ID: id}
	err := s.db.QueryRowContext(ctx, `SELECT provider, return_to FROM sso_requests WHERE id = $1 AND expires_at >= $2`,
		id, s.now().UnixMilli()).Scan(&req.Provider, &req.ReturnTo)
	if errors.Is(err, sql.ErrNoRows) {
		return PendingRequest{}, ErrUnknownRequest
	}
	if err != nil {
		return PendingRequest{}, fmt.Errorf("read request: %w", err)
	}
	return req, nil
}

// ConsumeRequest removes a pending request once answered: it answers
// ErrUnknownRequest when another response took it first.
func (s *Store) ConsumeRequest(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sso_requests WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("consume request: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrUnknownRequest
		}
		return nil
	})
}

// ConsumeAssertion records an assertion as used until it expires; it
// answers ErrReplayed if some node already recorded it. Expired
// assertions are dropped on the way.
func (s *Store) ConsumeAssertion(ctx context.Context, id string, expires time.Time) error {
	now := s.now().UnixMilli()
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_assertions WHERE expires_at < $1`, now); err != nil {
			return fmt.Errorf("drop expired assertions: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_assertions (id, expires_at) VALUES ($1, $2)`, id, expires.UnixMilli())
		if s.unique(err) {
			return ErrReplayed
		}
		if err != nil {
			return fmt.Errorf("record assertion: %w", err)
		}
		return nil
	})
}

// Unmatched is an identity that matched no account, or several.
type Unmatched struct {
	Provider string
	Subject  string
	// Reason is why: "none", "several", "closed".
	Reason string
	// Name is the person's name as the provider asserted it, to find whom
	// to link.
	Name string
	// Hint is what matching looked for (profile, establishment, ids).
	Hint string
	// Establishment is the UAI the assertion named ("" when none): only
	// its administrators, and those of every establishment, see the
	// identity.
	Establishment string
	Attempts      int
	FirstSeen     time.Time
	LastSeen      time.Time
}

// NoteUnmatched lists an unmatched identity, or counts one more attempt of
// it. Rows past UnmatchedRetention are dropped on the way.
func (s *Store) NoteUnmatched(ctx context.Context, u Unmatched) error {
	now := s.now().UnixMilli()
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_unmatched WHERE last_seen < $1`, now-UnmatchedRetention.Milliseconds()); err != nil {
			return fmt.Errorf("drop old unmatched identities: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_unmatched (provider, subject, reason, name, hint, establishment, attempts, first_seen, last_seen)
VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
ON CONFLICT (provider, subject) DO UPDATE SET reason = excluded.reason, name = excluded.name, hint = excluded.hint,
	establishment = excluded.establishment, attempts = sso_unmatched.attempts + 1, last_seen = excluded.last_seen`,
			u.Provider, u.Subject, u.Reason, u.Name, u.Hint, u.Establishment, now)
		if err != nil {
			return fmt.Errorf("note unmatched identity: %w", err)
		}
		return nil
	})
}

// ForgetUnmatched removes an identity from the list (once linked).
func (s *Store) ForgetUnmatched(ctx context.Context, provider, subject string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_unmatched WHERE provider = $1 AND subject = $2`, provider, subject); err != nil {
			return fmt.Errorf("forget unmatched identity: %w", err)
		}
		return nil
	})
}

// ListUnmatched returns the unmatched identities of the last
// UnmatchedRetention, the latest first, at most limit: those naming
// establishment, or every one when establishment is "".
func (s *Store) ListUnmatched(ctx context.Context, establishment string, limit int) ([]Unmatched, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT provider, subject, reason, name, hint, establishment, attempts, first_seen, last_seen
FROM sso_unmatched WHERE last_seen >= $1 AND ($2 = '' OR establishment = $2) ORDER BY last_seen DESC, provider, subject LIMIT $3`,
		s.now().UnixMilli()-UnmatchedRetention.Milliseconds(), establishment, limit)
	if err != nil {
		return nil, fmt.Errorf("list unmatched identities: %w", err)
	}
	defer rows.Close()
	var out []Unmatched
	for rows.Next() {
		var u Unmatched
		var first, last int64
		if err := rows.Scan(&u.Provider, &u.Subject, &u.Reason, &u.Name, &u.Hint, &u.Establishment, &u.Attempts, &first, &last); err != nil {
			return nil, fmt.Errorf("list unmatched identities: %w", err)
		}
		u.FirstSeen, u.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// UnmatchedOne returns one listed identity (false if it is not listed).
func (s *Store) UnmatchedOne(ctx context.Context, provider, subject string) (Unmatched, bool, error) {
	u := Unmatched{Provider: provider, Subject: subject}
	var first, last int64
	err := s.db.QueryRowContext(ctx, `SELECT reason, name, hint, establishment, attempts, first_seen, last_seen FROM sso_unmatched
WHERE provider = $1 AND subject = $2`, provider, subject).Scan(&u.Reason, &u.Name, &u.Hint, &u.Establishment, &u.Attempts, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return Unmatched{}, false, nil
	}
	if err != nil {
		return Unmatched{}, false, fmt.Errorf("read unmatched identity: %w", err)
	}
	u.FirstSeen, u.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	return u, true, nil
}

// ProviderSession is a portal session an identity provider opened.
type ProviderSession struct {
	// Session is the portal session's id (web.SessionID of its token).
	Session      string
	Provider     string
	Subject      string
	SessionIndex string
}

// SaveSession records a portal session an identity provider opened, until
// it expires. Expired ones are dropped on the way.
func (s *Store) SaveSession(ctx context.Context, ps ProviderSession, expires time.Time) error {
	now := s.now().UnixMilli()
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_sessions WHERE expires_at < $1`, now); err != nil {
			return fmt.Errorf("drop expired sessions: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_sessions (session, provider, subject, session_index, expires_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (session) DO UPDATE SET provider = excluded.provider, subject = excluded.subject,
	session_index = excluded.session_index, expires_at = excluded.expires_at`,
			ps.Session, ps.Provider, ps.Subject, ps.SessionIndex, expires.UnixMilli())
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		return nil
	})
}

// TakeSession removes and returns the provider's session of a portal
// session (false when a provider opened none, or it expired).
func (s *Store) TakeSession(ctx context.Context, session string) (ProviderSession, bool, error) {
	ps := ProviderSession{Session: session}
	var found bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM sso_sessions WHERE session = $1 AND expires_at >= $2
RETURNING provider, subject, session_index`, session, s.now().UnixMilli()).Scan(&ps.Provider, &ps.Subject, &ps.SessionIndex)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("take session: %w", err)
		}
		found = true
		return nil
	})
	return ps, found, err
}
