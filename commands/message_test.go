package commands_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// thenAppendsNothing checks a command succeeded and appended nothing.
func thenAppendsNothing(w *world, run func() (commands.Result, error)) {
	w.t.Helper()
	got, _, err := w.when(run)
	if err != nil || len(got) != 0 {
		w.t.Fatalf("got error %v and %d events, want neither", err, len(got))
	}
}

// sendMessage sends cmd as actor and returns the message's id.
func sendMessage(t *testing.T, w *world, actor uuid.UUID, cmd domain.SendMessage) uuid.UUID {
	t.Helper()
	res, err := w.h.SendMessage(w.ctx, as(actor), cmd)
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

func TestSendMessage(t *testing.T) {
	w := newWorld(t)
	id := uuid.New()
	cmd := domain.SendMessage{
		Message: id, ToAccounts: []uuid.UUID{w.Relative, w.CPE, w.Relative}, ToGroups: []uuid.UUID{w.Class, w.Class},
		Subject: "Sortie au musée", Body: "Merci de signer l'autorisation.", AckRequested: true,
	}
	recs := w.thenEvents(func() (commands.Result, error) { return w.h.SendMessage(w.ctx, as(w.Teacher), cmd) },
		domain.MessageSent{Message: id, From: w.Teacher, ToAccounts: []uuid.UUID{w.Relative, w.CPE}, ToGroups: []uuid.UUID{w.Class},
			Subject: "Sortie au musée", Body: "Merci de signer l'autorisation.", AckRequested: true})
	md := recs[0].Metadata
	if recs[0].Stream != domain.MessageStream(id) || md.Actor != w.Teacher || md.Establishment != w.UAI || md.Command != commands.CmdSendMessage {
		t.Fatalf("record %+v", recs[0])
	}
}

func TestSendMessageBySenders(t *testing.T) {
	w := newWorld(t)
	// Limits count characters, not bytes.
	subject := strings.Repeat("é", domain.MaxSubjectRunes)
	body := strings.Repeat("é", domain.MaxBodyRunes)
	cases := []struct {
		name  string
		actor uuid.UUID
		to    uuid.UUID
		uai   string
	}{
		{"relative to a teacher", w.Relative, w.Teacher, w.UAI},
		{"student to a teacher", w.Student, w.Teacher, w.UAI},
		{"head to a relative", w.Head, w.Relative, w.UAI},
		{"personnel to a student of their establishment", w.OtherHead, w.OtherStudent, w.OtherUAI},
		{"global administrator to a relative", w.Admin, w.Relative, w.UAI},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			id := uuid.New()
			recs := w.thenEvents(func() (commands.Result, error) {
				return w.h.SendMessage(w.ctx, as(tc.actor), domain.SendMessage{Message: id, ToAccounts: []uuid.UUID{tc.to}, Subject: subject, Body: body})
			}, domain.MessageSent{Message: id, From: tc.actor, ToAccounts: []uuid.UUID{tc.to}, Subject: subject, Body: body})
			if got := recs[0].Metadata.Establishment; got != tc.uai {
				t.Fatalf("establishment %q, want %q", got, tc.uai)
			}
		})
	}
}

func TestSendMessageRules(t *testing.T) {
	w := newWorld(t)
	existing := sendMessage(t, w, w.Teacher, domain.SendMessage{ToAccounts: []uuid.UUID{w.Relative}, Subject: "s", Body: "b"})
	closed := uuid.New()
	w.given(domain.AccountStream(closed),
		domain.AccountOpened{Account: closed, Establishment: w.UAI, Profile: domain.ProfileRelative, DisplayName: "Ancien parent"},
		domain.AccountClosed{Account: closed})
	many := make([]uuid.UUID, domain.MaxRecipients+1)
	for i := range many {
		many[i] = uuid.New()
	}
	to := func(accounts ...uuid.UUID) domain.SendMessage {
		return domain.SendMessage{ToAccounts: accounts, Subject: "Réunion", Body: "Mardi 18h"}
	}
	toGroups := func(groups ...uuid.UUID) domain.SendMessage {
		return domain.SendMessage{ToGroups: groups, Subject: "Réunion", Body: "Mardi 18h"}
	}
	with := func(change func(*domain.SendMessage)) domain.SendMessage {
		cmd := to(w.Relative)
		change(&cmd)
		return cmd
	}
	cases := []struct {
		name  string
		actor uuid.UUID
		cmd   domain.SendMessage
		want  error
	}{
		{"guest", w.Guest, to(w.Teacher), domain.ErrMayNotSend},
		{"inspector", w.Inspector, to(w.Teacher), domain.ErrForbidden},
		{"evaluator", w.Evaluator, to(w.Teacher), domain.ErrForbidden},
		{"unknown sender", uuid.New(), to(w.Teacher), domain.ErrForbidden},
		{"no recipient", w.Teacher, to(), domain.ErrNoRecipient},
		{"too many recipients", w.Head, to(many...), domain.ErrTooManyRecipients},
		{"blank subject", w.Teacher, with(func(c *domain.SendMessage) { c.Subject = "  " }), domain.ErrInvalid},
		{"blank body", w.Teacher, with(func(c *domain.SendMessage) { c.Body = "" }), domain.ErrInvalid},
		{"subject too long", w.Teacher, with(func(c *domain.SendMessage) { c.Subject = strings.Repeat("a", domain.MaxSubjectRunes+1) }), domain.ErrInvalid},
		{"body too long", w.Teacher, with(func(c *domain.SendMessage) { c.Body = strings.Repeat("é", domain.MaxBodyRunes+1) }), domain.ErrInvalid},
		{"unknown account", w.Teacher, to(w.Relative, uuid.New()), domain.ErrUnknownAccount},
		{"closed account", w.Teacher, to(closed), domain.ErrAccountClosed},
		{"unknown group", w.Teacher, toGroups(uuid.New()), domain.ErrUnknownGroup},
		{"relative to a student of another establishment", w.Relative, to(w.OtherStudent), domain.ErrWrongEstablishment},
		{"student to a group of another establishment", w.Student, toGroups(w.OtherClass), domain.ErrWrongEstablishment},
		{"teacher to a group of another establishment", w.Teacher, toGroups(w.Class, w.OtherClass), domain.ErrWrongEstablishment},
		{"personnel of another establishment", w.OtherHead, to(w.Teacher), domain.ErrWrongEstablishment},
		{"teacher to an account of no establishment", w.Teacher, to(w.Inspector), domain.ErrWrongEstablishment},
		{"id of an existing message", w.Teacher, with(func(c *domain.SendMessage) { c.Message = existing }), domain.ErrMessageExists},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(func() (commands.Result, error) { return w.h.SendMessage(w.ctx, as(tc.actor), tc.cmd) }, tc.want)
		})
	}
}

func TestIdempotentSendMessage(t *testing.T) {
	w := newWorld(t)
	req := as(w.Relative)
	req.IdempotencyKey = "msg-absence-lea-0314"
	cmd := domain.SendMessage{ToAccounts: []uuid.UUID{w.Teacher}, Subject: "Absence de Léa", Body: "Léa sera absente jeudi."}
	first, err := w.h.SendMessage(w.ctx, req, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == uuid.Nil || first.Stream != domain.MessageStream(first.ID) || first.Version != 1 {
		t.Fatalf("first send: %+v", first)
	}
	got, _, err := w.when(func() (commands.Result, error) {
		again, err := w.h.SendMessage(w.ctx, req, cmd)
		if err == nil && (!again.Replayed || again.ID != first.ID || again.Version != first.Version || again.Position != first.Position ||
			len(again.Events) != 1 || again.Events[0] != first.Events[0] || again.CorrelationID != first.CorrelationID) {
			t.Errorf("replay: got %+v, want the original %+v", again, first)
		}
		return again, err
	})
	if err != nil || len(got) != 0 {
		t.Fatalf("replayed send: err %v, %d events appended", err, len(got))
	}
	// The same key for another command is refused, and appends nothing.
	w.thenError(func() (commands.Result, error) {
		return w.h.AcknowledgeMessage(w.ctx, req, domain.AcknowledgeMessage{Message: first.ID})
	}, domain.ErrIdempotencyKey)
}

func TestReadMessage(t *testing.T) {
	w := newWorld(t)
	id := sendMessage(t, w, w.CPE, domain.SendMessage{ToAccounts: []uuid.UUID{w.Relative}, ToGroups: []uuid.UUID{w.Class}, Subject: "Carnet", Body: "Pensez au carnet."})
	read := func(actor uuid.UUID) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.ReadMessage(w.ctx, as(actor), domain.ReadMessage{Message: id})
		}
	}
	recs := w.thenEvents(read(w.Relative), domain.MessageRead{Message: id, Reader: w.Relative})
	if md := recs[0].Metadata; md.Actor != w.Relative || md.Command != commands.CmdReadMessage || md.Establishment != w.UAI {
		t.Fatalf("metadata %+v", md)
	}
	// Opening it again is harmless: no error, nothing appended.
	thenAppendsNothing(w, read(w.Relative))
	// Members of a recipient group, whatever their role, at the time of reading.
	w.thenEvents(read(w.Student2), domain.MessageRead{Message: id, Reader: w.Student2})
	w.thenEvents(read(w.Teacher), domain.MessageRead{Message: id, Reader: w.Teacher})
	newcomer := uuid.New()
	w.given(domain.AccountStream(newcomer), domain.AccountOpened{Account: newcomer, Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "Nouveau"})
	w.given(domain.GroupStream(w.Class), domain.MemberJoined{Group: w.Class, Account: newcomer, Role: domain.RoleStudent})
	w.thenEvents(read(newcomer), domain.MessageRead{Message: id, Reader: newcomer})
	w.given(domain.GroupStream(w.Class), domain.MemberLeft{Group: w.Class, Account: w.Student, Role: domain.RoleStudent})

	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"the sender, not a recipient", read(w.CPE), domain.ErrNotRecipient},
		{"another relative", read(w.OtherRelative), domain.ErrNotRecipient},
		{"a student who left the recipient group", read(w.Student), domain.ErrNotRecipient},
		{"a student of another establishment", read(w.OtherStudent), domain.ErrNotRecipient},
		{"an inspector", read(w.Inspector), domain.ErrForbidden},
		{"unknown message", func() (commands.Result, error) {
			return w.h.ReadMessage(w.ctx, as(w.Relative), domain.ReadMessage{Message: uuid.New()})
		}, domain.ErrMessageNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
}

func TestRelativesOfAGroupAreNotItsRecipients(t *testing.T) {
	w := newWorld(t)
	// Relatives are addressed by name: a message to a class reaches its
	// members, not their parents.
	id := sendMessage(t, w, w.Teacher, domain.SendMessage{ToGroups: []uuid.UUID{w.Class}, Subject: "Contrôle", Body: "Jeudi"})
	w.thenError(func() (commands.Result, error) {
		return w.h.ReadMessage(w.ctx, as(w.Relative), domain.ReadMessage{Message: id})
	}, domain.ErrNotRecipient)
}

func TestAcknowledgeMessage(t *testing.T) {
	w := newWorld(t)
	id := sendMessage(t, w, w.Head, domain.SendMessage{ToAccounts: []uuid.UUID{w.Relative}, ToGroups: []uuid.UUID{w.Class},
		Subject: "Règlement intérieur", Body: "Merci d'en accuser réception.", AckRequested: true})
	ack := func(actor uuid.UUID) func() (commands.Result, error) {
		return func() (commands.Result, error) {
			return w.h.AcknowledgeMessage(w.ctx, as(actor), domain.AcknowledgeMessage{Message: id})
		}
	}
	// Acknowledging an unread message reads it first, in the same append.
	recs := w.thenEvents(ack(w.Relative),
		domain.MessageRead{Message: id, Reader: w.Relative},
		domain.MessageAcknowledged{Message: id, Reader: w.Relative})
	if recs[0].Metadata != recs[1].Metadata || recs[1].Metadata.Command != commands.CmdAcknowledgeMessage || recs[1].Version != 3 {
		t.Fatalf("records %+v", recs)
	}
	// A second acknowledgement appends nothing.
	thenAppendsNothing(w, ack(w.Relative))
	if _, err := w.h.ReadMessage(w.ctx, as(w.Student), domain.ReadMessage{Message: id}); err != nil {
		t.Fatal(err)
	}
	w.thenEvents(ack(w.Student), domain.MessageAcknowledged{Message: id, Reader: w.Student})

	plain := sendMessage(t, w, w.Head, domain.SendMessage{ToAccounts: []uuid.UUID{w.Relative}, Subject: "Info", Body: "Pour information."})
	cases := []struct {
		name string
		run  func() (commands.Result, error)
		want error
	}{
		{"no acknowledgement asked", func() (commands.Result, error) {
			return w.h.AcknowledgeMessage(w.ctx, as(w.Relative), domain.AcknowledgeMessage{Message: plain})
		}, domain.ErrAckNotRequested},
		{"not a recipient", ack(w.OtherRelative), domain.ErrNotRecipient},
		{"the sender", ack(w.Head), domain.ErrNotRecipient},
		{"evaluator", ack(w.Evaluator), domain.ErrForbidden},
		{"unknown message", func() (commands.Result, error) {
			return w.h.AcknowledgeMessage(w.ctx, as(w.Relative), domain.AcknowledgeMessage{Message: uuid.New()})
		}, domain.ErrMessageNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.thenError(tc.run, tc.want)
		})
	}
}
