-- Crypto-shredding (adapters/subjectkeys, docs/privacy.md): one AES-256 key
-- per person (subject), which encrypts the personal fields of the events
-- about them. Erasing a person sets key to NULL, keeping who and when; the
-- events keep their ciphertext, which nobody can read from then on. The
-- store's writer runs with secure_delete, so that a destroyed key's bytes
-- are zeroed in the file. Times are Unix milliseconds (UTC).
CREATE TABLE subject_keys (
    subject      TEXT    PRIMARY KEY,  -- account id
    key          BLOB    CHECK (key IS NULL OR length(key) = 32),
    created_at   INTEGER NOT NULL,
    destroyed_at INTEGER,
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);
