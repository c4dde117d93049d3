package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// LoginOf returns the login of an account as it was set, false when the
// account has no credentials (it signs in through single sign-on only).
// The CAS server releases it to the services the person reaches.
func (s *Service) LoginOf(ctx context.Context, account uuid.UUID) (string, bool, error) {
	var login string
	err := s.db.QueryRowContext(ctx, `SELECT login FROM auth_credentials WHERE account = $1`, account.String()).Scan(&login)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read the login of %s: %w", account, s.d.outage(err))
	}
	return login, true, nil
}
