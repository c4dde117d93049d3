package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/domain"
)

// Channel is a way to reach a person.
type Channel = domain.NotifyChannel

// Channels.
const (
	Push  = domain.ChannelPush
	Email = domain.ChannelEmail
	SMS   = domain.ChannelSMS
)

// State is where a delivery stands.
type State string

// States of a delivery.
const (
	// Pending: to send at Due (again, after a retryable failure).
	Pending State = "pending"
	// Sent: the channel accepted it.
	Sent State = "sent"
	// Failed: refused for good (the subscription gone, the address
	// unknown); not resent.
	Failed State = "failed"
	// Dead: the last retry failed; listed for the school-life office,
	// which may resend it.
	Dead State = "dead"
)

// Key names one delivery: a notification (the notified event's id), by a
// channel, to a recipient. It happens once.
type Key struct {
	Notification uuid.UUID `json:"notification"`
	Channel      Channel   `json:"channel"`
	Recipient    uuid.UUID `json:"recipient"`
}

// ID is the key in one string, stable: the push's tag and topic, the
// e-mail's Message-ID and the text message's id derive from it, so that a
// message sent twice (a crash between sending and recording) is
// recognised as one by the device, the mail client or the gateway.
func (k Key) ID() string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(k.Notification.String()+"|"+string(k.Channel)+"|"+k.Recipient.String())).String()
}

// Delivery is one row of the work list.
type Delivery struct {
	Key
	EventType string
	Category  string
	// Establishment is the act's; Students are those through whom it
	// concerns the recipient.
	Establishment string
	Students      []uuid.UUID
	// Digest: sent with the recipient's daily digest rather than alone.
	Digest bool
	// Data is what the message says (Message, JSON); emptied once sent.
	Data      json.RawMessage
	State     State
	Attempts  int
	Due       time.Time
	LastError string
	Created   time.Time
	Updated   time.Time
}

// Store keeps subscriptions, addresses and deliveries in the event store's
// database (migration 0500_notify, SQLite and Postgres), which every node
// shares: a delivery is inserted once (its key), claimed by one process at
// a time (a lease) and finished once.
type Store struct {
	read  *sql.DB
	write func(ctx context.Context, fn func(*sql.Tx) error) error
	close func() error
}

// NewSQLiteStore returns a store on a SQLite database: with
// adapters/sqlite, the event store's DB and WithTx.
func NewSQLiteStore(read *sql.DB, write func(ctx context.Context, fn func(*sql.Tx) error) error) *Store {
	return &Store{read: read, write: write, close: func() error { return nil }}
}

// NewPostgresStore returns a store on pool, shared with the event store.
// Close leaves the pool open.
func NewPostgresStore(pool *pgxpool.Pool) *Store {
	db, write := postgres.SQLDB(pool)
	return &Store{read: db, write: write, close: db.Close}
}

// Close releases what the constructor opened.
func (s *Store) Close() error { return s.close() }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Cursor returns where the reader name stands ("" before it starts).
func (s *Store) Cursor(ctx context.Context, name string) (string, error) {
	var pos string
	err := s.read.QueryRowContext(ctx, `SELECT pos FROM notify_cursors WHERE name = $1`, name).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("notify cursor %s: %w", name, err)
	}
	return pos, nil
}

// Enqueue inserts the deliveries that are not there yet and moves the
// reader's cursor, in one transaction: a delivery planned twice (a replay,
// two nodes) exists once. It returns how many were new.
func (s *Store) Enqueue(ctx context.Context, cursorName, cursor string, ds []Delivery, now time.Time) (int, error) {
	var n int
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, d := range ds {
			data := d.Data
			if len(data) == 0 {
				data = json.RawMessage("{}")
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO notify_deliveries
				(notification, channel, recipient, event_type, establishment, students, category, digest, data, state,
				 attempts, due_at, lease_owner, lease_until, last_error, record_batch, recorded, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $10, $11, $5, $6, $7, 'pending', 0, $8, '', 0, '', '', 0, $9, $9)
				ON CONFLICT (notification, channel, recipient) DO NOTHING`,
				d.Notification.String(), string(d.Channel), d.Recipient.String(), d.EventType, d.Category,
				b2i(d.Digest), string(data), ms(d.Due), ms(now), d.Establishment, joinIDs(d.Students))
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		if cursorName == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_cursors (name, pos) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET pos = excluded.pos`, cursorName, cursor)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue %d deliveries: %w", len(ds), err)
	}
	return n, nil
}

const deliveryColumns = `notification, channel, recipient, event_type, establishment, students, category, digest,
	data, state, attempts, due_at, last_error, created_at, updated_at`

func joinIDs(ids []uuid.UUID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ",")
}

func splitIDs(s string) ([]uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	var out []uuid.UUID
	for _, p := range strings.Split(s, ",") {
		id, err := uuid.Parse(p)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var (
		d                        Delivery
		notification, recipient  string
		channel, state, data     string
		students                 string
		digest, due, created, up int64
	)
	if err := sc.Scan(&notification, &channel, &recipient, &d.EventType, &d.Establishment, &students, &d.Category, &digest, &data, &state,
		&d.Attempts, &due, &d.LastError, &created, &up); err != nil {
		return Delivery{}, err
	}
	var err error
	if d.Notification, err = uuid.Parse(notification); err != nil {
		return Delivery{}, err
	}
	if d.Recipient, err = uuid.Parse(recipient); err != nil {
		return Delivery{}, err
	}
	if d.Students, err = splitIDs(students); err != nil {
		return Delivery{}, err
	}
	d.Channel, d.State, d.Digest = Channel(channel), State(state), digest != 0
	if data != "" {
		d.Data = json.RawMessage(data)
	}
	d.Due, d.Created, d.Updated = fromMS(due), fromMS(created), fromMS(up)
	return d, nil
}

// Claim leases to owner, until now+lease, up to limit pending deliveries
// due by now whose lease (if any) has ended, and counts an attempt for
// each. Two processes claiming at once never get the same delivery; a
// process that dies holding a lease leaves its deliveries to be claimed
// again once it ends.
func (s *Store) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		// The outer conditions are checked again on the row as another
		// transaction left it (Postgres' read committed), so that a row
		// claimed meanwhile is skipped.
		rows, err := tx.QueryContext(ctx, `UPDATE notify_deliveries
			SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
			WHERE (notification, channel, recipient) IN (
				SELECT notification, channel, recipient FROM notify_deliveries
				WHERE state = 'pending' AND due_at <= $3 AND lease_until <= $3
				ORDER BY due_at LIMIT $4)
			AND state = 'pending' AND due_at <= $3 AND lease_until <= $3
			RETURNING `+deliveryColumns, owner, ms(now.Add(lease)), ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// Finish records a delivery's end (Sent, Failed or Dead) if owner still
// holds its lease; false when it does not (the lease ended and another
// process claimed it). A sent delivery's text is forgotten; a dead one
// keeps it, to be resent.
func (s *Store) Finish(ctx context.Context, owner string, k Key, st State, lastError string, now time.Time) (bool, error) {
	if st != Sent && st != Failed && st != Dead {
		return false, fmt.Errorf("finish a delivery as %q", st)
	}
	data := "data"
	if st == Sent {
		data = "'{}'"
	}
	return s.update(ctx, `UPDATE notify_deliveries SET state = $1, last_error = $2, updated_at = $3,
		lease_owner = '', lease_until = 0, data = `+data+`
		WHERE notification = $4 AND channel = $5 AND recipient = $6 AND state = 'pending' AND lease_owner = $7`,
		string(st), clip(lastError), ms(now), k.Notification.String(), string(k.Channel), k.Recipient.String(), owner)
}

// Retry puts a delivery back to pending, due at due, if owner still holds
// its lease.
func (s *Store) Retry(ctx context.Context, owner string, k Key, due time.Time, lastError string, now time.Time) (bool, error) {
	return s.update(ctx, `UPDATE notify_deliveries SET due_at = $1, last_error = $2, updated_at = $3,
		lease_owner = '', lease_until = 0
		WHERE notification = $4 AND channel = $5 AND recipient = $6 AND state = 'pending' AND lease_owner = $7`,
		ms(due), clip(lastError), ms(now), k.Notification.String(), string(k.Channel), k.Recipient.String(), owner)
}

// Resend puts a dead delivery back to pending, due now, with its attempts
// counted afresh: the school-life office's "Renvoyer". False when it is
// not dead.
func (s *Store) Resend(ctx context.Context, k Key, now time.Time) (bool, error) {
	return s.update(ctx, `UPDATE notify_deliveries SET state = 'pending', attempts = 0, due_at = $1, updated_at = $1,
		lease_owner = '', lease_until = 0, record_batch = '', recorded = 0
		WHERE notification = $2 AND channel = $3 AND recipient = $4 AND state = 'dead'`,
		ms(now), k.Notification.String(), string(k.Channel), k.Recipient.String())
}

func (s *Store) update(ctx context.Context, q string, args ...any) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("update a delivery: %w", err)
	}
	return n == 1, nil
}

// clip bounds an error's text as kept.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	return s
}

// Get returns one delivery.
func (s *Store) Get(ctx context.Context, k Key) (Delivery, bool, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries
		WHERE notification = $1 AND channel = $2 AND recipient = $3`, k.Notification.String(), string(k.Channel), k.Recipient.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, fmt.Errorf("get a delivery: %w", err)
	}
	return d, true, nil
}

// List returns up to limit deliveries in state st, oldest first.
func (s *Store) List(ctx context.Context, st State, limit int) ([]Delivery, error) {
	return s.query(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries WHERE state = $1
		ORDER BY updated_at, notification, channel, recipient LIMIT $2`, string(st), limit)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Delivery, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// Unrecorded returns the finished deliveries whose outcome is not in the
// log yet: first those of a batch chosen before (a crash between choosing
// and recording: the same batch again, so that its append is a no-op if it
// happened), else up to limit others, now given the batch id batch.
func (s *Store) Unrecorded(ctx context.Context, batch string, limit int) (string, []Delivery, error) {
	var chosen string
	err := s.read.QueryRowContext(ctx, `SELECT record_batch FROM notify_deliveries
		WHERE recorded = 0 AND record_batch <> '' LIMIT 1`).Scan(&chosen)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE notify_deliveries SET record_batch = $1
				WHERE (notification, channel, recipient) IN (
					SELECT notification, channel, recipient FROM notify_deliveries
					WHERE recorded = 0 AND record_batch = '' AND state IN ('sent', 'failed', 'dead')
					ORDER BY updated_at LIMIT $2)
				AND recorded = 0 AND record_batch = ''`, batch, limit)
			return err
		})
		chosen = batch
	case err != nil:
	}
	if err != nil {
		return "", nil, fmt.Errorf("choose outcomes to record: %w", err)
	}
	ds, err := s.query(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries WHERE record_batch = $1 AND recorded = 0
		ORDER BY notification, channel, recipient`, chosen)
	return chosen, ds, err
}

// MarkRecorded notes that the outcomes of batch are in the log.
func (s *Store) MarkRecorded(ctx context.Context, batch string) error {
	_, err := s.update(ctx, `UPDATE notify_deliveries SET recorded = 1 WHERE record_batch = $1`, batch)
	if err != nil {
		return fmt.Errorf("mark batch %s recorded: %w", batch, err)
	}
	return nil
}

// Forget deletes the deliveries to recipient (their erasure): their texts
// go with them.
func (s *Store) Forget(ctx context.Context, recipient uuid.UUID) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM notify_deliveries WHERE recipient = $1`,
			`DELETE FROM push_subscriptions WHERE account = $1`,
			`DELETE FROM notify_contacts WHERE account = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, recipient.String()); err != nil {
				return fmt.Errorf("forget %s: %w", recipient, err)
			}
		}
		return nil
	})
}

// DeadLetters returns up to limit dead deliveries of acts of establishment
// uai, oldest first: what the school-life office may resend.
func (s *Store) DeadLetters(ctx context.Context, uai string, limit int) ([]Delivery, error) {
	return s.query(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries WHERE state = 'dead' AND establishment = $1
		ORDER BY updated_at, notification, channel, recipient LIMIT $2`, uai, limit)
}
