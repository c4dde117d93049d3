package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/notify/webpush"
)

// MaxSubscriptions bounds the push subscriptions of one account (its
// browsers and phones); subscribing once more replaces the oldest.
const MaxSubscriptions = 10

// Subscribe keeps a browser's push subscription for account, checked
// first (webpush.Subscription.Validate). The same endpoint subscribed
// again (new keys, another account signed in on that browser) replaces
// the old row.
func (s *Store) Subscribe(ctx context.Context, account uuid.UUID, sub webpush.Subscription, now time.Time) error {
	if err := sub.Validate(); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (endpoint, account, p256dh, auth, created_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (endpoint) DO UPDATE SET account = excluded.account, p256dh = excluded.p256dh,
				auth = excluded.auth, created_at = excluded.created_at`,
			sub.Endpoint, account.String(), sub.P256DH, sub.Auth, ms(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account = $1 AND endpoint NOT IN (
			SELECT endpoint FROM push_subscriptions WHERE account = $1 ORDER BY created_at DESC, endpoint LIMIT $2)`,
			account.String(), MaxSubscriptions)
		return err
	})
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return nil
}

// Unsubscribe removes account's subscription at endpoint; false when it
// had none there.
func (s *Store) Unsubscribe(ctx context.Context, account uuid.UUID, endpoint string) (bool, error) {
	return s.update(ctx, `DELETE FROM push_subscriptions WHERE account = $1 AND endpoint = $2`, account.String(), endpoint)
}

// DropEndpoint removes a subscription the push service said is gone (404,
// 410), whoever's it was.
func (s *Store) DropEndpoint(ctx context.Context, endpoint string) error {
	_, err := s.update(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1`, endpoint)
	return err
}

// Subscriptions returns account's push subscriptions, newest first.
func (s *Store) Subscriptions(ctx context.Context, account uuid.UUID) ([]webpush.Subscription, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT endpoint, p256dh, auth FROM push_subscriptions
		WHERE account = $1 ORDER BY created_at DESC, endpoint`, account.String())
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	defer rows.Close()
	var out []webpush.Subscription
	for rows.Next() {
		var sub webpush.Subscription
		if err := rows.Scan(&sub.Endpoint, &sub.P256DH, &sub.Auth); err != nil {
			return nil, fmt.Errorf("subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// SetContact keeps the address (e-mail, or phone number for text
// messages) account gave for channel, checked by the caller; an empty
// address removes it.
func (s *Store) SetContact(ctx context.Context, account uuid.UUID, ch Channel, address string, now time.Time) error {
	if ch != Email && ch != SMS {
		return fmt.Errorf("contact for channel %q", ch)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if address == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM notify_contacts WHERE account = $1 AND channel = $2`, account.String(), string(ch))
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_contacts (account, channel, address, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account, channel) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at`,
			account.String(), string(ch), address, ms(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("set contact: %w", err)
	}
	return nil
}

// Contact returns the address account gave for channel, "" if none.
func (s *Store) Contact(ctx context.Context, account uuid.UUID, ch Channel) (string, error) {
	var a string
	err := s.read.QueryRowContext(ctx, `SELECT address FROM notify_contacts WHERE account = $1 AND channel = $2`,
		account.String(), string(ch)).Scan(&a)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("contact: %w", err)
	}
	return a, nil
}
