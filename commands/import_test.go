package commands_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

func TestFeedFlags(t *testing.T) {
	w := newWorld(t)
	imported := uuid.New()
	w.given(domain.AccountStream(imported), domain.AccountOpened{Account: imported, Establishment: w.UAI,
		Profile: domain.ProfileStudent, ExternalID: "E001", DisplayName: "Léa Martin"})
	since := w.now

	// Only imported accounts, only by an administrator (or the system).
	w.thenError(func() (commands.Result, error) {
		return w.h.FlagMissingFromFeed(w.ctx, system(), domain.FlagMissingFromFeed{Account: w.Student, Feed: "full feed"})
	}, domain.ErrNotImported)
	w.thenError(func() (commands.Result, error) {
		return w.h.FlagMissingFromFeed(w.ctx, as(w.Head), domain.FlagMissingFromFeed{Account: imported, Feed: "full feed"})
	}, domain.ErrForbidden)

	recs := w.thenEvents(func() (commands.Result, error) {
		return w.h.FlagMissingFromFeed(w.ctx, system(), domain.FlagMissingFromFeed{Account: imported, Feed: "absent from the full feed; full feed: ENT_Complet_20240902_Eleve_0000.xml"})
	}, domain.AccountMissingFromFeed{Account: imported, Since: since, Feed: "absent from the full feed; full feed: ENT_Complet_20240902_Eleve_0000.xml"})
	if recs[0].Metadata.Command != commands.CmdFlagMissingFromFeed || recs[0].Metadata.Establishment != w.UAI {
		t.Fatalf("metadata %+v", recs[0].Metadata)
	}
	w.thenError(func() (commands.Result, error) {
		return w.h.FlagMissingFromFeed(w.ctx, system(), domain.FlagMissingFromFeed{Account: imported, Feed: "again"})
	}, domain.ErrAlreadyMissing)

	grace := 30 * 24 * time.Hour
	w.now = since.Add(grace - time.Minute)
	w.thenError(func() (commands.Result, error) {
		return w.h.CloseMissingFromFeed(w.ctx, system(), domain.CloseMissingFromFeed{Account: imported, Grace: grace})
	}, domain.ErrGraceNotOver)

	// Back in the feed: the grace period starts again from the next flag.
	w.thenEvents(func() (commands.Result, error) {
		return w.h.MarkBackInFeed(w.ctx, system(), domain.MarkBackInFeed{Account: imported, Feed: "delta"})
	},
		domain.AccountBackInFeed{Account: imported, Feed: "delta"})
	w.thenError(func() (commands.Result, error) {
		return w.h.CloseMissingFromFeed(w.ctx, system(), domain.CloseMissingFromFeed{Account: imported, Grace: grace})
	}, domain.ErrNotMissing)
	flaggedAt := w.now
	w.thenEvents(func() (commands.Result, error) {
		return w.h.FlagMissingFromFeed(w.ctx, system(), domain.FlagMissingFromFeed{Account: imported, Feed: "full feed"})
	},
		domain.AccountMissingFromFeed{Account: imported, Since: flaggedAt, Feed: "full feed"})
	w.now = flaggedAt.Add(grace - time.Minute)
	w.thenError(func() (commands.Result, error) {
		return w.h.CloseMissingFromFeed(w.ctx, system(), domain.CloseMissingFromFeed{Account: imported, Grace: grace})
	}, domain.ErrGraceNotOver)

	w.now = flaggedAt.Add(grace)
	req := commands.Request{System: true, IdempotencyKey: "directory-import:close-e001"}
	recs = w.thenEvents(func() (commands.Result, error) {
		return w.h.CloseMissingFromFeed(w.ctx, req, domain.CloseMissingFromFeed{Account: imported, Grace: grace})
	},
		domain.AccountClosed{Account: imported, Reason: "missing from the directory feed since " + flaggedAt.Format(time.DateOnly)})
	if recs[0].Metadata.Command != commands.CmdCloseMissingFromFeed {
		t.Fatalf("closed by %s", recs[0].Metadata.Command)
	}
	// A retry with the same key records nothing and returns the first result.
	var res commands.Result
	w.thenEvents(func() (commands.Result, error) {
		var err error
		res, err = w.h.CloseMissingFromFeed(w.ctx, req, domain.CloseMissingFromFeed{Account: imported, Grace: grace})
		return res, err
	})
	if !res.Replayed || len(res.Events) != 1 || res.Events[0] != recs[0].ID {
		t.Fatalf("retry: %+v", res)
	}
	_, err := w.h.MarkBackInFeed(w.ctx, system(), domain.MarkBackInFeed{Account: imported, Feed: "delta"})
	if !errors.Is(err, domain.ErrAccountClosed) {
		t.Fatalf("back in the feed after closing: %v", err)
	}
}
