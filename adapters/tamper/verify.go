// Package tamper is the tamper evidence of the SQL event stores: the
// checks `ledger verify` runs on a store's tables and the seals over the
// global log, written once here. Each store (adapters/sqlite,
// adapters/postgres) reads its own tables and hands the rows to Check
// through a Source.
//
// Two structures protect the log:
//
//   - Each stream is a hash chain: every event's hash is domain.ChainHash
//     over the previous event's hash and the event's stored fields, and the
//     streams table holds the stream's version and last hash. Editing,
//     deleting, inserting or reordering an event of a stream breaks its
//     chain or disagrees with its head, and the check names the stream,
//     version and position.
//   - Seals cover the global log: seal n hashes seal n-1's hash and the
//     position and hash of every event after seal n-1, up to its UpTo
//     position, in global order. What a stream's chain cannot see, a whole
//     stream deleted with its head, or events moved in the global order,
//     changes a seal. A seal names its range, not the event.
//
// Seals are written by Seal on each store, for everything not sealed yet:
// `ledger verify --seal` (verify, then seal only if the log is intact) and
// the server on a schedule. Between the last seal and the head of the log
// only the chains protect: a forger who appends a well-formed event and
// moves its stream's head can only be caught once a later seal, or a
// copy of the last seal's hash kept elsewhere, disagrees. Keep the seal
// hashes the server logs (or publish them) to anchor the history outside
// the database.
package tamper

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/domain"
)

// StoredEvent is an event row as the verifier reads it: the exact stored
// bytes and the stored hash.
type StoredEvent struct {
	Position domain.Position
	ID       uuid.UUID
	Stream   string
	Version  uint64
	Type     string
	Data     []byte
	Metadata []byte
	Hash     []byte
}

// chainHash is the event's link after prev, were it at version.
func (e *StoredEvent) chainHash(prev []byte, version uint64) []byte {
	return domain.ChainHash(prev, e.ID, e.Stream, version, e.Type, e.Data, e.Metadata)
}

// StreamHead is a row of the streams table.
type StreamHead struct {
	Version uint64
	Hash    []byte
}

// Seal is a row of the seals table.
type Seal struct {
	// Seq numbers seals from 1.
	Seq uint64 `json:"seq"`
	// UpTo is the position of the last event sealed.
	UpTo domain.Position `json:"up_to"`
	// Count is how many events the seal covers: those after the previous
	// seal's UpTo, up to this one's.
	Count     uint64    `json:"count"`
	Hash      []byte    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// SealHash computes a seal's hash: SHA-256 over a version tag, the previous
// seal's hash, the seal's number, then the position and hash of each event
// in global order, then UpTo and the count, each field length-prefixed.
type SealHash struct {
	h hash.Hash
	n uint64
}

// NewSealHash starts seal seq, which follows the seal whose hash is prev
// (nil for the first).
func NewSealHash(prev []byte, seq uint64) *SealHash {
	s := &SealHash{h: sha256.New()}
	s.field([]byte("ledger.seal.v1"))
	s.field(prev)
	s.uint(seq)
	return s
}

func (s *SealHash) field(b []byte) {
	s.uint(uint64(len(b)))
	s.h.Write(b)
}

func (s *SealHash) uint(v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	s.h.Write(b[:])
}

// Add seals the next event of the global log.
func (s *SealHash) Add(pos domain.Position, eventHash []byte) {
	s.uint(pos.Tx)
	s.uint(pos.Seq)
	s.field(eventHash)
	s.n++
}

// Count is how many events were added.
func (s *SealHash) Count() uint64 { return s.n }

// Sum ends the seal at upTo.
func (s *SealHash) Sum(upTo domain.Position) []byte {
	s.uint(upTo.Tx)
	s.uint(upTo.Seq)
	s.uint(s.n)
	return s.h.Sum(nil)
}

// TamperKind says what is wrong.
type TamperKind string

// Kinds of tampering.
const (
	// TamperEdited: a stored event's fields (data, metadata, type, id) or
	// hash are not the ones its chain recorded.
	TamperEdited TamperKind = "edited"
	// TamperMissing: an event of a stream is gone (a version is missing,
	// or the stream's head is beyond its last event).
	TamperMissing TamperKind = "missing"
	// TamperInserted: an event that is not part of its stream's chain, or
	// beyond its head.
	TamperInserted TamperKind = "inserted"
	// TamperReordered: events of a stream swapped versions, or a stream's
	// versions are out of global order.
	TamperReordered TamperKind = "reordered"
	// TamperHead: a streams row disagrees with its events.
	TamperHead TamperKind = "head"
	// TamperSeal: a seal does not match the log it covers, or is missing.
	TamperSeal TamperKind = "seal"
)

// Tamper is one broken place.
type Tamper struct {
	Kind TamperKind `json:"kind"`
	// Stream, Version, Position and Event locate it, as far as known.
	Stream   string          `json:"stream,omitempty"`
	Version  uint64          `json:"version,omitempty"`
	Position domain.Position `json:"position"`
	Event    uuid.UUID       `json:"event,omitzero"`
	// Seal is the seal that does not match (TamperSeal).
	Seal   uint64 `json:"seal,omitempty"`
	Detail string `json:"detail"`
}

func (t Tamper) String() string {
	if t.Kind == TamperSeal {
		return fmt.Sprintf("seal %d: %s", t.Seal, t.Detail)
	}
	s := fmt.Sprintf("%s: stream %s", t.Kind, t.Stream)
	if t.Version != 0 {
		s += fmt.Sprintf(" version %d", t.Version)
	}
	if !t.Position.IsZero() {
		s += " at position " + t.Position.String()
	}
	return s + ": " + t.Detail
}

// VerifyReport is what a verification found.
type VerifyReport struct {
	// Events, Streams and Seals are how many were checked; Sealed how many
	// events the seals cover.
	Events  int `json:"events"`
	Streams int `json:"streams"`
	Seals   int `json:"seals"`
	Sealed  int `json:"sealed"`
	// LastSeal is the newest seal, when there is one: keep its hash outside
	// the database to anchor the history.
	LastSeal *Seal `json:"last_seal,omitempty"`
	// Problems lists the broken places, chain problems first in log order,
	// then seal problems (at most MaxProblems of them); Found counts them
	// all.
	Problems []Tamper `json:"problems"`
	Found    int      `json:"found"`
}

// MaxProblems bounds VerifyReport.Problems.
const MaxProblems = 100

// OK reports whether nothing was found.
func (r *VerifyReport) OK() bool { return r.Found == 0 }

// First is the first broken place, or nil.
func (r *VerifyReport) First() *Tamper {
	if len(r.Problems) == 0 {
		return nil
	}
	return &r.Problems[0]
}

// Verifier checks what an adapter reads: each stream's events with its
// head (Stream), heads without events (OrphanHead), then the seals against
// the global log (Seals, then Global for every event in global order).
// Report ends the check. Verifiers are not safe for concurrent use.
type Verifier struct {
	report VerifyReport
	chain  []Tamper
	seals  []Tamper

	// The seal walk.
	all      []Seal
	next     int // index in all of the seal being recomputed
	cur      *SealHash
	prevHash []byte
	global   int
}

// NewVerifier returns a verifier.
func NewVerifier() *Verifier { return &Verifier{} }

func (v *Verifier) chainProblem(t Tamper) { v.chain = append(v.chain, t) }

// Stream checks one stream: events are all its stored events in version
// order; head is its streams row, nil if there is none.
func (v *Verifier) Stream(stream string, events []StoredEvent, head *StreamHead) {
	v.report.Streams++
	v.report.Events += len(events)
	if t, ok := checkChain(stream, events, head); !ok {
		v.chainProblem(t)
	}
}

// OrphanHead reports a streams row whose stream has no event at all.
func (v *Verifier) OrphanHead(stream string, head StreamHead) {
	if head.Version == 0 {
		return // a head created and never written to: nothing to protect
	}
	v.report.Streams++
	v.chainProblem(Tamper{
		Kind: TamperMissing, Stream: stream, Version: 1,
		Detail: fmt.Sprintf("the stream's head says version %d but none of its events is stored: the whole stream was deleted", head.Version),
	})
}

// checkChain walks a stream's chain and names its first broken place.
func checkChain(stream string, evs []StoredEvent, head *StreamHead) (Tamper, bool) {
	var prev []byte
	for i := range evs {
		e := &evs[i]
		want := uint64(i + 1)
		at := Tamper{Stream: stream, Version: want, Position: e.Position, Event: e.ID}
		if e.Version != want {
			at.Kind = TamperMissing
			at.Detail = fmt.Sprintf("version %d is missing: the next stored version is %d (event %s)", want, e.Version, e.ID)
			return at, false
		}
		if i > 0 && e.Position.Less(evs[i-1].Position) {
			at.Kind = TamperReordered
			at.Detail = fmt.Sprintf("version %d is at position %s, before version %d at %s", e.Version, e.Position, e.Version-1, evs[i-1].Position)
			return at, false
		}
		if !bytes.Equal(e.chainHash(prev, e.Version), e.Hash) {
			return classify(stream, evs, i, prev, head), false
		}
		prev = e.Hash
	}
	last := uint64(len(evs))
	switch {
	case head == nil && len(evs) > 0:
		return Tamper{Kind: TamperHead, Stream: stream, Version: last, Position: evs[last-1].Position,
			Detail: fmt.Sprintf("the stream has %d events but no row in streams", last)}, false
	case head == nil:
		return Tamper{}, true
	case head.Version < last:
		e := evs[head.Version]
		return Tamper{Kind: TamperInserted, Stream: stream, Version: e.Version, Position: e.Position, Event: e.ID,
			Detail: fmt.Sprintf("version %d is beyond the stream's head (version %d): appended behind the store's back", e.Version, head.Version)}, false
	case head.Version > last:
		t := Tamper{Kind: TamperMissing, Stream: stream, Version: last + 1,
			Detail: fmt.Sprintf("the stream's head says version %d, the last stored event is version %d: the last events were deleted", head.Version, last)}
		if last > 0 {
			t.Position = evs[last-1].Position
		}
		return t, false
	case last > 0 && !bytes.Equal(head.Hash, evs[last-1].Hash):
		e := evs[last-1]
		return Tamper{Kind: TamperEdited, Stream: stream, Version: e.Version, Position: e.Position, Event: e.ID,
			Detail: "the last event is not the one the stream's head recorded: it was replaced (its hash recomputed), or the head edited"}, false
	}
	return Tamper{}, true
}

// classify names what happened at evs[i], whose hash does not follow prev.
func classify(stream string, evs []StoredEvent, i int, prev []byte, head *StreamHead) Tamper {
	e := &evs[i]
	v := e.Version
	t := Tamper{Stream: stream, Version: v, Position: e.Position, Event: e.ID}
	byVersion := make(map[uint64]int, len(evs))
	for j := range evs {
		byVersion[evs[j].Version] = j
	}

	// Another event of the stream was written as version v: versions were
	// swapped, or renumbered to make room for an inserted event.
	for j := range evs {
		o := &evs[j]
		if j == i || !bytes.Equal(o.chainHash(prev, v), o.Hash) {
			continue
		}
		w := o.Version
		// Where e came from, if it was o's place: its chain then followed
		// the event before w (o itself when w follows v).
		var before []byte
		switch {
		case w-1 == v:
			before = o.Hash
		case w > 1:
			if k, ok := byVersion[w-1]; ok {
				before = evs[k].Hash
			}
		}
		if bytes.Equal(e.chainHash(before, w), e.Hash) {
			t.Kind = TamperReordered
			t.Detail = fmt.Sprintf("versions %d and %d were swapped: event %s (now version %d) was written as version %d, event %s (now version %d) as version %d",
				v, w, e.ID, v, w, o.ID, w, v)
			return t
		}
		t.Kind = TamperInserted
		t.Detail = fmt.Sprintf("event %s at version %d is not part of the chain: event %s, now version %d, was written as version %d (later versions renumbered around an insertion)",
			e.ID, v, o.ID, w, v)
		return t
	}

	if i+1 < len(evs) {
		n := &evs[i+1]
		if bytes.Equal(n.chainHash(e.Hash, n.Version), n.Hash) {
			t.Kind = TamperEdited
			t.Detail = fmt.Sprintf("event %s's stored fields (data, metadata, type or id) do not match its hash; the chain goes on after it", e.ID)
			return t
		}
		if bytes.Equal(n.chainHash(e.Hash, n.Version+1), n.Hash) {
			t.Kind = TamperMissing
			t.Detail = fmt.Sprintf("an event before version %d was deleted and the later versions renumbered down by one", v)
			return t
		}
	} else if head != nil {
		if head.Version < v {
			t.Kind = TamperInserted
			t.Detail = fmt.Sprintf("version %d is beyond the stream's head (version %d) and not part of the chain: appended behind the store's back", v, head.Version)
			return t
		}
		if bytes.Equal(head.Hash, e.Hash) {
			t.Kind = TamperEdited
			t.Detail = fmt.Sprintf("event %s's stored fields (data, metadata, type or id) do not match its hash, which the stream's head recorded", e.ID)
			return t
		}
	}
	t.Kind = TamperEdited
	link := fmt.Sprintf("does not follow version %d", v-1)
	if v == 1 {
		link = "is not a first link"
	}
	t.Detail = fmt.Sprintf("event %s %s, and what follows does not follow it: the event or its hash was rewritten, or the event replaced", e.ID, link)
	return t
}

// Seals starts the seal check with every seal, in Seq order; call Global
// next for every event in global order, then Report.
func (v *Verifier) Seals(seals []Seal) {
	v.all = seals
	v.report.Seals = len(seals)
	if len(seals) > 0 {
		last := seals[len(seals)-1]
		v.report.LastSeal = &last
		v.open()
	}
}

// open starts recomputing v.all[v.next].
func (v *Verifier) open() {
	s := v.all[v.next]
	if want := uint64(v.next + 1); s.Seq != want {
		v.seals = append(v.seals, Tamper{Kind: TamperSeal, Seal: want,
			Detail: fmt.Sprintf("missing: the next stored seal is %d", s.Seq)})
	}
	v.cur = NewSealHash(v.prevHash, s.Seq)
}

// Global feeds the next event of the global log to the seal check.
func (v *Verifier) Global(pos domain.Position, eventHash []byte) {
	v.global++
	for v.next < len(v.all) && v.all[v.next].UpTo.Less(pos) {
		v.close() // the event at UpTo is gone
	}
	if v.next == len(v.all) {
		return
	}
	v.cur.Add(pos, eventHash)
	v.report.Sealed++
	if pos == v.all[v.next].UpTo {
		v.close()
	}
}

// close compares the seal being recomputed with its stored row and starts
// the next one.
func (v *Verifier) close() {
	s := v.all[v.next]
	var from domain.Position
	if v.next > 0 {
		from = v.all[v.next-1].UpTo
	}
	n := v.cur.Count()
	sum := v.cur.Sum(s.UpTo)
	span := fmt.Sprintf("the events after position %s up to %s", from, s.UpTo)
	switch {
	case n < s.Count:
		v.seals = append(v.seals, Tamper{Kind: TamperSeal, Seal: s.Seq, Position: s.UpTo,
			Detail: fmt.Sprintf("%s are %d, %d when sealed: events deleted (a whole stream, if every chain holds)", span, n, s.Count)})
	case n > s.Count:
		v.seals = append(v.seals, Tamper{Kind: TamperSeal, Seal: s.Seq, Position: s.UpTo,
			Detail: fmt.Sprintf("%s are %d, %d when sealed: events inserted", span, n, s.Count)})
	case !bytes.Equal(sum, s.Hash):
		v.seals = append(v.seals, Tamper{Kind: TamperSeal, Seal: s.Seq, Position: s.UpTo,
			Detail: fmt.Sprintf("%s do not hash to the seal: an event was edited, replaced or moved in the global order, or the seal edited", span)})
	}
	// Chain on from the stored hash, so that one broken seal does not
	// condemn the ones after it.
	v.prevHash = s.Hash
	v.next++
	if v.next < len(v.all) {
		v.open()
	}
}

// Report ends the check and returns its findings.
func (v *Verifier) Report() VerifyReport {
	for v.next < len(v.all) {
		v.close()
	}
	r := v.report
	if v.global != r.Events {
		v.chain = append(v.chain, Tamper{Kind: TamperInserted,
			Detail: fmt.Sprintf("the global log holds %d events, the streams %d", v.global, r.Events)})
	}
	slices.SortStableFunc(v.chain, func(a, b Tamper) int {
		return cmp.Or(
			cmpPos(a.Position, b.Position),
			cmp.Compare(a.Stream, b.Stream),
		)
	})
	all := append(v.chain, v.seals...)
	r.Found = len(all)
	r.Problems = all[:min(len(all), MaxProblems)]
	if r.Problems == nil {
		r.Problems = []Tamper{}
	}
	return r
}

// cmpPos orders positions, the zero position (unknown) last.
func cmpPos(a, b domain.Position) int {
	switch {
	case a == b:
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	case a.Less(b):
		return -1
	}
	return 1
}
