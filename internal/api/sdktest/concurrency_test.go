package sdktest

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/service"
)

// success is one write that went through: the Version it named and what it
// did.
type success struct {
	version int
	op      string // append, insert, replace, delete
	policy  string // compact form; "" for delete
}

// TestConcurrentVersionedWrites: 16 goroutines write one group, each naming
// the Version it read. No update is lost, every failure is a version
// conflict (or, for a request identical to another worker's in the same
// second, a replayed signature: both change nothing), and the final policies equal a serial replay of the successes
// in the order of the Versions they named.
func TestConcurrentVersionedWrites(t *testing.T) {
	const (
		workers  = 16
		attempts = 12
		initial  = 30
	)
	e := newEnv(t, envOptions{quotas: service.Quotas{PoliciesPerDirection: 1000}})
	seed := make([]string, initial)
	for i := range seed {
		seed[i] = fmt.Sprintf("ACCEPT TCP %d 10.0.0.0/8", 40000+i)
	}
	g := e.group("contended", seed, nil)
	start := e.describe(e.vpc(), g)
	v0, _ := strconv.Atoi(*start.Version)

	var (
		mu        sync.Mutex
		successes []success
		failures  = map[string]int{}
		wg        sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.vpc()
			for i := range attempts {
				set := e.describe(c, g)
				version := *set.Version
				port := 1000 + w*100 + i
				p := fmt.Sprintf("ACCEPT TCP %d 192.0.2.0/24", port)
				op := []string{"append", "insert", "replace", "delete"}[(w+i)%4]
				if op == "delete" && len(set.Ingress) < 3 {
					op = "append"
				}
				var err error
				switch op {
				case "append", "insert":
					req := vpc.NewCreateSecurityGroupPoliciesRequest()
					req.SecurityGroupId = &g
					sp := pol(p)
					if op == "insert" {
						sp.PolicyIndex = common.Int64Ptr(0)
					}
					req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: &version, Ingress: []*vpc.SecurityGroupPolicy{sp}}
					_, err = c.CreateSecurityGroupPolicies(req)
				case "replace":
					req := vpc.NewReplaceSecurityGroupPolicyRequest()
					req.SecurityGroupId = &g
					sp := pol(p)
					sp.PolicyIndex = common.Int64Ptr(0)
					req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: &version, Ingress: []*vpc.SecurityGroupPolicy{sp}}
					_, err = c.ReplaceSecurityGroupPolicy(req)
				case "delete":
					req := vpc.NewDeleteSecurityGroupPoliciesRequest()
					req.SecurityGroupId = &g
					req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: &version, Ingress: []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(0)}}}
					_, err = c.DeleteSecurityGroupPolicies(req)
					p = ""
				}
				v, _ := strconv.Atoi(version)
				mu.Lock()
				if err == nil {
					successes = append(successes, success{version: v, op: op, policy: p})
				} else {
					failures[code(err)+" "+message(err)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	for f, n := range failures {
		if !strings.HasPrefix(f, "UnsupportedOperation.VersionMismatch ") && !strings.HasPrefix(f, "AuthFailure.SignatureFailure replayed signature") {
			t.Errorf("%d failures %q, want only UnsupportedOperation.VersionMismatch or a replayed signature", n, f)
		}
	}
	if len(successes) == 0 {
		t.Fatal("no write succeeded")
	}
	sort.Slice(successes, func(i, j int) bool { return successes[i].version < successes[j].version })
	model := slices.Clone(seed)
	for i, s := range successes {
		if s.version != v0+i {
			t.Fatalf("success %d named Version %d, want %d: two writes accepted the same Version, or one was lost", i, s.version, v0+i)
		}
		switch s.op {
		case "append":
			model = append(model, s.policy)
		case "insert":
			model = append([]string{s.policy}, model...)
		case "replace":
			model[0] = s.policy
		case "delete":
			model = model[1:]
		}
	}
	final := e.describe(e.vpc(), g)
	if want := strconv.Itoa(v0 + len(successes)); *final.Version != want {
		t.Errorf("final Version %s, want %s (%d successes)", *final.Version, want, len(successes))
	}
	if got := compact(final.Ingress); !slices.Equal(got, model) {
		t.Errorf("final policies differ from the serial replay of %d successes:\n got %q\nwant %q", len(successes), got, model)
	}
	t.Logf("%d successes, %d conflicts", len(successes), workers*attempts-len(successes))
}
