-- Crypto-shredding (adapters/subjectkeys, docs/privacy.md): one AES-256 key
-- per person (subject), which encrypts the personal fields of the events
-- about them. Erasing a person sets key to NULL, keeping who and when; the
-- events keep their ciphertext, which nobody can read from then on. Times
-- are Unix milliseconds (UTC), as on SQLite.
CREATE TABLE subject_keys (
    subject      uuid   PRIMARY KEY,
    key          bytea  CHECK (key IS NULL OR length(key) = 32),
    created_at   bigint NOT NULL,
    destroyed_at bigint,
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);
