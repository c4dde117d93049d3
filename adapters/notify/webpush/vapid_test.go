package webpush_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/schoollife/ledger/adapters/notify/webpush"
)

func TestGenerateVAPIDKeysGivesAValidPairPublicFirst(t *testing.T) {
	public, private, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := base64.RawURLEncoding.DecodeString(public)
	if err != nil || len(pub) != 65 || pub[0] != 4 {
		t.Fatalf("public key %q: %d bytes, %v; want an uncompressed point", public, len(pub), err)
	}
	priv, err := base64.RawURLEncoding.DecodeString(private)
	if err != nil || len(priv) != 32 {
		t.Fatalf("private key: %d bytes, %v; want 32", len(priv), err)
	}
	keys, err := webpush.LoadVAPIDKeys(public, private)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Public != public || keys.Private != private {
		t.Errorf("loaded %+v, generated %q, %q", keys, public, private)
	}
	again, _, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	if again == public {
		t.Error("two generations gave the same key")
	}
}

func TestLoadVAPIDKeysAcceptsPaddingAndTheStandardAlphabet(t *testing.T) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv := key.PublicKey().Bytes(), key.Bytes()
	want := webpush.VAPIDKeys{
		Public:  base64.RawURLEncoding.EncodeToString(pub),
		Private: base64.RawURLEncoding.EncodeToString(priv),
	}
	for name, enc := range map[string]*base64.Encoding{
		"padded url": base64.URLEncoding, "standard": base64.StdEncoding, "raw standard": base64.RawStdEncoding,
	} {
		got, err := webpush.LoadVAPIDKeys(" "+enc.EncodeToString(pub)+"\n", enc.EncodeToString(priv))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
}

func TestLoadVAPIDKeysRefusesMalformedKeys(t *testing.T) {
	public, private, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	otherPublic, _, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	notOnCurve := append([]byte{4}, make([]byte, 64)...)
	notOnCurve[64] = 1
	order := []byte{ // The order of P-256's group: not a valid scalar.
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	}
	tests := []struct {
		name, public, private, says string
	}{
		{"empty public", "", private, "public key: not base64url: empty"},
		{"empty private", public, "", "private key: not base64url: empty"},
		{"public not base64", "not a key!", private, "public key: not base64url"},
		{"private not base64", public, "***", "private key: not base64url"},
		{"swapped", private, public, "look swapped"},
		{"public too short", public[:40], private, "public key: 30 bytes"},
		{"private too long", public, private + "AAAA", "private key: 35 bytes"},
		{"public not on the curve", b64(notOnCurve), private, "public key: not a point of P-256"},
		{"private zero", public, b64(make([]byte, 32)), "private key: not a P-256 scalar"},
		{"private the group order", public, b64(order), "private key: not a P-256 scalar"},
		{"another pair's public key", otherPublic, private, "not the private key's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webpush.LoadVAPIDKeys(tt.public, tt.private)
			if !errors.Is(err, webpush.ErrInvalidKey) {
				t.Fatalf("error %v, want ErrInvalidKey", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}
