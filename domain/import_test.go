package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

func TestFeedPresence(t *testing.T) {
	id := uuid.New()
	since := time.Date(2024, time.September, 2, 6, 0, 0, 0, time.UTC)
	opened := domain.AccountOpened{Account: id, Establishment: "0130001A", Profile: domain.ProfileStudent, ExternalID: "E001", DisplayName: "Léa"}
	handMade := domain.AccountOpened{Account: id, Establishment: "0130001A", Profile: domain.ProfileStudent, DisplayName: "Léa"}
	missing := domain.AccountMissingFromFeed{Account: id, Since: since, Feed: "full feed"}
	system := domain.SystemActor()
	admin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0130001A"}
	otherAdmin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0840002B"}
	teacher := domain.Actor{Account: uuid.New(), Profile: domain.ProfileTeacher, Establishment: "0130001A"}
	flag := func(a domain.Actor) func(p *domain.FeedPresence) ([]domain.Event, error) {
		return func(p *domain.FeedPresence) ([]domain.Event, error) { return p.FlagMissing(a, id, since, "full feed") }
	}
	back := func(p *domain.FeedPresence) ([]domain.Event, error) { return p.BackInFeed(system, id, "delta") }
	closeAt := func(after, grace time.Duration) func(p *domain.FeedPresence) ([]domain.Event, error) {
		return func(p *domain.FeedPresence) ([]domain.Event, error) {
			return p.CloseMissing(system, id, since.Add(after), grace)
		}
	}
	month := 30 * 24 * time.Hour
	cases := []struct {
		name  string
		given []domain.Event
		when  func(p *domain.FeedPresence) ([]domain.Event, error)
		then  []domain.Event
		err   error
	}{
		{"flag an imported account", []domain.Event{opened}, flag(system), []domain.Event{missing}, nil},
		{"an administrator of its establishment may", []domain.Event{opened}, flag(admin), []domain.Event{missing}, nil},
		{"not one of another establishment", []domain.Event{opened}, flag(otherAdmin), nil, domain.ErrForbidden},
		{"nor a teacher", []domain.Event{opened}, flag(teacher), nil, domain.ErrForbidden},
		{"flag twice", []domain.Event{opened, missing}, flag(system), nil, domain.ErrAlreadyMissing},
		{"flag a hand-made account", []domain.Event{handMade}, flag(system), nil, domain.ErrNotImported},
		{"flag a closed account", []domain.Event{opened, domain.AccountClosed{Account: id}}, flag(system), nil, domain.ErrAccountClosed},
		{"flag an unknown account", nil, flag(system), nil, domain.ErrUnknownAccount},
		{"back in the feed", []domain.Event{opened, missing}, back, []domain.Event{domain.AccountBackInFeed{Account: id, Feed: "delta"}}, nil},
		{"back without being missing", []domain.Event{opened}, back, nil, domain.ErrNotMissing},
		{"back, then back again", []domain.Event{opened, missing, domain.AccountBackInFeed{Account: id}}, back, nil, domain.ErrNotMissing},
		{"close within the grace period", []domain.Event{opened, missing}, closeAt(month-time.Second, month), nil, domain.ErrGraceNotOver},
		{"close once it is over", []domain.Event{opened, missing}, closeAt(month, month),
			[]domain.Event{domain.AccountClosed{Account: id, Reason: "missing from the directory feed since 2024-09-02"}}, nil},
		{"the first flag counts", []domain.Event{opened, missing, domain.AccountMissingFromFeed{Account: id, Since: since.Add(month)}}, closeAt(month, month),
			[]domain.Event{domain.AccountClosed{Account: id, Reason: "missing from the directory feed since 2024-09-02"}}, nil},
		{"close an account back in the feed", []domain.Event{opened, missing, domain.AccountBackInFeed{Account: id}}, closeAt(2*month, month), nil, domain.ErrNotMissing},
		{"close with a negative grace", []domain.Event{opened, missing}, closeAt(month, -time.Hour), nil, domain.ErrNegativeGrace},
		{"close with no grace", []domain.Event{opened, missing}, closeAt(0, 0),
			[]domain.Event{domain.AccountClosed{Account: id, Reason: "missing from the directory feed since 2024-09-02"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p domain.FeedPresence
			for _, e := range tc.given {
				p.Apply(e)
			}
			got, err := tc.when(&p)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("events %#v, want %#v", got, tc.then)
			}
		})
	}
}

func TestFeedPresenceRejectsLongFeedDescriptions(t *testing.T) {
	var p domain.FeedPresence
	id := uuid.New()
	p.Apply(domain.AccountOpened{Account: id, Establishment: "0130001A", Profile: domain.ProfileStudent, ExternalID: "E", DisplayName: "X"})
	if _, err := p.FlagMissing(domain.SystemActor(), id, time.Now(), string(make([]byte, 501))); !errors.Is(err, domain.ErrFeedDescription) {
		t.Fatalf("error %v", err)
	}
	if _, err := p.FlagMissing(domain.SystemActor(), id, time.Now(), "two\nlines"); !errors.Is(err, domain.ErrFeedDescription) {
		t.Fatalf("error %v", err)
	}
}
