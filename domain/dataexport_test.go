package domain_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// TestRecordDataExport: the person, a legal guardian and an
// administrator of the establishment (or the ledger) may export a
// person's data; another relative, a relative who is not a legal
// guardian, a teacher and another establishment's administrator may not.
func TestRecordDataExport(t *testing.T) {
	student, guardian, contact, stranger, teacher := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	var acc domain.Account
	acc.Apply(domain.AccountOpened{Account: student, Establishment: "0751234A", Profile: domain.ProfileStudent, DisplayName: "Léa"})
	acc.Apply(domain.RelativeLinked{Student: student, Relative: guardian, LegalGuardian: true})
	acc.Apply(domain.RelativeLinked{Student: student, Relative: contact, Contact: true})
	cases := []struct {
		name  string
		actor domain.Actor
		want  error
	}{
		{"the student", domain.Actor{Account: student, Profile: domain.ProfileStudent, Establishment: "0751234A"}, nil},
		{"a legal guardian", domain.Actor{Account: guardian, Profile: domain.ProfileRelative}, nil},
		{"the establishment's administrator", domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0751234A"}, nil},
		{"a global administrator", domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin}, nil},
		{"the ledger", domain.SystemActor(), nil},
		{"a relative who is only a contact", domain.Actor{Account: contact, Profile: domain.ProfileRelative}, domain.ErrForbidden},
		{"another parent", domain.Actor{Account: stranger, Profile: domain.ProfileRelative}, domain.ErrForbidden},
		{"a teacher", domain.Actor{Account: teacher, Profile: domain.ProfileTeacher, Establishment: "0751234A"}, domain.ErrForbidden},
		{"the head", domain.Actor{Account: uuid.New(), Profile: domain.ProfilePersonnel, Function: domain.FunctionHead, Establishment: "0751234A"}, domain.ErrForbidden},
		{"another establishment's administrator", domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0130001B"}, domain.ErrForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, err := acc.RecordDataExport(c.actor, domain.RecordDataExport{Subject: student, Format: domain.ExportHTML})
			if c.want != nil {
				if !errors.Is(err, c.want) || events != nil {
					t.Fatalf("got %v, %v; want %v", events, err, c.want)
				}
				return
			}
			want := domain.DataExported{Subject: student, Exporter: c.actor.Account, Format: domain.ExportHTML}
			if err != nil || len(events) != 1 || events[0] != want {
				t.Fatalf("got %v, %v; want %v", events, err, want)
			}
		})
	}
	if _, err := acc.RecordDataExport(domain.SystemActor(), domain.RecordDataExport{Subject: student, Format: "pdf"}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("format pdf: %v", err)
	}
	var none domain.Account
	if _, err := none.RecordDataExport(domain.SystemActor(), domain.RecordDataExport{Subject: student, Format: domain.ExportJSON}); !errors.Is(err, domain.ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
}
