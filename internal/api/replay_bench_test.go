package api

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// BenchmarkReplayCache measures the API's throughput over loopback, with
// the replay cache on and off side by side, against a real service over a
// real SQLite file holding 20 groups. Every request is DescribeSecurityGroups
// with its own Offset, so that every signature is new and the cache
// inserts it (its dearest path), sent by 4 × GOMAXPROCS concurrent clients
// (cache=off, cache=on) or 8 (interleaved).
//
//	go test -run '^$' -bench 'BenchmarkReplayCache$' -benchtime 5s ./internal/api/
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
		if _, err := admin.CreateSecurityGroup(ctx, &wire.CreateSecurityGroupRequest{GroupName: wire.NewString(fmt.Sprintf("g%02d", i)), GroupDescription: wire.NewString("")}); err != nil {
			b.Fatal(err)
		}
	}
	seed.Close()
	var seq atomic.Int64
	// batch sends n requests from 8 concurrent clients to url and returns
	// how long they took.
	batch := func(b *testing.B, url string, n int) time.Duration {
		var wg sync.WaitGroup
		var left atomic.Int64
		left.Store(int64(n))
		start := time.Now()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := client.New(url, acc.SecretID, acc.SecretKey, "ap-guangzhou")
				for left.Add(-1) >= 0 {
					req := &wire.DescribeSecurityGroupsRequest{Offset: wire.NewIntString(seq.Add(1)), Limit: wire.NewIntString(1)}
					if _, err := c.DescribeSecurityGroups(ctx, req); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// interleaved alternates batches of 100 requests between a server
	// with the cache and one without, in alternating order, so that the
	// machine's load drifts alike over both; it reports both rates and
	// the cache's cost in percent of the rate without it.
	b.Run("interleaved", func(b *testing.B) {
		off := httptest.NewServer(newHandler(Options{Service: svc, Logger: slog.New(slog.DiscardHandler)}, nil))
		defer off.Close()
		on := httptest.NewServer(newHandler(Options{Service: svc, Logger: slog.New(slog.DiscardHandler)}, newReplayCache(0)))
		defer on.Close()
		const n = 100
		var tOff, tOn time.Duration
		for i := range b.N {
			if i%2 == 0 {
				tOff += batch(b, off.URL, n)
				tOn += batch(b, on.URL, n)
			} else {
				tOn += batch(b, on.URL, n)
				tOff += batch(b, off.URL, n)
			}
		}
		offRate := float64(b.N*n) / tOff.Seconds()
		onRate := float64(b.N*n) / tOn.Seconds()
		b.ReportMetric(offRate, "off-req/s")
		b.ReportMetric(onRate, "on-req/s")
		b.ReportMetric(100*(offRate-onRate)/offRate, "cost-%")
	})
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
					req := &wire.DescribeSecurityGroupsRequest{Offset: wire.NewIntString(seq.Add(1)), Limit: wire.NewIntString(1)}
					if _, err := c.DescribeSecurityGroups(ctx, req); err != nil {
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

// BenchmarkReplayCacheInProcess measures the handler in process (no
// network) on its cheapest authenticated path, DescribeSecurityGroupLimits
// against a fake service, so that the cache's share of the cost is as large
// as it can be. Batches of 1,000 pre-signed requests, each with a new
// signature, alternate between a handler with the cache and one without.
// Each batch is timed in the process's CPU time (getrusage), which other
// processes' load disturbs far less than the wall clock; it reports the
// CPU time per request of both and the median of the batches' cost in
// percent.
//
//	go test -run '^$' -bench BenchmarkReplayCacheInProcess -benchtime 200x ./internal/api/
func BenchmarkReplayCacheInProcess(b *testing.B) {
	svc := &credService{creds: map[string]service.Credential{
		testID: {SecretID: testID, SecretKey: testKey, AccountID: "acc-00000001", Role: service.RoleAdmin},
	}}
	opts := Options{Service: svc, Logger: slog.New(slog.DiscardHandler)}
	off, on := newHandler(opts, nil), newHandler(opts, newReplayCache(0))
	const n = 1000
	seq := 0
	prepare := func() []*http.Request {
		reqs := make([]*http.Request, n)
		now := time.Now()
		for i := range reqs {
			seq++
			body := fmt.Sprintf(`{"Seq":%d}`, seq)
			r := httptest.NewRequest("POST", "http://127.0.0.1:7480/", strings.NewReader(body))
			r.Header.Set(client.HeaderAction, "DescribeSecurityGroupLimits")
			r.Header.Set(client.HeaderVersion, wire.Version)
			r.Header.Set(client.HeaderRegion, "ap-guangzhou")
			client.Sign(r, []byte(body), testID, testKey, "vpc", now)
			reqs[i] = r
		}
		return reqs
	}
	run := func(h http.Handler) time.Duration {
		reqs := prepare()
		runtime.GC() // the garbage of prepare is not the batch's
		start := cpuTime(b)
		for _, r := range reqs {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"Error"`) {
				b.Fatalf("answer %s", w.Body)
			}
		}
		return cpuTime(b) - start
	}
	costs := make([]float64, 0, b.N)
	var tOff, tOn time.Duration
	for i := range b.N {
		var dOff, dOn time.Duration
		if i%2 == 0 {
			dOff = run(off)
			dOn = run(on)
		} else {
			dOn = run(on)
			dOff = run(off)
		}
		tOff, tOn = tOff+dOff, tOn+dOn
		costs = append(costs, 100*(dOn.Seconds()-dOff.Seconds())/dOff.Seconds())
	}
	slices.Sort(costs)
	b.ReportMetric(float64(tOff.Nanoseconds())/float64(b.N*n), "off-cpu-ns/req")
	b.ReportMetric(float64(tOn.Nanoseconds())/float64(b.N*n), "on-cpu-ns/req")
	b.ReportMetric(100*(tOn.Seconds()-tOff.Seconds())/tOff.Seconds(), "total-cost-%")
	b.ReportMetric(costs[len(costs)/2], "median-cost-%")
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
