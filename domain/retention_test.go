package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

func TestParseKeep(t *testing.T) {
	for in, want := range map[string]domain.Keep{"2y": "2y", " 18m ": "18m", "30d": "30d", "10y": "10y", "07d": "7d", "120m": "120m"} {
		if got, err := domain.ParseKeep(in); err != nil || got != want {
			t.Errorf("ParseKeep(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2", "y", "0y", "11y", "121m", "3651d", "-1y", "+1y", "1.5y", "2w", "1y6m", "deux ans", "1 y", "99999999999999999999y"} {
		if _, err := domain.ParseKeep(in); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("ParseKeep(%q): %v, want ErrInvalid", in, err)
		}
	}
	at := time.Date(2026, time.January, 31, 12, 0, 0, 0, time.UTC)
	if got := domain.Keep("1m").After(at); !got.Equal(time.Date(2026, time.March, 3, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("1m after 31 January: %s", got)
	}
	if got := domain.Keep("1y").Before(at); !got.Equal(time.Date(2025, time.January, 31, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("1y before: %s", got)
	}
}

func TestPeriods(t *testing.T) {
	paris := domain.Paris()
	cases := map[time.Time]string{
		time.Date(2025, 8, 31, 21, 59, 0, 0, time.UTC): "2024-2025",
		time.Date(2025, 8, 31, 22, 0, 0, 0, time.UTC):  "2025-2026", // midnight in Paris
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC):    "2025-2026",
	}
	for at, want := range cases {
		if got := domain.PeriodOf(at, paris); got != want {
			t.Errorf("PeriodOf(%s) = %s, want %s", at, got, want)
		}
	}
	end, err := domain.PeriodEnd("2024-2025", paris)
	if err != nil || !end.Equal(time.Date(2025, 9, 1, 0, 0, 0, 0, paris)) {
		t.Errorf("end of 2024-2025: %s, %v", end, err)
	}
	for _, bad := range []string{"2024", "2024-2026", "x-y", "", "2024-2025-2026"} {
		if _, err := domain.PeriodEnd(bad, paris); err == nil {
			t.Errorf("PeriodEnd(%q) accepted", bad)
		}
	}
}

// TestSetRetention: who sets a retention, for what, for how long.
func TestSetRetention(t *testing.T) {
	admin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0750001A"}
	teacher := domain.Actor{Account: uuid.New(), Profile: domain.ProfileTeacher, Establishment: "0750001A"}
	ok := domain.SetRetention{Establishment: "0750001A", Category: domain.RetentionMessages, Keep: "2y"}
	cases := []struct {
		name  string
		actor domain.Actor
		cmd   domain.SetRetention
		want  error
	}{
		{"an administrator", admin, ok, nil},
		{"the ledger, ledger-wide", domain.SystemActor(), domain.SetRetention{Category: domain.RetentionBus, Keep: "30d"}, nil},
		{"a teacher", teacher, ok, domain.ErrForbidden},
		{"another establishment's administrator", admin, domain.SetRetention{Establishment: "0750002B", Category: domain.RetentionMessages, Keep: "2y"}, domain.ErrForbidden},
		{"not a UAI", domain.SystemActor(), domain.SetRetention{Establishment: "lycée", Category: domain.RetentionMessages, Keep: "2y"}, domain.ErrInvalid},
		{"unknown category", admin, domain.SetRetention{Establishment: "0750001A", Category: "photos", Keep: "2y"}, domain.ErrInvalid},
		{"ledger-wide category per establishment", admin, domain.SetRetention{Establishment: "0750001A", Category: domain.RetentionConnections, Keep: "1y"}, domain.ErrInvalid},
		{"absurd duration", admin, domain.SetRetention{Establishment: "0750001A", Category: domain.RetentionMessages, Keep: "50y"}, domain.ErrInvalid},
		{"no duration", admin, domain.SetRetention{Establishment: "0750001A", Category: domain.RetentionMessages, Keep: "0m"}, domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r domain.Retention
			events, err := r.SetRetention(tc.actor, tc.cmd)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || len(events) != 0 {
					t.Fatalf("%v, %v; want %v", events, err, tc.want)
				}
				return
			}
			if err != nil || len(events) != 1 {
				t.Fatalf("%v, %v", events, err)
			}
			r.Apply(events[0])
			if r.KeepFor(tc.cmd.Category) != domain.Keep(tc.cmd.Keep) {
				t.Errorf("kept %s", r.KeepFor(tc.cmd.Category))
			}
			// The same again records nothing.
			if again, err := r.SetRetention(tc.actor, tc.cmd); err != nil || len(again) != 0 {
				t.Errorf("again: %v, %v", again, err)
			}
		})
	}
	var r domain.Retention
	if r.KeepFor(domain.RetentionSchoolLife) != domain.DefaultKeep(domain.RetentionSchoolLife) {
		t.Error("no setting: not the default")
	}
	if _, err := r.RecordRetentionApplied(admin, domain.RecordRetentionApplied{Category: domain.RetentionMessages, Period: "2024-2025", Keys: 3}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("an administrator records an expiry: %v", err)
	}
}
