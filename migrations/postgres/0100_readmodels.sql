-- Read models (adapters/readstore): JSON documents keyed by (namespace,
-- collection, key). A namespace is one generation of one projection
-- ("studentfile.v1@2"). Names and keys use the "C" collation so that they
-- compare byte for byte, whatever the database's locale: reducers choose keys
-- whose byte order is the order queries need ("uai|2006-03-14|..."), and
-- SQLite and the in-memory store order them the same way. Documents are
-- jsonb, so ad hoc queries can use doc->>'field' and GIN indexes.
CREATE TABLE rm_docs (
    ns   text COLLATE "C" NOT NULL,
    coll text COLLATE "C" NOT NULL,
    key  text COLLATE "C" NOT NULL,
    doc  jsonb NOT NULL,
    PRIMARY KEY (ns, coll, key)
);

-- The last event applied to each namespace, written in the same
-- transaction as its documents. Positions are domain.Position (tx, seq).
CREATE TABLE rm_checkpoints (
    ns         text COLLATE "C" PRIMARY KEY,
    tx         bigint      NOT NULL,
    seq        bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Where each projection's generations stand (projections.Generations).
-- Runners are elected with advisory locks, so there is no lease table.
CREATE TABLE rm_generations (
    projection text COLLATE "C" PRIMARY KEY,
    live       integer NOT NULL,
    building   integer NOT NULL,
    ready      boolean NOT NULL
);
