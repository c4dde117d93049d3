package directoryimport

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/schoollife/ledger/adapters/sqlite"
)

// The AAF scenario on the embedded SQLite store, with a reopened store for
// the second runs: the directory is folded from the file, not from memory.
func TestAAFOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	open := func() *sqlite.Store {
		s, err := sqlite.Open(context.Background(), path, sqlite.WithSynchronous(sqlite.SyncNormal))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	x := newHarness(t, open())
	opts := DefaultOptions()
	rep, _ := x.MustImport(x.sources(FormatAAF, "", "aaf/full"), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{
		RegisterEstablishment: 2, RecordFeedKey: 2, OpenAccount: 15, CreateGroup: 4, JoinGroup: 11, LinkRelative: 7,
	})

	y := newHarness(t, open())
	y.now = x.now.Add(14 * 24 * time.Hour)
	y.MustNotChange(y.sources(FormatAAF, "", "aaf/full"), opts)
	rep, _ = y.MustImport(y.sources(FormatAAF, "", "aaf/delta"), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{OpenAccount: 1, LeaveGroup: 2, JoinGroup: 4, UnlinkRelative: 1, LinkRelative: 1, FlagMissing: 1})
	y.MustNotChange(y.sources(FormatAAF, "", "aaf/delta"), opts)
	y.now = y.now.Add(31 * 24 * time.Hour)
	rep, _ = y.MustImport(y.sources(FormatAAF, "", "aaf/delta"), opts)
	wantCounts(t, rep.Applied, map[ChangeKind]int{LeaveGroup: 1, CloseAccount: 1})
	y.MustNotChange(y.sources(FormatAAF, "", "aaf/delta"), opts)
}
