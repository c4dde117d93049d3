// Package docstoretest is the contract every read-model store passes:
// projections.MemoryDocs and the SQLite and Postgres stores of
// adapters/readstore run the same Run.
package docstoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// Store is what a read-model store implements.
type Store interface {
	projections.DocStore
	projections.GenerationStore
	projector.Locker
}

// Run runs the contract. open returns an empty store for one subtest,
// closed (if needed) by a cleanup it registers on t.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"PutLastWriteWins", testPutLastWriteWins},
		{"DocumentValues", testDocumentValues},
		{"EveryString", testEveryString},
		{"EveryKey", testEveryKey},
		{"RawJSON", testRawJSON},
		{"ScanRanges", testScanRanges},
		{"ScanByteOrder", testScanByteOrder},
		{"ScanPrefixEndNotUTF8", testScanPrefixEndNotUTF8},
		{"ScanStops", testScanStops},
		{"ScanLarge", testScanLarge},
		{"ScanInsideUpdate", testScanInsideUpdate},
		{"GetManyInsideUpdate", testGetManyInsideUpdate},
		{"CommitTogether", testCommitTogether},
		{"ErrorRollsBack", testErrorRollsBack},
		{"CancelRollsBack", testCancelRollsBack},
		{"NamespacesIsolated", testNamespacesIsolated},
		{"ConcurrentNamespaces", testConcurrentNamespaces},
		{"Generations", testGenerations},
		{"DropNamespace", testDropNamespace},
		{"LockExclusive", testLockExclusive},
		{"LockContext", testLockContext},
		{"RunnerNoDoubleCount", testRunnerNoDoubleCount},
		{"RunnerRebuild", testRunnerRebuild},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// MustUpdate runs fn in an Update of ns, failing the test on error.
func MustUpdate(t testing.TB, s projections.DocStore, ns string, fn func(tx projections.DocTx) error) {
	t.Helper()
	if err := s.Update(context.Background(), ns, fn); err != nil {
		t.Fatalf("update %s: %v", ns, err)
	}
}

// MustEventuallyAcquire tries to take the lock named name until it gets
// it, failing with msg after a deadline generous enough for a loaded
// machine, and returns its release.
func MustEventuallyAcquire(t testing.TB, l projector.Locker, name, msg string) func() {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		_, release, ok, err := l.TryAcquire(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return release
		}
		select {
		case <-deadline.C:
			t.Fatal(msg)
		case <-tick.C:
		}
	}
}

// MustPut writes docs to ns in one Update.
func MustPut(t testing.TB, s projections.DocStore, ns string, docs ...projections.Doc) {
	t.Helper()
	MustUpdate(t, s, ns, func(tx projections.DocTx) error { return tx.Put(context.Background(), docs) })
}

// Doc returns a document write of v encoded as JSON.
func Doc(coll, key string, v any) projections.Doc {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return projections.Doc{Coll: coll, Key: key, Value: raw}
}

// Del returns a document delete.
func Del(coll, key string) projections.Doc { return projections.Doc{Coll: coll, Key: key} }

// mustGet returns the document at (coll, key) of r, decoded, or nil.
func mustGet(t testing.TB, r projections.DocReader, coll, key string) any {
	t.Helper()
	raw, ok, err := r.Get(context.Background(), coll, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", coll, key, err)
	}
	if !ok {
		return nil
	}
	return decode(t, raw)
}

// decode unmarshals raw: stores may normalize JSON (Postgres jsonb does), so
// documents are compared as values.
func decode(t testing.TB, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("document %q is not JSON: %v", raw, err)
	}
	return v
}

func jsonValue(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	return out
}

func assertDoc(t testing.TB, r projections.DocReader, coll, key string, want any) {
	t.Helper()
	got := mustGet(t, r, coll, key)
	if w := jsonValue(want); !equalJSON(got, w) {
		t.Errorf("%s/%s = %v, want %v", coll, key, got, w)
	}
}

func assertAbsent(t testing.TB, r projections.DocReader, coll, key string) {
	t.Helper()
	if got := mustGet(t, r, coll, key); got != nil {
		t.Errorf("%s/%s = %v, want no document", coll, key, got)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// scanKeys returns the keys of a scan.
func scanKeys(t testing.TB, r projections.DocReader, coll, from, to string) []string {
	t.Helper()
	keys := []string{}
	err := r.Scan(context.Background(), coll, from, to, func(key string, doc []byte) error {
		if !json.Valid(doc) {
			return fmt.Errorf("document %s is not JSON: %q", key, doc)
		}
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s [%q, %q): %v", coll, from, to, err)
	}
	return keys
}

func assertCheckpoint(t testing.TB, s projections.DocStore, ns string, want domain.Position) {
	t.Helper()
	got, err := s.Checkpoint(context.Background(), ns)
	if err != nil {
		t.Fatalf("checkpoint of %s: %v", ns, err)
	}
	if got != want {
		t.Errorf("checkpoint of %s = %v, want %v", ns, got, want)
	}
}

func testGetPutDelete(t *testing.T, s Store) {
	ctx := context.Background()
	r := s.Reader("p.v1@1")
	assertAbsent(t, r, "file", "a")

	MustPut(t, s, "p.v1@1", Doc("file", "a", map[string]any{"n": 1}), Doc("file", "b", map[string]any{"n": 2}))
	assertDoc(t, r, "file", "a", map[string]any{"n": 1})
	assertDoc(t, r, "file", "b", map[string]any{"n": 2})
	assertAbsent(t, r, "other", "a")

	MustPut(t, s, "p.v1@1", Doc("file", "a", map[string]any{"n": 3, "s": "x"}), Del("file", "b"), Del("file", "never"))
	assertDoc(t, r, "file", "a", map[string]any{"n": 3, "s": "x"})
	assertAbsent(t, r, "file", "b")

	// Reads inside a transaction see what is committed.
	MustUpdate(t, s, "p.v1@1", func(tx projections.DocTx) error {
		assertDoc(t, tx, "file", "a", map[string]any{"n": 3, "s": "x"})
		assertAbsent(t, tx, "file", "b")
		return nil
	})
	// An empty Put is allowed.
	MustUpdate(t, s, "p.v1@1", func(tx projections.DocTx) error { return tx.Put(ctx, nil) })
	assertDoc(t, r, "file", "a", map[string]any{"n": 3, "s": "x"})
}

func testPutLastWriteWins(t *testing.T, s Store) {
	ns := "p.v1@1"
	MustPut(t, s, ns, Doc("c", "k", 1), Doc("c", "k", 2), Doc("c", "gone", 1), Del("c", "gone"), Del("c", "back"), Doc("c", "back", 3))
	r := s.Reader(ns)
	assertDoc(t, r, "c", "k", 2)
	assertAbsent(t, r, "c", "gone")
	assertDoc(t, r, "c", "back", 3)

	// Two Puts in one transaction apply in order.
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		ctx := context.Background()
		if err := tx.Put(ctx, []projections.Doc{Doc("c", "k", 4)}); err != nil {
			return err
		}
		return tx.Put(ctx, []projections.Doc{Del("c", "k"), Doc("c", "k2", 5)})
	})
	assertAbsent(t, r, "c", "k")
	assertDoc(t, r, "c", "k2", 5)
}

func testDocumentValues(t *testing.T, s Store) {
	ns := "p.v1@1"
	values := map[string]any{
		"object":  map[string]any{"name": "Élodie Durand", "tags": []any{"a", "b"}, "nested": map[string]any{"x": nil}},
		"array":   []any{1, "two", true},
		"string":  "cahier de textes ✓",
		"number":  12345.5,
		"big":     int64(1) << 52,
		"bool":    false,
		"escaped": "quote \" backslash \\ tab \t newline \n <&>",
	}
	var docs []projections.Doc
	for k, v := range values {
		docs = append(docs, Doc("v", k, v))
	}
	MustPut(t, s, ns, docs...)
	r := s.Reader(ns)
	for k, v := range values {
		assertDoc(t, r, "v", k, v)
	}
	// Scans return the same documents as Get.
	err := r.Scan(context.Background(), "v", "", "", func(key string, doc []byte) error {
		if got, want := decode(t, doc), jsonValue(values[key]); !equalJSON(got, want) {
			t.Errorf("scan: %s = %v, want %v", key, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// awkward are strings an encoding of NUL could confuse with others.
var awkward = []string{
	"\x00", "\x00\x00", "a\x00b", "\x01", "\x01\x01", "\x01\x02", "\x00\x01", "\x02",
	"\uffff", "\uffff0", "\uffff\uffff", "\uffff\x00", "\x00\uffff0", "0\uffff", "\ufffe", "\ufffd",
	`\u0000`, `\\u0000`, `\uffff`, "\\", "\"", "\U0010FFFF", "\U0001F600", "",
}

// everyRune returns every Unicode scalar value, in order, cut into strings
// of n runes.
func everyRune(n int) []string {
	var out []string
	var b strings.Builder
	count := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) { // surrogates: not in any Go string
			continue
		}
		b.WriteRune(r)
		if count++; count == n {
			out = append(out, b.String())
			b.Reset()
			count = 0
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// testEveryString: documents hold every string the log can, NUL and
// U+FFFF included, in values and in object keys, and read back exactly.
func testEveryString(t *testing.T, s Store) {
	ns := "p.v1@1"
	type doc struct {
		S   string            `json:"s"`
		Map map[string]string `json:"map"`
		Arr []string          `json:"arr"`
	}
	want := map[string]doc{}
	for i, chunk := range everyRune(8192) {
		want[fmt.Sprintf("range%03d", i)] = doc{S: chunk, Map: map[string]string{string([]rune(chunk)[:16]): chunk}}
	}
	for i, a := range awkward {
		want[fmt.Sprintf("awkward%02d", i)] = doc{S: a, Map: map[string]string{a: a, "x" + a: a + "x"}, Arr: []string{a, a + a}}
	}
	var docs []projections.Doc
	for k, v := range want {
		docs = append(docs, Doc("s", k, v))
	}
	MustPut(t, s, ns, docs...)
	check := func(where, key string, raw []byte) {
		t.Helper()
		var got doc
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s %s: %v", where, key, err)
		}
		w := want[key]
		if got.S != w.S || !maps.Equal(got.Map, w.Map) || !slices.Equal(got.Arr, w.Arr) {
			t.Errorf("%s %s: document changed: %+q, want %+q", where, key, clip(got), clip(w))
		}
	}
	ctx := context.Background()
	r := s.Reader(ns)
	for k := range want {
		raw, ok, err := r.Get(ctx, "s", k)
		if err != nil || !ok {
			t.Fatalf("get %s: %v, %v", k, ok, err)
		}
		check("get", k, raw)
	}
	n := 0
	err := r.Scan(ctx, "s", "", "", func(key string, raw []byte) error {
		n++
		check("scan", key, raw)
		return nil
	})
	if err != nil || n != len(want) {
		t.Fatalf("scan: %d documents, %v; want %d", n, err, len(want))
	}
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		return tx.Scan(ctx, "s", "awkward", "awkwardz", func(key string, raw []byte) error {
			check("scan in a transaction", key, raw)
			return nil
		})
	})
}

// clip shortens a document for an error message.
func clip(v any) string {
	s := fmt.Sprintf("%+q", v)
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// testEveryKey: keys may be any string the log holds, NUL and U+FFFF
// included; they read back exactly and in byte order, and bounds holding
// them work.
func testEveryKey(t *testing.T, s Store) {
	ns := "p.v1@1"
	keys := slices.Clone(awkward[:len(awkward)-1]) // not the empty key
	for _, chunk := range everyRune(4096) {
		for i, r := range []rune(chunk) {
			if i%331 == 0 || r < 0x80 {
				keys = append(keys, "k"+string(r), "k"+string(r)+"\x00", "k"+string(r)+"\x01")
			}
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	putKeys(t, s, ns, "k", keys)
	r := s.Reader(ns)
	if got := scanKeys(t, r, "k", "", ""); !slices.Equal(got, keys) {
		t.Fatalf("scan: %d keys (first differing near %q), want %d in byte order", len(got), firstDiff(got, keys), len(keys))
	}
	ctx := context.Background()
	for _, k := range keys {
		var doc map[string]string
		ok, err := projections.GetJSON(ctx, r, "k", k, &doc)
		if err != nil || !ok || doc["key"] != k {
			t.Fatalf("get %+q: %v, %v, %+q", k, ok, err, doc)
		}
	}
	// Ranges whose bounds hold NUL and 0x01.
	for _, rg := range [][2]string{{"\x00", "\x01"}, {"\x00", "\x02"}, {"\x01", "\x01\x02"}, {"k0", "k0\x01"}, {"k0\x00", "k1"}, {"k\uffff", "k\uffff\x01"}} {
		var want []string
		for _, k := range keys {
			if k >= rg[0] && k < rg[1] {
				want = append(want, k)
			}
		}
		if got := scanKeys(t, r, "k", rg[0], rg[1]); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("scan [%+q, %+q) = %+q, want %+q", rg[0], rg[1], got, want)
		}
	}
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		if got := scanKeys(t, tx, "k", "", ""); !slices.Equal(got, keys) {
			t.Errorf("scan in a transaction: %d keys (first differing near %q), want %d", len(got), firstDiff(got, keys), len(keys))
		}
		if mg, ok := tx.(projections.DocMultiGetter); ok {
			var got []string
			err := mg.GetMany(ctx, "k", append(slices.Clone(keys), "never\x00"), func(k string, raw []byte) error {
				var doc map[string]string
				if err := json.Unmarshal(raw, &doc); err != nil || doc["key"] != k {
					t.Errorf("GetMany: %+q = %q, %v", k, raw, err)
				}
				got = append(got, k)
				return nil
			})
			if err != nil {
				return err
			}
			if slices.Sort(got); !slices.Equal(got, keys) {
				t.Errorf("GetMany: %d keys (first differing near %q), want %d", len(got), firstDiff(got, keys), len(keys))
			}
		}
		var dels []projections.Doc
		for _, k := range keys[:32] {
			dels = append(dels, Del("k", k))
		}
		return tx.Put(ctx, dels)
	})
	for _, k := range keys[:32] {
		assertAbsent(t, r, "k", k)
	}
	if got := scanKeys(t, r, "k", "", ""); !slices.Equal(got, keys[32:]) {
		t.Errorf("scan after deletes: %d keys, want %d", len(got), len(keys)-32)
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%+q / %+q", a[i], b[i])
		}
	}
	return "the end"
}

// testRawJSON: documents written by another encoder (upper-case escapes,
// lone surrogates, escaped U+FFFF) read back as encoding/json decodes
// what was written.
func testRawJSON(t *testing.T, s Store) {
	ns := "p.v1@1"
	raws := []string{
		`{"a":"\u0000\u0000x"}`,
		`{"\u0000":"\uFFFF","b":"\uffff0"}`,
		`["\ud83d\ude00","\uD83D\uDE00","\ud800","\udc00x","\ud800\u0041","\ud800\ud800"]`,
		`"\\u0000 \\\u0000"`,
		`{"s":"é\u00e9\t\n\u001f\u007f"}`,
		"{\"raw\":\"\uffff0\uffff\"}",
		`[1e300, -0.5, 12345678901234567890, true, null, {}]`,
	}
	var docs []projections.Doc
	for i, raw := range raws {
		docs = append(docs, projections.Doc{Coll: "raw", Key: fmt.Sprint(i), Value: []byte(raw)})
	}
	MustPut(t, s, ns, docs...)
	for i, raw := range raws {
		got := mustGet(t, s.Reader(ns), "raw", fmt.Sprint(i))
		if want := decode(t, []byte(raw)); !equalJSON(got, want) {
			t.Errorf("%s read back as %+q, want %+q", raw, got, want)
		}
	}
}

func putKeys(t testing.TB, s Store, ns, coll string, keys []string) {
	t.Helper()
	docs := make([]projections.Doc, len(keys))
	for i, k := range keys {
		docs[i] = Doc(coll, k, map[string]string{"key": k})
	}
	MustPut(t, s, ns, docs...)
}

func testScanRanges(t *testing.T, s Store) {
	ns := "p.v1@1"
	keys := []string{
		"0751234A|2006-03-13|x", "0751234A|2006-03-14|a", "0751234A|2006-03-14|b", "0751234A|2006-03-15|a",
		"0751234B|2006-03-14|a", "0751234", "0751234A", "0751234A|", "z",
	}
	putKeys(t, s, ns, "day", keys)
	putKeys(t, s, ns, "other", []string{"0751234A|2006-03-14|zz"})
	r := s.Reader(ns)
	prefix := "0751234A|2006-03-14|"
	tests := []struct {
		name     string
		from, to string
		want     []string
	}{
		{"all", "", "", []string{"0751234", "0751234A", "0751234A|", "0751234A|2006-03-13|x", "0751234A|2006-03-14|a", "0751234A|2006-03-14|b", "0751234A|2006-03-15|a", "0751234B|2006-03-14|a", "z"}},
		{"prefix", prefix, projections.PrefixEnd(prefix), []string{"0751234A|2006-03-14|a", "0751234A|2006-03-14|b"}},
		{"establishment", "0751234A|", projections.PrefixEnd("0751234A|"), []string{"0751234A|", "0751234A|2006-03-13|x", "0751234A|2006-03-14|a", "0751234A|2006-03-14|b", "0751234A|2006-03-15|a"}},
		{"from inclusive to exclusive", "0751234A|2006-03-14|b", "0751234A|2006-03-15|a", []string{"0751234A|2006-03-14|b"}},
		{"open end", "0751234B", "", []string{"0751234B|2006-03-14|a", "z"}},
		{"from between keys", "0751234A|2006-03-14|aa", "0751234A|2006-03-16", []string{"0751234A|2006-03-14|b", "0751234A|2006-03-15|a"}},
		{"empty range", "m", "n", []string{}},
		{"from after to", "z", "a", []string{}},
		{"from equals to", "z", "z", []string{}},
		{"past the end", "zz", "", []string{}},
		{"up to first", "", "0751234A", []string{"0751234"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanKeys(t, r, "day", tt.from, tt.to); !slices.Equal(got, tt.want) {
				t.Errorf("scan [%q, %q) = %q, want %q", tt.from, tt.to, got, tt.want)
			}
		})
	}
	if got := scanKeys(t, r, "none", "", ""); len(got) != 0 {
		t.Errorf("scan of an empty collection = %q", got)
	}
}

func testScanByteOrder(t *testing.T, s Store) {
	ns := "p.v1@1"
	// Byte order, not a locale's: upper case before lower case, punctuation
	// by code, accents after ASCII, longer after its prefix.
	want := []string{" ", "-", "0", "9", "A", "B", "Z", "_", "a", "a b", "a-b", "a_b", "ab", "b", "z", "~", "\u00e9", "\u00e9t\u00e9", "\u4e2d", "\U0001F600"}
	shuffled := slices.Clone(want)
	slices.Reverse(shuffled)
	putKeys(t, s, ns, "k", shuffled)
	got := scanKeys(t, s.Reader(ns), "k", "", "")
	if !slices.Equal(got, want) {
		t.Errorf("scan order = %q, want %q", got, want)
	}
	if !slices.IsSorted(got) {
		t.Errorf("keys are not in Go string order: %q", got)
	}
	if got := scanKeys(t, s.Reader(ns), "k", "Z", "b"); !slices.Equal(got, []string{"Z", "_", "a", "a b", "a-b", "a_b", "ab"}) {
		t.Errorf("scan [Z, b) = %q", got)
	}
}

func testScanPrefixEndNotUTF8(t *testing.T, s Store) {
	ns := "p.v1@1"
	// "¿" is C2 BF: its PrefixEnd, C2 C0, is not UTF-8. "À" is C3 80.
	putKeys(t, s, ns, "k", []string{"a", "a\u00bf", "a\u00bfx", "a\u00c0", "b"})
	r := s.Reader(ns)
	prefix := "a\u00bf"
	if got, want := scanKeys(t, r, "k", prefix, projections.PrefixEnd(prefix)), []string{"a\u00bf", "a\u00bfx"}; !slices.Equal(got, want) {
		t.Errorf("scan prefix %q = %q, want %q", prefix, got, want)
	}
	// A lower bound that is not UTF-8 either.
	if got, want := scanKeys(t, r, "k", "a\xc2\xc0", ""), []string{"a\u00c0", "b"}; !slices.Equal(got, want) {
		t.Errorf("scan from a\\xc2\\xc0 = %q, want %q", got, want)
	}
	if got, want := scanKeys(t, r, "k", "a\xff", ""), []string{"b"}; !slices.Equal(got, want) {
		t.Errorf("scan from a\\xff = %q, want %q", got, want)
	}
	if got, want := scanKeys(t, r, "k", "", "a\xff"), []string{"a", "a\u00bf", "a\u00bfx", "a\u00c0"}; !slices.Equal(got, want) {
		t.Errorf("scan to a\\xff = %q, want %q", got, want)
	}
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		if got, want := scanKeys(t, tx, "k", prefix, projections.PrefixEnd(prefix)), []string{"a\u00bf", "a\u00bfx"}; !slices.Equal(got, want) {
			t.Errorf("scan prefix %q in a transaction = %q, want %q", prefix, got, want)
		}
		return nil
	})
}

func testScanStops(t *testing.T, s Store) {
	ns := "p.v1@1"
	putKeys(t, s, ns, "k", []string{"a", "b", "c", "d"})
	stop := errors.New("stop")
	var seen []string
	err := s.Reader(ns).Scan(context.Background(), "k", "", "", func(key string, _ []byte) error {
		seen = append(seen, key)
		if key == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("scan error = %v, want the callback's", err)
	}
	if !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("scan went on after the error: %q", seen)
	}
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		var seen []string
		err := tx.Scan(context.Background(), "k", "", "", func(key string, _ []byte) error {
			seen = append(seen, key)
			return stop
		})
		if !errors.Is(err, stop) || !slices.Equal(seen, []string{"a"}) {
			t.Errorf("transaction scan = %v after %q, want the callback's error after a", err, seen)
		}
		return nil
	})
	// A cancelled context stops a scan with an error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.Reader(ns).Scan(ctx, "k", "", "", func(string, []byte) error { return nil })
	if err == nil {
		t.Error("scan with a cancelled context succeeded")
	}
}

func testScanLarge(t *testing.T, s Store) {
	ns := "p.v1@1"
	const n = 1300 // more than one page of a paged scan
	var docs []projections.Doc
	for i := range n {
		docs = append(docs, Doc("big", fmt.Sprintf("k%05d", i), i))
	}
	MustPut(t, s, ns, docs...)
	check := func(r projections.DocReader, from, to string, first, count int) {
		t.Helper()
		i := first
		err := r.Scan(context.Background(), "big", from, to, func(key string, doc []byte) error {
			if want := fmt.Sprintf("k%05d", i); key != want {
				return fmt.Errorf("key %s, want %s", key, want)
			}
			if got := decode(t, doc); got != float64(i) {
				return fmt.Errorf("%s = %v, want %d", key, got, i)
			}
			i++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if i-first != count {
			t.Errorf("scan [%q, %q): %d documents, want %d", from, to, i-first, count)
		}
	}
	check(s.Reader(ns), "", "", 0, n)
	check(s.Reader(ns), "k00100", "k01200", 100, 1100)
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		check(tx, "", "", 0, n)
		check(tx, "k00512", "k01025", 512, 513)
		return nil
	})
}

// testScanInsideUpdate reads and writes through the transaction from a
// scan's callback, as a reducer may.
func testScanInsideUpdate(t *testing.T, s Store) {
	ns := "p.v1@1"
	var docs []projections.Doc
	for i := range 600 {
		docs = append(docs, Doc("src", fmt.Sprintf("%04d", i), i))
	}
	MustPut(t, s, ns, docs...)
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		ctx := context.Background()
		return tx.Scan(ctx, "src", "", "", func(key string, doc []byte) error {
			raw, ok, err := tx.Get(ctx, "src", key)
			if err != nil || !ok {
				return fmt.Errorf("get %s inside scan: %v, %v", key, ok, err)
			}
			if !equalJSON(decode(t, raw), decode(t, doc)) {
				return fmt.Errorf("get %s inside scan = %s, scan gave %s", key, raw, doc)
			}
			return tx.Put(ctx, []projections.Doc{{Coll: "dst", Key: key, Value: doc}})
		})
	})
	if got := scanKeys(t, s.Reader(ns), "dst", "", ""); len(got) != 600 {
		t.Errorf("%d documents copied, want 600", len(got))
	}
}

// testGetManyInsideUpdate: a transaction reads many documents at once
// (projections.Batch.Preload), only those that exist, each once, whatever
// the keys hold and however many there are.
func testGetManyInsideUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	// Keys are valid UTF-8 on every store (Postgres text holds nothing
	// else); SQLite's keys that are not are tested in readstore.
	odd := []string{"é|ü", "a'b\"c", "x\\y", "<&>", "\u2028", "", "]", "[\"k0001\"]"}
	var keys []string
	for i := range 1100 { // more than one query's worth
		keys = append(keys, fmt.Sprintf("k%04d", i))
	}
	keys = append(keys, odd...)
	var docs []projections.Doc
	for i, k := range keys {
		if i%3 != 0 { // a third of the keys have no document
			docs = append(docs, Doc("file", k, map[string]any{"k": k}))
		}
	}
	docs = append(docs, Doc("other", "k0001", map[string]any{"k": "other"}))
	MustPut(t, s, "p.v1@1", docs...)
	MustPut(t, s, "p.v1@2", Doc("file", "k0001", map[string]any{"k": "ns2"}))

	MustUpdate(t, s, "p.v1@1", func(tx projections.DocTx) error {
		mg, ok := tx.(projections.DocMultiGetter)
		if !ok {
			t.Fatalf("%T cannot read many documents at once", tx)
		}
		// The transaction may be used from fn.
		assertGetMany(t, mg, keys, func(k string) error {
			_, _, err := tx.Get(ctx, "file", k)
			return err
		})
		return nil
	})
	// A reader outside any transaction reads many at once too: a catch-up
	// applies a batch through one while the previous batch commits.
	mg, ok := s.Reader("p.v1@1").(projections.DocMultiGetter)
	if !ok {
		t.Fatalf("%T cannot read many documents at once", s.Reader("p.v1@1"))
	}
	assertGetMany(t, mg, keys, func(string) error { return nil })
}

// assertGetMany checks GetMany of keys ("file" documents holding {"k": key}
// for two keys of three) with repeats and a key that has no document,
// calling also for each document given.
func assertGetMany(t *testing.T, mg projections.DocMultiGetter, keys []string, also func(key string) error) {
	t.Helper()
	ctx := context.Background()
	ask := append(slices.Clone(keys), "k0001", "k0002", "never") // repeats and a stranger
	got := map[string]any{}
	if err := mg.GetMany(ctx, "file", ask, func(k string, doc []byte) error {
		if _, dup := got[k]; dup {
			t.Errorf("%q given twice", k)
		}
		got[k] = decode(t, doc)
		return also(k)
	}); err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	want := 0
	for i, k := range keys {
		if i%3 == 0 {
			if _, ok := got[k]; ok {
				t.Errorf("%q has no document but was given", k)
			}
			continue
		}
		want++
		if !equalJSON(got[k], map[string]any{"k": k}) {
			t.Errorf("%q = %v", k, got[k])
		}
	}
	if len(got) != want {
		t.Errorf("%d documents given, %d exist", len(got), want)
	}
	if err := mg.GetMany(ctx, "file", nil, func(string, []byte) error {
		t.Error("a document given for no key")
		return nil
	}); err != nil {
		t.Fatalf("GetMany of no key: %v", err)
	}
	stop := errors.New("stop")
	if err := mg.GetMany(ctx, "file", keys, func(string, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error: got %v", err)
	}
}

func testCommitTogether(t *testing.T, s Store) {
	ns := "p.v1@1"
	ctx := context.Background()
	assertCheckpoint(t, s, ns, domain.Start)
	pos := domain.Position{Tx: 1 << 40, Seq: 7}
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		if err := tx.Put(ctx, []projections.Doc{Doc("c", "k", 1)}); err != nil {
			return err
		}
		return tx.SetCheckpoint(ctx, pos)
	})
	assertCheckpoint(t, s, ns, pos)
	assertDoc(t, s.Reader(ns), "c", "k", 1)

	next := domain.Position{Tx: 1 << 40, Seq: 9}
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		if err := tx.SetCheckpoint(ctx, next); err != nil {
			return err
		}
		return tx.Put(ctx, []projections.Doc{Doc("c", "k", 2)})
	})
	assertCheckpoint(t, s, ns, next)
	assertDoc(t, s.Reader(ns), "c", "k", 2)

	// SQLite positions have Tx 0.
	other := "q.v1@1"
	MustUpdate(t, s, other, func(tx projections.DocTx) error { return tx.SetCheckpoint(ctx, domain.Position{Seq: 42}) })
	assertCheckpoint(t, s, other, domain.Position{Seq: 42})
	assertCheckpoint(t, s, ns, next)
}

func testErrorRollsBack(t *testing.T, s Store) {
	ns := "p.v1@1"
	ctx := context.Background()
	pos := domain.Position{Seq: 10}
	MustUpdate(t, s, ns, func(tx projections.DocTx) error {
		if err := tx.Put(ctx, []projections.Doc{Doc("c", "kept", 1), Doc("c", "changed", 1)}); err != nil {
			return err
		}
		return tx.SetCheckpoint(ctx, pos)
	})
	boom := errors.New("reducer failed")
	err := s.Update(ctx, ns, func(tx projections.DocTx) error {
		if err := tx.Put(ctx, []projections.Doc{Doc("c", "new", 2), Doc("c", "changed", 2), Del("c", "kept")}); err != nil {
			return err
		}
		if err := tx.SetCheckpoint(ctx, domain.Position{Seq: 20}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update error = %v, want fn's error", err)
	}
	r := s.Reader(ns)
	assertDoc(t, r, "c", "kept", 1)
	assertDoc(t, r, "c", "changed", 1)
	assertAbsent(t, r, "c", "new")
	assertCheckpoint(t, s, ns, pos)
}

func testCancelRollsBack(t *testing.T, s Store) {
	ns := "p.v1@1"
	MustPut(t, s, ns, Doc("c", "old", 1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := s.Update(ctx, ns, func(tx projections.DocTx) error {
		if err := tx.Put(ctx, []projections.Doc{Doc("c", "new", 2), Del("c", "old")}); err != nil {
			return err
		}
		if err := tx.SetCheckpoint(ctx, domain.Position{Seq: 5}); err != nil {
			return err
		}
		cancel() // the process is stopping: fn itself succeeds
		return nil
	})
	if err == nil {
		t.Fatal("update with a context cancelled before commit succeeded")
	}
	r := s.Reader(ns)
	assertAbsent(t, r, "c", "new")
	assertDoc(t, r, "c", "old", 1)
	assertCheckpoint(t, s, ns, domain.Start)

	// A context cancelled before Update writes nothing either.
	err = s.Update(ctx, ns, func(tx projections.DocTx) error {
		_ = tx.Put(ctx, []projections.Doc{Doc("c", "new", 3)})
		return nil
	})
	if err == nil {
		t.Error("update with a cancelled context succeeded")
	}
	assertAbsent(t, r, "c", "new")
}

func testNamespacesIsolated(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := projections.Namespace("p.v1", 1), projections.Namespace("p.v1", 2)
	MustUpdate(t, s, a, func(tx projections.DocTx) error {
		if err := tx.Put(ctx, []projections.Doc{Doc("c", "k", "a"), Doc("c", "only-a", 1)}); err != nil {
			return err
		}
		return tx.SetCheckpoint(ctx, domain.Position{Seq: 1})
	})
	MustUpdate(t, s, b, func(tx projections.DocTx) error {
		if err := tx.Put(ctx, []projections.Doc{Doc("c", "k", "b")}); err != nil {
			return err
		}
		return tx.SetCheckpoint(ctx, domain.Position{Seq: 2})
	})
	assertDoc(t, s.Reader(a), "c", "k", "a")
	assertDoc(t, s.Reader(b), "c", "k", "b")
	assertAbsent(t, s.Reader(b), "c", "only-a")
	if got := scanKeys(t, s.Reader(b), "c", "", ""); !slices.Equal(got, []string{"k"}) {
		t.Errorf("scan of %s = %q", b, got)
	}
	assertCheckpoint(t, s, a, domain.Position{Seq: 1})
	assertCheckpoint(t, s, b, domain.Position{Seq: 2})
	// A namespace that is a prefix of another shares nothing with it.
	assertAbsent(t, s.Reader("p.v1@"), "c", "k")
	assertCheckpoint(t, s, "p.v1@", domain.Start)
}

// testConcurrentNamespaces runs updates of several namespaces at once and
// reads alongside.
func testConcurrentNamespaces(t *testing.T, s Store) {
	ctx := context.Background()
	const workers, rounds = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := range workers {
		ns := projections.Namespace(fmt.Sprintf("p%d.v1", w), 1)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 1; i <= rounds; i++ {
				err := s.Update(ctx, ns, func(tx projections.DocTx) error {
					b := projections.NewBatch(tx)
					if err := b.Add(ctx, "n", "total", "events", 1); err != nil {
						return err
					}
					docs, err := b.Changes()
					if err != nil {
						return err
					}
					if err := tx.Put(ctx, docs); err != nil {
						return err
					}
					return tx.SetCheckpoint(ctx, domain.Position{Seq: uint64(i)})
				})
				if err != nil {
					errs <- fmt.Errorf("%s round %d: %w", ns, i, err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range rounds {
				var c projections.Counts
				if _, err := projections.GetJSON(ctx, s.Reader(ns), "n", "total", &c); err != nil {
					errs <- err
					return
				}
				if _, err := s.Checkpoint(ctx, ns); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range workers {
		ns := projections.Namespace(fmt.Sprintf("p%d.v1", w), 1)
		assertDoc(t, s.Reader(ns), "n", "total", map[string]int{"events": rounds})
		assertCheckpoint(t, s, ns, domain.Position{Seq: rounds})
	}
}

func testGenerations(t *testing.T, s Store) {
	ctx := context.Background()
	got, err := s.Generations(ctx, "p.v1")
	if err != nil || got != (projections.Generations{}) {
		t.Fatalf("generations of a new projection = %+v, %v; want zero", got, err)
	}
	for _, g := range []projections.Generations{
		{Live: 1},
		{Live: 1, Building: 2},
		{Live: 1, Building: 2, Ready: true},
		{Live: 2},
	} {
		if err := s.SetGenerations(ctx, "p.v1", g); err != nil {
			t.Fatal(err)
		}
		got, err := s.Generations(ctx, "p.v1")
		if err != nil || got != g {
			t.Errorf("generations = %+v, %v; want %+v", got, err, g)
		}
	}
	if got, err := s.Generations(ctx, "q.v1"); err != nil || got != (projections.Generations{}) {
		t.Errorf("another projection's generations = %+v, %v; want zero", got, err)
	}
}

func testDropNamespace(t *testing.T, s Store) {
	ctx := context.Background()
	drop, keep := "p.v1@1", "p.v1@2"
	for _, ns := range []string{drop, keep} {
		MustUpdate(t, s, ns, func(tx projections.DocTx) error {
			if err := tx.Put(ctx, []projections.Doc{Doc("a", "k", ns), Doc("b", "k", ns)}); err != nil {
				return err
			}
			return tx.SetCheckpoint(ctx, domain.Position{Seq: 3})
		})
	}
	if err := s.SetGenerations(ctx, "p.v1", projections.Generations{Live: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.DropNamespace(ctx, drop); err != nil {
		t.Fatal(err)
	}
	assertAbsent(t, s.Reader(drop), "a", "k")
	if got := scanKeys(t, s.Reader(drop), "b", "", ""); len(got) != 0 {
		t.Errorf("dropped namespace still has %q", got)
	}
	assertCheckpoint(t, s, drop, domain.Start)
	assertDoc(t, s.Reader(keep), "a", "k", keep)
	assertCheckpoint(t, s, keep, domain.Position{Seq: 3})
	if g, err := s.Generations(ctx, "p.v1"); err != nil || g != (projections.Generations{Live: 2}) {
		t.Errorf("generations after a drop = %+v, %v", g, err)
	}
	// Dropping what does not exist is fine, and the namespace can be
	// written again from the start.
	if err := s.DropNamespace(ctx, "none@1"); err != nil {
		t.Error(err)
	}
	MustUpdate(t, s, drop, func(tx projections.DocTx) error { return tx.SetCheckpoint(ctx, domain.Position{Seq: 1}) })
	assertCheckpoint(t, s, drop, domain.Position{Seq: 1})
}

func mustAcquire(t testing.TB, l projector.Locker, ctx context.Context, name string) (context.Context, func()) {
	t.Helper()
	held, release, ok, err := l.TryAcquire(ctx, name)
	if err != nil || !ok {
		t.Fatalf("acquire %s: ok %v, %v", name, ok, err)
	}
	return held, release
}

func assertBusy(t testing.TB, l projector.Locker, name string) {
	t.Helper()
	_, release, ok, err := l.TryAcquire(context.Background(), name)
	if err != nil {
		t.Fatalf("acquire %s: %v", name, err)
	}
	if ok {
		release()
		t.Fatalf("%s acquired twice", name)
	}
}

func testLockExclusive(t *testing.T, s Store) {
	ctx := context.Background()
	a := projector.LockName("p.v1")
	_, release := mustAcquire(t, s, ctx, a)
	assertBusy(t, s, a)
	// Another name is independent.
	_, releaseB := mustAcquire(t, s, ctx, projector.LockName("q.v1"))
	assertBusy(t, s, a)
	release()
	release() // releasing twice is harmless
	_, release2 := mustAcquire(t, s, ctx, a)
	assertBusy(t, s, projector.LockName("q.v1"))
	releaseB()
	release2()

	// Racing holders: exactly one wins each round.
	for range 5 {
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			winners  int
			releases []func()
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, rel, ok, err := s.TryAcquire(ctx, a)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					winners++
					releases = append(releases, rel)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d holders of one lock", winners)
		}
		for _, r := range releases {
			r()
		}
	}
}

func testLockContext(t *testing.T, s Store) {
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	held, release := mustAcquire(t, s, parent, "lock:ctx")
	if err := held.Err(); err != nil {
		t.Fatalf("held context ended at once: %v", err)
	}
	release()
	select {
	case <-held.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("release did not end the held context")
	}

	held, release = mustAcquire(t, s, parent, "lock:ctx")
	defer release()
	cancelParent()
	select {
	case <-held.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the held context outlived its parent")
	}
}

// counter is a reducer that counts every event, in total and per type.
type counter struct{ name string }

func (c counter) Name() string { return c.name }

func (c counter) Apply(ctx context.Context, b *projections.Batch, rec domain.Record, _ domain.Event) error {
	if err := b.Add(ctx, "counts", "total", "events", 1); err != nil {
		return err
	}
	return b.Add(ctx, "counts", "type|"+rec.Type, "events", 1)
}

// flaky makes every other Update fail after the batch was applied: the
// process dies between writing the read model and committing.
type flaky struct {
	Store
	mode  string
	mu    sync.Mutex
	calls int
	fails int
}

var errCrash = errors.New("simulated crash")

func (f *flaky) Update(ctx context.Context, ns string, fn func(projections.DocTx) error) error {
	f.mu.Lock()
	f.calls++
	crash := f.calls%2 == 1
	if crash {
		f.fails++
	}
	f.mu.Unlock()
	if !crash {
		return f.Store.Update(ctx, ns, fn)
	}
	return f.Store.Update(ctx, ns, func(tx projections.DocTx) error {
		if f.mode == "before checkpoint" {
			// Documents written, then the crash instead of the checkpoint.
			return fn(crashingTx{tx})
		}
		if err := fn(tx); err != nil {
			return err
		}
		return errCrash
	})
}

type crashingTx struct{ projections.DocTx }

func (crashingTx) SetCheckpoint(context.Context, domain.Position) error { return errCrash }

func appendConnections(t testing.TB, es *memory.Store, reg *domain.Registry, n int) {
	t.Helper()
	for i := range n {
		e := domain.UserConnected{Account: uuid.New(), Profile: domain.ProfileStudent, Establishment: "0751234A", Method: domain.SignInPassword}
		typ, data, err := reg.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		env := domain.Envelope{ID: uuid.New(), Type: typ, Data: data, Metadata: domain.Metadata{Time: time.Now().UTC(), Command: "test"}}
		stream := fmt.Sprintf("account-%d", i%7)
		if _, err := es.Append(context.Background(), stream, domain.AnyVersion(), []domain.Envelope{env}); err != nil {
			t.Fatal(err)
		}
	}
}

func mustCounts(t testing.TB, r projections.DocReader, key string) int64 {
	t.Helper()
	var c projections.Counts
	if _, err := projections.GetJSON(context.Background(), r, "counts", key, &c); err != nil {
		t.Fatal(err)
	}
	return c["events"]
}

// testRunnerNoDoubleCount runs the projection runner over a store whose
// commits fail every other time after the batch was applied: each failed
// batch is applied again from the last checkpoint, and each event counts
// exactly once.
func testRunnerNoDoubleCount(t *testing.T, s Store) {
	for _, mode := range []string{"after fn", "before checkpoint"} {
		t.Run(mode, func(t *testing.T) {
			reg := domain.NewRegistry()
			es := memory.New()
			const n = 100
			appendConnections(t, es, reg, n)
			docs := &flaky{Store: s, mode: mode}
			red := counter{name: "count-" + mode}
			r, err := projector.NewRunner(projector.RunnerConfig{
				Log: es, Docs: docs, Gens: s, Registry: reg, Reducers: []projections.Reducer{red},
				Locker: s, BatchSize: 16, RetryEvery: time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			ns := projections.Namespace(red.Name(), 1)
			head := func() domain.Position {
				recs, err := es.ReadAll(ctx, domain.Start, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				return recs[len(recs)-1].Position
			}
			waitCheckpoint := func(want domain.Position) {
				t.Helper()
				for {
					got, err := s.Checkpoint(ctx, ns)
					if err != nil {
						t.Fatal(err)
					}
					if got == want {
						return
					}
					select {
					case <-ctx.Done():
						t.Fatalf("checkpoint %v, want %v: %v", got, want, ctx.Err())
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
			waitCheckpoint(head())
			if got := mustCounts(t, s.Reader(ns), "total"); got != n {
				t.Errorf("counted %d events, want %d", got, n)
			}
			// More events while it runs.
			appendConnections(t, es, reg, 37)
			waitCheckpoint(head())
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
			if got := mustCounts(t, s.Reader(ns), "total"); got != n+37 {
				t.Errorf("counted %d events, want %d", got, n+37)
			}
			if got := mustCounts(t, s.Reader(ns), "type|user.connected.v1"); got != n+37 {
				t.Errorf("counted %d connections, want %d", got, n+37)
			}
			docs.mu.Lock()
			defer docs.mu.Unlock()
			if docs.fails == 0 {
				t.Error("no update failed: the test proves nothing")
			}
		})
	}
}

// testRunnerRebuild rebuilds a projection beside its live generation and
// swaps it in: the old namespace is dropped, the counts stay exact.
func testRunnerRebuild(t *testing.T, s Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := domain.NewRegistry()
	es := memory.New()
	appendConnections(t, es, reg, 50)
	red := counter{name: "count.v1"}
	r, err := projector.NewRunner(projector.RunnerConfig{
		Log: es, Docs: s, Gens: s, Registry: reg, Reducers: []projections.Reducer{red},
		Locker: s, BatchSize: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	live := projections.Namespace(red.Name(), 1)
	if _, err := r.CatchUp(ctx, red, live, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGenerations(ctx, red.Name(), projections.Generations{Live: 1}); err != nil {
		t.Fatal(err)
	}
	var progress []int
	if err := r.Rebuild(ctx, red.Name(), func(done int) { progress = append(progress, done) }); err != nil {
		t.Fatal(err)
	}
	g, err := s.Generations(ctx, red.Name())
	if err != nil || g != (projections.Generations{Live: 2}) {
		t.Fatalf("generations after rebuild = %+v, %v", g, err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 50 {
		t.Errorf("progress = %v, want it to end at 50", progress)
	}
	if got := mustCounts(t, s.Reader(projections.Namespace(red.Name(), 2)), "total"); got != 50 {
		t.Errorf("rebuilt generation counted %d, want 50", got)
	}
	assertAbsent(t, s.Reader(live), "counts", "total")
	assertCheckpoint(t, s, live, domain.Start)
	// The lock was given back.
	_, release := mustAcquire(t, s, ctx, projector.LockName(red.Name()))
	release()
}
