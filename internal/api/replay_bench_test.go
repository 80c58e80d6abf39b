package api

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// BenchmarkReplayCache measures the API's throughput over loopback, with
// the replay cache on and off side by side, against a real service over a
// real SQLite file holding 20 groups. Every request is DescribeSecurityGroups
// with its own Offset, so that every signature is new and the cache
// inserts it (its dearest path), sent by 4 × GOMAXPROCS concurrent clients.
//
//	go test -run '^$' -bench BenchmarkReplayCache -benchtime 5s -count 3 ./internal/api/
func BenchmarkReplayCache(b *testing.B) {
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "palisade.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	ctx := context.Background()
	acc, err := svc.CreateAccount(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	seed := httptest.NewServer(NewHandler(Options{Service: svc}))
	admin := client.New(seed.URL, acc.SecretID, acc.SecretKey, "ap-guangzhou")
	for i := range 20 {
		if err := admin.Call(ctx, "vpc", apiVersion, "CreateSecurityGroup", map[string]string{"GroupName": fmt.Sprintf("g%02d", i), "GroupDescription": ""}, nil); err != nil {
			b.Fatal(err)
		}
	}
	seed.Close()
	var seq atomic.Int64
	for _, mode := range []struct {
		name   string
		replay *replayCache
	}{
		{"cache=off", nil},
		{"cache=on", newReplayCache(0)},
	} {
		b.Run(mode.name, func(b *testing.B) {
			srv := httptest.NewServer(newHandler(Options{Service: svc, Logger: slog.New(slog.DiscardHandler)}, mode.replay))
			defer srv.Close()
			b.SetParallelism(4) // 4 × GOMAXPROCS clients
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := client.New(srv.URL, acc.SecretID, acc.SecretKey, "ap-guangzhou")
				for pb.Next() {
					req := map[string]string{"Offset": fmt.Sprint(seq.Add(1)), "Limit": "1"}
					if err := c.Call(ctx, "vpc", apiVersion, "DescribeSecurityGroups", req, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			if mode.replay != nil {
				b.ReportMetric(float64(mode.replay.len()), "cached")
			}
		})
	}
}

// BenchmarkReplayCacheCheck measures the cache's own cost per request: a
// new signature each time (an insert), in a cache kept full so that it
// also evicts, and an identical read again (a lookup).
func BenchmarkReplayCacheCheck(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	// sig returns the i-th distinct signature (its formatting is timed
	// too, about a tenth of the whole).
	buf := make([]byte, 64)
	sig := func(i int) string {
		for j := range buf {
			buf[j] = '0'
		}
		hex.Encode(buf[48:], binary.BigEndian.AppendUint64(nil, uint64(i)))
		return string(buf)
	}
	b.Run("new", func(b *testing.B) {
		// 1,000 requests a second: the cache fills to its default bound
		// and then evicts.
		c := newReplayCache(0)
		b.ReportAllocs()
		for i := range b.N {
			at := now.Add(time.Duration(i/1000) * time.Second)
			if err := c.check(sig(i), at.Unix(), "DescribeSecurityGroups", false, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repeat", func(b *testing.B) {
		c := newReplayCache(0)
		s := sig(1)
		c.check(s, now.Unix(), "DescribeSecurityGroups", false, now)
		b.ReportAllocs()
		for range b.N {
			if err := c.check(s, now.Unix(), "DescribeSecurityGroups", false, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
