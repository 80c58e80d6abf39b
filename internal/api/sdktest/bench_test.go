package sdktest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// BenchmarkAPI measures the API over loopback, through the official SDK,
// with a store of PALISADE_BENCH_GROUPS groups (default 10,000) of 20
// policies each (10 inbound, 10 outbound) in one account and region,
// seeded through the service directly, and PALISADE_BENCH_INSTANCES
// instances (default 1,000) bound to 3 groups each. It reports p50/p99
// latencies in milliseconds and, for policy writes, writes per second.
//
//	go test -run '^$' -bench BenchmarkAPI -benchtime 3000x ./internal/api/sdktest/
//
// PALISADE_BENCH_SYNCHRONOUS=normal commits with synchronous=NORMAL.
func BenchmarkAPI(b *testing.B) {
	nGroups := envInt(b, "PALISADE_BENCH_GROUPS", 10000)
	nInstances := envInt(b, "PALISADE_BENCH_INSTANCES", 1000)
	// PALISADE_BENCH_SYNCHRONOUS=normal measures with the store's
	// synchronous=NORMAL commits (the default is FULL, durable).
	var so sqlite.Options
	if v := os.Getenv("PALISADE_BENCH_SYNCHRONOUS"); v != "" {
		sync, err := sqlite.ParseSynchronous(v)
		if err != nil {
			b.Fatal(err)
		}
		so.Synchronous = sync
	}
	e := newEnv(b, envOptions{store: so, quotas: service.Quotas{
		GroupsPerRegion: nGroups + 100, PoliciesPerDirection: 10000, InstancesPerGroup: 10000, ReferencedGroupsPerGroup: 1000,
	}})
	start := time.Now()
	groups := seedGroups(b, e, nGroups)
	instances := seedInstances(b, e, groups, nInstances)
	b.Logf("seeded %d groups × 20 policies and %d instances in %v", len(groups), len(instances), time.Since(start).Round(time.Millisecond))

	b.Run("DescribeSecurityGroupPolicies", func(b *testing.B) {
		c := e.vpc()
		rng := rand.New(rand.NewPCG(1, 1))
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			req := vpc.NewDescribeSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &groups[rng.IntN(len(groups))]
			t0 := time.Now()
			res, err := c.DescribeSecurityGroupPolicies(req)
			lat = append(lat, time.Since(t0))
			if err != nil || len(res.Response.SecurityGroupPolicySet.Ingress) < 10 {
				b.Fatalf("DescribeSecurityGroupPolicies: %v", err)
			}
		}
		reportLatency(b, lat)
	})

	// seq numbers written policies across runs, so that none duplicates
	// another.
	var seq atomic.Int64

	// SimulateTraffic on instances whose effective lists are compiled
	// already (each instance simulated once before timing), then on
	// instances simulated for the first time since the last write.
	simulate := func(b *testing.B, c *vpc.Client, rng *rand.Rand, instance string) time.Duration {
		params := fmt.Sprintf(`{"InstanceId":%q,"Direction":%q,"Protocol":%q,"Address":"10.%d.%d.%d","Port":%d}`,
			instance, []string{"INGRESS", "EGRESS"}[rng.IntN(2)], []string{"TCP", "UDP", "ICMP"}[rng.IntN(3)],
			rng.IntN(256), rng.IntN(256), rng.IntN(256), 1+rng.IntN(10000))
		t0 := time.Now()
		err := simulateRaw(c, params)
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("SimulateTraffic: %v", err)
		}
		return d
	}
	b.Run("SimulateTraffic", func(b *testing.B) {
		c := e.vpc()
		rng := rand.New(rand.NewPCG(2, 2))
		for _, id := range instances {
			simulate(b, c, rng, id)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			lat = append(lat, simulate(b, c, rng, instances[rng.IntN(len(instances))]))
		}
		reportLatency(b, lat)
	})
	b.Run("SimulateTrafficFirstAfterWrite", func(b *testing.B) {
		// A write bumps the account's revision, so the next simulation of
		// every instance compiles its effective list again.
		c := e.vpc()
		rng := rand.New(rand.NewPCG(5, 5))
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			if i%len(instances) == 0 {
				b.StopTimer()
				req := vpc.NewCreateSecurityGroupPoliciesRequest()
				req.SecurityGroupId = &groups[0]
				n := seq.Add(1)
				req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Egress: policies(fmt.Sprintf("ACCEPT TCP 443 172.%d.%d.%d", 16+n>>16&15, n>>8&255, n&255))}
				if _, err := c.CreateSecurityGroupPolicies(req); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			lat = append(lat, simulate(b, c, rng, instances[i%len(instances)]))
		}
		reportLatency(b, lat)
	})
	b.Run("SimulateTrafficReresolve", func(b *testing.B) {
		// Before each simulation a platform address is added or removed,
		// a change the cache cannot attribute to any instance (as a write
		// through another replica sharing the database would be): the
		// simulated instance's lists are resolved from the store and
		// compiled again. Each instance is simulated once before timing,
		// as in SimulateTraffic.
		c := e.vpc()
		rng := rand.New(rand.NewPCG(6, 6))
		for _, id := range instances {
			simulate(b, c, rng, id)
		}
		ctx := context.Background()
		platform := netip.MustParsePrefix("198.18.0.0/15")
		added := false
		toggle := func() {
			var err error
			if added {
				err = e.svc.RemovePlatformAddress(ctx, platform)
			} else {
				err = e.svc.AddPlatformAddress(ctx, platform)
			}
			if err != nil {
				b.Fatal(err)
			}
			added = !added
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			toggle()
			lat = append(lat, simulate(b, c, rng, instances[rng.IntN(len(instances))]))
		}
		if added {
			toggle()
		}
		reportLatency(b, lat)
	})

	b.Run("PolicyWrites", func(b *testing.B) { policyWrites(b, e, groups, &seq) })
}

// policyWrites has 16 concurrent clients append one policy each to random
// groups, b.N in all, numbering the policies with seq so that none
// duplicates another; it reports writes per second and latencies.
func policyWrites(b *testing.B, e *env, groups []string, seq *atomic.Int64) {
	const clients = 16
	var (
		next    atomic.Int64
		mu      sync.Mutex
		lat     = make([]time.Duration, 0, b.N)
		wg      sync.WaitGroup
		failure atomic.Value
	)
	b.ResetTimer()
	t0 := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.vpc()
			rng := rand.New(rand.NewPCG(3, uint64(w)))
			var mine []time.Duration
			for {
				if next.Add(1) > int64(b.N) {
					break
				}
				n := seq.Add(1)
				req := vpc.NewCreateSecurityGroupPoliciesRequest()
				req.SecurityGroupId = &groups[rng.IntN(len(groups))]
				// n is unique, so the policy never duplicates another.
				cidr := fmt.Sprintf("172.%d.%d.%d", 16+n>>16&15, n>>8&255, n&255)
				req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 443 " + cidr)}
				s := time.Now()
				_, err := c.CreateSecurityGroupPolicies(req)
				mine = append(mine, time.Since(s))
				if err != nil {
					failure.Store(err)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if err, _ := failure.Load().(error); err != nil {
		b.Fatalf("CreateSecurityGroupPolicies: %v", err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	reportLatency(b, lat)
}

// simulateRaw sends SimulateTraffic with the SDK's common request, on the
// vpc client's connection settings.
func simulateRaw(c *vpc.Client, params string) error {
	req := mustCommonRequest("SimulateTraffic", params)
	return c.Send(req, newCommonResponse())
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive integer", name, v)
		}
		return n
	}
	return def
}

// reportLatency reports the p50 and p99 of lat in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(float64(len(lat))*p+0.5) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // latency percentiles say more than the mean
}

// seedGroups creates n groups of 10 inbound and 10 outbound policies through
// the service, several at a time.
func seedGroups(b *testing.B, e *env, n int) []string {
	b.Helper()
	ctx := context.Background()
	cred, err := e.svc.LookupCredential(ctx, e.admin.id)
	if err != nil {
		b.Fatal(err)
	}
	caller := cred.Caller(gz, "bench-seed")
	ids := make([]string, n)
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		fail atomic.Value
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				set := service.PolicySetInput{}
				for j := range 10 {
					set.Ingress = append(set.Ingress, service.PolicyInput{Raw: policy.Raw{
						Protocol: "TCP", Port: strconv.Itoa(1000 + j), CidrBlock: fmt.Sprintf("10.%d.%d.0/24", i%250, j), Action: "ACCEPT"}})
					set.Egress = append(set.Egress, service.PolicyInput{Raw: policy.Raw{
						Protocol: "UDP", Port: strconv.Itoa(2000 + j), CidrBlock: fmt.Sprintf("10.%d.%d.0/24", j, i%250), Action: "DROP"}})
				}
				g, _, err := e.svc.CreateSecurityGroup(ctx, caller, service.CreateGroupInput{Name: fmt.Sprintf("bench-%05d", i), Policies: &set})
				if err != nil {
					fail.Store(err)
					return
				}
				ids[i] = g.ID
			}
		}()
	}
	wg.Wait()
	if err, _ := fail.Load().(error); err != nil {
		b.Fatalf("seed groups: %v", err)
	}
	return ids
}

// seedInstances registers n instances through the API and binds each to 3
// random groups.
func seedInstances(b *testing.B, e *env, groups []string, n int) []string {
	b.Helper()
	var ids []string
	for len(ids) < n {
		batch := make([]instance, min(100, n-len(ids)))
		for i := range batch {
			k := len(ids) + i
			batch[i] = instance{name: fmt.Sprintf("b%d", k), ip: fmt.Sprintf("10.200.%d.%d", k/250, 1+k%250)}
		}
		ids = append(ids, e.register(gz, batch...)...)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	c := e.cvm()
	for _, id := range ids {
		req := cvm.NewModifyInstancesAttributeRequest()
		req.InstanceIds = common.StringPtrs([]string{id})
		a := rng.IntN(len(groups))
		req.SecurityGroups = common.StringPtrs([]string{groups[a], groups[(a+1+rng.IntN(100))%len(groups)], groups[(a+101+rng.IntN(100))%len(groups)]})
		if _, err := c.ModifyInstancesAttribute(req); err != nil {
			b.Fatalf("bind %s: %v", id, err)
		}
	}
	return ids
}
