package oidcprovider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the provider's op.Storage: sign-ins, codes and tokens in the
// Store, clients from Clients, claims from People.
type storage struct{ p *Provider }

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func (s *storage) now() time.Time { return s.p.cfg.Now() }

func (s *storage) client(ctx context.Context, id string) (opClient, error) {
	c, err := s.p.cfg.Clients.Client(ctx, id)
	if err != nil {
		return opClient{}, err
	}
	return opClient{Client: c, idTokenLifetime: s.p.cfg.IDTokenLifetime, devMode: s.p.cfg.AllowInsecure}, nil
}

// CreateAuthRequest keeps a checked authorization request (op has checked
// the client, the exact redirect URI, the scopes). PKCE, when used, is
// S256; a public client must use it.
func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.client(ctx, r.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if err := checkRequest(r); err != nil {
		return nil, err
	}
	switch {
	case r.CodeChallenge != "" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case r.CodeChallenge == "" && c.Public():
		return nil, oidc.ErrInvalidRequest().WithDescription("a public client must use PKCE (S256)")
	}
	req := storedRequest{
		id: uuid.NewString(), clientID: r.ClientID,
		data: requestData{
			RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce, Scopes: r.Scopes,
			ResponseType: string(r.ResponseType), ResponseMode: string(r.ResponseMode),
			Challenge: r.CodeChallenge, ChallengeMethod: string(r.CodeChallengeMethod),
		},
	}
	now := s.now()
	if err := s.p.cfg.Store.saveRequest(ctx, req, now, now.Add(s.p.cfg.SignInLifetime)); err != nil {
		return nil, err
	}
	return &authRequest{req}, nil
}

// Bounds of what an authorization request may bring, which is kept.
const (
	maxParam    = 512
	maxRedirect = 2048
	maxScopes   = 20
)

// checkRequest refuses an authorization request whose values are too
// long or not text: they are kept in the database.
func checkRequest(r *oidc.AuthRequest) error {
	bad := func(v string, max int) bool {
		return len(v) > max || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl)
	}
	switch {
	case bad(r.State, maxParam), bad(r.Nonce, maxParam):
		return oidc.ErrInvalidRequest().WithDescription("state or nonce too long or not text")
	case bad(r.RedirectURI, maxRedirect):
		return oidc.ErrInvalidRequest().WithDescription("redirect_uri too long or not text")
	case r.CodeChallenge != "" && (len(r.CodeChallenge) < 43 || len(r.CodeChallenge) > 128 || bad(r.CodeChallenge, 128)):
		return oidc.ErrInvalidRequest().WithDescription("code_challenge is not 43 to 128 characters")
	case len(r.Scopes) > maxScopes:
		return oidc.ErrInvalidScope().WithDescription("too many scopes")
	}
	for _, sc := range r.Scopes {
		if bad(sc, 64) {
			return oidc.ErrInvalidScope().WithDescription("scope too long or not text")
		}
	}
	return nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.p.cfg.Store.request(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	return &authRequest{r}, nil
}

// AuthRequestByCode spends the code: it is good for one token request
// only, on any node, whether that request then succeeds or not (a wrong
// PKCE verifier or client secret spends it too).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.p.cfg.Store.spendCode(ctx, code, s.now())
	if err != nil {
		return nil, err
	}
	return &authRequest{r}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	now := s.now()
	return s.p.cfg.Store.saveCode(ctx, id, code, now, now.Add(s.p.cfg.CodeLifetime))
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.p.cfg.Store.deleteRequest(ctx, id)
}

// CreateAccessToken keeps a new access token and records the person's
// access to the service.
func (s *storage) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	a, ok := r.(*authRequest)
	if !ok {
		return "", time.Time{}, fmt.Errorf("token request %T: only the authorization code flow is served", r)
	}
	account, err := uuid.Parse(a.account)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign-in %s: account %q: %w", a.id, a.account, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	expires := now.Add(s.p.cfg.AccessTokenLifetime)
	if err := s.p.cfg.Store.saveToken(ctx, id, storedToken{account: a.account, clientID: a.clientID, scopes: a.data.Scopes}, now, expires); err != nil {
		return "", time.Time{}, err
	}
	if err := s.p.cfg.Accesses.RecordAccess(ctx, account, a.clientID); err != nil {
		// The person still reaches the service: the access is missing
		// from the history and the indicators, and the log says so.
		s.p.cfg.Logger.WarnContext(ctx, "access to a service not recorded", "client", a.clientID, "account", account, "err", err)
	}
	return id, expires, nil
}

var errNoRefresh = errors.New("refresh tokens are not given: a service asks for a new code, which the portal session answers at once")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNoRefresh
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession is not called: TerminateSessionFromRequest is.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the portal session of an RP-initiated
// logout when its id_token_hint names the person signed in: a logout
// request anyone could forge (no hint, or another person's) ends nothing
// and leads to the portal, where the person may sign out.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, es *op.EndSessionRequest) (string, error) {
	x, ok := ctx.Value(exchangeKey{}).(*exchange)
	if !ok {
		return "", errors.New("end-session without its request")
	}
	account, signedIn, err := s.p.cfg.Sessions.SignedIn(x.r)
	switch {
	case err != nil:
		return "", err
	case !signedIn:
		return es.RedirectURI, nil
	case es.IDTokenHintClaims == nil || es.UserID != account.String():
		s.p.cfg.Logger.InfoContext(ctx, "logout from a service not proven: the portal session stays", "client", es.ClientID)
		return "/", nil
	}
	if err := s.p.cfg.Sessions.SignOut(x.w, x.r); err != nil {
		return "", err
	}
	return es.RedirectURI, nil
}

func (s *storage) RevokeToken(ctx context.Context, tokenID, _, _ string) *oidc.Error {
	if err := s.p.cfg.Store.deleteToken(ctx, tokenID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.keys.signingKey(ctx)
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) { return s.p.keys.keySet(ctx) }

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret against
// its hash, in constant time.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	if !c.checkSecret(secret) {
		return errors.New("wrong client secret")
	}
	return nil
}

// SetUserinfoFromScopes fills the ID token.
func (s *storage) SetUserinfoFromScopes(ctx context.Context, info *oidc.UserInfo, account, clientID string, scopes []string) error {
	return s.p.fill(ctx, info, account, clientID, scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.p.cfg.Store.token(ctx, tokenID, s.now())
	if err != nil {
		return err
	}
	if t.account != subject {
		return errors.New("access token of another subject")
	}
	return s.p.fill(ctx, info, t.account, t.clientID, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not served")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("clients sign nothing here")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not served")
}

func (s *storage) Health(ctx context.Context) error { return s.p.cfg.Store.ping(ctx) }

// authRequest is a sign-in in progress as op sees it.
type authRequest struct{ storedRequest }

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string          { return a.id }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return nil }
func (a *authRequest) GetAudience() []string  { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.authTime }
func (a *authRequest) GetClientID() string    { return a.clientID }
func (a *authRequest) GetNonce() string       { return a.data.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.data.RedirectURI }
func (a *authRequest) GetScopes() []string    { return slices.Clone(a.data.Scopes) }
func (a *authRequest) GetState() string       { return a.data.State }
func (a *authRequest) GetSubject() string     { return a.account }
func (a *authRequest) Done() bool             { return a.account != "" }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.data.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.data.ResponseMode)
}

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.data.Challenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.data.Challenge, Method: oidc.CodeChallengeMethod(a.data.ChallengeMethod)}
}
