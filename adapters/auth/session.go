package auth

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

	"github.com/schoollife/ledger/domain"
)

// tokenBytes is the entropy of a token; its text is their unpadded
// base64url encoding (43 characters), fit for a cookie or a header.
const tokenBytes = 32

// slideStep is how far a session's end must move before Resolve writes it:
// a session used every second costs one write every few minutes, not one
// per request (on SQLite every write waits for the one writer).
const slideStep = 5 * time.Minute

// hashToken returns what auth_sessions stores of a token: the SHA-256 of
// its 32 bytes, or false if token is not one of ours. A fast hash is right
// here, unlike for passwords: the token is random, not guessable.
func hashToken(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return nil, false
	}
	sum := sha256.Sum256(raw)
	return sum[:], true
}

// NewSession issues a token of kind "session" (KindSession) or "token"
// (KindToken) for an account, and tells when it expires at the latest: a
// token TokenTTL from now; a session SessionMax from now, though it ends
// sooner when unused for SessionIdle (see Resolve). A cookie that carries
// a session can so simply last until expires: the server ends the session
// when it has been idle too long. NewSession does not check the account;
// call it after Authenticate or another sign-in (SSO). Expired sessions of
// the account are deleted on the way.
func (s *Service) NewSession(ctx context.Context, account uuid.UUID, kind string) (string, time.Time, error) {
	if account == uuid.Nil {
		return "", time.Time{}, domain.Errorf(domain.ErrInvalid, "new session: no account")
	}
	now := s.cfg.Now()
	var expires, ends time.Time
	switch kind {
	case KindSession:
		expires, ends = now.Add(s.cfg.SessionIdle), now.Add(s.cfg.SessionMax)
	case KindToken:
		expires = now.Add(s.cfg.TokenTTL)
		ends = expires
	default:
		return "", time.Time{}, domain.Errorf(domain.ErrInvalid, "token kind %q is not %s or %s", kind, KindSession, KindToken)
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("new session: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256(raw)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE account = $1 AND expires_at <= $2`,
			account, now.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (token_hash, account, kind, created_at, expires_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			sum[:], account, kind, now.UnixMilli(), expires.UnixMilli(), ends.UnixMilli())
		return err
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("new %s for %s: %w", kind, account, err)
	}
	return token, msTime(ends.UnixMilli()), nil
}

// Resolve returns the account of a valid, unexpired token, or
// ErrUnauthenticated. Using a session moves its end to SessionIdle from
// now (written once the move exceeds a few minutes), never past
// SessionMax after the sign-in.
func (s *Service) Resolve(ctx context.Context, token string) (uuid.UUID, error) {
	account, _, err := s.ResolveSession(ctx, token)
	return account, err
}

// ResolveSession is Resolve, and tells when the token ends unless it is
// used again: a token at its expiry; a session at its end as moved by this
// use (or as it stood, when the move was not written).
func (s *Service) ResolveSession(ctx context.Context, token string) (uuid.UUID, time.Time, error) {
	sum, ok := hashToken(token)
	if !ok {
		return uuid.Nil, time.Time{}, ErrUnauthenticated
	}
	var (
		account           uuid.UUID
		kind              string
		expiresAt, endsAt int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT account, kind, expires_at, ends_at FROM auth_sessions WHERE token_hash = $1`, sum).
		Scan(&account, &kind, &expiresAt, &endsAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return uuid.Nil, time.Time{}, ErrUnauthenticated
	case err != nil:
		return uuid.Nil, time.Time{}, fmt.Errorf("resolve token: %w", err)
	}
	now := s.cfg.Now()
	if expiresAt <= now.UnixMilli() {
		return uuid.Nil, time.Time{}, ErrUnauthenticated
	}
	if kind == KindSession {
		next := min(now.Add(s.cfg.SessionIdle).UnixMilli(), endsAt)
		if next-expiresAt >= min(slideStep, s.cfg.SessionIdle/4).Milliseconds() && s.slide(ctx, sum, account, next) {
			expiresAt = next
		}
	}
	return account, msTime(expiresAt), nil
}

// slide moves a session's end forward and reports whether it did. The
// session is valid now whatever happens here, so a failure is only logged.
func (s *Service) slide(ctx context.Context, sum []byte, account uuid.UUID, next int64) bool {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET expires_at = $2 WHERE token_hash = $1 AND expires_at < $2`, sum, next)
		return err
	})
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "session end not moved", "account", account, "err", err)
		return false
	}
	return true
}

// Revoke ends a session or token (sign-out). Ending one that does not
// exist, or has ended, is not an error.
func (s *Service) Revoke(ctx context.Context, token string) error {
	sum, ok := hashToken(token)
	if !ok {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE token_hash = $1`, sum)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// RevokeAccount ends every session and token of an account: call it when
// the account is closed.
func (s *Service) RevokeAccount(ctx context.Context, account uuid.UUID) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE account = $1`, account)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke sessions of %s: %w", account, err)
	}
	return nil
}

// PurgeExpired deletes the sessions and tokens that have expired and
// returns how many. Expired ones never sign anyone in; this only keeps the
// table small (NewSession already purges its account's).
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, s.cfg.Now().UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return n, nil
}

// msTime is the time of Unix milliseconds, in UTC.
func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
