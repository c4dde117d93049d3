-- Seals over the global log (adapters/sqlite/verify.go). Seal seq hashes
-- seal seq-1's hash and the position and hash of every event after seal
-- seq-1's up_to, up to its own, in position order (projections.SealHash):
-- deleting, inserting or moving any sealed event, a whole stream included,
-- changes it. Written by Store.Seal (`ledger verify --seal`, and the server
-- on a schedule); checked by Store.Verify. Rows are only ever inserted.
CREATE TABLE seals (
    seq        INTEGER PRIMARY KEY,  -- 1, 2, ... with no gap
    up_to      INTEGER NOT NULL,     -- position of the last event sealed
    count      INTEGER NOT NULL,     -- events sealed after the previous seal
    hash       BLOB    NOT NULL,
    created_at TEXT    NOT NULL      -- RFC 3339 UTC
);
