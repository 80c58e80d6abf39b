// Package masterkey keeps secrets encrypted at rest under an operator's
// master key: AES-256-GCM with the secret's owner (a SecretId) as associated
// data, so a sealed value copied to another row does not open.
//
// A sealed value is text: "v1:" + the key's id + ":" + base64(nonce ‖
// ciphertext ‖ tag). The version names the format and the key id names the
// master key, so that a later version can rotate keys (open with the old
// key, seal with the new one) and a wrong key is told apart from a damaged
// value.
package masterkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Size is the length of a master key in bytes (AES-256).
const Size = 32

// prefix starts every value sealed in the current format.
const prefix = "v1:"

// ErrWrongKey: a sealed value does not open under this master key.
var ErrWrongKey = errors.New("wrong master key?")

// Key is a master key. It is safe for concurrent use.
type Key struct {
	id   string
	aead cipher.AEAD
}

// New returns the master key of raw, which must be Size bytes.
func New(raw []byte) (*Key, error) {
	if len(raw) != Size {
		return nil, fmt.Errorf("master key: %d bytes, want %d", len(raw), Size)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	sum := sha256.Sum256(append([]byte("palisade master key id\x00"), raw...))
	return &Key{id: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// ID names the key in sealed values: 8 hex digits derived from the key,
// which reveal nothing useful about it.
func (k *Key) ID() string { return k.id }

// Load reads the master key file at path: 64 hex digits (what Create
// writes), optionally followed by a newline, or 32 raw bytes. A missing file
// is an error wrapping fs.ErrNotExist.
func Load(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	raw := b
	if text := strings.TrimRight(string(b), "\r\n"); len(text) == 2*Size {
		if h, err := hex.DecodeString(text); err == nil {
			raw = h
		}
	}
	if len(raw) != Size {
		return nil, fmt.Errorf("master key file %s: want %d hex digits or %d bytes, found %d bytes", path, 2*Size, Size, len(b))
	}
	k, err := New(raw)
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return k, nil
}

// Create writes a new random master key to path, readable by its owner only
// (0600), and returns it. It fails if path exists: a key is never
// overwritten.
func Create(path string, random io.Reader) (*Key, error) {
	if random == nil {
		random = rand.Reader
	}
	raw := make([]byte, Size)
	if _, err := io.ReadFull(random, raw); err != nil {
		return nil, fmt.Errorf("create master key %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create master key %s: %w", path, err)
	}
	_, err = f.WriteString(hex.EncodeToString(raw) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("create master key %s: %w", path, err)
	}
	return New(raw)
}

// Sealed reports whether stored is a sealed value (of any version), as
// opposed to a plain-text secret written before encryption at rest.
// Plain-text secrets never contain a colon.
func Sealed(stored string) bool {
	v, _, ok := strings.Cut(stored, ":")
	return ok && len(v) >= 2 && v[0] == 'v' && strings.Trim(v[1:], "0123456789") == ""
}

// KeyID returns the id of the master key stored was sealed under, if stored
// is a sealed value of the current format.
func KeyID(stored string) (string, bool) {
	rest, ok := strings.CutPrefix(stored, prefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok
}

// Seal encrypts secret for owner.
func (k *Key) Seal(owner, secret string) (string, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(secret)+k.aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return "", fmt.Errorf("seal secret of %s: %w", owner, err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(secret), []byte(owner))
	return prefix + k.id + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned for owner. A value sealed under
// another key, or for another owner, or altered, fails with ErrWrongKey; a
// value of an unknown format fails with another error. Open never returns
// a secret it could not authenticate.
func (k *Key) Open(owner, stored string) (string, error) {
	id, ok := KeyID(stored)
	if !ok {
		if Sealed(stored) {
			return "", fmt.Errorf("sealed with unknown format %q", strings.SplitN(stored, ":", 2)[0])
		}
		return "", errors.New("not a sealed value")
	}
	if id != k.id {
		return "", fmt.Errorf("%w (sealed under master key %s, this master key is %s)", ErrWrongKey, id, k.id)
	}
	b, err := base64.RawStdEncoding.DecodeString(stored[len(prefix)+len(id)+1:])
	if err != nil || len(b) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", fmt.Errorf("sealed value is damaged: %w", ErrWrongKey)
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, b[:n], b[n:], []byte(owner))
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}
