package readstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// sqliteLocker elects holders among the processes sharing a SQLite
// database. Where the database is a file and the platform has flock(2),
// the locks are kernel locks on files beside it (fileLocker), released the
// moment their process dies; otherwise they are leases in the database,
// which a dead holder keeps until they expire. The choice needs the
// database's file, asked at the first TryAcquire, which has a context.
type sqliteLocker struct {
	read   *sql.DB
	leases func() locker

	mu     sync.Mutex
	l      locker // nil until chosen
	closed bool
}

func newSQLiteLocker(read *sql.DB, leases func() locker) *sqliteLocker {
	return &sqliteLocker{read: read, leases: leases}
}

// TryAcquire implements projector.Locker.
func (s *sqliteLocker) TryAcquire(ctx context.Context, name string) (context.Context, func(), bool, error) {
	l, err := s.locker(ctx)
	if err != nil {
		return nil, nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	return l.TryAcquire(ctx, name)
}

// locker returns the locker, choosing it on first use.
func (s *sqliteLocker) locker(ctx context.Context) (locker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, errClosed
	case s.l != nil:
		return s.l, nil
	}
	// The path SQLite resolved: absolute, symbolic links followed, so
	// every process opening the file finds the same lock directory. A
	// database in memory has none.
	var file string
	if err := s.read.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	if file == "" || !flockSupported {
		s.l = s.leases()
		return s.l, nil
	}
	dir := file + ".locks"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	s.l = newFileLocker(dir)
	return s.l, nil
}

// Close releases the locks still held; TryAcquire fails afterwards.
func (s *sqliteLocker) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.l == nil {
		return nil
	}
	return s.l.Close()
}

// fileLocker holds one exclusive flock(2) lock per name, on a file of its
// own in dir. A flock lock belongs to an open file description: every
// TryAcquire opens the file anew, so two holders in one process exclude
// each other as two processes do. The lock ends with its descriptor, which
// the kernel closes when the process dies; it cannot be lost otherwise, so
// a held context ends only on release, Close or its parent's end. Lock
// files are never removed: a holder of a removed file would not exclude
// one that creates it again.
type fileLocker struct {
	dir string

	mu     sync.Mutex
	held   map[*os.File]context.CancelFunc
	closed bool
}

func newFileLocker(dir string) *fileLocker {
	return &fileLocker{dir: dir, held: make(map[*os.File]context.CancelFunc)}
}

// TryAcquire implements projector.Locker.
func (l *fileLocker) TryAcquire(ctx context.Context, name string) (context.Context, func(), bool, error) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, nil, false, errClosed
	}
	f, err := os.OpenFile(filepath.Join(l.dir, lockFileName(name)), os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	ok, err := tryFlock(f)
	if err != nil || !ok {
		_ = f.Close()
		if err != nil {
			return nil, nil, false, fmt.Errorf("lock %s: %w", name, err)
		}
		return nil, nil, false, nil
	}
	held, cancel := context.WithCancel(ctx)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cancel()
		_ = f.Close()
		return nil, nil, false, errClosed
	}
	l.held[f] = cancel
	l.mu.Unlock()
	return held, sync.OnceFunc(func() { l.release(f) }), true, nil
}

// release ends the held context, then frees the lock: closing the only
// descriptor of the open file description unlocks it.
func (l *fileLocker) release(f *os.File) {
	l.mu.Lock()
	cancel, ok := l.held[f]
	delete(l.held, f)
	l.mu.Unlock()
	if ok {
		cancel()
		_ = f.Close()
	}
}

// Close releases the locks still held; TryAcquire fails afterwards.
func (l *fileLocker) Close() error {
	l.mu.Lock()
	l.closed = true
	files := make([]*os.File, 0, len(l.held))
	for f := range l.held {
		files = append(files, f)
	}
	l.mu.Unlock()
	for _, f := range files {
		l.release(f)
	}
	return nil
}

// maxLockName bounds the encoded part of a lock file's name, well under
// the 255 bytes file systems allow.
const maxLockName = 200

// lockFileName maps a lock name to a file name, distinct names to distinct
// files: bytes other than lower-case ASCII letters, digits, '-', '_' and
// '.' are written %xx in lower-case hexadecimal, so a name holds no path
// separator and names that differ only in case stay apart on
// case-insensitive file systems. An encoding longer than maxLockName keeps
// its beginning, then '~' (which no encoding holds) and the SHA-256 of the
// whole name.
func lockFileName(name string) string {
	const hexDigits = "0123456789abcdef"
	var b strings.Builder
	for i := range len(name) {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	enc := b.String()
	if len(enc) > maxLockName {
		sum := sha256.Sum256([]byte(name))
		enc = enc[:maxLockName-1-2*len(sum)] + "~" + hex.EncodeToString(sum[:])
	}
	return enc + ".lock"
}
