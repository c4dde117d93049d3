package readstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/readstore"
)

// Variables that make the test binary a lock holder (see holdLock).
const (
	envHolderDB   = "READSTORE_TEST_HOLD_DB"
	envHolderLock = "READSTORE_TEST_HOLD_LOCK"
)

// TestMain runs the lock holders the tests start from their own binary.
func TestMain(m *testing.M) {
	if path := os.Getenv(envHolderDB); path != "" {
		if err := holdLock(path, os.Getenv(envHolderLock)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holdLock takes the lock name on the read models at path, says "held" on
// stdout, and holds it until stdin closes. Leases, where they would be
// used, last an hour: only the kernel frees this lock in time for a test.
func holdLock(path, name string) error {
	ctx := context.Background()
	s, err := readstore.OpenSQLite(ctx, path, readstore.WithLease(time.Hour, time.Minute))
	if err != nil {
		return err
	}
	defer s.Close()
	_, release, ok, err := s.TryAcquire(ctx, name)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("lock %s is busy", name)
	}
	defer release()
	fmt.Println("held")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}
