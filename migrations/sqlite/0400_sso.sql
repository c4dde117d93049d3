-- Single sign-on (adapters/sso, docs/sso.md). Times are Unix
-- milliseconds (UTC).
--
-- sso_requests: the authentication requests this ledger sent to identity
-- providers, so that a response is accepted only in response to one of
-- them (InResponseTo), on whichever node it arrives; consumed by the
-- response, dropped once expired.
CREATE TABLE sso_requests (
    id         TEXT    PRIMARY KEY,
    provider   TEXT    NOT NULL,
    return_to  TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
-- sso_assertions: the assertions accepted, each once across the nodes,
-- kept until they expire.
CREATE TABLE sso_assertions (
    id         TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
-- sso_unmatched: the identities that matched no account, or several, for
-- administrators to link by hand. What the provider asserted is reduced
-- to what linking needs (a name, the identifiers matching used, the
-- establishment they name, '' when none: then only administrators of every
-- establishment see the row); a row goes when its identity is linked, or
-- 30 days after its last attempt.
CREATE TABLE sso_unmatched (
    provider   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    hint       TEXT    NOT NULL,
    establishment TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
-- sso_sessions: the portal sessions an identity provider opened (by the
-- session's id, a hash of its token), so that signing out of the portal
-- signs out of the provider too (single logout); dropped at sign-out or
-- once expired.
CREATE TABLE sso_sessions (
    session       TEXT    PRIMARY KEY,
    provider      TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    session_index TEXT    NOT NULL,
    expires_at    INTEGER NOT NULL
);
