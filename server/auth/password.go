package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes: OWASP's recommended minimum,
// m=19 MiB, t=2, p=1. We stay there rather than at RFC 9106's 64 MiB profile
// because the login endpoint is reachable without an account on a small
// (2-core) server: every hash in flight holds m of memory, and the Service
// also bounds how many run at once, so 19 MiB × slots is the memory an
// attacker can make us spend. p=1 because extra lanes only cut latency when
// cores sit idle; here concurrent logins compete for the same two cores.
// The parameters are stored in each hash, so raising them later keeps old
// hashes verifiable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds on parameters read back from a stored hash, so a corrupt row cannot
// make one login allocate gigabytes or spin for minutes.
const (
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 16
	maxArgonThreads   = 16
)

// errMalformedHash means a stored hash is not one we wrote.
var errMalformedHash = errors.New("malformed password hash")

var b64 = base64.RawStdEncoding // PHC strings use unpadded standard base64

// HashPassword returns the PHC-style encoding
// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>` of password with a fresh
// random salt.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (it crashes the program instead)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether password matches encoded, comparing in
// constant time. An encoded value that is not a valid argon2id hash is an
// error (and never a match).
func VerifyPassword(encoded, password string) (bool, error) {
	p, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type argonHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseHash(encoded string) (argonHash, error) {
	var h argonHash
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, fmt.Errorf("%w: version %q", errMalformedHash, parts[2])
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &threads); err != nil {
		return h, fmt.Errorf("%w: parameters %q", errMalformedHash, parts[3])
	}
	if h.memory < 8 || h.memory > maxArgonMemoryKiB || h.time < 1 || h.time > maxArgonTime ||
		threads < 1 || threads > maxArgonThreads {
		return h, fmt.Errorf("%w: parameters %q out of range", errMalformedHash, parts[3])
	}
	h.threads = uint8(threads)
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, fmt.Errorf("%w: salt", errMalformedHash)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return h, fmt.Errorf("%w: key", errMalformedHash)
	}
	return h, nil
}
