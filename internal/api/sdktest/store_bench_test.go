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
// and opens its credential) on two servers side by side, one storing
// SecretKeys sealed under the master key and one in plain text, each with
// 100 groups of 20 policies. Clients (4 per CPU) alternate their requests
// between the two servers, so that both see the same machine load, and each
// request's latency is added to its server's total: it reports the mean
// microseconds per request of each and the overhead of sealing in percent.
// Requests are DescribeSecurityGroupPolicies of a random group and
// DescribeSecurityGroupLimits (the cheapest signed request, where the
// credential's share of the work is largest).
//
//	go test -run '^$' -bench BenchmarkAPIEncryption -benchtime 20000x -count 3 ./internal/api/sdktest/
func BenchmarkAPIEncryption(b *testing.B) {
	quotas := service.Quotas{GroupsPerRegion: 200}
	sealed := newEnv(b, envOptions{quotas: quotas})
	plain := newEnv(b, envOptions{quotas: quotas, store: sqlite.Options{Secrets: plainSecrets{}}})
	envs := []*env{sealed, plain}
	groups := [][]string{seedGroups(b, sealed, 100), seedGroups(b, plain, 100)}
	for _, action := range []string{"DescribeSecurityGroupPolicies", "DescribeSecurityGroupLimits"} {
		b.Run(action, func(b *testing.B) {
			var worker atomic.Uint64
			var total [2]atomic.Int64 // nanoseconds spent in requests to envs[i]
			var count [2]atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := worker.Add(1)
				clients := []*vpc.Client{envs[0].vpc(), envs[1].vpc()}
				rng := rand.New(rand.NewPCG(9, w))
				for i := int(w % 2); pb.Next(); i ^= 1 {
					var err error
					t0 := time.Now()
					if action == "DescribeSecurityGroupLimits" {
						_, err = clients[i].DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest())
					} else {
						req := vpc.NewDescribeSecurityGroupPoliciesRequest()
						req.SecurityGroupId = &groups[i][rng.IntN(len(groups[i]))]
						_, err = clients[i].DescribeSecurityGroupPolicies(req)
					}
					total[i].Add(int64(time.Since(t0)))
					count[i].Add(1)
					if err != nil {
						b.Errorf("%s: %v", action, err)
						return
					}
				}
			})
			mean := func(i int) float64 { return float64(total[i].Load()) / float64(max(1, count[i].Load())) / 1e3 }
			b.ReportMetric(mean(0), "sealed-µs/req")
			b.ReportMetric(mean(1), "plain-µs/req")
			b.ReportMetric(100*(mean(0)-mean(1))/mean(1), "overhead-%")
		})
	}
}
