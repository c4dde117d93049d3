-- The ledger as the OpenID provider of the school's services
-- (adapters/oidcprovider, docs/sso.md). Everything here is
-- shared by the nodes of one deployment: a code or a token given by one
-- node is honoured, once, by any other. Codes and access tokens are kept
-- as their SHA-256, never as such. Times are Unix milliseconds (UTC).

-- The secret that seals what the provider hands out in its own format
-- (access tokens, codes): one row, created by the first node that needs it.
CREATE TABLE oidc_provider_secret (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key        BLOB    NOT NULL CHECK (length(key) = 32),
    created_at INTEGER NOT NULL
);

-- Keys that sign ID tokens. A key is published (JWKS) from created_at,
-- signs from signs_from (later, so that services see it before it signs),
-- and stays published until the tokens it signed have expired; generation
-- orders them and lets one node only create the next.
CREATE TABLE oidc_signing_keys (
    id          TEXT    PRIMARY KEY,
    generation  INTEGER NOT NULL UNIQUE,
    algorithm   TEXT    NOT NULL,
    private_key BLOB    NOT NULL,  -- PKCS #8, DER
    created_at  INTEGER NOT NULL,
    signs_from  INTEGER NOT NULL
);

-- Sign-ins in progress: the checked authorization request, the account
-- once the person is signed in, then the hash of the one code given for
-- it, spent by the first token request that presents it.
CREATE TABLE oidc_auth_requests (
    id              TEXT    PRIMARY KEY,
    client_id       TEXT    NOT NULL,
    request         TEXT    NOT NULL,  -- JSON: redirect URI, state, nonce, scopes, PKCE challenge
    account         TEXT,
    auth_time       INTEGER,
    code_hash       BLOB    UNIQUE,
    code_expires_at INTEGER,
    code_used       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

-- Access tokens given to services, by hash.
CREATE TABLE oidc_access_tokens (
    hash       BLOB    PRIMARY KEY,
    account    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    scopes     TEXT    NOT NULL,  -- space-separated
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oidc_access_tokens_expiry ON oidc_access_tokens (expires_at);
