package sdktest

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// BenchmarkAPIDurability runs the PolicyWrites benchmark of BenchmarkAPI on
// two stores side by side, one committing with synchronous=FULL (the
// default: each acknowledged write survives a power loss) and one with
// synchronous=NORMAL, each with PALISADE_BENCH_GROUPS groups (default
// 1,000) of 20 policies.
//
//	go test -run '^$' -bench BenchmarkAPIDurability -benchtime 3000x ./internal/api/sdktest/
func BenchmarkAPIDurability(b *testing.B) {
	nGroups := envInt(b, "PALISADE_BENCH_GROUPS", 1000)
	for _, sync := range []sqlite.Synchronous{sqlite.SyncFull, sqlite.SyncNormal} {
		b.Run("synchronous="+sync.String(), func(b *testing.B) {
			e := newEnv(b, envOptions{store: sqlite.Options{Synchronous: sync}, quotas: service.Quotas{
				GroupsPerRegion: nGroups + 100, PoliciesPerDirection: 10000,
			}})
			groups := seedGroups(b, e, nGroups)
			var seq atomic.Int64
			b.Run("PolicyWrites", func(b *testing.B) { policyWrites(b, e, groups, &seq) })
		})
	}
}

// plainSecrets stores SecretKeys as they are: the baseline that measures
// what sealing them costs.
type plainSecrets struct{}

func (plainSecrets) Seal(_, secret string) (string, error) { return secret, nil }
func (plainSecrets) Open(_, stored string) (string, error) { return stored, nil }

// BenchmarkAPIEncryption measures the API read path (every request looks up
// and opens its credential) with SecretKeys sealed under the master key and,
// side by side, stored in plain text: 8 concurrent SDK clients, each request
// a DescribeSecurityGroupPolicies of one of 100 groups, or a
// DescribeSecurityGroupLimits (the cheapest signed request, where the
// credential's share of the work is largest). It reports requests per
// second.
//
//	go test -run '^$' -bench BenchmarkAPIEncryption -benchtime 20000x -count 3 ./internal/api/sdktest/
func BenchmarkAPIEncryption(b *testing.B) {
	for _, mode := range []struct {
		name    string
		secrets sqlite.Options
	}{
		{"secrets=sealed", sqlite.Options{}},
		{"secrets=plain", sqlite.Options{Secrets: plainSecrets{}}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			e := newEnv(b, envOptions{store: mode.secrets, quotas: service.Quotas{GroupsPerRegion: 200}})
			groups := seedGroups(b, e, 100)
			for _, action := range []string{"DescribeSecurityGroupPolicies", "DescribeSecurityGroupLimits"} {
				b.Run(action, func(b *testing.B) {
					var worker atomic.Uint64
					b.SetParallelism(4) // 4 × GOMAXPROCS clients
					b.ResetTimer()
					t0 := time.Now()
					b.RunParallel(func(pb *testing.PB) {
						c := e.vpc()
						rng := rand.New(rand.NewPCG(9, worker.Add(1)))
						for pb.Next() {
							var err error
							if action == "DescribeSecurityGroupLimits" {
								_, err = c.DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest())
							} else {
								req := vpc.NewDescribeSecurityGroupPoliciesRequest()
								req.SecurityGroupId = &groups[rng.IntN(len(groups))]
								_, err = c.DescribeSecurityGroupPolicies(req)
							}
							if err != nil {
								b.Errorf("%s: %v", action, err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "req/s")
				})
			}
		})
	}
}
