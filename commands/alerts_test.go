package commands_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

func TestAlertRaisedOnceThenHandled(t *testing.T) {
	w := newWorld(t)
	raise := domain.RaiseAlert{Establishment: w.UAI, Kind: domain.AlertHalfDays, Student: w.Student, Group: w.Class,
		Period: "2006-03", Count: 4, Threshold: 4}

	if _, err := w.h.RaiseAlert(w.ctx, as(w.CPE), raise); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("raised by the office: %v, want forbidden (the ledger raises them)", err)
	}
	res, err := w.h.RaiseAlert(w.ctx, system(), raise)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != raise.ID() || res.Stream != domain.AlertStream(raise.ID()) {
		t.Fatalf("result %+v, want the alert's own id and stream", res)
	}
	// The process looks again with a higher count: the same alert.
	raise.Count = 5
	if _, err := w.h.RaiseAlert(w.ctx, system(), raise); !errors.Is(err, domain.ErrAlertExists) {
		t.Fatalf("raised twice: %v, want ErrAlertExists", err)
	}

	handle := domain.HandleAlert{Alert: raise.ID(), Action: domain.ActionFamilyCall}
	for _, tc := range []struct {
		name string
		who  commands.Request
		want error
	}{
		{"teacher", as(w.Teacher), domain.ErrForbidden},
		{"other establishment's head", as(w.OtherHead), domain.ErrForbidden},
		{"relative", as(w.Relative), domain.ErrForbidden},
	} {
		if _, err := w.h.HandleAlert(w.ctx, tc.who, handle); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := w.h.HandleAlert(w.ctx, as(w.CPE), domain.HandleAlert{Alert: raise.ID(), Action: "shrug"}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("unknown action: %v, want invalid", err)
	}
	if _, err := w.h.HandleAlert(w.ctx, as(w.CPE), handle); err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.HandleAlert(w.ctx, as(w.Head), handle); !errors.Is(err, domain.ErrAlertHandled) {
		t.Fatalf("handled twice: %v, want ErrAlertHandled", err)
	}
	if _, err := w.h.HandleAlert(w.ctx, as(w.CPE), domain.HandleAlert{Alert: domain.AlertID(w.UAI, domain.AlertLateness, w.Student, "2006-03"), Action: domain.ActionLetter}); !errors.Is(err, domain.ErrAlertUnknown) {
		t.Fatalf("unknown alert: %v, want ErrAlertUnknown", err)
	}

	recs := w.streamRecords(domain.AlertStream(raise.ID()))
	if len(recs) != 2 || recs[0].Type != "alert.raised.v1" || recs[1].Type != "alert.handled.v1" {
		t.Fatalf("stream: %v, want raised then handled", recs)
	}
	ev, err := w.reg.Decode(recs[1].Type, recs[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	h := ev.(domain.AlertHandled)
	if recs[1].Metadata.Actor != w.CPE || h.Action != domain.ActionFamilyCall || h.Student != w.Student || recs[1].Metadata.Establishment != w.UAI {
		t.Fatalf("handled: %+v by %s, want the CPE's family call about the student", h, recs[1].Metadata.Actor)
	}
}

func TestAlertSettings(t *testing.T) {
	w := newWorld(t)
	got, err := w.h.AlertSettings(w.ctx, w.UAI)
	if err != nil {
		t.Fatal(err)
	}
	if got != domain.DefaultAlertSettings() || got.HalfDaysPerMonth != 4 {
		t.Fatalf("unset: %+v, want the defaults (4 half-days)", got)
	}
	set := domain.DefaultAlertSettings()
	set.HalfDaysPerMonth, set.LatenessPeriod, set.HalfDayRule = 3, domain.PeriodWeek, domain.CountAnyLesson
	cmd := domain.SetAlertSettings{Establishment: w.UAI, AlertSettings: set}
	if _, err := w.h.SetAlertSettings(w.ctx, as(w.CPE), cmd); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("by the CPE: %v, want forbidden (the head sets them)", err)
	}
	if _, err := w.h.SetAlertSettings(w.ctx, as(w.OtherHead), cmd); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("by another establishment's head: %v, want forbidden", err)
	}
	for _, bad := range []func(*domain.AlertSettings){
		func(s *domain.AlertSettings) { s.HalfDaysPerMonth = 0 },
		func(s *domain.AlertSettings) { s.LatenessCount = 1000 },
		func(s *domain.AlertSettings) { s.HalfDayCut = "25:00" },
		func(s *domain.AlertSettings) { s.HalfDayCut = "12:00\x00" },
		func(s *domain.AlertSettings) { s.LatenessPeriod = "year" },
		func(s *domain.AlertSettings) { s.OfficeDelayMinutes = -1 },
	} {
		s := set
		bad(&s)
		if _, err := w.h.SetAlertSettings(w.ctx, as(w.Head), domain.SetAlertSettings{Establishment: w.UAI, AlertSettings: s}); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", s, err)
		}
	}
	if _, err := w.h.SetAlertSettings(w.ctx, as(w.Head), cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.SetAlertSettings(w.ctx, as(w.Head), cmd); err != nil {
		t.Fatal(err)
	}
	if n := len(w.streamRecords(domain.AlertSettingsStream(w.UAI))); n != 1 {
		t.Fatalf("set twice the same: %d events, want 1", n)
	}
	if got, err = w.h.AlertSettings(w.ctx, w.UAI); err != nil || got != set {
		t.Fatalf("after setting: %+v %v, want %+v", got, err, set)
	}
}

func TestRecordLetter(t *testing.T) {
	w := newWorld(t)
	cmd := domain.RecordLetter{Student: w.Student, Template: domain.LetterUnjustifiedAbsences, Channel: domain.LetterByPrint,
		Recipients: []uuid.UUID{w.Relative}, From: domain.MustDate("2006-03-01"), To: domain.MustDate("2006-03-14"), HalfDays: 5}
	if _, err := w.h.RecordLetter(w.ctx, as(w.Teacher), cmd); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("by a teacher: %v, want forbidden", err)
	}
	other := cmd
	other.Recipients = []uuid.UUID{w.OtherRelative}
	if _, err := w.h.RecordLetter(w.ctx, as(w.CPE), other); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("to someone else's relative: %v, want invalid", err)
	}
	backwards := cmd
	backwards.From, backwards.To = cmd.To, cmd.From
	if _, err := w.h.RecordLetter(w.ctx, as(w.CPE), backwards); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("period backwards: %v, want invalid", err)
	}
	res, err := w.h.RecordLetter(w.ctx, commands.Request{Actor: w.CPE, IdempotencyKey: "letter-1"}, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.RecordLetter(w.ctx, commands.Request{Actor: w.CPE, IdempotencyKey: "letter-1"}, cmd); err != nil {
		t.Fatal(err)
	}
	recs := w.streamRecords(domain.LettersStream(w.Student))
	if len(recs) != 1 || recs[0].Type != "letter.sent.v1" {
		t.Fatalf("stream: %v, want one letter.sent.v1", recs)
	}
	ev, err := w.reg.Decode(recs[0].Type, recs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	l := ev.(domain.LetterSent)
	if l.Letter != res.ID || l.Establishment != w.UAI || l.Recipients[0] != w.Relative || l.HalfDays != 5 {
		t.Fatalf("letter: %+v", l)
	}
}

// streamRecords reads a stream's records.
func (w *world) streamRecords(stream string) []domain.Record {
	w.t.Helper()
	recs, err := w.store.ReadStream(w.ctx, stream, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return recs
}
