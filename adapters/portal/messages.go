package portal

import (
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (p *Portal) messagePages() []page {
	return []page{
		{method: "GET", path: "/messages", handle: p.mailboxPage},
		{method: "GET", path: "/messages/new", handle: p.composePage},
		{method: "POST", path: "/messages", handle: p.onForm(composeForm, p.showCompose, p.sendMessage)},
		{method: "GET", path: "/messages/{message}", handle: p.messagePage},
		{method: "POST", path: "/messages/{message}/read", handle: p.readMessage},
		{method: "POST", path: "/messages/{message}/ack", handle: p.acknowledgeMessage},
	}
}

// mailboxData is the mailbox and the sent box.
type mailboxData struct {
	Inbox []projections.MailboxEntry
	Sent  []projections.SentEntry
	Names map[uuid.UUID]string
	// MaySend is false for those who only receive (guests).
	MaySend bool
}

// mailboxPage lists the messages received and sent.
func (p *Portal) mailboxPage(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := web.MayUseMailbox(v.principal); err != nil {
		return err
	}
	in, err := p.cfg.Queries.Mailbox(r.Context(), v.Me.ID, projections.Page{Limit: 50})
	if err != nil {
		return err
	}
	out, err := p.cfg.Queries.SentMessages(r.Context(), v.Me.ID, projections.Page{Limit: 50})
	if err != nil {
		return err
	}
	inbox, sent := in.Items, out.Items
	data := mailboxData{Inbox: inbox, Sent: sent, Names: map[uuid.UUID]string{}, MaySend: v.Me.Profile != domain.ProfileGuest}
	n := p.names()
	for _, m := range inbox {
		data.Names[m.From] = n.of(r, m.From)
	}
	return p.ok(w, r, v, "messages", "title.messages", data)
}

// recipient is a choice of the compose form.
type recipient struct {
	ID    uuid.UUID
	Name  string
	Group bool
	// Selected preselects a reply's recipient.
	Selected bool
}

// recipientGroup is a labelled list of recipients.
type recipientGroup struct {
	Label string
	List  []recipient
}

// composeData is the compose form.
type composeData struct {
	Choices []recipientGroup
	Subject string
	// MayAsk tells whether the sender may ask for an acknowledgement
	// (teachers and personnel write to families).
	MayAsk bool
}

// composeForm is the compose page's form.
var composeForm = formSpec{
	name: "compose", fields: []string{"to", "subject", "body", "ack"},
	aliases: map[string]string{"to_accounts": "to", "to_groups": "to", "ack_requested": "ack"},
}

// composePage offers the recipients the reader deals with: a family the
// teachers of the children's groups; a teacher their groups, students and
// the students' relatives; personnel every group of the establishment and
// its teachers. ?to= adds the one replied to.
func (p *Portal) composePage(w http.ResponseWriter, r *http.Request, v *view) error {
	return p.showCompose(w, r, v, http.StatusOK)
}

// showCompose renders the compose form with status (a refused message's).
func (p *Portal) showCompose(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	if err := web.MayUseMailbox(v.principal); err != nil {
		return err
	}
	ctx := r.Context()
	data := composeData{MayAsk: v.Me.Profile == domain.ProfileTeacher || v.Me.Profile == domain.ProfilePersonnel}
	seen := map[uuid.UUID]bool{}
	add := func(label string, list []recipient) {
		var kept []recipient
		for _, rc := range list {
			if rc.ID != v.Me.ID && !seen[rc.ID] {
				seen[rc.ID] = true
				kept = append(kept, rc)
			}
		}
		if len(kept) > 0 {
			data.Choices = append(data.Choices, recipientGroup{Label: label, List: kept})
		}
	}
	if to, err := uuid.Parse(r.URL.Query().Get("to")); err == nil {
		if acc, err := p.cfg.Queries.Account(ctx, to); err == nil && acc.Establishment == v.Me.Establishment && !acc.Closed {
			add(v.T("compose.reply"), []recipient{{ID: acc.ID, Name: acc.DisplayName, Selected: true}})
			data.Subject = r.URL.Query().Get("subject")
		}
	}
	var groups []uuid.UUID
	switch v.Me.Profile {
	case domain.ProfileRelative:
		for _, c := range v.Me.Children {
			child, err := p.cfg.Queries.Account(ctx, c.Account)
			if err != nil {
				return err
			}
			for _, m := range child.Groups {
				if m.Role == domain.RoleStudent {
					groups = append(groups, m.Group)
				}
			}
		}
	case domain.ProfileStudent:
		for _, m := range v.Me.Groups {
			groups = append(groups, m.Group)
		}
	case domain.ProfileTeacher:
		for _, m := range v.Me.Groups {
			if m.Teaching() {
				groups = append(groups, m.Group)
			}
		}
	case domain.ProfilePersonnel:
		all, err := p.cfg.Queries.GroupsOfEstablishment(ctx, v.Me.Establishment)
		if err != nil {
			return err
		}
		for _, g := range all {
			groups = append(groups, g.ID)
		}
	}
	slices.SortFunc(groups, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	for _, id := range slices.Compact(groups) {
		g, err := p.cfg.Queries.Group(ctx, id)
		if err != nil {
			return err
		}
		var teachers, students, relatives []recipient
		for _, role := range []domain.Role{domain.RoleHeadTeacher, domain.RoleTeacher} {
			for _, m := range g.Members[role] {
				teachers = append(teachers, recipient{ID: m.Account, Name: m.DisplayName + teacherSubject(m)})
			}
		}
		add(v.T("compose.teachers", g.Name), teachers)
		if v.Me.Profile == domain.ProfileTeacher || v.Me.Profile == domain.ProfilePersonnel {
			add(v.T("compose.group"), []recipient{{ID: g.ID, Name: v.T("compose.whole", g.Name), Group: true}})
			for _, m := range g.Members[domain.RoleStudent] {
				students = append(students, recipient{ID: m.Account, Name: m.DisplayName})
				acc, err := p.cfg.Queries.Account(ctx, m.Account)
				if err != nil {
					return err
				}
				for _, rel := range acc.Relatives {
					relatives = append(relatives, recipient{ID: rel.Account, Name: v.T("compose.relative_of", rel.DisplayName, m.DisplayName)})
				}
			}
			add(v.T("compose.students", g.Name), students)
			add(v.T("compose.relatives", g.Name), relatives)
		}
	}
	p.render(w, r, status, v, "compose", "title.compose", data)
	return nil
}

func teacherSubject(m projections.GroupMember) string {
	if m.Subject == "" {
		return ""
	}
	return " (" + m.Subject + ")"
}

// sendMessage sends the compose form's message. Recipients named "g:" are
// groups.
func (p *Portal) sendMessage(w http.ResponseWriter, r *http.Request, v *view) error {
	f := web.FormOf(r)
	to := f.IDs("to")
	cmd := domain.SendMessage{Subject: f.Need("subject"), Body: f.Need("body"), AckRequested: f.Bool("ack")}
	if len(to) == 0 && f.Err() == nil {
		return domain.Errorf(domain.ErrNoRecipient, "no recipient chosen")
	}
	if f.Err() != nil {
		return f.Err()
	}
	for _, id := range to {
		if _, err := p.cfg.Queries.Group(r.Context(), id); err == nil {
			cmd.ToGroups = append(cmd.ToGroups, id)
		} else {
			cmd.ToAccounts = append(cmd.ToAccounts, id)
		}
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.SendMessage(r.Context(), req, cmd)
	if err != nil {
		return err
	}
	return done(w, r, "/messages", "sent", res)
}

// messageData is one message.
type messageData struct {
	Message *projections.MessageDetail
	// Sender is set when the reader sent it: they see every recipient.
	Sender bool
	// Mine is the reader's own state as a recipient.
	Mine  *projections.RecipientState
	Names map[uuid.UUID]string
}

// messagePage shows a message to its sender and its recipients.
func (p *Portal) messagePage(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := web.PathID(r, "message")
	if err != nil {
		return err
	}
	if err := web.MayUseMailbox(v.principal); err != nil {
		return err
	}
	m, err := p.cfg.Queries.Message(r.Context(), id)
	if err != nil {
		return err
	}
	sender, err := web.MayReadMessage(v.principal, m)
	if err != nil {
		return err
	}
	data := messageData{Message: m, Sender: sender, Names: map[uuid.UUID]string{}}
	n := p.names()
	data.Names[m.From] = n.of(r, m.From)
	for _, rs := range m.Recipients {
		if rs.Account == v.Me.ID {
			mine := rs
			data.Mine = &mine
		}
	}
	if data.Mine == nil && !sender {
		data.Mine = &projections.RecipientState{Account: v.Me.ID}
	}
	if sender {
		for _, rs := range m.Recipients {
			data.Names[rs.Account] = n.of(r, rs.Account)
		}
	} else {
		m.Recipients = nil
	}
	return p.ok(w, r, v, "message", "title.message", data)
}

// readMessage marks a message read.
func (p *Portal) readMessage(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := web.PathID(r, "message")
	if err != nil {
		return err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.ReadMessage(r.Context(), req, domain.ReadMessage{Message: id})
	if err != nil {
		return err
	}
	return done(w, r, "/messages/"+id.String(), "read", res)
}

// acknowledgeMessage acknowledges a message that asks for it.
func (p *Portal) acknowledgeMessage(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := web.PathID(r, "message")
	if err != nil {
		return err
	}
	req, err := commandOf(r)
	if err != nil {
		return err
	}
	res, err := p.cfg.Commands.AcknowledgeMessage(r.Context(), req, domain.AcknowledgeMessage{Message: id})
	if err != nil {
		return err
	}
	return done(w, r, "/messages/"+id.String(), "acknowledged", res)
}
