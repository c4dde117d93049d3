package casserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// Failure codes of a validation (CAS protocol 3.0, section 2.5.3).
const (
	CodeInvalidRequest      = "INVALID_REQUEST"
	CodeInvalidTicketSpec   = "INVALID_TICKET_SPEC"
	CodeUnauthorizedService = "UNAUTHORIZED_SERVICE"
	CodeInvalidTicket       = "INVALID_TICKET"
	CodeInvalidService      = "INVALID_SERVICE"
	CodeInternalError       = "INTERNAL_ERROR"
)

// maxTicketLen bounds what is looked up as a ticket.
const maxTicketLen = 256

// validate is /cas/serviceValidate (v3 false: CAS 2.0, the user only) and
// /cas/p3/serviceValidate (v3: CAS 3.0, with the attributes the service
// is given). The ticket is spent by the attempt, whatever its outcome.
func (s *Server) validate(w http.ResponseWriter, r *http.Request, v3 bool) {
	ctx := r.Context()
	q := r.URL.Query()
	service, ticket := q.Get("service"), q.Get("ticket")
	renew := q.Get("renew") != "" && q.Get("renew") != "false"
	refuse := func(code, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		s.log.InfoContext(ctx, "CAS validation refused", "code", code, "reason", msg, "service", service)
		writeFailure(w, code, msg)
	}
	switch {
	case service == "" || ticket == "":
		refuse(CodeInvalidRequest, "service and ticket are required")
		return
	case !strings.HasPrefix(ticket, TicketPrefix) || len(ticket) > maxTicketLen:
		refuse(CodeInvalidTicketSpec, "not a service ticket")
		return
	}
	tk, found, err := s.cfg.Tickets.Consume(ctx, ticket)
	switch {
	case err != nil:
		s.log.ErrorContext(ctx, "CAS validation", "err", err)
		writeFailure(w, CodeInternalError, "the ticket cannot be checked now")
		return
	case !found:
		refuse(CodeInvalidTicket, "ticket not recognized (unknown or used already)")
		return
	case !s.cfg.Now().Before(tk.Expires):
		refuse(CodeInvalidTicket, "ticket expired")
		return
	case tk.Service != service:
		refuse(CodeInvalidService, "the ticket was not issued for this service")
		return
	case renew && !tk.Renewed:
		refuse(CodeInvalidTicketSpec, "renew asked, the ticket was issued from a single sign-on session")
		return
	}
	svc, err := s.cfg.Directory.Service(ctx, tk.ServiceID)
	switch {
	case errors.Is(err, domain.ErrUnknownService):
		refuse(CodeUnauthorizedService, "the service is not registered any more")
		return
	case err != nil:
		s.log.ErrorContext(ctx, "CAS validation", "err", err)
		writeFailure(w, CodeInternalError, "the service cannot be checked now")
		return
	}
	if _, ok := svc.Match(service); !ok {
		refuse(CodeUnauthorizedService, "the service's URL is not registered any more")
		return
	}
	acc, err := s.cfg.Directory.Account(ctx, tk.Account)
	switch {
	case errors.Is(err, domain.ErrUnknownAccount):
		refuse(CodeInvalidTicket, "the account is unknown")
		return
	case err != nil:
		s.log.ErrorContext(ctx, "CAS validation", "err", err)
		writeFailure(w, CodeInternalError, "the account cannot be read now")
		return
	case acc.Closed:
		refuse(CodeInvalidTicket, "the account is closed")
		return
	}
	protocol := domain.AccessCAS2
	if v3 {
		protocol = domain.AccessCAS3
	}
	corr := web.Correlation(ctx)
	_, err = s.cfg.Accesses.RecordServiceAccess(ctx, commands.Request{Actor: acc.ID, CorrelationID: corr},
		domain.RecordServiceAccess{Service: svc.ID, Protocol: protocol})
	switch {
	case err == nil:
	case domain.IsUnavailable(err):
		// As a sign-in: the person reaches the service, the access is
		// missing from the history and the indicators.
		s.log.WarnContext(ctx, "service access not recorded: the event store is unavailable", "account", acc.ID, "err", err)
	case domain.CodeOf(err) != "":
		refuse(CodeInvalidTicket, "the ledger refuses the access: %s", domain.CodeOf(err))
		return
	default:
		s.log.ErrorContext(ctx, "CAS validation", "err", err)
		writeFailure(w, CodeInternalError, "the access cannot be recorded now")
		return
	}
	if svc.SingleLogout && tk.Session != "" {
		reached := Reached{Ticket: ticket, Service: service, ServiceID: svc.ID}
		if err := s.cfg.Tickets.Remember(ctx, tk.Session, reached, s.cfg.Now().Add(s.cfg.SessionLifetime)); err != nil {
			s.log.WarnContext(ctx, "service kept out of single logout", "service", svc.ID, "err", err)
		}
	}
	var attrs []attribute
	if v3 {
		attrs = s.attributes(ctx, acc, svc, tk.Renewed)
	}
	writeSuccess(w, acc.ID.String(), attrs)
}

// attribute is one released value.
type attribute struct{ name, value string }

// Profiles as the national ENT directory schema names them
// (ENTPersonProfils).
var nationalProfiles = map[domain.Profile]string{
	domain.ProfileStudent:   "National_ELV",
	domain.ProfileRelative:  "National_TUT",
	domain.ProfileTeacher:   "National_ENS",
	domain.ProfilePersonnel: "National_EVS",
	domain.ProfileAdmin:     "National_EVS",
	domain.ProfileInspector: "National_ENS",
	domain.ProfileEvaluator: "National_EVS",
	domain.ProfileGuest:     "National_COL",
}

// attributes returns what the service is given about acc: the attributes
// it was registered with, and the protocol's own.
func (s *Server) attributes(ctx context.Context, acc *projections.AccountEntry, svc *projections.ServiceEntry, fresh bool) []attribute {
	out := []attribute{
		{"authenticationDate", s.cfg.Now().UTC().Format(time.RFC3339)},
		{"longTermAuthenticationRequestTokenUsed", "false"},
		{"isFromNewLogin", fmt.Sprint(fresh)},
	}
	add := func(name string, values ...string) {
		if !svc.Releases(name) {
			return
		}
		for _, v := range values {
			if v != "" {
				out = append(out, attribute{name, v})
			}
		}
	}
	if svc.Releases(domain.AttrLogin) && s.cfg.Logins != nil {
		login, ok, err := s.cfg.Logins.LoginOf(ctx, acc.ID)
		if err != nil {
			s.log.WarnContext(ctx, "login not released", "account", acc.ID, "err", err)
		} else if ok {
			add(domain.AttrLogin, login)
		}
	}
	add(domain.AttrDisplayName, acc.DisplayName)
	add(domain.AttrProfile, nationalProfiles[acc.Profile])
	add(domain.AttrEstablishment, acc.Establishment)
	var classes, groups []string
	for _, m := range acc.Groups {
		if m.Kind == domain.GroupClass {
			classes = append(classes, m.Shown())
		} else {
			groups = append(groups, m.Shown())
		}
	}
	add(domain.AttrClasses, classes...)
	add(domain.AttrGroups, groups...)
	add(domain.AttrENTPersonJointure, acc.ExternalID)
	return out
}
