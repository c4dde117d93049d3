package api

import (
	"net/http"
	"slices"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) messageRoutes() []route {
	h := s.cfg.Commands
	const mailboxes = "students, relatives, teachers, personnel, guests and admins, in their own mailbox"
	const recipients = "the message's recipients"
	return []route{
		commandRoute(s, cmd[domain.SendMessage]{
			method: "POST", path: "/api/v1/messages", tag: "messages", status: http.StatusCreated,
			summary:  "Send a message to accounts and groups of one's establishment",
			profiles: "students, relatives, teachers, personnel, admins", run: h.SendMessage,
		}),
		commandRoute(s, cmd[domain.ReadMessage]{
			method: "POST", path: "/api/v1/messages/{message}/read", tag: "messages", status: http.StatusOK, noBody: true,
			summary: "Mark a message read", profiles: recipients,
			fill: func(r *http.Request, c *domain.ReadMessage) error { return web.SetPathID(r, "message", &c.Message) },
			run:  h.ReadMessage,
		}),
		commandRoute(s, cmd[domain.AcknowledgeMessage]{
			method: "POST", path: "/api/v1/messages/{message}/acknowledgement", tag: "messages", status: http.StatusOK, noBody: true,
			summary: "Acknowledge a message that asks for it (reads it too)", profiles: recipients,
			fill: func(r *http.Request, c *domain.AcknowledgeMessage) error {
				return web.SetPathID(r, "message", &c.Message)
			},
			run: h.AcknowledgeMessage,
		}),
		{
			method: "GET", path: "/api/v1/messages/{message}", tag: "messages", status: http.StatusOK,
			summary:  "A message; its sender sees every recipient's read and acknowledged state, a recipient their own",
			profiles: "the sender and the recipients",
			response: typeOf[projections.MessageDetail](),
			handle:   s.getMessage,
		},
		{
			method: "GET", path: "/api/v1/mailbox", tag: "messages", status: http.StatusOK,
			summary: "The signed-in account's mailbox, newest first", profiles: mailboxes,
			response: typeOf[[]projections.MailboxEntry](), paged: true,
			query: pageParams,
			handle: ownList(s, func(r *http.Request, p *web.Principal, page projections.Page) (projections.List[projections.MailboxEntry], error) {
				return s.cfg.Queries.Mailbox(r.Context(), p.Actor().Account, page)
			}),
		},
		{
			method: "GET", path: "/api/v1/mailbox/unread", tag: "messages", status: http.StatusOK,
			summary: "How many messages the signed-in account has not read, and the latest", profiles: mailboxes,
			response: typeOf[projections.UnreadSummary](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				p := web.PrincipalOf(r)
				if err := web.MayUseMailbox(p); err != nil {
					return err
				}
				v, err := s.cfg.Queries.UnreadMessages(r.Context(), p.Actor().Account)
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, v)
			},
		},
		{
			method: "GET", path: "/api/v1/mailbox/sent", tag: "messages", status: http.StatusOK,
			summary: "The messages the signed-in account sent, newest first, with read and acknowledged counts", profiles: mailboxes,
			response: typeOf[[]projections.SentEntry](), paged: true,
			query: pageParams,
			handle: ownList(s, func(r *http.Request, p *web.Principal, page projections.Page) (projections.List[projections.SentEntry], error) {
				return s.cfg.Queries.SentMessages(r.Context(), p.Actor().Account, page)
			}),
		},
		{
			method: "GET", path: "/api/v1/notifications", tag: "messages", status: http.StatusOK,
			summary: "The signed-in account's notifications, newest first", profiles: mailboxes,
			response: typeOf[[]projections.Notification](), paged: true,
			query: pageParams,
			handle: ownList(s, func(r *http.Request, p *web.Principal, page projections.Page) (projections.List[projections.Notification], error) {
				return s.cfg.Queries.Notifications(r.Context(), p.Actor().Account, page)
			}),
		},
	}
}

// pageParams are the page parameters of mailboxes, feeds and news.
var pageParams = []param{
	{name: "limit", format: "integer", doc: "at most this many (default 50, at most 500)"},
	afterParam,
}

// ownList serves a page of a list of the signed-in account's own mailbox.
func ownList[T any](s *Server, read func(r *http.Request, p *web.Principal, page projections.Page) (projections.List[T], error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := s.dec.Query(r)
		page := projections.Page{Limit: q.Limit(), After: q.Cursor("after")}
		if q.Err() != nil {
			return q.Err()
		}
		p := web.PrincipalOf(r)
		if err := web.MayUseMailbox(p); err != nil {
			return err
		}
		l, err := read(r, p, page)
		if err != nil {
			return err
		}
		return replyPage(w, r, l)
	}
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "message")
	if err != nil {
		return err
	}
	p := web.PrincipalOf(r)
	if err := web.MayUseMailbox(p); err != nil {
		return err
	}
	m, err := s.cfg.Queries.Message(r.Context(), id)
	if err != nil {
		return err
	}
	sender, err := web.MayReadMessage(p, m)
	if err != nil {
		return err
	}
	if !sender {
		m.Recipients = slices.DeleteFunc(m.Recipients, func(rs projections.RecipientState) bool {
			return rs.Account != p.Actor().Account
		})
	}
	return reply(w, http.StatusOK, m)
}
