-- Sign-in (adapters/auth): local credentials and the sessions and API
-- tokens issued after a sign-in. Not events: a password hash must be
-- replaceable and a session deletable, and neither belongs in the history.
-- Times are Unix milliseconds (UTC), as on SQLite, so that one
-- implementation serves both dialects.

-- One login and argon2id hash per account. login is as the user typed it at
-- creation; login_key is its case-folded form (PRECIS UsernameCaseMapped),
-- unique, and what sign-in looks up.
CREATE TABLE auth_credentials (
    account    uuid   PRIMARY KEY,
    login      text   NOT NULL,
    login_key  text   COLLATE "C" NOT NULL UNIQUE,
    hash       text   NOT NULL,            -- PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash
    updated_at bigint NOT NULL
);

-- Portal sessions and API tokens, stored only as the SHA-256 of the token,
-- so that a copy of the database signs no one in. expires_at slides forward
-- for sessions, never past ends_at.
CREATE TABLE auth_sessions (
    token_hash bytea  PRIMARY KEY,         -- SHA-256 of the 32 random bytes
    account    uuid   NOT NULL,
    kind       text   NOT NULL CHECK (kind IN ('session', 'token')),
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    ends_at    bigint NOT NULL
);
CREATE INDEX auth_sessions_account ON auth_sessions (account);
CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);
