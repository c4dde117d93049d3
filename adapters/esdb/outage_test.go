package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/schoollife/ledger/adapters/esdb"
	"github.com/schoollife/ledger/adapters/esdb/esdbtest"
	"github.com/schoollife/ledger/adapters/storetest"
	"github.com/schoollife/ledger/domain"
)

// TestClassify: a server out of reach or not answering in time is an
// outage; other errors are not.
func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cause error
		want  bool
	}{
		{"nil", nil, false},
		{"grpc unavailable", fmt.Errorf("append x: %w", status.Error(codes.Unavailable, "connection refused")), true},
		{"grpc deadline", status.Error(codes.DeadlineExceeded, "deadline exceeded"), true},
		{"grpc not found", status.Error(codes.NotFound, "no such stream"), false},
		{"cancelled", fmt.Errorf("read: %w", context.Canceled), false},
		{"other", errors.New("boom"), false},
	} {
		got := esdb.Classify(tc.cause)
		if domain.IsUnavailable(got) != tc.want {
			t.Errorf("%s: Classify(%v) = %v, outage %v, want %v", tc.name, tc.cause, got, domain.IsUnavailable(got), tc.want)
		}
		if !tc.want && got != tc.cause {
			t.Errorf("%s: Classify(%v) changed it: %v", tc.name, tc.cause, got)
		}
		if tc.want && !errors.Is(got, tc.cause) {
			t.Errorf("%s: Classify(%v) lost its cause", tc.name, tc.cause)
		}
	}
}

// TestServerGone: with the server stopped, the client's own errors come
// out of the store as outages, and opening fails as one too.
func TestServerGone(t *testing.T) {
	t.Parallel()
	srv := esdbtest.Start(t)
	s := MustOpen(t, srv.ConnString())
	t.Cleanup(func() { _ = s.Close() })
	stream := storetest.NewStream("gone")
	storetest.MustAppend(t, s, stream, domain.NoStream(), storetest.NewEvents(1))
	srv.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.Append(ctx, stream, domain.Exact(1), storetest.NewEvents(1))
	t.Logf("append: %v", err)
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("append to a stopped server: %v, want ErrUnavailable", err)
	}
	if _, err := s.ReadStream(ctx, stream, 0); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("read from a stopped server: %v, want ErrUnavailable", err)
	}
	if _, err := esdb.Open(ctx, srv.ConnString(), esdb.WithLogger(quiet)); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("open on a stopped server: %v, want ErrUnavailable", err)
	}
}
