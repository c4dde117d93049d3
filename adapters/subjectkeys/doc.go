// Package subjectkeys erases people from an immutable log by
// crypto-shredding: the personal fields of events (their `personal` tags
// name whose they are) are encrypted, before they are appended, with a key
// per person, the subject; erasing a person destroys the key, and every
// value it protected then reads as Placeholder. The events all stay, and
// their hash chain with them.
//
// Keys are behind a port (Store): a table in the event store's database
// (NewSQLite, NewPostgres; migrations 0300_subject_keys) or memory
// (Memory). Cipher seals payloads for the command handlers
// (commands.Sealer) and opens them for every reader (domain.Opener, set on
// the registry with WithOpener). See docs/privacy.md.
package subjectkeys
