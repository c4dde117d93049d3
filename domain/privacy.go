package domain

import (
	"github.com/google/uuid"
)

// Privacy errors.
var (
	ErrSubjectErased = newError(CodeRule, "subject-erased", "this person's personal data has been erased")
	// ErrErasureExists refuses a second erasure of a person whose first
	// one is scrubbed, or being scrubbed.
	ErrErasureExists = newError(CodeConflict, "erasure-exists", "this person was erased already")
)

// SubjectErased records that the personal data of an account was erased:
// the key protecting its personal fields (see the personal tags of the
// events) is destroyed right after, so that those fields read as erased
// from then on. The event keeps who erased (metadata actor), when
// (metadata time) and on which legal basis; the events themselves all stay,
// and the history still verifies.
type SubjectErased struct {
	Subject uuid.UUID `json:"subject"`
	// Basis is the legal ground ("RGPD art. 17", "délai de conservation
	// échu"...).
	Basis string `json:"basis"`
	// Reason is the administrator's note (a request's date and channel);
	// it must not itself hold the erased person's data.
	Reason string `json:"reason"`
}

func (SubjectErased) EventType() string { return "privacy.subject_erased.v1" }

// EraseSubject is the command that erases the personal data of an account
// (crypto-shredding: see docs/privacy.md).
type EraseSubject struct {
	Subject uuid.UUID `json:"subject"`
	Reason  string    `json:"reason" text:"text"`
	Basis   string    `json:"basis" text:"reason"`
}

// SubjectScrubbed records that an erasure took effect in the database
// files: every projection was rebuilt (the read models hold placeholders)
// and the database compacted, after the subject's key was destroyed. The
// ledger records it on the subject's privacy stream, so that every node
// knows the erasure is complete, and a node that finds an erasure with no
// scrub resumes it.
type SubjectScrubbed struct {
	Subject uuid.UUID `json:"subject"`
}

func (SubjectScrubbed) EventType() string { return "privacy.subject_scrubbed.v1" }

// RecordScrub is the command that records the scrub of an erasure.
type RecordScrub struct {
	Subject uuid.UUID `json:"subject"`
}

// Erasure is the state of a person's privacy stream.
type Erasure struct {
	Erased   bool
	Scrubbed bool
}

// Apply folds an event of the privacy stream.
func (e *Erasure) Apply(ev Event) {
	switch ev.(type) {
	case SubjectErased:
		e.Erased = true
	case SubjectScrubbed:
		e.Scrubbed = true
	}
}

// RecordScrub decides the record of a scrub: the ledger's alone, after an
// erasure, once (a second record of the same scrub adds nothing).
func (e *Erasure) RecordScrub(actor Actor, cmd RecordScrub) ([]Event, error) {
	if !actor.IsSystem() {
		return nil, Errorf(ErrForbidden, "only the ledger records a scrub")
	}
	if !e.Erased {
		return nil, Errorf(ErrInvalid, "account %s was not erased", cmd.Subject)
	}
	if e.Scrubbed {
		return nil, nil
	}
	return []Event{SubjectScrubbed{Subject: cmd.Subject}}, nil
}

// EraseSubject decides an erasure. subject is the erased account's state:
// an administrator of its establishment (or of every establishment)
// erases it, once.
func (e *Erasure) EraseSubject(actor Actor, subject *Account, cmd EraseSubject) ([]Event, error) {
	if !subject.Exists {
		return nil, Errorf(ErrNotFound, "account %s", cmd.Subject)
	}
	if !actor.IsAdmin(subject.Establishment) {
		return nil, Errorf(ErrForbidden, "only an administrator erases a person's data")
	}
	if e.Erased {
		return nil, Errorf(ErrSubjectErased, "account %s was erased already", cmd.Subject)
	}
	if cmd.Reason == "" || cmd.Basis == "" {
		return nil, Errorf(ErrInvalid, "an erasure needs a reason and a legal basis")
	}
	return []Event{SubjectErased{Subject: cmd.Subject, Basis: cmd.Basis, Reason: cmd.Reason}}, nil
}

// StoreResealed opens the log of a re-sealed copy (`ledger privacy
// reseal`): a store written before sealing, whose personal fields were in
// clear, copied event by event into a new store with those fields sealed
// under their subjects' keys, new hashes, a new chain and new seals. It is
// the copy's first event: the source's last seal, which covers every event
// copied, ties the new chain to the one it replaces. Its metadata says
// when and who (the ledger).
type StoreResealed struct {
	// Copy names the copy: derived from the source's seal hash, so that
	// an interrupted copy of the same source is recognized and resumed.
	Copy uuid.UUID `json:"copy"`
	// SourceSeal is the hash (hex) of the source's last seal, SourceSealSeq
	// its number, SourceHead the position of the last event it covers.
	SourceSeal    string `json:"source_seal"`
	SourceSealSeq uint64 `json:"source_seal_seq"`
	SourceHead    string `json:"source_head"`
	// Events is how many events of the source follow in the copy.
	Events uint64 `json:"events"`
}

func (StoreResealed) EventType() string { return "privacy.store_resealed.v1" }

// ResealStore is the command that opens a re-sealed copy's log.
type ResealStore struct {
	SourceSeal    string `json:"source_seal" text:"code"`
	SourceSealSeq uint64 `json:"source_seal_seq"`
	SourceHead    string `json:"source_head" text:"code"`
	Events        uint64 `json:"events"`
}

// CopyID is the id of the re-sealed copy of the source whose last seal
// hash (hex) is sourceSeal.
func CopyID(sourceSeal string) uuid.UUID { return DeterministicID("reseal", sourceSeal) }

// DecideResealStore decides the first event of a re-sealed copy: only
// the ledger copies a store, and only into a log still empty (version is
// the copy stream's).
func DecideResealStore(actor Actor, version uint64, cmd ResealStore) ([]Event, error) {
	if !actor.IsSystem() {
		return nil, Errorf(ErrForbidden, "only the ledger re-seals a store")
	}
	if version != 0 {
		return nil, Errorf(ErrVersionConflict, "this copy is recorded already")
	}
	if cmd.SourceSeal == "" || cmd.SourceHead == "" || cmd.Events == 0 {
		return nil, Errorf(ErrInvalid, "a re-sealed copy needs its source's seal, head and event count")
	}
	return []Event{StoreResealed{Copy: CopyID(cmd.SourceSeal), SourceSeal: cmd.SourceSeal,
		SourceSealSeq: cmd.SourceSealSeq, SourceHead: cmd.SourceHead, Events: cmd.Events}}, nil
}
