package sqlite

import "time"

// MaxWait is how long Wait waits at most.
const MaxWait = maxWait

// WithTimers makes Wait arm its timers (its cap and each poll) with
// newTimer instead of the clock's.
func WithTimers(newTimer func(time.Duration) (<-chan time.Time, func() bool)) Option {
	return func(c *config) { c.timer = newTimer }
}

// WithSnapshotHook makes Backup call f once its snapshot is fixed, before
// it copies a page.
func WithSnapshotHook(f func()) BackupOption {
	return func(c *backupConfig) { c.snapshot = f }
}
