package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// plainSecrets stores SecretKeys as they are: the baseline of
// BenchmarkGetCredential.
type plainSecrets struct{}

func (plainSecrets) Seal(_, secret string) (string, error) { return secret, nil }
func (plainSecrets) Open(_, stored string) (string, error) { return stored, nil }

// BenchmarkGetCredential reads one credential in a read transaction, what
// every API request does, alternately from a store that seals SecretKeys
// (AES-256-GCM) and from one that keeps them in plain text, so that both see
// the same machine load; it reports the mean nanoseconds of each and the
// overhead of sealing in percent.
//
//	go test -run '^$' -bench BenchmarkGetCredential -count 5 ./internal/store/sqlite/
func BenchmarkGetCredential(b *testing.B) {
	ctx := context.Background()
	c := store.Credential{SecretID: "AKIDbench", SecretKey: "0123456789abcdefghijABCDEFGHIJ0123456789", Role: "admin"}
	var stores []store.Store
	for _, o := range []sqlite.Options{{}, {Secrets: plainSecrets{}}} {
		s, err := sqlite.OpenWith(filepath.Join(b.TempDir(), "palisade.db"), o)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if err := s.Tx(ctx, func(tx store.Tx) error { return tx.CreateCredential(ctx, c) }); err != nil {
			b.Fatal(err)
		}
		stores = append(stores, s)
	}
	var total [2]time.Duration
	b.ResetTimer()
	for i := range b.N {
		s := i % 2
		t0 := time.Now()
		err := stores[s].View(ctx, func(tx store.Tx) error {
			got, err := tx.GetCredential(ctx, c.SecretID)
			if err == nil && got.SecretKey != c.SecretKey {
				b.Fatalf("GetCredential = %q", got.SecretKey)
			}
			return err
		})
		total[s] += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
	}
	sealed, plain := float64(total[0])/float64((b.N+1)/2), float64(total[1])/float64(max(1, b.N/2))
	b.ReportMetric(sealed, "sealed-ns/read")
	b.ReportMetric(plain, "plain-ns/read")
	b.ReportMetric(100*(sealed-plain)/plain, "overhead-%")
}
