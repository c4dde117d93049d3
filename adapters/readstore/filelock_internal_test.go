package readstore

import (
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzLockFileName: a lock file's name is one safe path element, and
// names short enough to be written whole decode back to the lock name.
func FuzzLockFileName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a/b", "../x", "A", "a", "%41", "élève", "a\x00b", "a~b", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		file := lockFileName(name)
		if len(file) > 255 {
			t.Fatalf("%q: %d bytes", file, len(file))
		}
		for _, c := range []byte(file) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.%~", c) >= 0) {
				t.Fatalf("%q holds %q", file, c)
			}
		}
		enc, ok := strings.CutSuffix(file, ".lock")
		if !ok {
			t.Fatalf("%q lacks .lock", file)
		}
		if strings.Contains(enc, "~") {
			return // hashed
		}
		if got, err := decodeLockFileName(enc); err != nil || got != name {
			t.Fatalf("%q decodes to %q, %v", file, got, err)
		}
	})
}

func decodeLockFileName(enc string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		if enc[i] != '%' {
			b.WriteByte(enc[i])
			continue
		}
		c, err := hex.DecodeString(enc[i+1 : i+3])
		if err != nil {
			return "", err
		}
		b.Write(c)
		i += 2
	}
	return b.String(), nil
}

// TestLockFileNamesDistinct: long names, written in part, stay apart.
func TestLockFileNamesDistinct(t *testing.T) {
	names := []string{
		strings.Repeat("a", 300), strings.Repeat("a", 299) + "b", strings.Repeat("a", 301),
		strings.Repeat("é", 200), strings.Repeat("é", 199) + "e", "A", "a", "%41",
	}
	seen := make(map[string]string)
	for _, n := range names {
		f := lockFileName(n)
		if other, ok := seen[f]; ok {
			t.Errorf("%q and %q share %q", n, other, f)
		}
		seen[f] = n
	}
}
