package quarantine

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultKeyEnv is the environment variable read for the key when
// Options.KeyEnv is empty: the base64 of 32 random bytes, as made by
// `openssl rand -base64 32`.
const DefaultKeyEnv = "SEKISHO_QUARANTINE_KEY"

// DefaultKeyFileName is the key file in the quarantine directory used when
// Options.KeyFile is empty. Keeping the key beside the items protects them
// only against someone who gets a copy of the items alone (a backup, a
// disk): put the key file elsewhere, or use the environment, for more.
const DefaultKeyFileName = "quarantine.key"

// masterKey is the 32-byte AES-256 master key and its public ID.
type masterKey struct {
	key    []byte
	id     [keyIDLen]byte
	source string // "environment SEKISHO_QUARANTINE_KEY" or "key file ..."
}

func newMasterKey(key []byte, source string) (*masterKey, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("quarantine: the key from %s is %d bytes, want 32 (base64 of 32 random bytes: openssl rand -base64 32)", source, len(key))
	}
	m := &masterKey{key: key, source: source}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("sekisho quarantine key id v1"))
	copy(m.id[:], mac.Sum(nil))
	return m, nil
}

// derive returns the per-item key for salt and purpose.
func (m *masterKey) derive(salt []byte, purpose string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, m.key, salt, "sekisho quarantine "+purpose+" v1", 32)
	if err != nil {
		return nil, fmt.Errorf("quarantine: derive key: %w", err)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// loadKey finds the master key: from the environment variable when it is set
// (a bad value is an error, never a reason to fall back to the file), else
// from the key file, which is made (mode 0600) when missing unless noCreate.
func loadKey(envName, keyFile string, noCreate bool) (*masterKey, error) {
	if v, ok := os.LookupEnv(envName); ok && v != "" {
		src := "environment variable " + envName
		b, err := decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("quarantine: %s is not base64: set it to the output of openssl rand -base64 32", src)
		}
		return newMasterKey(b, src)
	}
	src := "key file " + keyFile
	fi, err := os.Stat(keyFile)
	switch {
	case err == nil:
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("quarantine: %s can be read by others (mode %v): run chmod 600 %s", src, fi.Mode().Perm(), keyFile)
		}
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("quarantine: read %s: %w", src, err)
		}
		key, err := decodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("quarantine: %s does not hold a base64 key: restore it from your backup", src)
		}
		return newMasterKey(key, src)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("quarantine: %s: %w", src, err)
	case noCreate:
		return nil, fmt.Errorf("quarantine: no %s and %s is not set: is --data-dir right, or where is the key kept? (%w)", src, envName, fs.ErrNotExist)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("quarantine: make a key: %w", err)
	}
	if err := writeFileSync(keyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
		if errors.Is(err, fs.ErrExist) { // made meanwhile by another process
			return loadKey(envName, keyFile, true)
		}
		return nil, fmt.Errorf("quarantine: create %s: %w", src, err)
	}
	return newMasterKey(key, src)
}

// writeFileSync creates name (mode 0600, failing if it exists), writes b,
// and fsyncs the file and its directory.
func writeFileSync(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return err
	}
	return syncDir(filepath.Dir(name))
}

// syncDir fsyncs a directory so that creations, renames and removals in it
// are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
