package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
)

// stateLabel separates the key of the sign-in cookies from every other
// use of the deployment's secret.
const stateLabel = "ledger sso: sign-in state cookies v1"

// StateSecret returns the key that seals the cookies of sign-ins in
// progress through OpenID Connect and CAS (oidcclient and casclient's
// WithStateKey), the same on every node: it is derived from the
// deployment's secret, one row of 32 random bytes in the database
// (oidc_provider_secret, migration 0430), which the first node that needs
// it creates.
func (s *Store) StateSecret(ctx context.Context) ([]byte, error) {
	var key []byte
	err := s.db.QueryRowContext(ctx, `SELECT key FROM oidc_provider_secret WHERE id = 1`).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("sso state secret: %w", err)
		}
		err = s.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_provider_secret (id, key, created_at) VALUES (1, $1, $2)
				ON CONFLICT (id) DO NOTHING`, fresh, s.now().UnixMilli()); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT key FROM oidc_provider_secret WHERE id = 1`).Scan(&key)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("sso state secret: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("sso state secret: the stored secret has %d bytes, not 32", len(key))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(stateLabel))
	return mac.Sum(nil), nil
}
