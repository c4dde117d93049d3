-- A migration of the kind a new version brings, in the binaries built with
-- -tags ledger_upgrade_probe only (tests/upgrade_test.go): a table, and a
-- column on the log that the running old version does not know. Between
-- the two it reads upgrade_gate, a table the test creates and holds
-- locked, so that the migration runs as long as the test keeps it
-- running: its transaction, holding an id from its first statement, keeps
-- the log's readers below it meanwhile (adapters/postgres, readAllSQL).
CREATE TABLE upgrade_probe (note text);
SELECT count(*) FROM upgrade_gate;
ALTER TABLE events ADD COLUMN upgrade_note text;
