//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package readstore

import (
	"errors"
	"os"
)

// flockSupported says whether SQLite's locks are kernel file locks here:
// not on this platform, where they are leases in the database.
const flockSupported = false

func tryFlock(*os.File) (bool, error) { return false, errors.ErrUnsupported }
