package masterkey_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/store/masterkey"
)

func key(t *testing.T, b byte) *masterkey.Key {
	t.Helper()
	k, err := masterkey.New(bytes.Repeat([]byte{b}, masterkey.Size))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k, other := key(t, 1), key(t, 2)
	const owner, secret = "AKIDowner", "s3cretKEYs3cretKEYs3cretKEYs3cretKEY0000"
	sealed, err := k.Seal(owner, secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, secret) || !strings.HasPrefix(sealed, "v1:"+k.ID()+":") || !masterkey.Sealed(sealed) {
		t.Fatalf("Seal = %q", sealed)
	}
	again, _ := k.Seal(owner, secret)
	if again == sealed {
		t.Errorf("two seals of one secret are equal: the nonce is not random")
	}
	// Flip one byte of the ciphertext.
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 'A' ^ 'B'
	tests := []struct {
		name, owner, stored string
		key                 *masterkey.Key
		wrongKey            bool
	}{
		{"round trip", owner, sealed, k, false},
		{"another master key", owner, sealed, other, true},
		{"another owner", "AKIDother", sealed, k, true},
		{"tampered", owner, string(tampered), k, true},
		{"plain text", owner, secret, k, false},
		{"unknown version", owner, "v9:abc:def", k, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Open(tt.owner, tt.stored)
			if tt.name == "round trip" {
				if err != nil || got != secret {
					t.Fatalf("Open = %q, %v; want %q", got, err, secret)
				}
				return
			}
			if err == nil || got != "" {
				t.Fatalf("Open = %q, %v; want an error and no secret", got, err)
			}
			if errors.Is(err, masterkey.ErrWrongKey) != tt.wrongKey {
				t.Errorf("Open error %v: errors.Is(ErrWrongKey) = %v, want %v", err, !tt.wrongKey, tt.wrongKey)
			}
		})
	}
}

func TestSealed(t *testing.T) {
	tests := []struct {
		stored string
		want   bool
	}{
		{"v1:0a1b2c3d:AAAA", true},
		{"v2:x", true},
		{"abcdefABCDEF0123456789abcdefABCDEF012345", false}, // a plain SecretKey
		{"", false},
		{"v:abc", false},
		{"vx:abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.stored, func(t *testing.T) {
			if got := masterkey.Sealed(tt.stored); got != tt.want {
				t.Errorf("Sealed(%q) = %v, want %v", tt.stored, got, tt.want)
			}
		})
	}
}

func TestCreateLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "palisade.db.key")
	if _, err := masterkey.Load(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
	k, err := masterkey.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := masterkey.Create(path, nil); err == nil {
		t.Errorf("Create over an existing key succeeded")
	}
	loaded, err := masterkey.Load(path)
	if err != nil || loaded.ID() != k.ID() {
		t.Fatalf("Load = %v, %v; want key %s", loaded, err, k.ID())
	}
	sealed, _ := k.Seal("AKIDx", "secret")
	if got, err := loaded.Open("AKIDx", sealed); err != nil || got != "secret" {
		t.Errorf("loaded key opens %q, %v", got, err)
	}
	raw := filepath.Join(dir, "raw.key")
	if err := os.WriteFile(raw, bytes.Repeat([]byte{7}, masterkey.Size), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := masterkey.Load(raw); err != nil || k.ID() != key(t, 7).ID() {
		t.Errorf("Load of 32 raw bytes = %v, %v", k, err)
	}
	for name, content := range map[string]string{"short": "abcd\n", "empty": "", "not hex": strings.Repeat("zz", 32) + "\n"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := masterkey.Load(p); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("Load(%q) = %v, want an error naming the file", content, err)
			}
		})
	}
}

// BenchmarkOpen opens a sealed 40-character SecretKey, the work sealing adds
// to each credential lookup.
func BenchmarkOpen(b *testing.B) {
	k, err := masterkey.New(bytes.Repeat([]byte{1}, masterkey.Size))
	if err != nil {
		b.Fatal(err)
	}
	sealed, err := k.Seal("AKIDbench", "0123456789abcdefghijABCDEFGHIJ0123456789")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		if _, err := k.Open("AKIDbench", sealed); err != nil {
			b.Fatal(err)
		}
	}
}
