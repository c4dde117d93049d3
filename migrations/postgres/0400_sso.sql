-- Single sign-on (adapters/sso, docs/sso.md). Times are Unix
-- milliseconds (UTC).
--
-- sso_requests: the authentication requests this ledger sent to identity
-- providers, so that a response is accepted only in response to one of
-- them (InResponseTo), on whichever node it arrives; consumed by the
-- response, dropped once expired.
CREATE TABLE sso_requests (
    id         text    PRIMARY KEY,
    provider   text    NOT NULL,
    return_to  text    NOT NULL,
    expires_at bigint  NOT NULL
);
-- sso_assertions: the assertions accepted, each once across the nodes,
-- kept until they expire.
CREATE TABLE sso_assertions (
    id         text    PRIMARY KEY,
    expires_at bigint  NOT NULL
);
-- sso_unmatched: the identities that matched no account, or several, for
-- administrators to link by hand. What the provider asserted is reduced
-- to what linking needs (a name, the identifiers matching used, the
-- establishment they name, '' when none: then only administrators of every
-- establishment see the row); a row goes when its identity is linked, or
-- 30 days after its last attempt.
CREATE TABLE sso_unmatched (
    provider   text    NOT NULL,
    subject    text    NOT NULL,
    reason     text    NOT NULL,
    name       text    NOT NULL,
    hint       text    NOT NULL,
    establishment text    NOT NULL,
    attempts   bigint  NOT NULL,
    first_seen bigint  NOT NULL,
    last_seen  bigint  NOT NULL,
    PRIMARY KEY (provider, subject)
);
-- sso_sessions: the portal sessions an identity provider opened (by the
-- session's id, a hash of its token), so that signing out of the portal
-- signs out of the provider too (single logout); dropped at sign-out or
-- once expired.
CREATE TABLE sso_sessions (
    session       text    PRIMARY KEY,
    provider      text    NOT NULL,
    subject       text    NOT NULL,
    session_index text    NOT NULL,
    expires_at    bigint  NOT NULL
);
