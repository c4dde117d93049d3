package casserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres"
)

// TicketPrefix begins every service ticket, as the CAS protocol asks.
const TicketPrefix = "ST-"

// ticketBytes is the randomness of a ticket: 256 bits.
const ticketBytes = 32

// Ticket is a service ticket as stored: what it was issued for.
type Ticket struct {
	Service   string    // the exact service URL
	ServiceID uuid.UUID // the registered service
	Account   uuid.UUID
	Session   string // the portal session (web.SessionID)
	Renewed   bool   // issued right after a fresh sign-in
	Expires   time.Time
}

// Reached is a service a portal session reached with a validated ticket.
type Reached struct {
	Ticket    string // spent, the SessionIndex of single logout
	Service   string
	ServiceID uuid.UUID
}

// Tickets keeps service tickets in the database every node shares
// (migrations 0410_cas_tickets, SQLite and Postgres): a ticket is
// consumed by one statement that deletes and returns its row, so it is
// validated once whatever the node and however many try at once.
type Tickets struct {
	read  *sql.DB
	write func(ctx context.Context, fn func(*sql.Tx) error) error
	close func() error
}

// NewSQLiteTickets returns tickets on a SQLite database: with
// adapters/sqlite, the event store's DB and WithTx.
func NewSQLiteTickets(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error) *Tickets {
	return &Tickets{read: read, write: write, close: func() error { return nil }}
}

// NewPostgresTickets returns tickets on pool, which it shares with the
// event store. Close leaves the pool open.
func NewPostgresTickets(pool *pgxpool.Pool) *Tickets {
	db, write := postgres.SQLDB(pool)
	return &Tickets{read: db, write: write, close: db.Close}
}

// Close releases what the constructor opened.
func (t *Tickets) Close() error { return t.close() }

// NewTicket returns a fresh random ticket: "ST-" and 256 random bits.
func NewTicket() string {
	b := make([]byte, ticketBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return TicketPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func ticketHash(ticket string) []byte {
	sum := sha256.Sum256([]byte(ticket))
	return sum[:]
}

// Issue stores a new ticket and returns it.
func (t *Tickets) Issue(ctx context.Context, tk Ticket) (string, error) {
	ticket := NewTicket()
	err := t.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cas_tickets (ticket_hash, service, service_id, account, session, renewed, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			ticketHash(ticket), tk.Service, tk.ServiceID.String(), tk.Account.String(), tk.Session, tk.Renewed, tk.Expires.UnixMilli())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("issue a service ticket: %w", err)
	}
	return ticket, nil
}

// Consume removes a ticket and returns what it was issued for, false when
// there is no such ticket (never issued, or consumed already). The caller
// checks its expiry and service: a ticket is spent by any validation
// attempt, successful or not.
func (t *Tickets) Consume(ctx context.Context, ticket string) (Ticket, bool, error) {
	var (
		tk           Ticket
		found        bool
		service, acc string
		expires      int64
	)
	err := t.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM cas_tickets WHERE ticket_hash = $1
			RETURNING service, service_id, account, session, renewed, expires_at`, ticketHash(ticket)).
			Scan(&tk.Service, &service, &acc, &tk.Session, &tk.Renewed, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return Ticket{}, false, fmt.Errorf("consume a service ticket: %w", err)
	}
	if !found {
		return Ticket{}, false, nil
	}
	var perr error
	tk.ServiceID, perr = uuid.Parse(service)
	if perr == nil {
		tk.Account, perr = uuid.Parse(acc)
	}
	if perr != nil {
		return Ticket{}, false, fmt.Errorf("consume a service ticket: %w", perr)
	}
	tk.Expires = time.UnixMilli(expires).UTC()
	return tk, true, nil
}

// Remember records that session reached a service with a validated
// ticket, until expires (the session's end).
func (t *Tickets) Remember(ctx context.Context, session string, r Reached, expires time.Time) error {
	err := t.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cas_sessions (session, ticket, service, service_id, expires_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session, ticket) DO NOTHING`,
			session, r.Ticket, r.Service, r.ServiceID.String(), expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("remember a service of a session: %w", err)
	}
	return nil
}

// Forget removes and returns the services a session reached.
func (t *Tickets) Forget(ctx context.Context, session string) ([]Reached, error) {
	var out []Reached
	err := t.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `DELETE FROM cas_sessions WHERE session = $1 RETURNING ticket, service, service_id`, session)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Reached
			var id string
			if err := rows.Scan(&r.Ticket, &r.Service, &id); err != nil {
				return err
			}
			r.ServiceID, _ = uuid.Parse(id)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("forget the services of a session: %w", err)
	}
	return out, nil
}

// Move gives the services one session reached to another (a renewed
// sign-in replaced the first).
func (t *Tickets) Move(ctx context.Context, from, to string) error {
	err := t.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE cas_sessions SET session = $2 WHERE session = $1`, from, to)
		return err
	})
	if err != nil {
		return fmt.Errorf("move the services of a session: %w", err)
	}
	return nil
}

// Purge deletes the tickets that expired before now and the sessions that
// ended, and returns how many rows it deleted.
func (t *Tickets) Purge(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := t.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, q := range []string{
			`DELETE FROM cas_tickets WHERE expires_at < $1`,
			`DELETE FROM cas_sessions WHERE expires_at < $1`,
		} {
			res, err := tx.ExecContext(ctx, q, now.UnixMilli())
			if err != nil {
				return err
			}
			c, _ := res.RowsAffected()
			n += c
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge service tickets: %w", err)
	}
	return n, nil
}
