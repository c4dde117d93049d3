package reseal_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/reseal"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

func mustStore(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// mustAppend appends e as the next event of stream, in clear.
func mustAppend(t *testing.T, s *sqlite.Store, reg *domain.Registry, stream string, version uint64, id uuid.UUID, e domain.Event) {
	t.Helper()
	typ, data, err := reg.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	env := domain.Envelope{ID: id, Type: typ, Data: data, Metadata: domain.Metadata{Profile: domain.ProfileSystem, Command: "Test", Time: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}}
	if _, err := s.Append(context.Background(), stream, domain.Exact(version), []domain.Envelope{env}); err != nil {
		t.Fatal(err)
	}
}

// TestCopyAndCheck: Run copies a log in clear with its personal fields
// sealed and Check finds it identical; a copy whose payload differs, or
// that holds one event more, is reported; a destination that does not
// start with the record of the copy is refused.
func TestCopyAndCheck(t *testing.T) {
	ctx := context.Background()
	plain := domain.NewRegistry()
	src := mustStore(t)
	student, sender := uuid.New(), uuid.New()
	msg := uuid.New()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	mustAppend(t, src, plain, domain.DisciplineStream(student), 0, ids[0], domain.PunishmentGiven{Punishment: uuid.New(), Student: student, Kind: domain.PunishmentDetention, Reason: "raison-en-clair"})
	mustAppend(t, src, plain, domain.DisciplineStream(student), 1, ids[1], domain.PunishmentGiven{Punishment: uuid.New(), Student: student, Kind: domain.PunishmentDetention, Reason: "autre-raison"})
	mustAppend(t, src, plain, domain.MessageStream(msg), 0, ids[2], domain.MessageSent{Message: msg, From: sender, Subject: "Sujet", Body: "corps-en-clair"})
	head, err := src.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := head[len(head)-1].Position

	newDest := func(t *testing.T) (*sqlite.Store, *subjectkeys.Cipher) {
		dst := mustStore(t)
		c, err := subjectkeys.New(subjectkeys.NewSQLite(dst.DB(), dst.WithTx), plain)
		if err != nil {
			t.Fatal(err)
		}
		h, err := commands.New(commands.Config{Store: dst, Registry: plain.WithOpener(c)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.ResealStore(ctx, commands.Request{System: true}, domain.ResealStore{SourceSeal: "ab", SourceHead: last.String(), Events: 3}); err != nil {
			t.Fatal(err)
		}
		return dst, c
	}

	dst, c := newDest(t)
	rep, err := reseal.Copy{Source: src, Dest: dst, Registry: plain, Sealer: c, Head: last, Events: 3, Batch: 2}.Run(ctx)
	if err != nil || rep.Copied != 3 || rep.Rewritten != 3 {
		t.Fatalf("copy: %+v, %v", rep, err)
	}
	copied, err := dst.ReadAll(ctx, domain.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range copied {
		if strings.Contains(string(r.Data), "en-clair") || strings.Contains(string(r.Data), "autre-raison") {
			t.Errorf("the copy holds a text in clear: %s", r.Data)
		}
	}
	srcReg := plain.WithOpener(mustCipher(t, src, plain))
	if n, err := reseal.Check(ctx, src, srcReg, dst, plain.WithOpener(c), c, last, 3); err != nil || n != 3 {
		t.Errorf("check: %d, %v", n, err)
	}
	// Run again: everything is there already.
	if rep, err := (reseal.Copy{Source: src, Dest: dst, Registry: plain, Sealer: c, Head: last, Events: 3}).Run(ctx); err != nil || rep.Resumed != 3 {
		t.Errorf("second run: %+v, %v", rep, err)
	}
	// One event more in the copy.
	mustAppend(t, dst, plain, domain.MessageStream(msg), 1, uuid.New(), domain.MessageRead{Message: msg, Reader: sender})
	if _, err := reseal.Check(ctx, src, srcReg, dst, plain.WithOpener(c), c, last, 3); err == nil || !strings.Contains(err.Error(), "more events") {
		t.Errorf("check of a copy with one event more: %v", err)
	}

	// A copy whose second event says something else.
	bad, bc := newDest(t)
	mustAppend(t, bad, plain, domain.DisciplineStream(student), 0, ids[0], domain.PunishmentGiven{})
	if _, err := reseal.Check(ctx, src, srcReg, bad, plain.WithOpener(bc), bc, last, 3); err == nil || !strings.Contains(err.Error(), "payloads differ") {
		t.Errorf("check of a changed copy: %v", err)
	}

	// A destination that is not a copy.
	other := mustStore(t)
	mustAppend(t, other, plain, domain.MessageStream(msg), 0, uuid.New(), domain.MessageRead{Message: msg, Reader: sender})
	if _, err := (reseal.Copy{Source: src, Dest: other, Registry: plain, Sealer: c, Head: last, Events: 3}).Run(ctx); err == nil {
		t.Error("a destination with a ledger of its own was accepted")
	}
}

func mustCipher(t *testing.T, s *sqlite.Store, reg *domain.Registry) *subjectkeys.Cipher {
	t.Helper()
	c, err := subjectkeys.New(subjectkeys.NewSQLite(s.DB(), s.WithTx), reg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
