package projections_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Helpers of the tests of mailbox.v1, notifications.v1, bookings.v1 and
// news.v1. Each test writes its own small history (with exact server
// times) and runs on every store of forEachStore.

// rmID returns a readable id whose byte order (the order read models sort
// ids in) is n's order.
func rmID(n byte) uuid.UUID { return uuid.UUID{0: 0xa0, 15: n} }

// emitAt appends events in one append to stream as a at server time tm, and
// returns the position of the last one.
func emitAt(w *world, tm time.Time, a actor, stream string, events ...domain.Event) domain.Position {
	w.t.Helper()
	w.now = tm
	w.emit(a, stream, events...)
	recs, err := w.log.ReadAll(context.Background(), domain.Start, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return recs[len(recs)-1].Position
}

// Applying each history in batches of 1, 3 or 512 events writes the same
// documents.
func TestMessagingReadModelsBatchSizes(t *testing.T) {
	cases := []struct {
		red     projections.Reducer
		history func(*testing.T) *world
	}{
		{projections.NewMailbox(), mailboxHistory},
		{projections.NewNotifications(), func(t *testing.T) *world { w, _ := notificationsHistory(t); return w }},
		{projections.NewBookings(), bookingsHistory},
		{projections.NewNews(), newsHistory},
	}
	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		for _, c := range cases {
			w := c.history(t)
			var want map[string]string
			for i, size := range []int{512, 3, 1} {
				ns := projections.Namespace(c.red.Name(), 100+i)
				if _, err := w.runnerFor(t, docs, size, c.red).CatchUp(ctx, c.red, ns, nil); err != nil {
					t.Fatalf("%s in batches of %d: %v", c.red.Name(), size, err)
				}
				got := MustDump(t, docs, c.red, ns)
				if i == 0 {
					if len(got) == 0 {
						t.Fatalf("%s wrote nothing", c.red.Name())
					}
					want = got
					continue
				}
				mustEqualJSON(t, fmt.Sprintf("%s in batches of %d", c.red.Name(), size), got, want)
			}
		}
	})
}

const mbxUAI = "0750001A"

var (
	mbxTeacher = rmID(1)
	mbxS1      = rmID(2)
	mbxS2      = rmID(3)
	mbxParent  = rmID(4)
	mbxS3      = rmID(5)
	mbxClass   = rmID(10)
	mbxM1      = rmID(20)
	mbxM2      = rmID(21)
	mbxBase    = time.Date(2006, 3, 14, 8, 0, 0, 0, time.UTC)
)

// mbxAt is minute m of the mailbox history.
func mbxAt(m int) time.Time { return mbxBase.Add(time.Duration(m) * time.Minute) }

// mailboxHistory: a class gets a message (also sent to a parent, asking
// for an acknowledgement), changes members, gets a second one; students
// and the parent read and acknowledge.
func mailboxHistory(t *testing.T) *world {
	w := newWorld(t)
	sys := system(mbxUAI)
	byTeacher := teacherOf(mbxUAI, mbxTeacher)
	student := func(a uuid.UUID) actor { return actor{id: a, profile: domain.ProfileStudent, uai: mbxUAI} }
	byParent := actor{id: mbxParent, profile: domain.ProfileRelative, uai: mbxUAI}
	group := domain.GroupStream(mbxClass)

	emitAt(w, mbxAt(0), sys, group,
		domain.GroupCreated{Group: mbxClass, Establishment: mbxUAI, Kind: domain.GroupClass, Name: "3e A"},
		domain.MemberJoined{Group: mbxClass, Account: mbxTeacher, Role: domain.RoleHeadTeacher},
		domain.MemberJoined{Group: mbxClass, Account: mbxTeacher, Role: domain.RoleTeacher, Subject: "maths"},
		domain.MemberJoined{Group: mbxClass, Account: mbxS1, Role: domain.RoleStudent},
		domain.MemberJoined{Group: mbxClass, Account: mbxS2, Role: domain.RoleStudent},
	)
	emitAt(w, mbxAt(1), byTeacher, domain.MessageStream(mbxM1), domain.MessageSent{
		Message: mbxM1, From: mbxTeacher, ToAccounts: []uuid.UUID{mbxParent}, ToGroups: []uuid.UUID{mbxClass},
		Subject: "Sortie au musée", Body: "Rendez-vous à 8 h.", AckRequested: true,
	})
	// s3 joins and s2 leaves: the second message reaches s1 and s3 only;
	// the teacher keeps one of their two roles and is still not a
	// recipient of their own message.
	emitAt(w, mbxAt(2), sys, group,
		domain.MemberJoined{Group: mbxClass, Account: mbxS3, Role: domain.RoleStudent},
		domain.MemberLeft{Group: mbxClass, Account: mbxS2, Role: domain.RoleStudent},
		domain.MemberLeft{Group: mbxClass, Account: mbxTeacher, Role: domain.RoleHeadTeacher},
	)
	emitAt(w, mbxAt(3), byTeacher, domain.MessageStream(mbxM2), domain.MessageSent{
		Message: mbxM2, From: mbxTeacher, ToGroups: []uuid.UUID{mbxClass}, Subject: "Contrôle", Body: "Jeudi.",
	})
	emitAt(w, mbxAt(4), student(mbxS1), domain.MessageStream(mbxM1), domain.MessageRead{Message: mbxM1, Reader: mbxS1})
	emitAt(w, mbxAt(5), byParent, domain.MessageStream(mbxM1),
		domain.MessageRead{Message: mbxM1, Reader: mbxParent},
		domain.MessageAcknowledged{Message: mbxM1, Reader: mbxParent},
	)
	// Read again: nothing changes. s3 reads the first message as a
	// current member of the class: a late reader, with no mailbox entry.
	emitAt(w, mbxAt(6), student(mbxS1), domain.MessageStream(mbxM1), domain.MessageRead{Message: mbxM1, Reader: mbxS1})
	emitAt(w, mbxAt(7), student(mbxS3), domain.MessageStream(mbxM1), domain.MessageRead{Message: mbxM1, Reader: mbxS3})
	return w
}

func TestMailbox(t *testing.T) {
	w := mailboxHistory(t)
	entry1 := projections.MailboxEntry{Message: mbxM1, From: mbxTeacher, Subject: "Sortie au musée", SentAt: mbxAt(1), AckRequested: true}
	entry2 := projections.MailboxEntry{Message: mbxM2, From: mbxTeacher, Subject: "Contrôle", SentAt: mbxAt(3)}
	read := func(e projections.MailboxEntry, m int) projections.MailboxEntry {
		e.Read, e.ReadAt = true, mbxAt(m)
		return e
	}
	acked := func(e projections.MailboxEntry, m int) projections.MailboxEntry {
		e.Acknowledged, e.AcknowledgedAt = true, mbxAt(m)
		return e
	}

	forEachStore(t, func(t *testing.T, docs DocStoreAll) {
		ctx := context.Background()
		q := w.MustProject(t, docs, 3, projections.NewMailbox())

		for _, c := range []struct {
			name    string
			account uuid.UUID
			limit   int
			want    []projections.MailboxEntry
		}{
			{"s1 newest first", mbxS1, 0, []projections.MailboxEntry{entry2, read(entry1, 4)}},
			{"s1 limited", mbxS1, 1, []projections.MailboxEntry{entry2}},
			{"s2 left before the second", mbxS2, 10, []projections.MailboxEntry{entry1}},
			{"s3 joined after the first", mbxS3, 0, []projections.MailboxEntry{entry2}},
			{"parent named directly", mbxParent, 0, []projections.MailboxEntry{acked(read(entry1, 5), 5)}},
			{"sender not in their own mailbox", mbxTeacher, 0, []projections.MailboxEntry{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := mustItems[projections.MailboxEntry](t)(q.Mailbox(ctx, c.account, projections.Page{Limit: c.limit}))
				mustEqualJSON(t, "mailbox", got, c.want)
			})
		}

		for _, c := range []struct {
			name    string
			account uuid.UUID
			want    projections.UnreadSummary
		}{
			{"s1", mbxS1, projections.UnreadSummary{Count: 1, Latest: &entry2}},
			{"s2", mbxS2, projections.UnreadSummary{Count: 1, Latest: &entry1}},
			{"s3 read the first late", mbxS3, projections.UnreadSummary{Count: 1, Latest: &entry2}},
			{"parent", mbxParent, projections.UnreadSummary{}},
			{"nobody", rmID(99), projections.UnreadSummary{}},
		} {
			t.Run("unread "+c.name, func(t *testing.T) {
				got := mustOK[*projections.UnreadSummary](t)(q.UnreadMessages(ctx, c.account))
				mustEqualJSON(t, "unread", got, c.want)
			})
		}

		t.Run("message states", func(t *testing.T) {
			got := mustOK[*projections.MessageDetail](t)(q.Message(ctx, mbxM1))
			mustEqualJSON(t, "first message", got, projections.MessageDetail{
				Message: mbxM1, From: mbxTeacher, Subject: "Sortie au musée", Body: "Rendez-vous à 8 h.", SentAt: mbxAt(1),
				AckRequested: true, ToAccounts: []uuid.UUID{mbxParent}, ToGroups: []uuid.UUID{mbxClass},
				Recipients: []projections.RecipientState{
					{Account: mbxS1, ReadAt: mbxAt(4)},
					{Account: mbxS2},
					{Account: mbxParent, ReadAt: mbxAt(5), AcknowledgedAt: mbxAt(5)},
					{Account: mbxS3, ReadAt: mbxAt(7), Late: true},
				},
				Read: 3, Acknowledged: 1,
			})
			got = mustOK[*projections.MessageDetail](t)(q.Message(ctx, mbxM2))
			mustEqualJSON(t, "second message", got, projections.MessageDetail{
				Message: mbxM2, From: mbxTeacher, Subject: "Contrôle", Body: "Jeudi.", SentAt: mbxAt(3),
				ToAccounts: []uuid.UUID{}, ToGroups: []uuid.UUID{mbxClass},
				Recipients: []projections.RecipientState{{Account: mbxS1}, {Account: mbxS3}},
			})
			if _, err := q.Message(ctx, rmID(98)); !errors.Is(err, domain.ErrMessageNotFound) {
				t.Errorf("unknown message: got %v, want ErrMessageNotFound", err)
			}
		})

		t.Run("sent box", func(t *testing.T) {
			got := mustItems[projections.SentEntry](t)(q.SentMessages(ctx, mbxTeacher, projections.Page{}))
			mustEqualJSON(t, "sent box", got, []projections.SentEntry{
				{Message: mbxM2, Subject: "Contrôle", SentAt: mbxAt(3), ToAccounts: []uuid.UUID{}, ToGroups: []uuid.UUID{mbxClass}, Recipients: 2},
				{
					Message: mbxM1, Subject: "Sortie au musée", SentAt: mbxAt(1), AckRequested: true,
					ToAccounts: []uuid.UUID{mbxParent}, ToGroups: []uuid.UUID{mbxClass}, Recipients: 4, Read: 3, Acknowledged: 1,
				},
			})
		})
	})
}

func TestMessageRecipients(t *testing.T) {
	from, a, b, c := rmID(1), rmID(2), rmID(3), rmID(4)
	g1, g2 := rmID(10), rmID(11)
	members := map[uuid.UUID]map[uuid.UUID][]domain.Role{
		g1: {from: {domain.RoleTeacher}, b: {domain.RoleStudent}, c: {domain.RoleStudent}},
		g2: {a: {domain.RoleStudent}, c: {domain.RoleStudent}},
	}
	lookup := func(_ context.Context, g uuid.UUID) (map[uuid.UUID][]domain.Role, error) { return members[g], nil }
	for _, tc := range []struct {
		name string
		e    domain.MessageSent
		want []uuid.UUID
	}{
		{"groups deduplicated, sender left out", domain.MessageSent{From: from, ToAccounts: []uuid.UUID{c}, ToGroups: []uuid.UUID{g1, g2}}, []uuid.UUID{a, b, c}},
		{"sender named", domain.MessageSent{From: from, ToAccounts: []uuid.UUID{from}, ToGroups: []uuid.UUID{g1}}, []uuid.UUID{from, b, c}},
		{"unknown group", domain.MessageSent{From: from, ToGroups: []uuid.UUID{rmID(12)}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustOK[[]uuid.UUID](t)(projections.MessageRecipients(context.Background(), lookup, tc.e))
			mustEqualJSON(t, "recipients", got, tc.want)
		})
	}
}
