package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// plainSecrets stores SecretKeys as they are: the baseline of
// BenchmarkGetCredential.
type plainSecrets struct{}

func (plainSecrets) Seal(_, secret string) (string, error) { return secret, nil }
func (plainSecrets) Open(_, stored string) (string, error) { return stored, nil }

// BenchmarkGetCredential reads one credential in a read transaction, what
// every API request does, with the SecretKey sealed (AES-256-GCM) and in
// plain text.
//
//	go test -run '^$' -bench BenchmarkGetCredential -count 5 ./internal/store/sqlite/
func BenchmarkGetCredential(b *testing.B) {
	for _, mode := range []struct {
		name string
		o    sqlite.Options
	}{
		{"secrets=sealed", sqlite.Options{}},
		{"secrets=plain", sqlite.Options{Secrets: plainSecrets{}}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			s, err := sqlite.OpenWith(filepath.Join(b.TempDir(), "palisade.db"), mode.o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			c := store.Credential{SecretID: "AKIDbench", SecretKey: "0123456789abcdefghijABCDEFGHIJ0123456789", Role: "admin"}
			if err := s.Tx(ctx, func(tx store.Tx) error { return tx.CreateCredential(ctx, c) }); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				err := s.View(ctx, func(tx store.Tx) error {
					got, err := tx.GetCredential(ctx, c.SecretID)
					if err == nil && got.SecretKey != c.SecretKey {
						b.Fatalf("GetCredential = %q", got.SecretKey)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
