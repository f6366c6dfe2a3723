package quarantine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// metaFormat names the layout of <id>.json.
const metaFormat = "sekisho-quarantine-meta/1"

// envelope is what <id>.json holds. The Meta is sealed (AES-256-GCM with
// the key HKDF-SHA256(master key, Salt, "sekisho quarantine meta v1")),
// since envelope senders and recipients are personal information even
// though Meta holds no detected value. Only the ID and the expiry are in
// clear, bound to the sealed part as additional data, so that an item is
// destroyed on time even when its key is lost.
type envelope struct {
	Format  string    `json:"format"`
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
	KeyID   string    `json:"key_id"`
	Salt    []byte    `json:"salt"`
	Nonce   []byte    `json:"nonce"`
	Sealed  []byte    `json:"sealed"`
}

func (e *envelope) aad() []byte {
	return []byte(e.Format + "\x00" + e.ID + "\x00" + e.Expires.UTC().Format(time.RFC3339Nano) + "\x00" + e.KeyID)
}

func sealMeta(k *masterKey, m Meta) ([]byte, error) {
	env := envelope{
		Format:  metaFormat,
		ID:      m.ID,
		Expires: m.Expires.UTC(),
		KeyID:   hex.EncodeToString(k.id[:]),
		Salt:    make([]byte, saltLen),
		Nonce:   make([]byte, 12),
	}
	if _, err := rand.Read(env.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(env.Nonce); err != nil {
		return nil, err
	}
	key, err := k.derive(env.Salt, "meta")
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("quarantine: encode meta of %s: %w", m.ID, err)
	}
	env.Sealed = aead.Seal(nil, env.Nonce, plain, env.aad())
	return json.MarshalIndent(&env, "", "  ")
}

func readEnvelope(path, id string) (*envelope, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil || env.Format != metaFormat || env.ID != id {
		return nil, fmt.Errorf("%w: %s is not a sekisho quarantine meta file for %s", ErrTampered, path, id)
	}
	return &env, nil
}

// open decrypts the Meta of env.
func (env *envelope) open(k *masterKey) (Meta, error) {
	var m Meta
	if env.KeyID != hex.EncodeToString(k.id[:]) {
		return m, fmt.Errorf("%w: %s was stored with key id %s, and the %s has id %x: use the key that was in use then",
			ErrWrongKey, env.ID, env.KeyID, k.source, k.id)
	}
	key, err := k.derive(env.Salt, "meta")
	if err != nil {
		return m, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return m, err
	}
	if len(env.Nonce) != aead.NonceSize() {
		return m, fmt.Errorf("%w: meta of %s has a bad nonce", ErrTampered, env.ID)
	}
	plain, err := aead.Open(nil, env.Nonce, env.Sealed, env.aad())
	if err != nil {
		return m, fmt.Errorf("%w: meta of %s failed authentication", ErrTampered, env.ID)
	}
	if err := json.Unmarshal(plain, &m); err != nil || m.ID != env.ID {
		return m, fmt.Errorf("%w: meta of %s does not decode", ErrTampered, env.ID)
	}
	return m, nil
}

// bare is the Meta that can be known without the key.
func (env *envelope) bare() Meta {
	return Meta{ID: env.ID, Expires: env.Expires}
}
