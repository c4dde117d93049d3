package web

// Every request gets an id, and leaves one line in the access log and one
// sample in the metrics. The id is the client's X-Request-ID when it is
// well formed (a proxy in front, a client retrying), else a new uuid; it
// is returned in the response, and the commands the request issues take
// their correlation id from it, so that a line of the access log leads to
// the events the request recorded and back.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// RequestIDHeader carries a request's id, both ways.
const RequestIDHeader = "X-Request-ID"

// MaxRequestID bounds a request id taken from a client.
const MaxRequestID = 128

// ValidRequestID reports whether a client's request id may be kept: 1 to
// MaxRequestID letters, digits and - _ . : + / = (a uuid, a proxy's hex
// or base64 id); anything else is replaced, so that no id can forge a
// log line or grow a log without bound.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=':
		default:
			return false
		}
	}
	return true
}

// correlationSpace derives the correlation id of a request id that is not
// a uuid (uuid v5): one id always gives the same correlation.
var correlationSpace = uuid.MustParse("9b1f3c4e-7a52-4d0e-8f6b-2c1d5e7a9b30")

// CorrelationOf returns the correlation id a request id gives its
// commands: the id itself when it is a uuid, else a uuid derived from it.
func CorrelationOf(requestID string) uuid.UUID {
	if id, err := uuid.Parse(requestID); err == nil && len(requestID) == 36 {
		return id
	}
	return uuid.NewSHA1(correlationSpace, []byte(requestID))
}

// exchange is what the access log learns of a request on its way through
// the handlers: its id, the route that matched (Fallback), the signed-in
// account (Sessions) and the correlation id its commands took. Only the
// request's own goroutine touches it.
type exchange struct {
	id          string
	correlation uuid.UUID
	route       string
	account     uuid.UUID
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// RequestID returns the id of the request ctx belongs to ("" outside
// Access).
func RequestID(ctx context.Context) string {
	if x := exchangeOf(ctx); x != nil {
		return x.id
	}
	return ""
}

// Correlation returns the correlation id of the commands the request ctx
// belongs to issues (uuid.Nil outside Access: the handlers make one).
func Correlation(ctx context.Context) uuid.UUID {
	if x := exchangeOf(ctx); x != nil {
		return x.correlation
	}
	return uuid.Nil
}

// UseCorrelation records that the request's commands take id as their
// correlation id instead (the API's X-Correlation-ID): the access log
// shows that one.
func UseCorrelation(ctx context.Context, id uuid.UUID) {
	if x := exchangeOf(ctx); x != nil {
		x.correlation = id
	}
}

// noteRoute records the route pattern that matched.
func noteRoute(ctx context.Context, pattern string) {
	if x := exchangeOf(ctx); x != nil {
		x.route = pattern
	}
}

// noteAccount records the signed-in account.
func noteAccount(ctx context.Context, id uuid.UUID) {
	if x := exchangeOf(ctx); x != nil {
		x.account = id
	}
}

// Served is one request as the access log and the metrics see it.
type Served struct {
	Method string
	// Route is the pattern that matched ("GET /api/v1/lessons/{id}"),
	// empty when none did: never the path, which holds ids.
	Route    string
	Status   int
	Duration time.Duration
	// Bytes is the body written (a websocket's frames excepted).
	Bytes int64
	// Account is the signed-in account (uuid.Nil: none): an id, never a
	// name.
	Account     uuid.UUID
	RequestID   string
	Correlation uuid.UUID
}

// AccessConfig says where each request's record goes.
type AccessConfig struct {
	// Logger, when set, receives one line per request at info level.
	Logger *slog.Logger
	// Observe, when set, receives each request (the metrics).
	Observe func(Served)
}

// Access gives each request its id, answers it in X-Request-ID, and
// records the request once served: a line in the access log, a sample in
// the metrics. A websocket is recorded once, at its upgrade.
func Access(cfg AccessConfig, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !ValidRequestID(id) {
			id = uuid.NewString()
		}
		x := &exchange{id: id, correlation: CorrelationOf(id)}
		w.Header().Set(RequestIDHeader, id)
		r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
		aw := &accessWriter{w: w}
		defer func() {
			// Deferred: a stream cut short panics with ErrAbortHandler,
			// and is recorded as far as it went.
			route := x.route
			if route == "" {
				// The outer mux's own routes (/healthz, /readyz...):
				// ServeMux sets the pattern on the request it is given.
				route = r.Pattern
			}
			s := Served{
				Method: r.Method, Route: route, Status: aw.status(), Duration: time.Since(start), Bytes: aw.bytes,
				Account: x.account, RequestID: x.id, Correlation: x.correlation,
			}
			if cfg.Observe != nil {
				cfg.Observe(s)
			}
			if cfg.Logger != nil {
				logServed(r.Context(), cfg.Logger, s)
			}
		}()
		next.ServeHTTP(aw, r)
	})
}

// logServed writes the access log's line of s.
func logServed(ctx context.Context, log *slog.Logger, s Served) {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", s.Method), slog.String("route", s.Route), slog.Int("status", s.Status),
		slog.Duration("duration", s.Duration), slog.Int64("bytes", s.Bytes))
	if s.Account != uuid.Nil {
		attrs = append(attrs, slog.String("account", s.Account.String()))
	}
	attrs = append(attrs, slog.String("request_id", s.RequestID), slog.String("correlation_id", s.Correlation.String()))
	log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// accessWriter keeps the status and the size of a response. It passes on
// what the server's writer does besides (flushes, deadlines through
// Unwrap, the hijack of a websocket upgrade, sendfile).
type accessWriter struct {
	w        http.ResponseWriter
	code     int
	bytes    int64
	hijacked bool
}

func (a *accessWriter) Header() http.Header { return a.w.Header() }

func (a *accessWriter) WriteHeader(code int) {
	// Informational answers (103 Early Hints) come before the real one.
	if a.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		a.code = code
	}
	a.w.WriteHeader(code)
}

func (a *accessWriter) Write(b []byte) (int, error) {
	if a.code == 0 {
		a.code = http.StatusOK
	}
	n, err := a.w.Write(b)
	a.bytes += int64(n)
	return n, err
}

// ReadFrom keeps http.ServeContent's sendfile path.
func (a *accessWriter) ReadFrom(src io.Reader) (int64, error) {
	if a.code == 0 {
		a.code = http.StatusOK
	}
	rf, ok := a.w.(io.ReaderFrom)
	if !ok {
		n, err := io.Copy(writerOnly{a.w}, src)
		a.bytes += n
		return n, err
	}
	n, err := rf.ReadFrom(src)
	a.bytes += n
	return n, err
}

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

func (a *accessWriter) Flush() {
	if a.code == 0 {
		a.code = http.StatusOK
	}
	_ = http.NewResponseController(a.w).Flush()
}

// Hijack hands the connection over (a websocket upgrade, whose library
// writes the 101 itself).
func (a *accessWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := a.w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("web: the response writer cannot be hijacked")
	}
	c, rw, err := hj.Hijack()
	if err == nil {
		a.hijacked = true
	}
	return c, rw, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (a *accessWriter) Unwrap() http.ResponseWriter { return a.w }

// status is the response's status as the client received it.
func (a *accessWriter) status() int {
	switch {
	case a.code != 0:
		return a.code
	case a.hijacked:
		return http.StatusSwitchingProtocols
	}
	return http.StatusOK
}
