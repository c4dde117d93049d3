-- Read models (adapters/readstore): JSON documents keyed by (namespace,
-- collection, key). A namespace is one generation of one projection
-- ("studentfile.v1@2"). Keys compare byte for byte (BINARY collation), so
-- reducers choose keys whose byte order is the order queries need; documents
-- are TEXT so that json_extract(doc, '$.field') works in ad hoc queries.
CREATE TABLE rm_docs (
    ns   TEXT NOT NULL,
    coll TEXT NOT NULL,
    key  TEXT NOT NULL,
    doc  TEXT NOT NULL,
    PRIMARY KEY (ns, coll, key)
);

-- The last event applied to each namespace, written in the same
-- transaction as its documents. Positions are domain.Position (tx, seq).
CREATE TABLE rm_checkpoints (
    ns         TEXT    PRIMARY KEY,
    tx         INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    updated_at TEXT    NOT NULL  -- RFC 3339 UTC
);

-- Where each projection's generations stand (projections.Generations).
CREATE TABLE rm_generations (
    projection TEXT    PRIMARY KEY,
    live       INTEGER NOT NULL,
    building   INTEGER NOT NULL,
    ready      INTEGER NOT NULL  -- 0 or 1
);

-- Leases that elect one projection runner among the processes sharing the
-- file: the holder renews expires_at (Unix milliseconds) while it runs; a
-- lease past its expiry is free.
CREATE TABLE rm_leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
