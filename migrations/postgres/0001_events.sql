-- The event log. One row per event, never updated or deleted.
--
-- tx_id is the id of the writing transaction: catch-up readers order the log
-- by (tx_id, seq) and read only below the oldest transaction still running,
-- so an event committed late is never skipped (see adapters/postgres).
-- data and metadata are json, not jsonb, so the exact bytes written are the
-- bytes read back, and the hash chain (hash = SHA-256 over the previous hash
-- of the stream and the stored fields) can be checked against them.
CREATE TABLE events (
    seq         bigserial   PRIMARY KEY,
    tx_id       xid8        NOT NULL DEFAULT pg_current_xact_id(),
    id          uuid        NOT NULL,
    stream      text        NOT NULL,
    version     bigint      NOT NULL,
    type        text        NOT NULL,
    data        json        NOT NULL,
    metadata    json        NOT NULL,
    recorded_at timestamptz NOT NULL,
    hash        bytea       NOT NULL,
    CONSTRAINT events_id_key UNIQUE (id),
    CONSTRAINT events_stream_version_key UNIQUE (stream, version),
    CONSTRAINT events_version_positive CHECK (version > 0)
);

CREATE INDEX events_tx_id_seq_idx ON events (tx_id, seq);

-- The head of each stream: its version (number of events) and the hash of
-- its last event. Appends lock this row, so writers to one stream queue up
-- while writers to different streams do not touch each other.
CREATE TABLE streams (
    stream  text   PRIMARY KEY,
    version bigint NOT NULL,
    hash    bytea  NOT NULL
);
