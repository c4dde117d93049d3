package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/schoollife/ledger/adapters/tamper"
	"github.com/schoollife/ledger/migrations"
)

// Errors of Backup and Restore.
var (
	// ErrNotEmpty: Restore was asked to replace a file that holds something.
	ErrNotEmpty = errors.New("the target file is not empty")
	// ErrInUse: another connection (a running server) has the target open.
	ErrInUse = errors.New("the target database is in use")
	// ErrBroken: the copy does not verify (tamper.Check found a problem).
	ErrBroken = errors.New("the copy does not verify")
)

// backupPages is how many pages a backup copies between two looks at its
// context: 4 MiB with the default page size.
const backupPages = 1024

// BackupReport describes a copy Backup or Restore made.
type BackupReport struct {
	// Schema is the copy's schema version (the last migration applied).
	Schema int
	// LastPosition is the position of the copy's last event (0: none).
	LastPosition int64
	// Bytes is the copy's size.
	Bytes int64
	// Verify is the tamper check of the copy.
	Verify tamper.VerifyReport
}

// BackupOption configures Backup.
type BackupOption func(*backupConfig)

type backupConfig struct {
	// snapshot, when set, is called once the copy's snapshot is fixed and
	// before a page is copied. Tests use it to write while a backup runs.
	snapshot func()
}

// Backup copies the database in the file at src into a new file at dst, a
// consistent snapshot of everything in it (the log, the read models and
// credentials that share the file) as it stood when Backup began: every
// transaction committed before is in the copy, none committed after.
//
// It reads src through a connection of its own and never takes the write
// lock: a server using src goes on appending while the copy is made (in
// WAL mode readers do not block the writer). The snapshot is one read
// transaction held for the whole copy, which SQLite's online backup
// copies page by page; the one cost to the writer is that the write-ahead
// log cannot be checkpointed past the snapshot until the copy ends, so it
// grows meanwhile. src is not migrated: the copy has src's schema.
//
// The copy is written beside dst under a temporary name, in rollback
// journal mode (one self-contained file), synced, checked (SQLite's
// quick_check and tamper.Check) and only then renamed to dst, replacing
// any file there: a backup that fails or does not verify leaves nothing
// at dst. A copy that does not verify returns ErrBroken with its report.
func Backup(ctx context.Context, src, dst string, opts ...BackupOption) (BackupReport, error) {
	var cfg backupConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := mustBeFile(src); err != nil {
		return BackupReport{}, fmt.Errorf("backup %s: %w", src, err)
	}
	if err := notSame(src, dst); err != nil {
		return BackupReport{}, fmt.Errorf("backup %s: %w", src, err)
	}
	tmp, err := tempBeside(dst)
	if err != nil {
		return BackupReport{}, fmt.Errorf("backup %s: %w", src, err)
	}
	defer removeDB(tmp) // a no-op once renamed
	if err := copyDB(ctx, src, tmp, cfg.snapshot); err != nil {
		return BackupReport{}, fmt.Errorf("backup %s: %w", src, err)
	}
	rep, err := checkCopy(ctx, tmp)
	if err != nil {
		return rep, fmt.Errorf("backup %s: %w", src, err)
	}
	if err := replace(tmp, dst); err != nil {
		return rep, fmt.Errorf("backup %s: %w", src, err)
	}
	return rep, nil
}

// Restore puts the backup at from in place of the database file at to.
//
// It refuses (ErrNotEmpty) to replace a file that is not empty unless
// force is set, and refuses (ErrInUse) a target some connection has open:
// stop the server first. It copies the backup beside the target under a
// temporary name, checks the copy as `ledger verify` does (and SQLite's
// quick_check), refuses a backup whose schema is newer than this
// program's migrations, then renames the copy over the target, removing
// the old database's write-ahead log first. Until that rename the target
// is untouched. A backup that does not verify returns ErrBroken with its
// report. The copy is not migrated: the next Open does it.
func Restore(ctx context.Context, from, to string, force bool) (BackupReport, error) {
	if err := mustBeFile(from); err != nil {
		return BackupReport{}, fmt.Errorf("restore %s: %w", from, err)
	}
	if err := notSame(from, to); err != nil {
		return BackupReport{}, fmt.Errorf("restore %s: %w", from, err)
	}
	if err := checkTarget(ctx, to, force); err != nil {
		return BackupReport{}, fmt.Errorf("restore %s to %s: %w", from, to, err)
	}
	tmp, err := tempBeside(to)
	if err != nil {
		return BackupReport{}, fmt.Errorf("restore %s: %w", from, err)
	}
	defer removeDB(tmp)
	if err := copyDB(ctx, from, tmp, nil); err != nil {
		return BackupReport{}, fmt.Errorf("restore %s: %w", from, err)
	}
	rep, err := checkCopy(ctx, tmp)
	if err != nil {
		return rep, fmt.Errorf("restore %s: %w", from, err)
	}
	all, err := migrations.For(migrations.SQLite)
	if err != nil {
		return rep, fmt.Errorf("restore %s: %w", from, err)
	}
	if latest := all[len(all)-1].Version; rep.Schema > latest {
		return rep, fmt.Errorf("restore %s: its schema version %d is newer than this program's (%d): restore it with the ledger that wrote it", from, rep.Schema, latest)
	}
	// Checked again just before the switch: a server started meanwhile
	// must not have the old file open under it.
	if err := checkTarget(ctx, to, force); err != nil {
		return rep, fmt.Errorf("restore %s to %s: %w", from, to, err)
	}
	// A write-ahead log left beside the target belongs to the old
	// database: SQLite would apply it to the new one.
	for _, side := range []string{to + "-wal", to + "-shm", to + "-journal"} {
		if err := os.Remove(side); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rep, fmt.Errorf("restore %s: %w", from, err)
		}
	}
	if err := replace(tmp, to); err != nil {
		return rep, fmt.Errorf("restore %s: %w", from, err)
	}
	return rep, nil
}

// mustBeFile checks that path is an existing regular file: SQLite would
// otherwise create an empty database there.
func mustBeFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}

// notSame refuses a copy onto the file it copies: the rename would replace
// the original by its copy, under the server using it.
func notSame(from, to string) error {
	a, err := os.Stat(from)
	if err != nil {
		return err
	}
	b, err := os.Stat(to)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if os.SameFile(a, b) {
		return fmt.Errorf("%s and %s are the same file", from, to)
	}
	return nil
}

// checkTarget refuses a target that holds something (unless force) or that
// another connection has open. A missing or empty file is free.
func checkTarget(ctx context.Context, path string, force bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case fi.Size() == 0:
		return nil
	case !force:
		return fmt.Errorf("%w: %s holds %d bytes (force to replace it)", ErrNotEmpty, path, fi.Size())
	}
	return notInUse(ctx, path)
}

// notInUse takes an exclusive lock on the database at path, without
// waiting, and lets it go. In WAL mode every open connection holds a
// shared lock, so the exclusive one is refused while anyone has the file
// open. Closing the last connection also checkpoints the file's
// write-ahead log into it.
func notInUse(ctx context.Context, path string) error {
	q := url.Values{}
	q.Set("_busy_timeout", "0")
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		if isBusy(err) {
			return fmt.Errorf("%w: %s is open elsewhere (stop the server first)", ErrInUse, path)
		}
		return err
	}
	_, err = conn.ExecContext(ctx, `COMMIT`)
	return err
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// tempBeside creates an empty file in dst's directory for a copy to be
// renamed to dst: the rename is then atomic.
func tempBeside(dst string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".partial-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		_ = os.Remove(name)
		return "", err
	}
	return name, nil
}

// removeDB removes a database file and what SQLite may have left beside
// it.
func removeDB(path string) {
	for _, p := range []string{path, path + "-journal", path + "-wal", path + "-shm"} {
		_ = os.Remove(p)
	}
}

// backuper is what modernc.org/sqlite's connections offer for SQLite's
// online backup.
type backuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// copyDB copies the database at src into the empty file dst, in one read
// transaction of src, then turns dst to rollback-journal mode and syncs it.
// snapshot, when set, is called once the read transaction has its
// snapshot.
func copyDB(ctx context.Context, src, dst string, snapshot func()) error {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(DefaultBusyTimeout.Milliseconds(), 10))
	q.Set("_query_only", "1")
	db, err := sql.Open("sqlite", src+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return Classify(err)
	}
	defer conn.Close()
	// The snapshot is fixed by the transaction's first read, and every
	// step of the backup then reads in it: the pages are one state of the
	// file, whatever is committed meanwhile.
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return Classify(err)
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`) }()
	var objects int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&objects); err != nil {
		return fmt.Errorf("%s: %w", src, Classify(err))
	}
	if snapshot != nil {
		snapshot()
	}
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(backuper)
		if !ok {
			return fmt.Errorf("driver connection %T has no online backup", dc)
		}
		bk, err := b.NewBackup(dst)
		if err != nil {
			return err
		}
		for {
			more, err := bk.Step(backupPages)
			if err == nil && more {
				err = ctx.Err()
			}
			if err != nil || !more {
				return errors.Join(err, bk.Finish())
			}
		}
	})
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, Classify(err))
	}
	// The pages carry src's WAL flag; one file with no -wal beside it is
	// what a backup should be.
	if err := setJournal(ctx, dst, "DELETE"); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return syncFile(dst)
}

// setJournal sets the journal mode of the database at path.
func setJournal(ctx context.Context, path, mode string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	var got string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode = `+mode).Scan(&got); err != nil {
		return Classify(err)
	}
	if !strings.EqualFold(got, mode) {
		return fmt.Errorf("journal mode is %s, not %s", got, mode)
	}
	return db.Close()
}

// checkCopy reads the copy at path, without changing it: SQLite's
// quick_check, its schema version and last position, and tamper.Check.
func checkCopy(ctx context.Context, path string) (BackupReport, error) {
	var rep BackupReport
	fi, err := os.Stat(path)
	if err != nil {
		return rep, err
	}
	rep.Bytes = fi.Size()
	q := url.Values{}
	q.Set("_query_only", "1")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return rep, err
	}
	defer db.Close()
	var quick string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&quick); err != nil {
		return rep, fmt.Errorf("check the copy: %w", Classify(err))
	}
	if quick != "ok" {
		return rep, fmt.Errorf("%w: SQLite finds the file damaged: %s", ErrBroken, quick)
	}
	var isLedger int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations', 'events', 'streams', 'seals')`).Scan(&isLedger); err != nil {
		return rep, fmt.Errorf("check the copy: %w", Classify(err))
	}
	if isLedger != 4 {
		return rep, fmt.Errorf("%w: not a ledger database (no event log in it)", ErrBroken)
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&rep.Schema); err != nil {
		return rep, fmt.Errorf("check the copy: %w", Classify(err))
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&rep.LastPosition); err != nil {
		return rep, fmt.Errorf("check the copy: %w", Classify(err))
	}
	rep.Verify, err = verifyDB(ctx, db)
	if err != nil {
		return rep, err
	}
	if !rep.Verify.OK() {
		return rep, fmt.Errorf("%w: %s", ErrBroken, rep.Verify.First())
	}
	return rep, db.Close()
}

// replace renames tmp to dst and syncs their directory, so that the
// rename survives a crash.
func replace(tmp, dst string) error {
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncFile(filepath.Dir(dst))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
