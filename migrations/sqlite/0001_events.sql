-- The event log. position orders the global log: writers are serialized
-- (BEGIN IMMEDIATE), so rowids follow commit order; AUTOINCREMENT keeps a
-- position from ever being handed out twice.
CREATE TABLE events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,  -- the event's JSON, byte for byte as given
    metadata    TEXT    NOT NULL,  -- JSON of domain.Metadata
    recorded_at TEXT    NOT NULL,  -- server time of the commit, RFC 3339 UTC
    hash        BLOB    NOT NULL,  -- domain.ChainHash over the stored bytes
    UNIQUE (stream, version)
);

-- One row per stream: its version and the hash of its last event, read and
-- bumped by every append (the version check and the chain's previous link).
CREATE TABLE streams (
    stream  TEXT    PRIMARY KEY,
    version INTEGER NOT NULL,
    hash    BLOB    NOT NULL
);
