package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/secure/precis"

	"github.com/schoollife/ledger/domain"
)

// Password policy.
const (
	// MinPasswordChars is the shortest password accepted, in characters
	// (NIST SP 800-63B asks for at least 8; length matters more than
	// composition rules, which this policy does not impose).
	MinPasswordChars = 10
	// MaxPasswordBytes bounds a password, so that a huge one costs nothing
	// to refuse.
	MaxPasswordBytes = 1024
	// MaxLoginBytes bounds a login (the longest e-mail address).
	MaxLoginBytes = 254
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are the parameters new hashes get: m=64 MiB, t=1, p=2,
// 16-byte salt, 32-byte hash.
//
// They are chosen for a 2-core server. RFC 9106 (§4) recommends t=1, p=4,
// m=2 GiB, or, where that much memory is out of reach, t=3, p=4, m=64 MiB.
// The second takes about 250 ms of both cores here, which caps sign-ins at
// four a second during the morning peak; m=64 MiB with one pass on two
// lanes keeps the memory hardness (the cost of an attacker's GPU or ASIC
// is its memory) at about 75-130 ms a hash, and is well above OWASP's
// minimum (m=19 MiB, t=2, p=1). Raising them later is safe: a hash with
// weaker parameters is replaced at the next successful sign-in.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read from a stored hash: a corrupted or planted row
// must not make a sign-in allocate gigabytes or loop for minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	minSaltLen = 8
	minKeyLen  = 16
	maxKeyLen  = 128
)

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id: t=%d is not in [1, %d]", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("argon2id: p=0")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id: m=%d KiB is not in [8p, %d]", p.Memory, maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxKeyLen:
		return fmt.Errorf("argon2id: salt of %d bytes is not in [%d, %d]", p.SaltLen, minSaltLen, maxKeyLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id: hash of %d bytes is not in [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// weakerThan reports whether a hash made with p should be replaced by one
// made with cur. Lanes are not compared: fewer lanes are no cheaper to
// attack.
func (p Params) weakerThan(cur Params) bool {
	return p.Memory < cur.Memory || p.Time < cur.Time || p.SaltLen < cur.SaltLen || p.KeyLen < cur.KeyLen
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params    Params
	salt, key []byte
}

// b64 is the PHC string format's Base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses $argon2id$v=19$m=M,t=T,p=P$SALT$HASH. Only argon2id
// version 19 (0x13, the only one x/crypto computes) is accepted, with its
// parameters in the order the format fixes.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return phc{}, errors.New("argon2id: not a PHC string")
	}
	if parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("argon2id: algorithm %q", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("argon2id: version %q", parts[2])
	}
	var (
		h    phc
		vals [3]uint64
	)
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return phc{}, fmt.Errorf("argon2id: parameters %q", parts[3])
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return phc{}, fmt.Errorf("argon2id: parameters %q", parts[3])
		}
		// Decimal without sign or leading zeros, as the format requires.
		if v == "" || (v[0] == '0' && len(v) > 1) || strings.TrimLeft(v, "0123456789") != "" {
			return phc{}, fmt.Errorf("argon2id: parameter %s=%q", name, v)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, fmt.Errorf("argon2id: parameter %s=%q", name, v)
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return phc{}, fmt.Errorf("argon2id: p=%d", vals[2])
	}
	// The decoder skips CR and LF, even strict: refused here, so that one
	// hash has one stored string.
	if strings.ContainsAny(parts[4]+parts[5], "\r\n") {
		return phc{}, errors.New("argon2id: a line break in the salt or hash")
	}
	var err error
	if h.salt, err = b64.Strict().DecodeString(parts[4]); err != nil {
		return phc{}, fmt.Errorf("argon2id: salt: %w", err)
	}
	if h.key, err = b64.Strict().DecodeString(parts[5]); err != nil {
		return phc{}, fmt.Errorf("argon2id: hash: %w", err)
	}
	h.params = Params{
		Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLen: uint32(len(h.salt)), KeyLen: uint32(len(h.key)),
	}
	if err := h.params.validate(); err != nil {
		return phc{}, err
	}
	return h, nil
}

// hashPassword returns the PHC string of password with a new random salt.
func hashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	h := phc{params: p, salt: salt}
	h.key = argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return h.String(), nil
}

// verifyPassword reports whether password matches the PHC string stored,
// and whether stored was made with parameters weaker than cur.
func verifyPassword(stored, password string, cur Params) (ok, weaker bool, err error) {
	h, err := parsePHC(stored)
	if err != nil {
		return false, false, err
	}
	p := h.params
	key := argon2.IDKey([]byte(password), h.salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	return ok, p.weakerThan(cur), nil
}

// Policy errors, domain errors so that the boundaries map them to 400.
var (
	ErrInvalidLogin   = &domain.Error{Code: domain.CodeInvalid, Type: "invalid-login", Title: "login is not acceptable"}
	ErrPasswordPolicy = &domain.Error{Code: domain.CodeInvalid, Type: "password-policy", Title: "password does not meet the policy"}
)

// normalizeLogin returns the key a login is stored and looked up under:
// PRECIS UsernameCaseMapped (RFC 8265), which maps width variants, folds
// case and normalizes to NFC, so "Jean.Dupont", "jean.dupont" and their
// full-width forms are one login. It refuses spaces and control
// characters.
func normalizeLogin(login string) (string, error) {
	if login == "" || len(login) > MaxLoginBytes {
		return "", domain.Errorf(ErrInvalidLogin, "a login has 1 to %d bytes", MaxLoginBytes)
	}
	key, err := precis.UsernameCaseMapped.String(login)
	if err != nil {
		return "", domain.Errorf(ErrInvalidLogin, "%q: no spaces or control characters (%v)", login, err)
	}
	return key, nil
}

// normalizePassword maps a password the way RFC 8265's OpaqueString does
// (non-ASCII spaces to ASCII, NFC), so that the same password typed on two
// systems that compose "é" differently still matches. A password that the
// profile refuses is used as it is: it was never accepted by SetPassword,
// so it simply does not match.
func normalizePassword(password string) string {
	if p, err := precis.OpaqueString.String(password); err == nil {
		return p
	}
	return password
}

// checkPassword applies the policy to a new password and returns it
// normalized.
func checkPassword(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", domain.Errorf(ErrPasswordPolicy, "at most %d bytes", MaxPasswordBytes)
	}
	if utf8.RuneCountInString(password) < MinPasswordChars {
		return "", domain.Errorf(ErrPasswordPolicy, "at least %d characters", MinPasswordChars)
	}
	p, err := precis.OpaqueString.String(password)
	if err != nil {
		return "", domain.Errorf(ErrPasswordPolicy, "no control characters (%v)", err)
	}
	// Again: normalizing may compose characters.
	if utf8.RuneCountInString(p) < MinPasswordChars {
		return "", domain.Errorf(ErrPasswordPolicy, "at least %d characters", MinPasswordChars)
	}
	return p, nil
}

// ValidateLogin reports whether login may be set (an *domain.Error of type
// ErrInvalidLogin if not), so that a caller can refuse it before doing
// anything else.
func ValidateLogin(login string) error {
	_, err := normalizeLogin(login)
	return err
}

// ValidatePassword reports whether password meets the policy (an
// *domain.Error of type ErrPasswordPolicy if not).
func ValidatePassword(password string) error {
	_, err := checkPassword(password)
	return err
}
