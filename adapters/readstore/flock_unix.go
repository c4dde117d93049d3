//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package readstore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// flockSupported says whether SQLite's locks are kernel file locks here.
const flockSupported = true

// tryFlock takes an exclusive flock(2) lock on f without waiting: false if
// another open file description holds one.
func tryFlock(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	})
	switch {
	case err != nil:
		return false, err
	case errors.Is(ferr, unix.EWOULDBLOCK):
		return false, nil
	case ferr != nil:
		return false, &os.PathError{Op: "flock", Path: f.Name(), Err: ferr}
	}
	return true, nil
}
