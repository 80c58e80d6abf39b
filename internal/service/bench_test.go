package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// Benchmarks run on a real SQLite file seeded with 10,000 groups of 20
// policies (quotas raised), 2,000 instances bound to up to 3 groups each, a
// tenth of the groups referencing another group. The store commits with
// synchronous=FULL, its default, or with PALISADE_BENCH_SYNCHRONOUS (normal
// or full).
const (
	benchGroups    = 10_000
	benchPolicies  = 20
	benchInstances = 2_000
)

type benchEnv struct {
	dir       string // the store's directory
	svc       *service.Service
	caller    service.Caller
	groups    []string
	instances []string
	err       error
}

var (
	benchOnce sync.Once
	bench     benchEnv
)

// TestMain removes the benchmarks' store, which they share, once they have
// run.
func TestMain(m *testing.M) {
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func benchSetup(b *testing.B) *benchEnv {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "palisade-bench-")
		if err != nil {
			bench.err = err
			return
		}
		bench.dir = dir
		bench.err = seedBench(filepath.Join(dir, "bench.db"), &bench)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return &bench
}

func seedBench(path string, env *benchEnv) error {
	ctx := context.Background()
	var so sqlite.Options
	if v := os.Getenv("PALISADE_BENCH_SYNCHRONOUS"); v != "" {
		sync, err := sqlite.ParseSynchronous(v)
		if err != nil {
			return err
		}
		so.Synchronous = sync
	}
	st, err := sqlite.OpenWith(path, so)
	if err != nil {
		return err
	}
	svc := service.New(st, service.Options{})
	acct, err := svc.CreateAccount(ctx, "bench")
	if err != nil {
		return err
	}
	if _, err := svc.SetQuotas(ctx, acct.AccountID, service.Quotas{GroupsPerRegion: benchGroups * 2, PoliciesPerDirection: 1000, InstancesPerGroup: benchInstances}); err != nil {
		return err
	}
	now := time.Now().UTC()
	err = st.Tx(ctx, func(tx store.Tx) error {
		for i := range benchGroups {
			id := fmt.Sprintf("sg-b%07d", i)
			g := store.Group{ID: id, AccountID: acct.AccountID, Region: "ap-guangzhou", Name: fmt.Sprintf("bench-%d", i), Created: now, Updated: now}
			g.Policies.Version = 1
			for j := range benchPolicies {
				peer := fmt.Sprintf("10.%d.%d.0/24", j, i%250)
				if j == 0 && i%10 == 9 {
					peer = fmt.Sprintf("sg-b%07d", i-1)
				}
				p, err := policy.ParsePolicy(fmt.Sprintf("ACCEPT TCP %d %s", 1+j, peer))
				if err != nil {
					return err
				}
				p.ModifyTime = now
				g.Policies.Ingress = append(g.Policies.Ingress, p)
				if j < 2 {
					g.Policies.Egress = append(g.Policies.Egress, p)
				}
			}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			env.groups = append(env.groups, id)
		}
		for i := range benchInstances {
			id := fmt.Sprintf("ins-b%07d", i)
			in := store.Instance{ID: id, AccountID: acct.AccountID, Region: "ap-guangzhou", Zone: "ap-guangzhou-3", Name: id, OSType: "linux",
				PrivateIPs: []string{fmt.Sprintf("10.200.%d.%d", i/250, i%250+1)}, State: "RUNNING", Created: now, Updated: now,
				GroupIDs: []string{env.groups[(i*5)%benchGroups], env.groups[(i*5+1)%benchGroups], env.groups[(i*5+9)%benchGroups]}}
			if err := tx.CreateInstance(ctx, in); err != nil {
				return err
			}
			env.instances = append(env.instances, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c, err := svc.LookupCredential(ctx, acct.SecretID)
	if err != nil {
		return err
	}
	env.svc, env.caller = svc, c.Caller("ap-guangzhou", "bench")
	return nil
}

// reportLatency reports the p50 and p99 of the measured operations.
func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

func BenchmarkPolicyWrite(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		id := env.groups[rng.IntN(len(env.groups))]
		in := service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{
			at(5, service.PolicyInput{Raw: policy.Raw{Protocol: "TCP", Port: fmt.Sprint(1000 + i%50000), CidrBlock: "192.0.2.0/24", Action: "ACCEPT"}})}}}
		t0 := time.Now()
		if _, err := env.svc.ReplaceSecurityGroupPolicy(ctx, env.caller, in); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
	reportLatency(b, ds)
}

func BenchmarkPolicyWriteParallel(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
		i := 0
		for pb.Next() {
			i++
			id := env.groups[rng.IntN(len(env.groups))]
			in := service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{
				at(6, service.PolicyInput{Raw: policy.Raw{Protocol: "UDP", Port: fmt.Sprint(1000 + rng.IntN(50000)), CidrBlock: "192.0.2.0/24", Action: "ACCEPT"}})}}}
			if _, err := env.svc.ReplaceSecurityGroupPolicy(ctx, env.caller, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
}

func BenchmarkDescribePolicies(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := env.groups[rng.IntN(len(env.groups))]
		t0 := time.Now()
		gp, err := env.svc.DescribeSecurityGroupPolicies(ctx, env.caller, service.DescribePoliciesInput{SecurityGroupID: id})
		if err != nil || len(gp.Ingress) != benchPolicies {
			b.Fatalf("%s: %d policies, %v", id, len(gp.Ingress), err)
		}
		ds = append(ds, time.Since(t0))
	}
	reportLatency(b, ds)
}

func BenchmarkSimulate(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := service.SimulateInput{InstanceID: env.instances[rng.IntN(len(env.instances))], Direction: "INGRESS", Protocol: "TCP",
			Address: fmt.Sprintf("10.%d.%d.7", rng.IntN(25), rng.IntN(250)), Port: 1 + rng.IntN(30)}
		t0 := time.Now()
		if _, err := env.svc.SimulateTraffic(ctx, env.caller, in); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	reportLatency(b, ds)
}
