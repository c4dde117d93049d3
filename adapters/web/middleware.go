package web

import (
	"errors"
	"fmt"
	"net/http"
)

// FailFunc answers a request with err: a problem for the API, an error
// page for the portal.
type FailFunc func(w http.ResponseWriter, r *http.Request, err error)

// Headers sets h on every response before next writes it.
func Headers(h http.Header, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dst := w.Header()
		for k, vs := range h {
			dst[k] = append([]string(nil), vs...)
		}
		next.ServeHTTP(w, r)
	})
}

// Recover turns a panic into a 500 answered by fail, which logs it.
// http.ErrAbortHandler (a stream cut short on purpose) goes through.
func Recover(fail FailFunc, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			fail(w, r, fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// Fallback answers requests no route of mux matches (404) or whose method
// no route of the path takes (405) with fail instead of the mux's plain
// text. notFound is the detail of a 404. The pattern that matched is the
// request's route in the access log and the metrics.
func Fallback(fail FailFunc, mux *http.ServeMux, notFound func(r *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			noteRoute(r.Context(), pattern)
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own answer tells 404 from 405 (with its Allow header).
		rec := &statusRecorder{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			fail(w, r, ErrMethodNotAllowed.With("%s does not take %s", r.URL.Path, r.Method))
			return
		}
		fail(w, r, ErrNoRoute.With("%s", notFound(r)))
	})
}

// statusRecorder keeps the status and headers a handler writes, and drops
// its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}
