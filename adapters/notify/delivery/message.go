package delivery

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Message is what one delivery says, written when it is sent (never
// stored in the log: names are looked up then, the plan holds ids).
type Message struct {
	// Key is the delivery's (the first one's, for a digest).
	Key Key
	// Title is the first line ("Absence de Léa Martin"); Body the line
	// under it ("08:00 Mathématiques").
	Title, Body string
	// Path is the portal page to open (an absolute path).
	Path string
	Lang domain.NotifyLang
	// Items are a digest's lines, each a title and body.
	Items []Message
}

// Text is the message as one text: title, body and, for a digest, a line
// per item.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(m.Title)
	if m.Body != "" {
		b.WriteString(" — " + m.Body)
	}
	for _, it := range m.Items {
		b.WriteString("\n- " + it.Title)
		if it.Body != "" {
			b.WriteString(" — " + it.Body)
		}
	}
	return b.String()
}

// writer writes messages in French or English.
type writer struct {
	loc *time.Location
}

var words = map[domain.NotifyLang]map[string]string{
	domain.LangFrench: {
		"absence.recorded.v1":               "Absence de %s",
		"lateness.recorded.v1":              "Retard de %s",
		"absence.cancelled.v1":              "Absence annulée — %s",
		"absence.justification_accepted.v1": "Absence justifiée — %s",
		"absence.justification_refused.v1":  "Justificatif refusé — %s",
		"incident.reported.v1":              "Incident — %s",
		"punishment.given.v1":               "Punition pour %s",
		"sanction.pronounced.v1":            "Sanction pour %s",
		"sanction.annulled.v1":              "Sanction annulée — %s",
		"sanction.sursis_revoked.v1":        "Sursis révoqué — %s",
		"homework.assigned.v1":              "Nouveau devoir",
		"homework.amended.v1":               "Devoir modifié",
		"homework.withdrawn.v1":             "Devoir retiré",
		"message.sent.v1":                   "Nouveau message",
		"due":                               "pour le %s",
		"minutes":                           "%d min",
		"digest":                            "Résumé du jour : %d nouveautés",
		"digest1":                           "Résumé du jour : 1 nouveauté",
		"read":                              "À lire sur l'ENT",
	},
	domain.LangEnglish: {
		"absence.recorded.v1":               "%s is absent",
		"lateness.recorded.v1":              "%s was late",
		"absence.cancelled.v1":              "Absence cancelled — %s",
		"absence.justification_accepted.v1": "Absence justified — %s",
		"absence.justification_refused.v1":  "Justification refused — %s",
		"incident.reported.v1":              "Incident — %s",
		"punishment.given.v1":               "Punishment for %s",
		"sanction.pronounced.v1":            "Sanction for %s",
		"sanction.annulled.v1":              "Sanction annulled — %s",
		"sanction.sursis_revoked.v1":        "Suspended sanction revoked — %s",
		"homework.assigned.v1":              "New homework",
		"homework.amended.v1":               "Homework changed",
		"homework.withdrawn.v1":             "Homework withdrawn",
		"message.sent.v1":                   "New message",
		"due":                               "due %s",
		"minutes":                           "%d min",
		"digest":                            "Daily digest: %d updates",
		"digest1":                           "Daily digest: 1 update",
		"read":                              "Read it on the portal",
	},
}

// write returns the message of one planned act; name is the student's
// display name ("" when the act is about none).
func (w writer) write(p projections.Planned, name string) Message {
	lang := p.Preferences.Lang
	if _, ok := words[lang]; !ok {
		lang = domain.LangFrench
	}
	t := words[lang]
	m := Message{Lang: lang, Path: path(p)}
	title, ok := t[p.Type]
	if !ok {
		title = t["read"]
	}
	if strings.Contains(title, "%s") {
		m.Title = fmt.Sprintf(title, name)
	} else {
		m.Title = title
	}
	f := p.Facts
	var body []string
	switch {
	case f.Start != "":
		if f.Minutes > 0 {
			body = append(body, fmt.Sprintf(t["minutes"], f.Minutes))
		}
		body = append(body, strings.TrimSpace(f.Start+" "+f.Subject))
	case p.Category == domain.NotifyHomework:
		if f.Subject != "" {
			body = append(body, f.Subject)
		}
		if !f.Due.IsZero() {
			body = append(body, fmt.Sprintf(t["due"], w.date(f.Due, lang)))
		}
	case !f.Date.IsZero():
		body = append(body, w.date(f.Date, lang))
	}
	if len(body) == 0 {
		body = append(body, t["read"])
	}
	m.Body = strings.Join(body, ", ")
	return m
}

// digest returns the message gathering items.
func (w writer) digest(lang domain.NotifyLang, items []Message) Message {
	t, ok := words[lang]
	if !ok {
		lang, t = domain.LangFrench, words[domain.LangFrench]
	}
	title := fmt.Sprintf(t["digest"], len(items))
	if len(items) == 1 {
		title = t["digest1"]
	}
	return Message{Title: title, Path: "/feed", Lang: lang, Items: items}
}

func (w writer) date(d domain.Date, lang domain.NotifyLang) string {
	if lang == domain.LangEnglish {
		return d.String()
	}
	return fmt.Sprintf("%02d/%02d/%d", d.Day, int(d.Month), d.Year)
}

// path returns the portal page of a planned act: an absence's reason
// form, a message, else the student's page.
func path(p projections.Planned) string {
	switch {
	case p.Type == domain.AbsenceRecorded{}.EventType() && len(p.Students) > 0 && p.Facts.Lesson != uuid.Nil:
		return "/students/" + p.Students[0].String() + "/absences/" + p.Facts.Lesson.String() + "/reason"
	case p.Category == domain.NotifyMessages:
		return "/messages/" + p.Ref.String()
	case len(p.Students) > 0:
		return "/students/" + p.Students[0].String()
	}
	return "/feed"
}

// OpenPath is the link of a message: the portal's /n/ page, which records
// that the recipient opened it (notification.opened.v1) and goes on to
// next.
func OpenPath(notification uuid.UUID, ch Channel, next string) string {
	return "/n/" + notification.String() + "/" + string(ch) + "?next=" + url.QueryEscape(next)
}
