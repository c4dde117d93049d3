package casserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
)

// logout is /cas/logout: it ends the portal session (which sends the
// single logout to the services it reached: SessionEnded) and goes back
// to a registered service when one is named, else to the sign-in page.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token, _ := web.RequestToken(r)
	if err := s.cfg.Sessions.SignOut(r, token); err != nil {
		s.fail(w, r, "sign out", err)
		return
	}
	http.SetCookie(w, s.cfg.Sessions.ClearCookie())
	next := "/login?ok=signedout"
	if target := r.URL.Query().Get("service"); target != "" {
		svc, err := s.service(ctx, target)
		if err != nil {
			s.log.WarnContext(ctx, "CAS logout: service not looked up", "err", err)
		} else if svc != nil {
			next = target
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// SessionEnded sends the single logout of a portal session that ended
// (web.SessionsConfig.SessionEnded: the portal's sign-out and
// /cas/logout alike): a SAML LogoutRequest, whose SessionIndex is the
// ticket, posted to the service URL of each ticket the session validated
// for a service registered with single logout. The requests go out at
// once, each bounded by the logout timeout; a failure is logged, never
// returned: the session is over whatever the services answer.
func (s *Server) SessionEnded(ctx context.Context, session string) error {
	if keep, _ := ctx.Value(keepServices{}).(bool); keep {
		return nil
	}
	reached, err := s.cfg.Tickets.Forget(ctx, session)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, r := range reached {
		svc, err := s.cfg.Directory.Service(ctx, r.ServiceID)
		if errors.Is(err, domain.ErrUnknownService) {
			continue
		}
		if err != nil {
			s.log.WarnContext(ctx, "single logout: service not read", "service", r.ServiceID, "err", err)
			continue
		}
		if _, ok := svc.Match(r.Service); !ok || !svc.SingleLogout {
			continue
		}
		wg.Go(func() {
			if err := s.sendLogout(context.WithoutCancel(ctx), r); err != nil {
				s.log.WarnContext(ctx, "single logout failed", "service", r.ServiceID, "url", r.Service, "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

// sendLogout posts one LogoutRequest.
func (s *Server) sendLogout(ctx context.Context, r Reached) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LogoutTimeout)
	defer cancel()
	body := url.Values{"logoutRequest": {logoutRequest(r.Ticket, s.cfg.Now())}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Service, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("the service answered %s", resp.Status)
	}
	return nil
}

// logoutRequest is the SAML 2.0 LogoutRequest of CAS single logout.
func logoutRequest(ticket string, now time.Time) string {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	var b bytes.Buffer
	b.WriteString(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="LR-`)
	b.WriteString(hex.EncodeToString(id))
	b.WriteString(`" Version="2.0" IssueInstant="` + now.UTC().Format(time.RFC3339) + `">`)
	b.WriteString(`<saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>`)
	_ = xml.EscapeText(&b, []byte(ticket))
	b.WriteString(`</samlp:SessionIndex></samlp:LogoutRequest>`)
	return b.String()
}
