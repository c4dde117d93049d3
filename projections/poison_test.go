package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// TestNULMessageOnPostgres: a message whose subject and body hold NUL (and
// U+FFFF, which the store uses to encode it), sent through the command
// handlers, is applied by every projection on Postgres, reads back exactly
// from the mailbox, the notifications and the audit, and the message after
// it is applied too.
func TestNULMessageOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	es, err := postgres.Open(ctx, pgtest.MustDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := es.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	docs := readstore.NewPostgres(es.Pool())
	t.Cleanup(func() {
		if err := errors.Join(docs.Close(), es.Close()); err != nil {
			t.Error(err)
		}
	})
	reg := domain.NewRegistry()
	now := time.Date(2006, time.March, 14, 8, 5, 0, 0, time.UTC)
	h, err := commands.New(commands.Config{Store: es, Registry: reg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	sys := commands.Request{System: true}
	const uai = "0130001A"
	mustOK[commands.Result](t)(h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{UAI: uai, Name: "Collège Mistral", Kind: domain.KindCollege, Departement: "13"}))
	teacher, relative := uuid.New(), uuid.New()
	mustOK[commands.Result](t)(h.OpenAccount(ctx, sys, domain.OpenAccount{Account: teacher, Establishment: uai, Profile: domain.ProfileTeacher, DisplayName: "M. Prof"}))
	mustOK[commands.Result](t)(h.OpenAccount(ctx, sys, domain.OpenAccount{Account: relative, Establishment: uai, Profile: domain.ProfileRelative, DisplayName: "Parent"}))

	subject, body := "Sortie\x00 au musée \uffff0", "a\x00b\x00\x00\uffff\uffff\\u0000 end"
	// The commands refuse such texts at the boundary now; an event recorded
	// before they did (or by another writer of the log) may still hold
	// them, and must not stop a projection: append it as such.
	poison := struct{ ID uuid.UUID }{ID: uuid.New()}
	data, err := json.Marshal(domain.MessageSent{Message: poison.ID, From: teacher, ToAccounts: []uuid.UUID{relative}, Subject: subject, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es.Append(ctx, domain.MessageStream(poison.ID), domain.NoStream(), []domain.Envelope{{
		ID: uuid.New(), Type: domain.MessageSent{}.EventType(), Data: data,
		Metadata: domain.Metadata{Actor: teacher, Profile: domain.ProfileTeacher, Establishment: uai,
			CorrelationID: uuid.New(), CausationID: uuid.New(), Command: "SendMessage", Time: now},
	}}); err != nil {
		t.Fatal(err)
	}
	after := mustOK[commands.Result](t)(h.SendMessage(ctx, commands.Request{Actor: teacher},
		domain.SendMessage{ToAccounts: []uuid.UUID{relative}, Subject: "Suivant", Body: "ok"}))

	reducers := projections.Reducers(paris)
	r, err := projector.NewRunner(projector.RunnerConfig{Log: es, Docs: docs, Gens: docs, Registry: reg, Reducers: reducers, Locker: docs})
	if err != nil {
		t.Fatal(err)
	}
	for _, red := range reducers {
		if err := docs.SetGenerations(ctx, red.Name(), projections.Generations{Live: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.CatchUp(ctx, red, projections.Namespace(red.Name(), 1), nil); err != nil {
			t.Errorf("%s: %v", red.Name(), err)
		}
	}
	q := projections.NewQueries(docs, docs, es, reg, paris)

	for _, id := range []uuid.UUID{poison.ID, after.ID} {
		if _, err := q.Message(ctx, id); err != nil {
			t.Errorf("message %s: %v", id, err)
		}
	}
	m, err := q.Message(ctx, poison.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != subject || m.Body != body {
		t.Errorf("message reads back as %+q / %+q, want %+q / %+q", m.Subject, m.Body, subject, body)
	}
	box, err := q.Mailbox(ctx, relative, projections.Page{Limit: 10})
	if err != nil || len(box.Items) != 2 {
		t.Fatalf("mailbox: %d entries, %v; want 2", len(box.Items), err)
	}
	for _, e := range box.Items {
		if e.Message == poison.ID && e.Subject != subject {
			t.Errorf("mailbox subject %+q, want %+q", e.Subject, subject)
		}
	}
	notes, err := q.Notifications(ctx, relative, projections.Page{Limit: 10})
	if err != nil || len(notes.Items) != 2 {
		t.Fatalf("notifications: %d, %v; want 2", len(notes.Items), err)
	}
	for _, n := range notes.Items {
		if want := "Message: " + subject; n.Ref == poison.ID && n.Summary != want {
			t.Errorf("notification %+q, want %+q", n.Summary, want)
		}
	}
	hist, err := q.History(ctx, relative, projections.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sent []domain.MessageSent
	for _, e := range hist.Items {
		if e.Type != "message.sent.v1" {
			continue
		}
		var ms domain.MessageSent
		if err := json.Unmarshal(e.Data, &ms); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ms)
	}
	if len(sent) != 2 || !slices.ContainsFunc(sent, func(ms domain.MessageSent) bool {
		return ms.Message == poison.ID && ms.Subject == subject && ms.Body == body
	}) {
		t.Errorf("audit history holds %+v, want the two messages, the first exactly", sent)
	}
}
