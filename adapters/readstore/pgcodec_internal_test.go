package readstore

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPgDocRoundTrip: whatever string a document holds, its encoding
// holds no \u0000 for jsonb to refuse and decodes back to the same string.
func FuzzPgDocRoundTrip(f *testing.F) {
	for _, s := range []string{"", "\x00", "\uffff", "\uffff0", "\x00\uffff\uffff0", `\u0000`, "é\t\n<&>", "\U0010FFFF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := json.Marshal(map[string]string{s: s})
		if err != nil {
			t.Fatal(err)
		}
		enc := pgEncodeDoc(raw)
		// Escaped backslashes removed, what is left of \u0000 is an escape.
		if bytes.Contains(bytes.ReplaceAll(enc, []byte(`\\`), nil), []byte(pgNUL)) {
			t.Fatalf("encoding of %+q holds \\u0000: %q", s, enc)
		}
		var got map[string]string
		if err := json.Unmarshal(pgDecodeDoc(enc), &got); err != nil {
			t.Fatal(err)
		}
		var want map[string]string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if k := jsonString(want); len(got) != 1 || got[k] != k {
			t.Errorf("%+q read back as %+q", want, got)
		}
	})
}

// jsonString returns the one key of m (json.Marshal replaced invalid UTF-8).
func jsonString(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// FuzzPgKeyOrder: encoded keys have no NUL, decode back, and compare as
// the keys do.
func FuzzPgKeyOrder(f *testing.F) {
	f.Add("a", "a\x00")
	f.Add("\x00", "\x01")
	f.Add("\x01\x02", "\x02")
	f.Add("a\x01", "a\x00\xff")
	f.Fuzz(func(t *testing.T, a, b string) {
		ea, eb := pgEncodeKey(a), pgEncodeKey(b)
		if strings.IndexByte(ea, 0) >= 0 {
			t.Fatalf("encoding of %+q holds NUL", a)
		}
		if pgDecodeKey(ea) != a || pgDecodeKey(eb) != b {
			t.Fatalf("%+q, %+q do not decode back", a, b)
		}
		if strings.Compare(ea, eb) != strings.Compare(a, b) {
			t.Errorf("%+q vs %+q compare %d, encoded %d", a, b, strings.Compare(a, b), strings.Compare(ea, eb))
		}
	})
}
