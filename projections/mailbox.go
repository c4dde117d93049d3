package projections

// mailbox.v1: each account's mailbox (messages received, newest first, with
// their read and acknowledged state), each sender's sent box, and each
// message with the state of every recipient (a sender sees which parents
// acknowledged).
//
// A message reaches the accounts it names and the members (any role) of the
// groups it names as they were when it was sent: someone who joins a group
// later does not receive its past messages, someone who left it no longer
// receives new ones. The sender does not receive their own message through
// a group they belong to (only if they named themselves). MessageRecipients
// is that rule; notifications.v1 uses it too.
//
// Collections (key -> document):
//
//	groups         group id -> {"members": {account id: [roles]}}, the
//	               projection's own fold of group.member_joined/left
//	messages       message id -> MessageDetail: sender, subject, body, sent
//	               time, recipients named, and one RecipientState per
//	               recipient (read_at, acknowledged_at), sorted by account
//	inbox          "account|newest-first sent time|message id" ->
//	               MailboxEntry (no body)
//	unread         same keys as inbox, for the messages not yet read: the
//	               first one under "account|" is the latest unread
//	unread_counts  account id -> {"unread": n}
//	sent           "sender|newest-first sent time|message id" -> SentEntry
//	               with the number of recipients, readers and acknowledgers
//
// "Newest-first" is newestFirst(t): a fixed-width string whose byte order is
// the reverse of time order, so that a mailbox page is the start of one
// range scan. Sent time is the event's server time (Metadata.Time).

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// ProjectionMailbox is the persisted name of the mailbox read model.
const ProjectionMailbox = "mailbox.v1"

// Collections of mailbox.v1.
const (
	mbGroups       = "groups"
	mbMessages     = "messages"
	mbInbox        = "inbox"
	mbUnread       = "unread"
	mbUnreadCounts = "unread_counts"
	mbSent         = "sent"
)

// mailboxCollections lists the collections of mailbox.v1.
var mailboxCollections = []string{mbGroups, mbInbox, mbMessages, mbSent, mbUnread, mbUnreadCounts}

// mbUnreadCounter is the counter of unread_counts documents.
const mbUnreadCounter = "unread"

// MailboxEntry is a message in a recipient's mailbox.
type MailboxEntry struct {
	Message        uuid.UUID `json:"message"`
	From           uuid.UUID `json:"from"`
	Subject        string    `json:"subject"`
	SentAt         time.Time `json:"sent_at"`
	AckRequested   bool      `json:"ack_requested"`
	Read           bool      `json:"read"`
	ReadAt         time.Time `json:"read_at,omitzero"`
	Acknowledged   bool      `json:"acknowledged"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
}

// UnreadSummary is how many messages an account has not read, and the
// latest of them (nil when there is none).
type UnreadSummary struct {
	Count  int           `json:"count"`
	Latest *MailboxEntry `json:"latest,omitempty"`
}

// MessageDetail is a message with the state of each recipient.
type MessageDetail struct {
	Message      uuid.UUID   `json:"message"`
	From         uuid.UUID   `json:"from"`
	Subject      string      `json:"subject"`
	Body         string      `json:"body"`
	SentAt       time.Time   `json:"sent_at"`
	AckRequested bool        `json:"ack_requested"`
	ToAccounts   []uuid.UUID `json:"to_accounts"`
	ToGroups     []uuid.UUID `json:"to_groups"`
	// Recipients, sorted by account id.
	Recipients   []RecipientState `json:"recipients"`
	Read         int              `json:"read"`
	Acknowledged int              `json:"acknowledged"`
}

// RecipientState is where one recipient stands with a message.
type RecipientState struct {
	Account        uuid.UUID `json:"account"`
	ReadAt         time.Time `json:"read_at,omitzero"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	// Late marks a reader who was not a recipient when the message was
	// sent but joined a recipient group since (the domain lets current
	// members read it); they have no mailbox entry for it.
	Late bool `json:"late,omitempty"`
}

// Read reports whether the recipient read the message.
func (s RecipientState) Read() bool { return !s.ReadAt.IsZero() }

// Acknowledged reports whether the recipient acknowledged the message.
func (s RecipientState) Acknowledged() bool { return !s.AcknowledgedAt.IsZero() }

// SentEntry is a message in its sender's sent box.
type SentEntry struct {
	Message      uuid.UUID   `json:"message"`
	Subject      string      `json:"subject"`
	SentAt       time.Time   `json:"sent_at"`
	AckRequested bool        `json:"ack_requested"`
	ToAccounts   []uuid.UUID `json:"to_accounts"`
	ToGroups     []uuid.UUID `json:"to_groups"`
	Recipients   int         `json:"recipients"`
	Read         int         `json:"read"`
	Acknowledged int         `json:"acknowledged"`
}

// mbGroup is a group's membership as a projection folds it.
type mbGroup struct {
	Members map[uuid.UUID][]domain.Role `json:"members"`
}

type mailbox struct{}

// NewMailbox returns the reducer of mailbox.v1.
func NewMailbox() Reducer { return mailbox{} }

func (mailbox) Name() string { return ProjectionMailbox }

// Collections lists the collections the reducer writes.
func (mailbox) Collections() []string { return slices.Clone(mailboxCollections) }

// Prefetch names the documents Apply reads: the group a membership edits;
// for a message sent, the message (to see it is new), its groups and then
// each recipient's unread count; for a message read, the message and then
// the reader's inbox entry and unread count.
func (mailbox) Prefetch(ctx context.Context, b *Batch, _ domain.Record, e domain.Event, want func(coll, key string)) {
	switch e := e.(type) {
	case domain.MemberJoined:
		want(mbGroups, e.Group.String())
	case domain.MemberLeft:
		want(mbGroups, e.Group.String())
	case domain.MessageSent:
		want(mbMessages, e.Message.String())
		recipients, _ := MessageRecipients(ctx, func(_ context.Context, g uuid.UUID) (map[uuid.UUID][]domain.Role, error) {
			want(mbGroups, g.String())
			if d, ok := Peek[mbGroup](b, mbGroups, g.String()); ok {
				return d.Members, nil
			}
			return nil, nil
		}, e)
		for _, a := range recipients {
			want(mbUnreadCounts, a.String())
		}
	case domain.MessageRead:
		mbWantMark(b, e.Message, e.Reader, want)
	case domain.MessageAcknowledged:
		mbWantMark(b, e.Message, e.Reader, want)
	}
}

// mbWantMark names what mbMark reads.
func mbWantMark(b *Batch, message, reader uuid.UUID, want func(coll, key string)) {
	want(mbMessages, message.String())
	if m, ok := Peek[MessageDetail](b, mbMessages, message.String()); ok {
		want(mbInbox, mbKey(reader, m.SentAt, message))
		want(mbUnreadCounts, reader.String())
	}
}

func (mailbox) Apply(ctx context.Context, b *Batch, rec domain.Record, e domain.Event) error {
	switch e := e.(type) {
	case domain.MemberJoined, domain.MemberLeft:
		return mbFoldMembership(ctx, b, mbGroups, e)
	case domain.MessageSent:
		return mbSend(ctx, b, rec, e)
	case domain.MessageRead:
		return mbMark(ctx, b, e.Message, e.Reader, rec.Metadata.Time, false)
	case domain.MessageAcknowledged:
		return mbMark(ctx, b, e.Message, e.Reader, rec.Metadata.Time, true)
	}
	return nil
}

// mbFoldMembership folds group.member_joined/left into a projection's own
// collection coll of mbGroup documents.
func mbFoldMembership(ctx context.Context, b *Batch, coll string, e domain.Event) error {
	var group, account uuid.UUID
	var role domain.Role
	joined := false
	switch e := e.(type) {
	case domain.MemberJoined:
		group, account, role, joined = e.Group, e.Account, e.Role, true
	case domain.MemberLeft:
		group, account, role = e.Group, e.Account, e.Role
	default:
		return nil
	}
	g, _, err := Get[mbGroup](ctx, b, coll, group.String())
	if err != nil {
		return err
	}
	if g.Members == nil {
		g.Members = map[uuid.UUID][]domain.Role{}
	}
	roles := slices.DeleteFunc(g.Members[account], func(r domain.Role) bool { return r == role })
	if joined {
		roles = append(roles, role)
		slices.Sort(roles)
	}
	if len(roles) == 0 {
		delete(g.Members, account)
	} else {
		g.Members[account] = roles
	}
	if len(g.Members) == 0 {
		b.Delete(coll, group.String())
		return nil
	}
	b.Put(coll, group.String(), g)
	return nil
}

// mbMembers reads the members of a group from a collection of mbGroup
// documents.
func mbMembers(ctx context.Context, b *Batch, coll string, group uuid.UUID) (map[uuid.UUID][]domain.Role, error) {
	g, _, err := Get[mbGroup](ctx, b, coll, group.String())
	if err != nil {
		return nil, err
	}
	return g.Members, nil
}

// GroupMembersFunc returns a group's current members and their roles.
type GroupMembersFunc func(ctx context.Context, group uuid.UUID) (map[uuid.UUID][]domain.Role, error)

// MessageRecipients returns who receives a message when it is sent, sorted
// by account id: the accounts it names, and the members (any role) of the
// groups it names as members reports them at that moment, except the sender
// unless named. Relatives of a student recipient are not recipients.
func MessageRecipients(ctx context.Context, members GroupMembersFunc, e domain.MessageSent) ([]uuid.UUID, error) {
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	add := func(a uuid.UUID) {
		if a != uuid.Nil && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, a := range e.ToAccounts {
		add(a)
	}
	for _, g := range e.ToGroups {
		ms, err := members(ctx, g)
		if err != nil {
			return nil, err
		}
		for a := range ms {
			if a != e.From {
				add(a)
			}
		}
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out, nil
}

func mbSend(ctx context.Context, b *Batch, rec domain.Record, e domain.MessageSent) error {
	if _, exists, err := Get[MessageDetail](ctx, b, mbMessages, e.Message.String()); err != nil || exists {
		return err
	}
	recipients, err := MessageRecipients(ctx, func(ctx context.Context, g uuid.UUID) (map[uuid.UUID][]domain.Role, error) {
		return mbMembers(ctx, b, mbGroups, g)
	}, e)
	if err != nil {
		return err
	}
	sentAt := rec.Metadata.Time.UTC()
	m := &MessageDetail{
		Message: e.Message, From: e.From, Subject: e.Subject, Body: e.Body, SentAt: sentAt,
		AckRequested: e.AckRequested, ToAccounts: mbIDs(e.ToAccounts), ToGroups: mbIDs(e.ToGroups),
		Recipients: make([]RecipientState, 0, len(recipients)),
	}
	for _, a := range recipients {
		m.Recipients = append(m.Recipients, RecipientState{Account: a})
		entry := MailboxEntry{Message: e.Message, From: e.From, Subject: e.Subject, SentAt: sentAt, AckRequested: e.AckRequested}
		unread := entry
		key := mbKey(a, sentAt, e.Message)
		b.Put(mbInbox, key, &entry)
		b.Put(mbUnread, key, &unread)
		if err := b.Add(ctx, mbUnreadCounts, a.String(), mbUnreadCounter, 1); err != nil {
			return err
		}
	}
	b.Put(mbMessages, e.Message.String(), m)
	b.Put(mbSent, mbKey(e.From, sentAt, e.Message), mbSentEntry(m))
	return nil
}

func mbIDs(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return slices.Clone(ids)
}

func mbSentEntry(m *MessageDetail) *SentEntry {
	return &SentEntry{
		Message: m.Message, Subject: m.Subject, SentAt: m.SentAt, AckRequested: m.AckRequested,
		ToAccounts: m.ToAccounts, ToGroups: m.ToGroups,
		Recipients: len(m.Recipients), Read: m.Read, Acknowledged: m.Acknowledged,
	}
}

// mbMark records that reader read (or acknowledged, which implies reading)
// a message at t. Marking twice changes nothing.
func mbMark(ctx context.Context, b *Batch, message, reader uuid.UUID, t time.Time, ack bool) error {
	m, ok, err := Get[MessageDetail](ctx, b, mbMessages, message.String())
	if err != nil || !ok || reader == uuid.Nil {
		return err
	}
	t = t.UTC()
	i, found := slices.BinarySearchFunc(m.Recipients, reader, func(s RecipientState, a uuid.UUID) int {
		return bytes.Compare(s.Account[:], a[:])
	})
	if !found {
		m.Recipients = slices.Insert(m.Recipients, i, RecipientState{Account: reader, Late: true})
	}
	s := &m.Recipients[i]
	wasRead, wasAck := s.Read(), s.Acknowledged()
	if !wasRead {
		s.ReadAt = t
		m.Read++
	}
	if ack && !wasAck {
		s.AcknowledgedAt = t
		m.Acknowledged++
	}
	if wasRead && (!ack || wasAck) {
		return nil
	}
	b.Put(mbMessages, message.String(), m)
	b.Put(mbSent, mbKey(m.From, m.SentAt, m.Message), mbSentEntry(m))
	if s.Late {
		return nil
	}
	key := mbKey(reader, m.SentAt, m.Message)
	entry, ok, err := Get[MailboxEntry](ctx, b, mbInbox, key)
	if err != nil || !ok {
		return err
	}
	entry.Read, entry.ReadAt = true, s.ReadAt
	entry.Acknowledged, entry.AcknowledgedAt = s.Acknowledged(), s.AcknowledgedAt
	b.Put(mbInbox, key, entry)
	if !wasRead {
		b.Delete(mbUnread, key)
		return b.Add(ctx, mbUnreadCounts, reader.String(), mbUnreadCounter, -1)
	}
	return nil
}

// mbKey is the key of a message in an account's inbox, unread list or sent
// box.
func mbKey(account uuid.UUID, sentAt time.Time, message uuid.UUID) string {
	return account.String() + "|" + newestFirst(sentAt) + "|" + message.String()
}

// newestFirst renders t so that byte order is the reverse of time order:
// seconds (shifted to unsigned) and nanoseconds, each subtracted from its
// maximum, at fixed width.
func newestFirst(t time.Time) string {
	secs := uint64(t.Unix()) ^ (1 << 63)
	return fmt.Sprintf("%020d%09d", math.MaxUint64-secs, 999_999_999-t.Nanosecond())
}

// Queries of mailbox.v1.

// Mailbox returns a page of the messages account received, newest first.
func (q *Queries) Mailbox(ctx context.Context, account uuid.UUID, p Page) (List[MailboxEntry], error) {
	r, err := q.reader(ctx, ProjectionMailbox)
	if err != nil {
		return List[MailboxEntry]{}, err
	}
	prefix := account.String() + "|"
	return scanPage[MailboxEntry](ctx, r, mbInbox, prefix, prefix, PrefixEnd(prefix), p, nil)
}

// UnreadMessages returns how many messages account has not read and the
// latest of them.
func (q *Queries) UnreadMessages(ctx context.Context, account uuid.UUID) (*UnreadSummary, error) {
	r, err := q.reader(ctx, ProjectionMailbox)
	if err != nil {
		return nil, err
	}
	var counts Counts
	if _, err := GetJSON(ctx, r, mbUnreadCounts, account.String(), &counts); err != nil {
		return nil, err
	}
	out := &UnreadSummary{Count: int(counts[mbUnreadCounter])}
	prefix := account.String() + "|"
	latest, err := scanPage[MailboxEntry](ctx, r, mbUnread, prefix, prefix, PrefixEnd(prefix), Page{Limit: 1}, nil)
	if err != nil {
		return nil, err
	}
	if len(latest.Items) > 0 {
		out.Latest = &latest.Items[0]
	}
	return out, nil
}

// SentMessages returns a page of the messages account sent, newest first,
// with how many recipients read and acknowledged each.
func (q *Queries) SentMessages(ctx context.Context, account uuid.UUID, p Page) (List[SentEntry], error) {
	r, err := q.reader(ctx, ProjectionMailbox)
	if err != nil {
		return List[SentEntry]{}, err
	}
	prefix := account.String() + "|"
	return scanPage[SentEntry](ctx, r, mbSent, prefix, prefix, PrefixEnd(prefix), p, nil)
}

// Message returns a message with its recipients' states
// (domain.ErrMessageNotFound if there is none).
func (q *Queries) Message(ctx context.Context, message uuid.UUID) (*MessageDetail, error) {
	r, err := q.reader(ctx, ProjectionMailbox)
	if err != nil {
		return nil, err
	}
	m := new(MessageDetail)
	ok, err := GetJSON(ctx, r, mbMessages, message.String(), m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.Errorf(domain.ErrMessageNotFound, "%s", message)
	}
	return m, nil
}
