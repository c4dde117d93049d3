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

// saveEvery is how often a session kept on this node alone, because the
// database could not store it, is offered to the database again as it is
// used.
const saveEvery = 30 * time.Second

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
//
// When the database cannot store the session because of an outage (out of
// space, read-only, locked: domain.IsUnavailable), the session is kept in
// this process alone and saved at a later use once the database takes it
// (see ResolveSession): a full disk must not keep users from reading. It
// signs in on this node only, and ends when the process does. Only when
// that table is full too does NewSession fail with the outage.
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
	e := localSession{account: account, kind: kind, created: now.UnixMilli(), expires: expires.UnixMilli(), endsAt: ends.UnixMilli()}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE account = $1 AND expires_at <= $2`,
			account, now.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (token_hash, account, kind, created_at, expires_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			sum[:], account, kind, e.created, e.expires, e.endsAt)
		return err
	})
	switch {
	case err == nil:
		s.local.remember(sum[:], e, e.created)
	case domain.IsUnavailable(err) && s.local.keep(sum[:], e, e.created):
		s.cfg.Logger.WarnContext(ctx, "session kept on this node alone: the database cannot store it", "account", account, "kind", kind, "err", err)
	default:
		return "", time.Time{}, fmt.Errorf("new %s for %s: %w", kind, account, err)
	}
	return token, msTime(ends.UnixMilli()), nil
}

// Resolve returns the account of a valid, unexpired token, or
// ErrUnauthenticated. Using a session moves its end to SessionIdle from
// now (written once the move exceeds a few minutes, best effort), never
// past SessionMax after the sign-in.
//
// While the database cannot be read (an outage), the sessions this
// process opened or resolved before are answered from memory, as the
// database last confirmed them: reads go on as long as the read models
// answer. Any other token then fails with the outage.
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
	var e localSession
	err := s.db.QueryRowContext(ctx, `SELECT account, kind, created_at, expires_at, ends_at FROM auth_sessions WHERE token_hash = $1`, sum).
		Scan(&e.account, &e.kind, &e.created, &e.expires, &e.endsAt)
	now := s.cfg.Now()
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if u, ok, trySave := s.local.unsavedSession(sum, now.UnixMilli(), saveEvery.Milliseconds()); ok {
			return s.resolveUnsaved(ctx, sum, u, trySave)
		}
		s.local.forget(sum) // ended elsewhere
		return uuid.Nil, time.Time{}, ErrUnauthenticated
	case err != nil:
		err = s.d.outage(err)
		if l, ok := s.local.any(sum); ok && domain.IsUnavailable(err) {
			if l.expires <= now.UnixMilli() {
				return uuid.Nil, time.Time{}, ErrUnauthenticated
			}
			s.cfg.Logger.DebugContext(ctx, "session answered from memory: the database cannot be read", "account", l.account, "err", err)
			return l.account, msTime(l.expires), nil
		}
		return uuid.Nil, time.Time{}, fmt.Errorf("resolve token: %w", err)
	}
	if e.expires <= now.UnixMilli() {
		s.local.forget(sum)
		return uuid.Nil, time.Time{}, ErrUnauthenticated
	}
	if e.kind == KindSession {
		next := min(now.Add(s.cfg.SessionIdle).UnixMilli(), e.endsAt)
		if next-e.expires >= min(slideStep, s.cfg.SessionIdle/4).Milliseconds() && s.slide(ctx, sum, e.account, next) {
			e.expires = next
		}
	}
	s.local.remember(sum, e, now.UnixMilli())
	return e.account, msTime(e.expires), nil
}

// credentialsReplaced tells whether account $1's credentials were set
// after time $2: sessions opened before then have ended.
const credentialsReplaced = `SELECT EXISTS (SELECT 1 FROM auth_credentials WHERE account = $1 AND updated_at > $2)`

// resolveUnsaved answers a session this process kept because the database
// could not store it. It ends when the account's credentials were replaced
// after it was opened, on any node (SetPassword ends every stored session;
// this one it cannot reach). Saving it is tried again now and then: once
// stored it is an ordinary session, seen by every node.
func (s *Service) resolveUnsaved(ctx context.Context, sum []byte, u localSession, trySave bool) (uuid.UUID, time.Time, error) {
	now := s.cfg.Now().UnixMilli()
	if u.expires <= now {
		s.local.forget(sum)
		return uuid.Nil, time.Time{}, ErrUnauthenticated
	}
	if u.kind == KindSession {
		u.expires = max(u.expires, min(now+s.cfg.SessionIdle.Milliseconds(), u.endsAt))
		s.local.slide(sum, u.expires)
	}
	var replaced bool
	err := s.db.QueryRowContext(ctx, credentialsReplaced, u.account, u.created).Scan(&replaced)
	switch {
	case err != nil:
		return uuid.Nil, time.Time{}, fmt.Errorf("resolve token: credentials: %w", s.d.outage(err))
	case replaced:
		s.local.forget(sum)
		return uuid.Nil, time.Time{}, ErrUnauthenticated
	}
	if trySave {
		s.save(ctx, sum, u)
	}
	return u.account, msTime(u.expires), nil
}

// save stores an unsaved session, unless the account's credentials were
// replaced since it was opened. A failure leaves it unsaved: it is tried
// again at a later use.
func (s *Service) save(ctx context.Context, sum []byte, u localSession) {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var replaced bool
		if err := tx.QueryRowContext(ctx, credentialsReplaced, u.account, u.created).Scan(&replaced); err != nil || replaced {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (token_hash, account, kind, created_at, expires_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			sum, u.account, u.kind, u.created, u.expires, u.endsAt)
		return err
	})
	if err != nil {
		s.cfg.Logger.DebugContext(ctx, "session still kept on this node alone", "account", u.account, "err", err)
		return
	}
	// Saved, or refused because the credentials were replaced meanwhile:
	// the database answers for it from now on either way.
	s.local.saved(sum, u, s.cfg.Now().UnixMilli())
	s.cfg.Logger.InfoContext(ctx, "session kept on this node is now stored", "account", u.account)
}

// slide moves a session's end forward and reports whether it did. The
// session is valid now whatever happens here, so a failure is only logged.
// After an outage (a full disk, a lock held elsewhere) no session slides
// for saveEvery: requests that only read neither wait for the writer nor
// log each their failure.
func (s *Service) slide(ctx context.Context, sum []byte, account uuid.UUID, next int64) bool {
	now := s.cfg.Now().UnixMilli()
	if now < s.noSlideUntil.Load() {
		return false
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET expires_at = $2 WHERE token_hash = $1 AND expires_at < $2`, sum, next)
		return err
	})
	if err != nil {
		if domain.IsUnavailable(err) {
			s.noSlideUntil.Store(now + saveEvery.Milliseconds())
		}
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
		if domain.IsUnavailable(err) && s.local.forgetUnsaved(sum) {
			return nil // it lived here alone
		}
		return fmt.Errorf("revoke token: %w", err)
	}
	s.local.forget(sum)
	return nil
}

// RevokeAccount ends every session and token of an account: call it when
// the account is closed.
func (s *Service) RevokeAccount(ctx context.Context, account uuid.UUID) error {
	s.local.forgetAccount(account)
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
// returns how many (those kept in memory included). Expired ones never
// sign anyone in; this only keeps the table small (NewSession already
// purges its account's).
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	n := s.local.purge(s.cfg.Now().UnixMilli())
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, s.cfg.Now().UnixMilli())
		if err != nil {
			return err
		}
		stored, err := res.RowsAffected()
		n += stored
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return n, nil
}

// msTime is the time of Unix milliseconds, in UTC.
func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
