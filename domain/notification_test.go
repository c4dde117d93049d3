package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

func TestNotificationPreferences(t *testing.T) {
	parent := domain.Actor{Account: uuid.New(), Profile: domain.ProfileRelative}
	ok := domain.DefaultNotificationPreferences()
	ok.QuietFrom, ok.QuietTo = "21:30", "07:00"
	ok.Channels = []domain.NotifyChannel{domain.ChannelSMS, domain.ChannelPush}
	events, err := domain.SetNotificationPreferences{Account: parent.Account, Preferences: ok}.Decide(parent)
	if err != nil {
		t.Fatal(err)
	}
	set := events[0].(domain.NotificationPreferencesSet)
	if set.Preferences.Channels[0] != domain.ChannelPush || set.Preferences.Channels[1] != domain.ChannelSMS {
		t.Fatalf("channels kept in their order: %v", set.Preferences.Channels)
	}
	if _, err := (domain.SetNotificationPreferences{Account: uuid.New(), Preferences: ok}).Decide(parent); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("another's preferences: %v", err)
	}
	for name, edit := range map[string]func(p *domain.NotificationPreferences){
		"category": func(p *domain.NotificationPreferences) {
			p.Modes = map[domain.NotifyCategory]domain.NotifyMode{"weather": domain.NotifyOff}
		},
		"mode": func(p *domain.NotificationPreferences) {
			p.Modes = map[domain.NotifyCategory]domain.NotifyMode{domain.NotifyNews: "weekly"}
		},
		"channel":    func(p *domain.NotificationPreferences) { p.Channels = []domain.NotifyChannel{"fax"} },
		"twice":      func(p *domain.NotificationPreferences) { p.Channels = []domain.NotifyChannel{"sms", "sms"} },
		"lang":       func(p *domain.NotificationPreferences) { p.Lang = "de" },
		"half quiet": func(p *domain.NotificationPreferences) { p.QuietTo = "" },
		"25:00":      func(p *domain.NotificationPreferences) { p.QuietFrom = "25:00" },
		"same":       func(p *domain.NotificationPreferences) { p.QuietFrom, p.QuietTo = "07:00", "07:00" },
		"8h":         func(p *domain.NotificationPreferences) { p.QuietFrom = "8:00" },
	} {
		p := ok
		edit(&p)
		if _, err := (domain.SetNotificationPreferences{Account: parent.Account, Preferences: p}).Decide(parent); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	paris := domain.Paris()
	at := func(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, paris) }
	for _, tc := range []struct {
		from, to string
		t        time.Time
		end      time.Time
		quiet    bool
	}{
		{"21:30", "07:00", at(22, 0), at(7, 0).AddDate(0, 0, 1), true},
		{"21:30", "07:00", at(6, 59), at(7, 0), true},
		{"21:30", "07:00", at(7, 0), time.Time{}, false},
		{"21:30", "07:00", at(12, 0), time.Time{}, false},
		{"12:00", "14:00", at(13, 0), at(14, 0), true},
		{"12:00", "14:00", at(14, 0), time.Time{}, false},
	} {
		p := domain.NotificationPreferences{QuietFrom: tc.from, QuietTo: tc.to}
		end, quiet := p.Quiet(tc.t)
		if quiet != tc.quiet || !end.Equal(tc.end) {
			t.Errorf("%s-%s at %s: %v until %s", tc.from, tc.to, tc.t.Format("15:04"), quiet, end)
		}
	}
	if m := (domain.NotificationPreferences{}).Mode(domain.NotifyAbsences); m != domain.NotifyInstantly {
		t.Errorf("default mode of absences: %s", m)
	}
}

func TestRecordNotificationOutcomes(t *testing.T) {
	o := domain.NotificationOutcome{
		Kind: domain.OutcomeSent, Notification: uuid.New(), Act: "absence.recorded.v1", Category: domain.NotifyAbsences,
		Channel: domain.ChannelEmail, Recipient: uuid.New(), Students: []uuid.UUID{uuid.New()}, Attempts: 1, At: time.Now(),
	}
	failed := o
	failed.Kind, failed.Reason = domain.OutcomeFailed, domain.FailExhausted
	opened := domain.NotificationOutcome{Kind: domain.OutcomeOpened, Notification: o.Notification, Channel: domain.ChannelPush, Recipient: o.Recipient, At: time.Now()}
	cmd := domain.RecordNotificationOutcomes{Establishment: "0750001A", Outcomes: []domain.NotificationOutcome{o, failed, opened}}
	if _, err := cmd.Decide(domain.Actor{Account: uuid.New(), Profile: domain.ProfilePersonnel}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a person recorded outcomes: %v", err)
	}
	events, err := cmd.Decide(domain.SystemActor())
	if err != nil || len(events) != 3 {
		t.Fatalf("%v %v", events, err)
	}
	if _, ok := events[0].(domain.NotificationSent); !ok {
		t.Errorf("%T", events[0])
	}
	if f, ok := events[1].(domain.NotificationFailed); !ok || f.Reason != domain.FailExhausted {
		t.Errorf("%#v", events[1])
	}
	if subj := domain.Subjects(events[0]); len(subj) != 2 || subj[0] != o.Students[0] || subj[1] != o.Recipient {
		t.Errorf("subjects %v", subj)
	}
	bad := failed
	bad.Reason = "bored"
	cmd.Outcomes = []domain.NotificationOutcome{bad}
	if _, err := cmd.Decide(domain.SystemActor()); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("unknown reason: %v", err)
	}
}
