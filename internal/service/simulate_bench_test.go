package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
)

// simulateOnce times one simulation of an instance with a random packet.
func simulateOnce(b *testing.B, env *benchEnv, rng *rand.Rand, instance string) time.Duration {
	in := service.SimulateInput{InstanceID: instance, Direction: []string{"INGRESS", "EGRESS"}[rng.IntN(2)], Protocol: "TCP",
		Address: fmt.Sprintf("10.%d.%d.7", rng.IntN(25), rng.IntN(250)), Port: 1 + rng.IntN(30)}
	t0 := time.Now()
	if _, err := env.svc.SimulateTraffic(context.Background(), env.caller, in); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// BenchmarkSimulateAfterWrite times the first simulation of every instance
// after a policy write to one group: the lists of the instances bound to it
// are compiled again, the others' are kept (the cache's change log shows the
// write does not concern them).
func BenchmarkSimulateAfterWrite(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, id := range env.instances {
		simulateOnce(b, env, rng, id)
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(env.instances) == 0 {
			b.StopTimer()
			gp, err := env.svc.DescribeSecurityGroupPolicies(ctx, env.caller, service.DescribePoliciesInput{SecurityGroupID: env.groups[0]})
			if err != nil {
				b.Fatal(err)
			}
			in := service.PoliciesInput{SecurityGroupID: env.groups[0], Set: service.PolicySetInput{Egress: []service.PolicyInput{
				{Raw: policy.Raw{Protocol: "TCP", Port: fmt.Sprint(20000 + len(gp.Egress)), CidrBlock: "192.0.2.0/24", Action: "ACCEPT"}}}}}
			if _, err := env.svc.CreateSecurityGroupPolicies(ctx, env.caller, in); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		ds = append(ds, simulateOnce(b, env, rng, env.instances[i%len(env.instances)]))
	}
	reportLatency(b, ds)
}

// BenchmarkSimulateRecompile times the first simulation of every instance
// after a change the cache cannot attribute — a platform address added or
// removed, as any write through another replica would be: every
// instance's lists are resolved from the store and compiled again.
func BenchmarkSimulateRecompile(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, id := range env.instances {
		simulateOnce(b, env, rng, id)
	}
	platform := netip.MustParsePrefix("198.18.0.0/15")
	added := false
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(env.instances) == 0 {
			b.StopTimer()
			var err error
			if added {
				err = env.svc.RemovePlatformAddress(ctx, platform)
			} else {
				err = env.svc.AddPlatformAddress(ctx, platform)
			}
			if err != nil {
				b.Fatal(err)
			}
			added = !added
			b.StartTimer()
		}
		ds = append(ds, simulateOnce(b, env, rng, env.instances[i%len(env.instances)]))
	}
	if added {
		if err := env.svc.RemovePlatformAddress(ctx, platform); err != nil {
			b.Fatal(err)
		}
	}
	reportLatency(b, ds)
}

// BenchmarkSimulateReresolve times a simulation of a random instance right
// after a platform address is added or removed: as after any write the
// cache cannot attribute (one through another replica, say), the
// instance's lists are resolved from the store and compiled again, and the
// store's readers find their page caches stale. Each instance is simulated
// once before timing.
func BenchmarkSimulateReresolve(b *testing.B) {
	env := benchSetup(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, id := range env.instances {
		simulateOnce(b, env, rng, id)
	}
	platform := netip.MustParsePrefix("198.18.0.0/15")
	added := false
	toggle := func() {
		var err error
		if added {
			err = env.svc.RemovePlatformAddress(ctx, platform)
		} else {
			err = env.svc.AddPlatformAddress(ctx, platform)
		}
		if err != nil {
			b.Fatal(err)
		}
		added = !added
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		toggle()
		ds = append(ds, simulateOnce(b, env, rng, env.instances[rng.IntN(len(env.instances))]))
	}
	if added {
		toggle()
	}
	reportLatency(b, ds)
}
