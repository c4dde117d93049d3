package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/demoservice"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// demoServiceBases are the addresses the demo service is registered at:
// the issuer (--oidc-issuer), else the listen address on the loopback,
// as 127.0.0.1 and as localhost. A demo listening on another address
// gets no demo service (an http URL is registered on the loopback only).
func demoServiceBases(issuer string, addr net.Addr) []string {
	if issuer != "" {
		return []string{strings.TrimSuffix(issuer, "/")}
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !(tcp.IP.IsUnspecified() || tcp.IP.IsLoopback()) {
		return nil
	}
	port := strconv.Itoa(tcp.Port)
	return []string{"http://127.0.0.1:" + port, "http://localhost:" + port}
}

// serviceRegistrar registers services (commands.Handlers).
type serviceRegistrar interface {
	RegisterService(ctx context.Context, req commands.Request, cmd domain.RegisterService) (commands.Result, error)
}

// registerDemoServices registers, once per set of addresses (ids and
// idempotency keys derive from them), the demo service as a CAS service
// and as a public OpenID Connect client of the demo establishment, and
// returns the client id ("" when there is no demo service).
func registerDemoServices(ctx context.Context, h serviceRegistrar, bases []string, log *slog.Logger) (string, error) {
	if len(bases) == 0 {
		log.Warn("no demo service: it is served on the loopback only (or give --oidc-issuer)")
		return "", nil
	}
	key := strings.Join(bases, " ")
	var casURLs, redirects, logouts []string
	for _, b := range bases {
		casURLs = append(casURLs, b+demoservice.PathCAS)
		redirects = append(redirects, b+demoservice.PathCallback)
		logouts = append(logouts, b+demoservice.Prefix)
	}
	all := domain.ServiceAttributes
	for _, s := range []domain.RegisterService{
		{Service: demoID("service", "cas", key), Kind: domain.ServiceCAS, URLs: casURLs},
		{Service: demoClientID(key), Kind: domain.ServiceOIDC, URLs: redirects, PostLogoutURIs: logouts, Public: true},
	} {
		s.Establishment, s.Name, s.Attributes = DemoUAI, "Service de démonstration ("+strings.ToUpper(string(s.Kind))+")", all
		req := commands.Request{System: true, CorrelationID: demoID("correlation", "service", key), IdempotencyKey: "demo:service:" + string(s.Kind) + ":" + key}
		if _, err := h.RegisterService(ctx, req, s); err != nil {
			return "", fmt.Errorf("demo service %s: %w", s.Kind, err)
		}
	}
	return demoClientID(key).String(), nil
}

// demoClientID is the OpenID Connect client id of the demo service of
// the addresses key.
func demoClientID(key string) uuid.UUID { return demoID("service", "oidc", key) }
