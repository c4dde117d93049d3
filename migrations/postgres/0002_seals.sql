-- Seals over the global log (adapters/postgres/verify.go). Seal seq hashes
-- seal seq-1's hash and the position (tx_id, seq) and hash of every event
-- after seal seq-1's up_to, up to its own, in global order
-- (projections.SealHash): deleting, inserting or moving any sealed event, a
-- whole stream included, changes it. Only events of transactions older than
-- every running one are sealed, so no event can later commit inside a sealed
-- range. Written by Store.Seal (`ledger verify --seal`, and the server on a
-- schedule); checked by Store.Verify. Rows are only ever inserted.
CREATE TABLE seals (
    seq        bigint      PRIMARY KEY,  -- 1, 2, ... with no gap
    up_to_tx   xid8        NOT NULL,     -- position of the last event sealed
    up_to_seq  bigint      NOT NULL,
    count      bigint      NOT NULL,     -- events sealed after the previous seal
    hash       bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
