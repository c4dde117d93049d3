package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// cheap are parameters that keep tests fast; they are valid argon2id.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestReferenceVector: a hash from the argon2 reference implementation
// (phc-winner-argon2, src/test.c) verifies, so stored strings are the
// standard PHC format and not only our own.
func TestReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h, err := parsePHC(ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Params{Memory: 65536, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}); h.params != want {
		t.Errorf("params = %+v, want %+v", h.params, want)
	}
	if string(h.salt) != "somesalt" || h.String() != ref {
		t.Errorf("parsed %q salt %q, want the reference back", h.String(), h.salt)
	}
	for pw, want := range map[string]bool{"password": true, "Password": false, "": false} {
		ok, _, err := verifyPassword(ref, pw, cheap)
		if err != nil || ok != want {
			t.Errorf("verify %q = %v, %v; want %v", pw, ok, err, want)
		}
	}
}

func TestHashRoundTrip(t *testing.T) {
	for _, p := range []Params{cheap, DefaultParams()} {
		h, err := hashPassword("correct horse battery", p)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parsePHC(h)
		if err != nil {
			t.Fatalf("parse %q: %v", h, err)
		}
		if parsed.params != p || parsed.String() != h {
			t.Errorf("%q parsed as %+v", h, parsed.params)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$m=") {
			t.Errorf("hash %q is not a PHC argon2id string", h)
		}
		ok, weaker, err := verifyPassword(h, "correct horse battery", p)
		if !ok || weaker || err != nil {
			t.Errorf("verify = %v, %v, %v; want match with current parameters", ok, weaker, err)
		}
		ok, _, err = verifyPassword(h, "correct horse batterY", p)
		if ok || err != nil {
			t.Errorf("wrong password: %v, %v", ok, err)
		}
		again, _ := hashPassword("correct horse battery", p)
		if again == h {
			t.Error("two hashes of one password are equal: the salt is not random")
		}
	}
}

func TestWeakerParams(t *testing.T) {
	cur := DefaultParams()
	for _, tc := range []struct {
		p    Params
		want bool
	}{
		{cur, false},
		{Params{Memory: cur.Memory * 2, Time: cur.Time, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: cur.Memory / 2, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{Params{Memory: cur.Memory, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}, false},
		{Params{Memory: cur.Memory, Time: 1, Threads: 2, SaltLen: 8, KeyLen: 32}, true},
		{Params{Memory: cur.Memory, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 16}, true},
		{cheap, true},
	} {
		if got := tc.p.weakerThan(cur); got != tc.want {
			t.Errorf("%+v weaker than %+v = %v, want %v", tc.p, cur, got, tc.want)
		}
	}
}

func TestParsePHCRejects(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	for name, s := range map[string]string{
		"empty":            "",
		"argon2i":          "$argon2i$v=19$m=65536,t=2,p=1$" + salt + "$" + key,
		"version 16":       "$argon2id$v=16$m=65536,t=2,p=1$" + salt + "$" + key,
		"no version":       "$argon2id$m=65536,t=2,p=1$" + salt + "$" + key,
		"order":            "$argon2id$v=19$t=2,m=65536,p=1$" + salt + "$" + key,
		"missing p":        "$argon2id$v=19$m=65536,t=2$" + salt + "$" + key,
		"extra param":      "$argon2id$v=19$m=65536,t=2,p=1,keyid=x$" + salt + "$" + key,
		"leading zero":     "$argon2id$v=19$m=065536,t=2,p=1$" + salt + "$" + key,
		"sign":             "$argon2id$v=19$m=+65536,t=2,p=1$" + salt + "$" + key,
		"t=0":              "$argon2id$v=19$m=65536,t=0,p=1$" + salt + "$" + key,
		"p=0":              "$argon2id$v=19$m=65536,t=2,p=0$" + salt + "$" + key,
		"p=256":            "$argon2id$v=19$m=65536,t=2,p=256$" + salt + "$" + key,
		"m below 8p":       "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key,
		"m over 1 GiB":     "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key,
		"t huge":           "$argon2id$v=19$m=65536,t=1000000,p=1$" + salt + "$" + key,
		"padded salt":      "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$" + key,
		"url alphabet":     "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key+"+", "+", "-"),
		"short salt":       "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$" + key,
		"short hash":       "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$c2FsdA",
		"trailing section": "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + key + "$",
		"bcrypt":           "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		if _, err := parsePHC(s); err == nil {
			t.Errorf("%s: %q parsed", name, s)
		}
	}
}

// FuzzParsePHC: parsing never panics, and what parses prints back as it
// was (one stored string per hash).
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		if h.String() != s {
			t.Errorf("%q parsed and printed as %q", s, h.String())
		}
	})
}

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"", false},
		{"123456789", false},
		{"1234567890", true},
		{"ééééééééé", false}, // 9 characters in 18 bytes
		{"éééééééééé", true},
		{"e\u0301e\u0301e\u0301e\u0301e\u0301e", false}, // 11 code points, 6 characters once composed
		{"ten chars\x00!", false},
		{strings.Repeat("a", MaxPasswordBytes), true},
		{strings.Repeat("a", MaxPasswordBytes+1), false},
	} {
		err := ValidatePassword(tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("password %q: %v, want ok=%v", tc.pw, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, ErrPasswordPolicy) || domain.CodeOf(err) != domain.CodeInvalid) {
			t.Errorf("password %q: %v, want ErrPasswordPolicy (invalid)", tc.pw, err)
		}
	}
}

func TestLoginKey(t *testing.T) {
	for _, tc := range []struct {
		login, key string
	}{
		{"Jean.Dupont", "jean.dupont"},
		{"JEAN.DUPONT", "jean.dupont"},
		{"ＪＥＡＮ.dupont", "jean.dupont"}, // full-width letters
		{"Élodie", "élodie"},
		{"E\u0301lodie", "élodie"}, // decomposed
		{"marie@example.fr", "marie@example.fr"},
	} {
		key, err := normalizeLogin(tc.login)
		if err != nil || key != tc.key {
			t.Errorf("login %q: key %q, %v; want %q", tc.login, key, err, tc.key)
		}
	}
	for _, bad := range []string{"", "jean dupont", "tab\there", strings.Repeat("a", MaxLoginBytes+1)} {
		if err := ValidateLogin(bad); !errors.Is(err, ErrInvalidLogin) {
			t.Errorf("login %q: %v, want ErrInvalidLogin", bad, err)
		}
	}
}

func TestAddrKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.7",
		"192.0.2.7:54321":           "192.0.2.7",
		"::ffff:192.0.2.7":          "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:443":     "2001:db8:1:2::/64",
		"fe80::1%eth0":              "fe80::/64",
		"not an address":            "not an address",
		" 192.0.2.7 ":               "192.0.2.7",
		"2001:db8:1:2:ffff::ffff:1": "2001:db8:1:2::/64",
	} {
		if got := addrKey(addr); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", addr, got, want)
		}
	}
}
