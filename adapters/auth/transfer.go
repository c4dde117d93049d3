package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Credential is a row of the credentials table as a re-sealed copy of a
// store carries it (`ledger privacy reseal`): the login and the password's
// hash, so that people sign in to the copy as before. Sessions and tokens
// are not carried: everyone signs in again.
type Credential struct {
	Account   uuid.UUID
	Login     string
	LoginKey  string
	Hash      string
	UpdatedAt int64 // Unix milliseconds
}

// Credentials calls fn with every credential, in account order.
func (s *Service) Credentials(ctx context.Context, fn func(Credential) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT account, login, login_key, hash, updated_at FROM auth_credentials ORDER BY account`)
	if err != nil {
		return fmt.Errorf("read the credentials: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c  Credential
			id string
		)
		if err := rows.Scan(&id, &c.Login, &c.LoginKey, &c.Hash, &c.UpdatedAt); err != nil {
			return fmt.Errorf("read the credentials: %w", err)
		}
		if c.Account, err = uuid.Parse(id); err != nil {
			return fmt.Errorf("read the credentials: account %q: %w", id, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the credentials: %w", err)
	}
	return nil
}

// credentialsChunk bounds the rows of one statement of PutCredentials.
const credentialsChunk = 200

// PutCredentials stores creds in one transaction; an account that has
// credentials already keeps them.
func (s *Service) PutCredentials(ctx context.Context, creds []Credential) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(creds); start += credentialsChunk {
			chunk := creds[start:min(start+credentialsChunk, len(creds))]
			var q strings.Builder
			q.WriteString(`INSERT INTO auth_credentials (account, login, login_key, hash, updated_at) VALUES `)
			args := make([]any, 0, 5*len(chunk))
			for i, c := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d)", 5*i+1, 5*i+2, 5*i+3, 5*i+4, 5*i+5)
				args = append(args, c.Account.String(), c.Login, c.LoginKey, c.Hash, c.UpdatedAt)
			}
			q.WriteString(" ON CONFLICT (account) DO NOTHING")
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %d credentials: %w", len(creds), err)
	}
	return nil
}
