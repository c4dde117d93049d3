package domain_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestEraseSubjectAndScrub: given a privacy stream's events, erasing and
// recording the scrub decide these events or this error.
func TestEraseSubjectAndScrub(t *testing.T) {
	student := uuid.New()
	var acc domain.Account
	acc.Apply(domain.AccountOpened{Account: student, Establishment: "0751234A", Profile: domain.ProfileStudent, DisplayName: "Léa"})
	admin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0751234A"}
	head := domain.Actor{Account: uuid.New(), Profile: domain.ProfilePersonnel, Function: domain.FunctionHead, Establishment: "0751234A"}
	erase := domain.EraseSubject{Subject: student, Reason: "demande du 3 décembre", Basis: "RGPD art. 17"}
	erased := domain.SubjectErased{Subject: student, Basis: "RGPD art. 17", Reason: "demande du 3 décembre"}
	scrubbed := domain.SubjectScrubbed{Subject: student}
	cases := []struct {
		name  string
		given []domain.Event
		when  func(e *domain.Erasure) ([]domain.Event, error)
		then  []domain.Event
		err   error
	}{
		{"an administrator erases", nil, func(e *domain.Erasure) ([]domain.Event, error) { return e.EraseSubject(admin, &acc, erase) },
			[]domain.Event{erased}, nil},
		{"the head does not", nil, func(e *domain.Erasure) ([]domain.Event, error) { return e.EraseSubject(head, &acc, erase) },
			nil, domain.ErrForbidden},
		{"erased once", []domain.Event{erased}, func(e *domain.Erasure) ([]domain.Event, error) { return e.EraseSubject(admin, &acc, erase) },
			nil, domain.ErrSubjectErased},
		{"the ledger records the scrub", []domain.Event{erased}, func(e *domain.Erasure) ([]domain.Event, error) {
			return e.RecordScrub(domain.SystemActor(), domain.RecordScrub{Subject: student})
		}, []domain.Event{scrubbed}, nil},
		{"once", []domain.Event{erased, scrubbed}, func(e *domain.Erasure) ([]domain.Event, error) {
			return e.RecordScrub(domain.SystemActor(), domain.RecordScrub{Subject: student})
		}, nil, nil},
		{"no scrub without an erasure", nil, func(e *domain.Erasure) ([]domain.Event, error) {
			return e.RecordScrub(domain.SystemActor(), domain.RecordScrub{Subject: student})
		}, nil, domain.ErrInvalid},
		{"nobody but the ledger records it", []domain.Event{erased}, func(e *domain.Erasure) ([]domain.Event, error) {
			return e.RecordScrub(admin, domain.RecordScrub{Subject: student})
		}, nil, domain.ErrForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e domain.Erasure
			for _, ev := range c.given {
				e.Apply(ev)
			}
			got, err := c.when(&e)
			if c.err != nil && !errors.Is(err, c.err) || c.err == nil && err != nil {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Errorf("events %+v, want %+v", got, c.then)
			}
		})
	}
}
