-- Scoped keys (adapters/subjectkeys, docs/privacy.md): beside a person's
-- own key (subject_keys, which encrypts their names), keys of the same
-- person for one category of data of one establishment and school year
-- (scope 'category': school-life acts, messages), which retention destroys
-- when the period expires, and for one record (scope 'record': a
-- sanction), which its effacement destroys. Values sealed with them are
-- "enc:v2:<id>:...". Erasing the person destroys every row of theirs.
-- A destroyed key keeps its row, key set to NULL. Times are Unix
-- milliseconds (UTC), as on SQLite.
CREATE TABLE subject_key_scopes (
    id            uuid    PRIMARY KEY,          -- key id (uuid v5 of subject and scope)
    subject       uuid    NOT NULL,             -- account id
    scope         text    NOT NULL CHECK (scope IN ('category', 'record')),
    category      text    NOT NULL,             -- 'schoollife', 'messages'; record: 'sanction'
    establishment text    NOT NULL DEFAULT '',  -- UAI (category keys)
    period        text    NOT NULL DEFAULT '',  -- school year, '2024-2025' (category keys)
    record        text    NOT NULL DEFAULT '',  -- record id (record keys)
    key           bytea   CHECK (key IS NULL OR length(key) = 32),
    created_at    bigint  NOT NULL,
    destroyed_at  bigint,
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE INDEX subject_key_scopes_subject ON subject_key_scopes (subject);
CREATE INDEX subject_key_scopes_period ON subject_key_scopes (establishment, category, period) WHERE key IS NOT NULL;
