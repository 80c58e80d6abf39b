package api

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/postgres"
	"github.com/palisade-sg/palisade/internal/store/postgres/pgtest"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// BenchmarkSharedReplay measures what the shared replay check adds to a
// request it records (every write, and a read that does not sign its
// action): one SignatureLog.Remember of a new signature, on SQLite and on
// PostgreSQL (skipped without PALISADE_TEST_POSTGRES), one caller at a time
// (the latency) and from 4 × GOMAXPROCS at once (the throughput).
//
//	PALISADE_TEST_POSTGRES=postgres://… go test -run '^$' -bench 'BenchmarkSharedReplay' ./internal/api/
func BenchmarkSharedReplay(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			st, err := sqlite.Open(filepath.Join(b.TempDir(), "palisade.db"))
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"postgres", func(b *testing.B) store.Store {
			dsn := pgtest.DSN(b)
			key := filepath.Join(b.TempDir(), "master.key")
			st, err := postgres.Open(dsn, postgres.Options{MasterKeyFile: key})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	}
	var seq atomic.Int64
	for _, be := range backends {
		for _, par := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/callers=%dxGOMAXPROCS", be.name, par), func(b *testing.B) {
				st := be.open(b)
				defer st.Close()
				log := service.NewSignatureLog(st, nil)
				ctx := context.Background()
				expires := time.Now().Add(maxClockSkew)
				b.SetParallelism(par)
				b.ResetTimer()
				if par == 1 {
					for b.Loop() {
						if _, fresh, err := log.Remember(ctx, sig(int(seq.Add(1))), "CreateSecurityGroup", true, expires); err != nil || !fresh {
							b.Fatal(fresh, err)
						}
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, fresh, err := log.Remember(ctx, sig(int(seq.Add(1))), "CreateSecurityGroup", true, expires); err != nil || !fresh {
							b.Error(fresh, err)
							return
						}
					}
				})
			})
		}
	}
}
