-- The ledger as CAS server (adapters/casserver, docs/sso.md).
-- Service tickets live here, not in memory, so that a ticket issued by one
-- node is validated by another, once: validation deletes its row and reads
-- it in one statement. Only the SHA-256 of a ticket is kept while it can
-- still be validated. Times are Unix milliseconds (UTC).
CREATE TABLE cas_tickets (
    ticket_hash BLOB    PRIMARY KEY,  -- SHA-256 of the ticket
    service     TEXT    NOT NULL,     -- the exact service URL it was issued for
    service_id  TEXT    NOT NULL,     -- the registered service
    account     TEXT    NOT NULL,
    session     TEXT    NOT NULL,     -- the portal session (web.SessionID)
    renewed     INTEGER NOT NULL,     -- issued right after a fresh sign-in (renew)
    expires_at  INTEGER NOT NULL
);
CREATE INDEX cas_tickets_expires ON cas_tickets (expires_at);

-- The services a portal session reached, by validated ticket (spent: the
-- ticket in clear is the SessionIndex of the single-logout request sent to
-- the service when the session ends).
CREATE TABLE cas_sessions (
    session    TEXT    NOT NULL,
    ticket     TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    service_id TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (session, ticket)
);
CREATE INDEX cas_sessions_expires ON cas_sessions (expires_at);
