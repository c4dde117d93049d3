package esdb

import (
	"context"
	"errors"

	esdbc "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/schoollife/ledger/domain"
)

// Classify marks err as an outage (domain.ErrUnavailable) when the server
// cannot be reached or did not answer in time: the client's unavailable,
// deadline-exceeded, connection-closed and not-leader errors (a cluster
// electing its leader), and the same gRPC codes when they come bare.
// Other errors, nil, errors that already carry a domain error and a
// cancelled context come back as they are.
func Classify(err error) error {
	if err == nil || domain.CodeOf(err) != "" || errors.Is(err, context.Canceled) {
		return err
	}
	var e *esdbc.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdbc.ErrorUnavailable, esdbc.ErrorCodeDeadlineExceeded, esdbc.ErrorCodeConnectionClosed, esdbc.ErrorCodeNotLeader:
			return domain.Outage(domain.ErrUnavailable, err)
		}
		return err
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.DeadlineExceeded:
			return domain.Outage(domain.ErrUnavailable, err)
		}
	}
	return err
}
