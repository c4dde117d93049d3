-- Read-model documents and keys hold every string the log can: text cannot
-- hold NUL, so adapters/readstore now stores, in documents, NUL as U+FFFF
-- followed by "0" and U+FFFF as U+FFFF twice, and in keys byte 0x00 as
-- 0x01 0x01 and 0x01 as 0x01 0x02 (adapters/readstore/pgcodec.go). Rows
-- written before hold no NUL (they could not), but may hold U+FFFF or 0x01:
-- encode those so that they read back as they were written. SQLite stores
-- strings as they are and needs no such step.
UPDATE rm_docs SET doc = replace(doc::text, chr(65535), chr(65535) || chr(65535))::jsonb
WHERE strpos(doc::text, chr(65535)) > 0;

-- Through a copy: renaming keys in place could collide with a key not yet
-- renamed ("a\x01" becomes "a\x01\x02" while "a\x01\x02" still exists).
CREATE TEMP TABLE rm_docs_recoded ON COMMIT DROP AS
SELECT ns, coll, replace(key, chr(1), chr(1) || chr(2)) AS key, doc
FROM rm_docs WHERE strpos(key, chr(1)) > 0;
DELETE FROM rm_docs WHERE strpos(key, chr(1)) > 0;
INSERT INTO rm_docs (ns, coll, key, doc) SELECT ns, coll, key, doc FROM rm_docs_recoded;
