package domain_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

func TestAdministratorAddressesOnlyTheEstablishmentsTheyAdminister(t *testing.T) {
	admin := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0130001A"}
	mine, theirs := uuid.New(), uuid.New()
	accounts := map[uuid.UUID]*domain.Account{
		mine:   {ID: mine, Exists: true, Establishment: "0130001A", Profile: domain.ProfileTeacher},
		theirs: {ID: theirs, Exists: true, Establishment: "0840002B", Profile: domain.ProfileTeacher},
	}
	send := func(to uuid.UUID) ([]domain.Event, error) {
		var m domain.Message
		return m.Send(admin, accounts, nil, domain.SendMessage{Message: uuid.New(), ToAccounts: []uuid.UUID{to}, Subject: "ENT", Body: "Maintenance samedi"})
	}
	if _, err := send(mine); err != nil {
		t.Fatalf("to their establishment: %v", err)
	}
	if _, err := send(theirs); !errors.Is(err, domain.ErrWrongEstablishment) {
		t.Fatalf("to another establishment: got %v, want %v", err, domain.ErrWrongEstablishment)
	}
}

func TestAcknowledgementFold(t *testing.T) {
	id, from, reader := uuid.New(), uuid.New(), uuid.New()
	var m domain.Message
	m.Apply(domain.MessageSent{Message: id, From: from, ToAccounts: []uuid.UUID{reader}, Subject: "s", Body: "b", AckRequested: true})
	actor := domain.Actor{Account: reader, Profile: domain.ProfileRelative}
	steps := []struct {
		name string
		want []domain.Event
	}{
		{"first acknowledgement reads too", []domain.Event{domain.MessageRead{Message: id, Reader: reader}, domain.MessageAcknowledged{Message: id, Reader: reader}}},
		{"second acknowledgement emits nothing", nil},
	}
	for _, s := range steps {
		got, err := m.Acknowledge(actor, nil, domain.AcknowledgeMessage{Message: id})
		if err != nil || !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s: got %#v, %v; want %#v", s.name, got, err, s.want)
		}
		for _, e := range got {
			m.Apply(e)
		}
	}
	if got, err := m.ReadBy(actor, nil, domain.ReadMessage{Message: id}); err != nil || got != nil {
		t.Fatalf("read after acknowledging: got %#v, %v; want nothing", got, err)
	}
}
