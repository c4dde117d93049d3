package esdb

import (
	"encoding/json"
	"fmt"

	"github.com/schoollife/ledger/domain"
)

// EventStoreDB's own metadata keys: its $by_correlation_id projection and
// its UI read them.
const (
	keyCorrelationID = "$correlationId"
	keyCausationID   = "$causationId"
)

// encodeMetadata renders the ledger's metadata as the event's JSON metadata:
// the ledger's fields under their own names, plus the correlation and
// causation ids under EventStoreDB's keys. A zero time is left out; the
// server's "created" stands in for it when the event is read.
func encodeMetadata(md domain.Metadata) ([]byte, error) {
	b, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	fields := make(map[string]json.RawMessage)
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	if md.Time.IsZero() {
		delete(fields, "time")
	}
	for key, id := range map[string]string{keyCorrelationID: md.CorrelationID.String(), keyCausationID: md.CausationID.String()} {
		v, _ := json.Marshal(id)
		fields[key] = v
	}
	return json.Marshal(fields)
}

// decodeMetadata reads what encodeMetadata writes; EventStoreDB's keys are
// copies and are ignored.
func decodeMetadata(b []byte) (domain.Metadata, error) {
	var md domain.Metadata
	if len(b) == 0 {
		return md, nil
	}
	if err := json.Unmarshal(b, &md); err != nil {
		return md, fmt.Errorf("decode metadata: %w", err)
	}
	return md, nil
}
