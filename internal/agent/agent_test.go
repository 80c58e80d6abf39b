package agent_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/agent"
	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// env is a Palisade server over a SQLite file with an account, the
// platform and one host, and a switch that makes the server unreachable.
type env struct {
	st       store.Store
	srv      *httptest.Server
	admin    *client.Client
	platform *client.Client
	host     *client.Client
	hostID   string
	account  string

	mu   sync.Mutex
	down bool
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	e := &env{st: st}
	h := api.NewHandler(api.Options{Service: svc})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		down := e.down
		e.mu.Unlock()
		if down {
			hj, ok := w.(http.Hijacker)
			if ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hst, err := svc.CreateHost(ctx, "hv-1")
	if err != nil {
		t.Fatal(err)
	}
	e.admin = client.New(e.srv.URL, a.SecretID, a.SecretKey, "ap-guangzhou")
	e.platform = client.New(e.srv.URL, p.SecretID, p.SecretKey, "ap-guangzhou")
	e.host = client.New(e.srv.URL, hst.SecretID, hst.SecretKey, "")
	e.hostID, e.account = hst.HostID, a.AccountID
	return e
}

func (e *env) setDown(down bool) {
	e.mu.Lock()
	e.down = down
	e.mu.Unlock()
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func policyInput(proto, port, cidr, action string) wire.SecurityGroupPolicyInput {
	return wire.SecurityGroupPolicyInput{Protocol: wire.NewString(proto), Port: wire.NewString(port), CidrBlock: wire.NewString(cidr), Action: wire.NewString(action)}
}

// setup creates a group with one ingress policy and an instance on the
// host bound to it.
func (e *env) setup(t *testing.T) (group, instance string) {
	t.Helper()
	ctx := context.Background()
	g := must[*wire.CreateSecurityGroupWithPoliciesResponse](t, "CreateSecurityGroupWithPolicies")(e.admin.CreateSecurityGroupWithPolicies(ctx, &wire.CreateSecurityGroupWithPoliciesRequest{
		GroupName: wire.NewString("web"), GroupDescription: wire.NewString(""),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{policyInput("TCP", "22", "10.0.0.0/8", "ACCEPT")}},
	}))
	group = g.SecurityGroup.SecurityGroupId
	reg := must[*wire.RegisterInstancesResponse](t, "RegisterInstances")(e.platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{
		AccountId: wire.NewString(e.account),
		Instances: []wire.InstanceSpec{{
			InstanceName: wire.NewString("a"), OsType: wire.NewString("linux"), Zone: wire.NewString("ap-guangzhou-3"),
			PrivateIpAddresses: wire.Strings("192.168.1.2"), HostId: wire.NewString(e.hostID), Interface: wire.NewString("tap-a"),
		}},
	}))
	instance = reg.InstanceIdSet[0]
	must[*wire.AssociateSecurityGroupsResponse](t, "AssociateSecurityGroups")(e.admin.AssociateSecurityGroups(ctx, &wire.AssociateSecurityGroupsRequest{
		SecurityGroupIds: wire.Strings(group), InstanceIds: wire.Strings(instance),
	}))
	return group, instance
}

func (e *env) addPolicy(t *testing.T, group string, p wire.SecurityGroupPolicyInput) {
	t.Helper()
	must[*wire.CreateSecurityGroupPoliciesResponse](t, "CreateSecurityGroupPolicies")(e.admin.CreateSecurityGroupPolicies(context.Background(), &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: wire.NewString(group), SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{p}},
	}))
}

// elements returns the number of map elements of the fake's table: the
// regions of every list.
func elements(fake *knftables.Fake) int {
	return strings.Count(fake.Dump(), "add element ")
}

// eventually waits up to d for cond.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	t0 := time.Now()
	for !cond() {
		if time.Since(t0) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(t0)
}

func (e *env) status(t *testing.T) (store.HostStatus, bool) {
	t.Helper()
	var s store.HostStatus
	err := e.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		s, err = tx.GetHostStatus(context.Background(), e.hostID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return s, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, true
}

func revision(t *testing.T, st store.Store) int64 {
	t.Helper()
	var rev int64
	if err := st.View(context.Background(), func(tx store.Tx) error {
		var err error
		rev, err = tx.Revision(context.Background())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return rev
}

func startAgent(t *testing.T, src agent.Source, fake *knftables.Fake, stateDir string) (*agent.Agent, context.CancelFunc) {
	t.Helper()
	a, err := agent.New(agent.Options{Source: src, Kernel: agent.NewKernelOver(fake), Mode: nft.Hypervisor, StateDir: stateDir,
		DriftInterval: 50 * time.Millisecond, ReportInterval: 100 * time.Millisecond, WatchWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx) //nolint:errcheck // returns nil
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return a, stop
}

// TestAgentFollows: the agent applies the host's state, a write reaches the
// table promptly, and the agent reports the revision it applied.
func TestAgentFollows(t *testing.T) {
	e := newEnv(t)
	group, instance := e.setup(t)
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	a, _ := startAgent(t, e.host, fake, t.TempDir())
	eventually(t, 2*time.Second, "first apply", func() bool { return a.Revision() == revision(t, e.st) })
	before := elements(fake)
	if before == 0 {
		t.Fatalf("the table has no elements after the first apply:\n%s", fake.Dump())
	}
	e.addPolicy(t, group, policyInput("TCP", "80", "0.0.0.0/0", "DROP"))
	rev := revision(t, e.st)
	took := eventually(t, time.Second, "a policy added reaches the table", func() bool {
		return a.Revision() >= rev && strings.Contains(fake.Dump(), ". 80 : drop")
	})
	t.Logf("write → applied in %v", took)
	eventually(t, 2*time.Second, "the applied revision is reported", func() bool {
		s, ok := e.status(t)
		return ok && s.AppliedRevision >= rev
	})
	if !strings.Contains(fake.Dump(), instance) {
		t.Errorf("the table does not name instance %s:\n%s", instance, fake.Dump())
	}
}

// TestAgentRepairsDrift: a table deleted behind the agent is applied again.
func TestAgentRepairsDrift(t *testing.T) {
	e := newEnv(t)
	e.setup(t)
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	a, _ := startAgent(t, e.host, fake, t.TempDir())
	eventually(t, 2*time.Second, "first apply", func() bool { return a.Revision() == revision(t, e.st) })
	want := fake.Dump()
	tx := fake.NewTransaction()
	tx.Delete(&knftables.Table{})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 2*time.Second, "the table deleted is restored", func() bool { return fake.Dump() == want })
	t.Logf("restored in %v", took)

	// An element deleted from a map, and a rule added to a chain.
	for _, change := range []func(tx *knftables.Transaction){
		func(tx *knftables.Transaction) {
			fake.RLock()
			defer fake.RUnlock()
			for _, name := range slices.Sorted(maps.Keys(fake.Table.Maps)) {
				if m := fake.Table.Maps[name]; len(m.Elements) > 0 {
					e := *m.Elements[0]
					tx.Delete(&e)
					return
				}
			}
			t.Fatal("no map with an element")
		},
		func(tx *knftables.Transaction) {
			fake.RLock()
			defer fake.RUnlock()
			tx.Add(&knftables.Rule{Chain: slices.Sorted(maps.Keys(fake.Table.Chains))[0], Rule: "accept"})
		},
	} {
		tx := fake.NewTransaction()
		change(tx)
		if err := fake.Run(context.Background(), tx); err != nil {
			t.Fatal(err)
		}
		if fake.Dump() == want {
			t.Fatal("the change changed nothing")
		}
		took := eventually(t, 2*time.Second, "the table changed is restored", func() bool { return fake.Dump() == want })
		t.Logf("restored in %v", took)
	}
}

// TestAgentFailStatic: with the server unreachable the rules stay; a new
// agent started while the server is still down restores them from the
// state directory; once the server is back, changes flow again.
func TestAgentFailStatic(t *testing.T) {
	e := newEnv(t)
	group, _ := e.setup(t)
	dir := t.TempDir()
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	a, stop := startAgent(t, e.host, fake, dir)
	eventually(t, 2*time.Second, "first apply", func() bool { return a.Revision() == revision(t, e.st) })
	want := fake.Dump()
	e.setDown(true)
	time.Sleep(300 * time.Millisecond)
	if got := fake.Dump(); got != want {
		t.Fatalf("with the server down the table changed:\n%s\nwant:\n%s", got, want)
	}
	stop()

	// A restart, on a fresh kernel, with the server still down.
	fresh := knftables.NewFake(knftables.InetFamily, nft.Table)
	b, _ := startAgent(t, e.host, fresh, dir)
	eventually(t, 2*time.Second, "restored from the state directory", func() bool { return fresh.Dump() == want })
	e.setDown(false)
	e.addPolicy(t, group, policyInput("UDP", "53", "10.0.0.0/8", "ACCEPT"))
	rev := revision(t, e.st)
	eventually(t, 10*time.Second, "a change after the server is back", func() bool { return b.Revision() >= rev && fresh.Dump() != want })
}

// TestAgentDryRun prints the ruleset without touching the kernel.
func TestAgentDryRun(t *testing.T) {
	e := newEnv(t)
	_, instance := e.setup(t)
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	a, err := agent.New(agent.Options{Source: e.host, Kernel: agent.NewKernelOver(fake), Mode: nft.Hypervisor})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := a.Once(context.Background(), true, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "table inet palisade") || !strings.Contains(out.String(), "tap-a") || !strings.Contains(out.String(), instance) {
		t.Errorf("dry run printed:\n%s", out.String())
	}
	fake.RLock()
	touched := fake.Table != nil
	fake.RUnlock()
	if touched {
		t.Error("a dry run changed the kernel")
	}
}
