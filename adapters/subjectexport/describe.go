package subjectexport

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// describer writes, in French and escaped, what an event of the summary
// says.
type describer struct {
	x       *Exporter
	subject uuid.UUID
	// reasons are the labels of the establishments' absence reasons.
	reasons map[string]string
}

func slot(s domain.Slot) string { return s.Start + "–" + s.End }

// describe returns the detail cell of an item, as HTML.
func (d *describer) describe(ctx context.Context, it *Item, n *names) (string, error) {
	t := d.x.cfg.Words
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, esc(s))
		}
	}
	date := func(day domain.Date) string { return t.Date(day) }
	reason := func(code string) string {
		if l, ok := d.reasons[code]; ok {
			return l
		}
		return t.Label("reason_code", code)
	}
	switch e := it.event.(type) {
	case domain.AbsenceRecorded:
		add(fmt.Sprintf("%s, %s, %s", date(e.Date), slot(e.Slot), e.Subject))
	case domain.LatenessRecorded:
		add(fmt.Sprintf("%s, %s, %s", date(e.Date), slot(e.Slot), e.Subject))
		add(t.T("export.minutes", e.Minutes))
	case domain.AbsenceCancelled:
		add(e.Reason)
	case domain.AbsenceReasonDeclared:
		add(e.Reason)
	case domain.JustificationAccepted:
		add(reason(e.ReasonCode))
		add(e.Comment)
	case domain.JustificationRefused:
		add(reason(e.ReasonCode))
		add(e.Comment)
	case domain.IncidentReported:
		add(fmt.Sprintf("%s, %s", d.x.when(e.OccurredAt), e.Place))
		add(t.T("export.seriousness", t.Label("seriousness", e.Seriousness)))
		for _, p := range e.Protagonists {
			if p.Account == d.subject {
				add(t.T("export.role", t.Label("protagonist", p.Role)))
			}
		}
		if len(it.OtherRoles) > 0 {
			roles := make([]string, len(it.OtherRoles))
			for i, r := range it.OtherRoles {
				roles[i] = t.Label("protagonist", r)
			}
			add(t.T("export.other_protagonists", strings.Join(roles, ", ")))
		}
	case domain.PunishmentGiven:
		add(t.Label("punishment", e.Kind) + ", " + date(e.Date))
		add(e.Reason)
	case domain.SanctionPronounced:
		add(t.Label("sanction", e.Kind) + ", " + date(e.Date))
		add(e.Reason)
		if e.Sursis != nil {
			add(t.T("file.sursis"))
		}
		if day, ok := e.EffacementDay(); ok {
			add(t.T("file.effaced_on", date(day)))
		}
	case domain.SanctionAnnulled:
		add(e.Reason)
	case domain.SursisRevoked:
		add(date(e.Date))
		add(e.Reason)
	case domain.SanctionEffaced:
		add(t.T("export.effaced", date(e.Date), t.Label("effacement", e.Basis)))
	case domain.MessageSent:
		from, err := n.of(ctx, e.From, "")
		if err != nil {
			return "", err
		}
		if from == "" {
			from = t.Label("profile", domain.ProfileStudent)
		}
		if e.From == d.subject {
			add(t.T("export.message_sent"))
		} else {
			add(t.T("export.message_from", from))
		}
		add(t.T("export.message_subject", e.Subject))
		parts = append(parts, `<span class="body">`+esc(e.Body)+`</span>`)
	case domain.UserConnected:
		add(t.Label("signin", e.Method))
	case domain.IdentityLinked:
		add(e.Provider + ", " + t.Label("identity_match", e.How))
	case domain.IdentityUnlinked:
		add(e.Provider)
	case domain.BookingRequested:
		add(fmt.Sprintf("%s – %s", d.x.when(e.Start), d.x.when(e.End)))
		add(e.Purpose)
	case domain.BookingRefused:
		add(e.Reason)
	case domain.BookingCancelled:
		add(e.Reason)
	case domain.ArticlePublished:
		add(e.Title)
		parts = append(parts, `<span class="body">`+esc(e.Body)+`</span>`)
	case domain.MemberJoined:
		add(t.Label("role", e.Role))
	case domain.MemberLeft:
		add(t.Label("role", e.Role))
	case domain.AccountOpened:
		add(e.DisplayName + ", " + t.Label("profile", e.Profile))
	case domain.AccountUpdated:
		add(e.DisplayName)
	case domain.RelativeLinked:
		add(t.Label("relation", e.Relation))
	case domain.DataExported:
		add(t.T("export.format", t.Label("export_format", e.Format)))
	}
	return strings.Join(parts, "<br>"), nil
}
