package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// CommandResponse is what a command recorded. It never says whether the
// request was a replay (the Idempotent-Replayed header does): a replay
// returns the original response.
type CommandResponse struct {
	// ID is the entity the command created or acted on.
	ID            uuid.UUID       `json:"id"`
	Stream        string          `json:"stream"`
	Version       uint64          `json:"version"`
	Position      domain.Position `json:"position"`
	Events        []uuid.UUID     `json:"events"`
	CorrelationID uuid.UUID       `json:"correlation_id"`
}

func responseOf(res commands.Result) CommandResponse {
	events := res.Events
	if events == nil {
		events = []uuid.UUID{}
	}
	return CommandResponse{
		ID: res.ID, Stream: res.Stream, Version: res.Version, Position: res.Position,
		Events: events, CorrelationID: res.CorrelationID,
	}
}

// Headers of commands.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerCorrelationID  = "X-Correlation-ID"
	headerReplayed       = "Idempotent-Replayed"
)

// cmd describes a command route: T is what the command handler takes,
// decoded from the body (unless noBody) and completed from the path by
// fill.
type cmd[T any] struct {
	method, path, summary, tag, profiles string
	status                               int
	noBody                               bool
	fill                                 func(r *http.Request, c *T) error
	run                                  func(ctx context.Context, req commands.Request, c T) (commands.Result, error)
}

// commandRoute returns the route of a command. The signed-in account is
// the actor; the command layer authorizes and validates.
func commandRoute[T any](s *Server, c cmd[T]) route {
	rt := route{
		method: c.method, path: c.path, summary: c.summary, tag: c.tag, profiles: c.profiles,
		status: c.status, response: typeOf[CommandResponse](),
	}
	if !c.noBody {
		rt.request = typeOf[T]()
	}
	rt.handle = func(w http.ResponseWriter, r *http.Request) error {
		var v T
		if !c.noBody {
			if err := s.dec.JSON(w, r, &v); err != nil {
				return err
			}
		}
		if c.fill != nil {
			if err := c.fill(r, &v); err != nil {
				return err
			}
		}
		req, err := commandRequest(r)
		if err != nil {
			return err
		}
		res, err := c.run(r.Context(), req, v)
		if err != nil {
			return err
		}
		if res.Replayed {
			w.Header().Set(headerReplayed, "true")
		}
		return reply(w, c.status, responseOf(res))
	}
	return rt
}

// commandRequest returns the command request of an HTTP request: the
// signed-in actor, the Idempotency-Key and the correlation id: the
// X-Correlation-ID when it is a uuid, else the request id's
// (web.Correlation).
func commandRequest(r *http.Request) (commands.Request, error) {
	req := commands.Request{Actor: web.PrincipalOf(r).Actor().Account}
	if vs, ok := r.Header[headerIdempotencyKey]; ok {
		key := vs[0]
		if len(vs) > 1 || !web.ValidIdempotencyKey(key) {
			return req, web.ErrInvalidHeader.With("one key of 1 to %d visible ASCII characters", web.MaxIdempotencyKey)
		}
		req.IdempotencyKey = key
	}
	req.CorrelationID = web.Correlation(r.Context())
	if id, err := uuid.Parse(r.Header.Get(headerCorrelationID)); err == nil {
		req.CorrelationID = id
		web.UseCorrelation(r.Context(), id)
	}
	return req, nil
}
