package sqlite

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/schoollife/ledger/domain"
)

// Classify marks err as an outage when SQLite says it is one: the disk or
// the database's size limit is full (domain.ErrStoreFull); an I/O error,
// a lock still held when the busy timeout ran out, a file that has become
// read-only or cannot be opened any more (domain.ErrUnavailable). Other
// errors, nil, and errors that already carry a domain error come back as
// they are. The read models and the credentials kept in a SQLite file
// classify with it too.
func Classify(err error) error {
	if err == nil || domain.CodeOf(err) != "" {
		return err
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	// Extended codes (SQLITE_IOERR_WRITE...) keep their family in the low
	// byte.
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return domain.Outage(domain.ErrStoreFull, err)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN:
		return domain.Outage(domain.ErrUnavailable, err)
	}
	return err
}

// classifyOpen is Classify for the errors of Open, but a file that cannot
// be opened at start is left unmarked: that is a wrong path or wrong
// permissions, which waiting does not mend (ledger serve retries an
// outage at start, and stops at once on anything else).
func classifyOpen(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CANTOPEN {
		return err
	}
	return Classify(err)
}
