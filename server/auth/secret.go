package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretFile is the name, inside the data directory, of the generated
// signing key.
const SecretFile = "jwt-secret"

const secretLen = 32

// LoadSecret returns the access-token signing key: configured (from
// DICOSO_JWT_SECRET) when not empty, else the key kept in
// <dataDir>/jwt-secret, generated there (32 random bytes, hex, mode 0600) on
// the first start and reused on every later one, so tokens outlive restarts.
func LoadSecret(dataDir, configured string) ([]byte, error) {
	if configured != "" {
		if len(configured) < secretLen {
			return nil, fmt.Errorf("jwt secret must be at least %d characters", secretLen)
		}
		return []byte(configured), nil
	}
	path := filepath.Join(dataDir, SecretFile)
	key, err := readSecret(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := writeSecret(path); err != nil {
		return nil, err
	}
	return readSecret(path)
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read jwt secret: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < secretLen {
		return nil, fmt.Errorf("jwt secret %s: want %d hex-encoded bytes", path, secretLen)
	}
	return key, nil
}

// writeSecret creates path with a new key without ever exposing a partial
// file: the key is written and synced under a temporary name, then hard-linked
// into place, which fails rather than overwrites if another process got there
// first (that process's key then wins, and both read it back).
func writeSecret(path string) error {
	key := make([]byte, secretLen)
	_, _ = rand.Read(key) // never fails
	tmp, err := os.CreateTemp(filepath.Dir(path), SecretFile+".tmp*")
	if err != nil {
		return fmt.Errorf("create jwt secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("create jwt secret: %w", err)
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write jwt secret: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync jwt secret: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close jwt secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("install jwt secret: %w", err)
	}
	return nil
}
