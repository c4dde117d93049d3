package webpush

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	lib "github.com/SherClockHolmes/webpush-go"
)

// ErrInvalidKey is wrapped by every error LoadVAPIDKeys returns for a
// malformed or mismatched key.
var ErrInvalidKey = errors.New("invalid VAPID key")

// VAPIDKeys is the application server's P-256 key pair, both halves in
// unpadded base64url as browsers and push services exchange them: Public
// is the 65-byte uncompressed point (the applicationServerKey a page hands
// to pushManager.subscribe), Private the 32-byte scalar. Build it with
// LoadVAPIDKeys, which checks both.
type VAPIDKeys struct {
	Public  string
	Private string
}

// GenerateVAPIDKeys makes a new VAPID key pair, public key first, both in
// unpadded base64url.
func GenerateVAPIDKeys() (public, private string, err error) {
	private, public, err = lib.GenerateVAPIDKeys()
	if err != nil {
		return "", "", fmt.Errorf("generate VAPID keys: %w", err)
	}
	return public, private, nil
}

// LoadVAPIDKeys reads a key pair from configuration strings (base64url,
// padded or not) and checks it: the public key is a point of P-256, the
// private key a valid scalar, and the public key is the private key's.
// The keys it returns are in canonical unpadded base64url.
func LoadVAPIDKeys(public, private string) (VAPIDKeys, error) {
	pubBytes, err := decodeKey(public)
	if err != nil {
		return VAPIDKeys{}, fmt.Errorf("%w: public key: not base64url: %w", ErrInvalidKey, err)
	}
	privBytes, err := decodeKey(private)
	if err != nil {
		return VAPIDKeys{}, fmt.Errorf("%w: private key: not base64url: %w", ErrInvalidKey, err)
	}
	if len(pubBytes) == 32 && len(privBytes) == 65 {
		return VAPIDKeys{}, fmt.Errorf("%w: the public and private keys look swapped", ErrInvalidKey)
	}
	if len(pubBytes) != 65 {
		return VAPIDKeys{}, fmt.Errorf("%w: public key: %d bytes, want the 65 bytes of an uncompressed P-256 point", ErrInvalidKey, len(pubBytes))
	}
	if len(privBytes) != 32 {
		return VAPIDKeys{}, fmt.Errorf("%w: private key: %d bytes, want 32", ErrInvalidKey, len(privBytes))
	}
	pub, err := ecdh.P256().NewPublicKey(pubBytes)
	if err != nil {
		return VAPIDKeys{}, fmt.Errorf("%w: public key: not a point of P-256: %w", ErrInvalidKey, err)
	}
	priv, err := ecdh.P256().NewPrivateKey(privBytes)
	if err != nil {
		return VAPIDKeys{}, fmt.Errorf("%w: private key: not a P-256 scalar: %w", ErrInvalidKey, err)
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), pub.Bytes()) {
		return VAPIDKeys{}, fmt.Errorf("%w: the public key is not the private key's", ErrInvalidKey)
	}
	return VAPIDKeys{
		Public:  base64.RawURLEncoding.EncodeToString(pubBytes),
		Private: base64.RawURLEncoding.EncodeToString(privBytes),
	}, nil
}

// decodeKey decodes base64url with or without padding; the standard
// alphabet is accepted too, as some tools print keys with it.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return nil, errors.New("empty")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		return b, nil
	}
	if b, stdErr := base64.RawStdEncoding.DecodeString(s); stdErr == nil {
		return b, nil
	}
	return nil, err
}
