package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/domain"
)

// Classify marks err as an outage when it is one: the server cannot be
// reached, refuses or drops connections, is shutting down or starting, has
// no connection slot left (domain.ErrUnavailable), or is out of disk space
// (domain.ErrStoreFull). Other errors, nil, and errors that already carry
// a domain error come back as they are; so does a cancelled context, which
// is the caller giving up, and a context deadline outside a connection
// attempt, which is the caller's time running out. The read models and the
// credentials, which share the store's database or have one of their own,
// classify with it too.
func Classify(err error) error {
	if err == nil || domain.CodeOf(err) != "" || errors.Is(err, context.Canceled) {
		return err
	}
	// The server's own word decides, even inside a failed connection
	// attempt: a wrong password (28P01) or an unknown database (3D000)
	// are not outages, too_many_connections (53300) is.
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if kind := outageOf(pe.Code); kind != nil {
			return domain.Outage(kind, err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return domain.Outage(domain.ErrUnavailable, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne), // refused, reset, unreachable, timed out
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), // the server went away mid-answer
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, driver.ErrBadConn): // a broken connection, seen by pgx or database/sql
		return domain.Outage(domain.ErrUnavailable, err)
	}
	return err
}

// outageOf returns the outage a SQLSTATE stands for, or nil.
func outageOf(code string) *domain.Error {
	switch {
	case code == "53100": // disk_full
		return domain.ErrStoreFull
	case strings.HasPrefix(code, "08"), // connection exception
		strings.HasPrefix(code, "53"),                     // insufficient resources: too_many_connections, out_of_memory...
		code == "57P01", code == "57P02", code == "57P03", // admin or crash shutdown, cannot connect now
		code == "58030", // io_error
		code == "25006": // read_only_sql_transaction: a standby, during a failover
		return domain.ErrUnavailable
	}
	return nil
}

// acquire takes a connection of the pool for a read. Waiting for one until
// ctx's deadline is an outage (every connection busy, or none can be
// opened), not the read's fault: the read itself has not begun.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	switch {
	case err == nil:
		return conn, nil
	case errors.Is(err, context.DeadlineExceeded):
		return nil, domain.Outage(domain.ErrUnavailable, fmt.Errorf("no connection of the pool before the deadline: %w", err))
	}
	return nil, Classify(err)
}
