package client_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// hostEnv is a Palisade over a SQLite file with an account, the platform
// and two hosts, each with its agent's client.
type hostEnv struct {
	path            string
	st              store.Store
	admin, platform *client.Client
	account         string
	hostIDs         [2]string
	hosts           [2]*client.Client
}

func newHostEnv(t *testing.T) *hostEnv {
	t.Helper()
	e := &hostEnv{path: filepath.Join(t.TempDir(), "palisade.db")}
	st, err := sqlite.Open(e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	svc := service.New(st, service.Options{})
	srv := httptest.NewServer(api.NewHandler(api.Options{Service: svc}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.admin = client.New(srv.URL, a.SecretID, a.SecretKey, "ap-guangzhou")
	e.platform = client.New(srv.URL, p.SecretID, p.SecretKey, "ap-guangzhou")
	e.account = a.AccountID
	for i, name := range []string{"hv-1", "hv-2"} {
		h, err := svc.CreateHost(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		e.hostIDs[i] = h.HostID
		e.hosts[i] = client.New(srv.URL, h.SecretID, h.SecretKey, "")
	}
	return e
}

// group creates a group with ingress policies.
func (e *hostEnv) group(t *testing.T, name string, ingress ...wire.SecurityGroupPolicyInput) string {
	t.Helper()
	g := must[*wire.CreateSecurityGroupWithPoliciesResponse](t, "CreateSecurityGroupWithPolicies")(e.admin.CreateSecurityGroupWithPolicies(context.Background(), &wire.CreateSecurityGroupWithPoliciesRequest{
		GroupName: wire.NewString(name), GroupDescription: wire.NewString(""),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: ingress},
	}))
	return g.SecurityGroup.SecurityGroupId
}

// instance registers an instance on host i, bound to groups.
func (e *hostEnv) instance(t *testing.T, host int, name, ip string, groups ...string) string {
	t.Helper()
	ctx := context.Background()
	reg := must[*wire.RegisterInstancesResponse](t, "RegisterInstances")(e.platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{
		AccountId: wire.NewString(e.account),
		Instances: []wire.InstanceSpec{{
			InstanceName: wire.NewString(name), OsType: wire.NewString("linux"), Zone: wire.NewString("ap-guangzhou-3"),
			PrivateIpAddresses: wire.Strings(ip), HostId: wire.NewString(e.hostIDs[host]), Interface: wire.NewString("tap-" + name),
		}},
	}))
	id := reg.InstanceIdSet[0]
	if len(groups) > 0 {
		must[*wire.AssociateSecurityGroupsResponse](t, "AssociateSecurityGroups")(e.admin.AssociateSecurityGroups(ctx, &wire.AssociateSecurityGroupsRequest{
			SecurityGroupIds: wire.Strings(groups...), InstanceIds: wire.Strings(id),
		}))
	}
	return id
}

// addPolicy appends an ingress policy to a group.
func (e *hostEnv) addPolicy(t *testing.T, group string, p wire.SecurityGroupPolicyInput) {
	t.Helper()
	must[*wire.CreateSecurityGroupPoliciesResponse](t, "CreateSecurityGroupPolicies")(e.admin.CreateSecurityGroupPolicies(context.Background(), &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: wire.NewString(group), SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{p}},
	}))
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func instanceIDs(s wire.HostState) []string {
	var out []string
	for _, in := range s.Instances {
		out = append(out, in.InstanceId)
	}
	return out
}

func addressSet(s wire.HostState, id string) []string {
	for _, a := range s.AddressSets {
		if a.Id == id {
			return a.Addresses
		}
	}
	return nil
}

// TestHostState: a host credential reads its own host's state, and the
// lists it decodes decide as the server simulates; no other credential
// reads it, and a host credential reads nothing else.
func TestHostState(t *testing.T) {
	e := newHostEnv(t)
	ctx := context.Background()
	db := e.group(t, "db", policyIn("ACCEPT", "TCP", "5432", "10.0.0.0/8", ""))
	web := e.group(t, "web", policyIn("ACCEPT", "TCP", "22", "10.0.0.0/8", "ssh"),
		wire.SecurityGroupPolicyInput{Action: wire.NewString("ACCEPT"), Protocol: wire.NewString("TCP"), Port: wire.NewString("80"), SecurityGroupId: wire.NewString(db)})
	a := e.instance(t, 0, "web-1", "10.0.1.1", web)
	b := e.instance(t, 1, "db-1", "10.0.2.1", db)
	c := e.instance(t, 0, "spare", "10.0.1.2")

	st := must[*wire.DescribeHostStateResponse](t, "DescribeHostState")(e.hosts[0].DescribeHostState(ctx, nil))
	if got := instanceIDs(st.HostState); !slices.Equal(got, []string{a, c}) || st.HostId != e.hostIDs[0] || st.Revision <= 0 {
		t.Fatalf("DescribeHostState of host 1 = revision %d host %s instances %v, want host %s with %s and %s", st.Revision, st.HostId, got, e.hostIDs[0], a, c)
	}
	if got := addressSet(st.HostState, db); !slices.Equal(got, []string{"10.0.2.1/32"}) {
		t.Errorf("address set %s = %v, want the address of %s", db, got, b)
	}
	in := st.Instances[0]
	if in.Interface != "tap-web-1" || in.State != "RUNNING" || len(in.Ingress) != 2 || in.Ingress[1].AddressSetId != db || *in.Ingress[1].PolicyIndex != 1 ||
		len(in.Egress) != 1 || in.Egress[0].Platform != wire.PlatformPort25Blocked {
		t.Errorf("instance %s = %+v", a, in)
	}
	if got := instanceIDs(must[*wire.DescribeHostStateResponse](t, "DescribeHostState")(e.hosts[1].DescribeHostState(ctx, nil)).HostState); !slices.Equal(got, []string{b}) {
		t.Errorf("DescribeHostState of host 2 = %v, want only %s", got, b)
	}

	// The agent's lists decide as the server simulates.
	decoded, err := hoststate.Decode(st.HostState)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	ingress, err := eval.CompileList(decoded.Instances[0].Ingress)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		peer  string
		port  uint16
		group string
		index int
	}{
		{"ssh from the network", "10.9.9.9", 22, web, 0},
		{"http from the db group", "10.0.2.1", 80, web, 1},
		{"http from elsewhere", "10.9.9.9", 80, "", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := ingress.Decide(eval.Query{Peer: netip.MustParseAddr(tt.peer), Proto: 6, Port: tt.port})
			sim := must[*wire.SimulateTrafficResponse](t, "SimulateTraffic")(e.admin.SimulateTraffic(ctx, &wire.SimulateTrafficRequest{
				InstanceId: wire.NewString(a), Direction: wire.NewString("INGRESS"), Protocol: wire.NewString("TCP"), Address: wire.NewString(tt.peer), Port: wire.NewInt(int64(tt.port)),
			}))
			if d.Verdict.String() != sim.Verdict || d.GroupID != tt.group || d.PolicyIndex != tt.index {
				t.Errorf("agent's Decide = %v, want %s by %s policy %d as SimulateTraffic (%s)", d, sim.Verdict, tt.group, tt.index, sim.Verdict)
			}
		})
	}

	// Only a host credential calls the host protocol, and it nothing else.
	_, err = e.admin.DescribeHostState(ctx, nil)
	wantCode(t, "DescribeHostState by an admin", err, "UnauthorizedOperation")
	_, err = e.platform.WatchHostState(ctx, &wire.WatchHostStateRequest{WaitSeconds: wire.NewInt(0)})
	wantCode(t, "WatchHostState by the platform", err, "UnauthorizedOperation")
	_, err = e.admin.ReportHostStatus(ctx, &wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(1), AgentStartTime: wire.NewString("2026-01-01T00:00:00Z")})
	wantCode(t, "ReportHostStatus by an admin", err, "UnauthorizedOperation")
	_, err = e.hosts[0].DescribeInstances(ctx, nil)
	wantCode(t, "DescribeInstances by a host", err, "UnauthorizedOperation")
	_, err = e.hosts[0].SimulateTraffic(ctx, &wire.SimulateTrafficRequest{InstanceId: wire.NewString(b)})
	wantCode(t, "SimulateTraffic by a host", err, "UnauthorizedOperation")
}

// watch starts WatchHostState in the background and returns the channel
// of its answer.
func watch(t *testing.T, cl *client.Client, rev int64, wait int64) <-chan *wire.WatchHostStateResponse {
	t.Helper()
	ch := make(chan *wire.WatchHostStateResponse, 1)
	go func() {
		resp, err := cl.WatchHostState(context.Background(), &wire.WatchHostStateRequest{Revision: wire.NewInt(rev), WaitSeconds: wire.NewInt(wait)})
		if err != nil {
			t.Errorf("WatchHostState: %v", err)
			resp = nil
		}
		ch <- resp
	}()
	return ch
}

// TestWatchHostState: a watch wakes within a second on a write that may
// affect its host, not on one that cannot, and answers a revision the feed
// no longer holds with a resync.
func TestWatchHostState(t *testing.T) {
	e := newHostEnv(t)
	ctx := context.Background()
	db := e.group(t, "db", policyIn("ACCEPT", "TCP", "5432", "10.0.0.0/8", ""))
	web := e.group(t, "web", policyIn("ACCEPT", "TCP", "22", "10.0.0.0/8", "ssh"),
		wire.SecurityGroupPolicyInput{Action: wire.NewString("ACCEPT"), Protocol: wire.NewString("TCP"), Port: wire.NewString("80"), SecurityGroupId: wire.NewString(db)})
	other := e.group(t, "other", policyIn("ACCEPT", "TCP", "443", "0.0.0.0/0", ""))
	e.instance(t, 0, "web-1", "10.0.1.1", web)
	e.instance(t, 1, "other-1", "10.0.3.1", other)
	rev := must[*wire.DescribeHostStateResponse](t, "DescribeHostState")(e.hosts[0].DescribeHostState(ctx, nil)).Revision

	// Nothing changed: the wait runs out with the same revision.
	start := time.Now()
	resp := must[*wire.WatchHostStateResponse](t, "WatchHostState")(e.hosts[0].WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(rev), WaitSeconds: wire.NewInt(1)}))
	if resp.Changed || resp.Resync || resp.State != nil || resp.Revision != rev || time.Since(start) < 900*time.Millisecond {
		t.Errorf("WatchHostState with no change = %+v after %v, want unchanged revision %d after 1 s", resp, time.Since(start), rev)
	}

	// Another host's group changes: no wake-up. Then host 1's group
	// changes: a wake-up within a second, with the new state.
	ch := watch(t, e.hosts[0], rev, 10)
	time.Sleep(200 * time.Millisecond)
	e.addPolicy(t, other, policyIn("ACCEPT", "TCP", "8443", "0.0.0.0/0", ""))
	select {
	case r := <-ch:
		t.Fatalf("WatchHostState woke on another host's group: %+v", r)
	case <-time.After(1500 * time.Millisecond):
	}
	wrote := time.Now()
	e.addPolicy(t, web, policyIn("DROP", "TCP", "23", "0.0.0.0/0", "telnet"))
	select {
	case r := <-ch:
		if r == nil {
			t.Fatal("WatchHostState failed")
		}
		if d := time.Since(wrote); d > time.Second {
			t.Errorf("WatchHostState answered %v after the write, want within 1 s", d)
		}
		if !r.Changed || r.Resync || r.State == nil || r.Revision <= rev || r.State.Revision != r.Revision {
			t.Fatalf("WatchHostState after a write to %s = %+v, want Changed with the state", web, r)
		}
		if ing := r.State.Instances[0].Ingress; len(ing) != 3 || ing[2].Policy != "DROP TCP 23 0.0.0.0/0 # telnet" {
			t.Errorf("new state's ingress = %+v, want the new policy last", ing)
		}
		rev = r.Revision
	case <-time.After(3 * time.Second):
		t.Fatal("WatchHostState did not wake on a write to the host's group")
	}

	// Irrelevant writes before the watch: the answer moves the revision on,
	// unchanged.
	e.addPolicy(t, other, policyIn("ACCEPT", "TCP", "9443", "0.0.0.0/0", ""))
	resp = must[*wire.WatchHostStateResponse](t, "WatchHostState")(e.hosts[0].WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(rev), WaitSeconds: wire.NewInt(0)}))
	if resp.Changed || resp.Resync || resp.Revision != rev+1 {
		t.Errorf("WatchHostState after another host's write = %+v, want unchanged at revision %d", resp, rev+1)
	}
	rev = resp.Revision

	// A member of a group the host's policies reference is registered on
	// the other host: the referenced group's address set changes.
	ch = watch(t, e.hosts[0], rev, 10)
	time.Sleep(200 * time.Millisecond)
	e.instance(t, 1, "db-2", "10.0.2.2", db)
	select {
	case r := <-ch:
		if r == nil || !r.Changed || !slices.Equal(addressSet(*r.State, db), []string{"10.0.2.2/32"}) {
			t.Errorf("WatchHostState after a member joined %s = %+v, want its address set with the member", db, r)
		}
		rev = r.Revision
	case <-time.After(3 * time.Second):
		t.Fatal("WatchHostState did not wake when a referenced group gained a member")
	}

	// A new instance on the host wakes it.
	ch = watch(t, e.hosts[0], rev, 10)
	time.Sleep(200 * time.Millisecond)
	spare := e.instance(t, 0, "spare", "10.0.1.9")
	select {
	case r := <-ch:
		if r == nil || !r.Changed || !slices.Contains(instanceIDs(*r.State), spare) {
			t.Errorf("WatchHostState after %s was placed on the host = %+v", spare, r)
		}
		rev = r.Revision
	case <-time.After(3 * time.Second):
		t.Fatal("WatchHostState did not wake when an instance was placed on the host")
	}

	// A read after the changes: the current state, whether resolved again
	// or kept from the last answer.
	e.addPolicy(t, other, policyIn("ACCEPT", "TCP", "10443", "0.0.0.0/0", ""))
	cur := must[*wire.DescribeHostStateResponse](t, "DescribeHostState")(e.hosts[0].DescribeHostState(ctx, nil))
	if cur.Revision != rev+1 || !slices.Contains(instanceIDs(cur.HostState), spare) || len(cur.Instances[0].Ingress) != 3 {
		t.Errorf("DescribeHostState = revision %d, %v, want revision %d with %s", cur.Revision, instanceIDs(cur.HostState), rev+1, spare)
	}
	e.addPolicy(t, web, policyIn("DROP", "UDP", "69", "0.0.0.0/0", ""))
	cur = must[*wire.DescribeHostStateResponse](t, "DescribeHostState")(e.hosts[0].DescribeHostState(ctx, nil))
	if cur.Revision != rev+2 || len(cur.Instances[0].Ingress) != 4 {
		t.Errorf("DescribeHostState after a write to %s = revision %d, %d ingress rules, want revision %d with 4", web, cur.Revision, len(cur.Instances[0].Ingress), rev+2)
	}
	rev = cur.Revision

	// The feed no longer holds the revision: resync with the whole state.
	raw, err := sql.Open("sqlite", "file:"+e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM changes WHERE revision < ?`, rev); err != nil {
		t.Fatal(err)
	}
	resp = must[*wire.WatchHostStateResponse](t, "WatchHostState")(e.hosts[0].WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(1), WaitSeconds: wire.NewInt(5)}))
	if !resp.Resync || resp.State == nil || len(resp.State.Instances) != 2 || resp.Revision != rev {
		t.Errorf("WatchHostState from a compacted revision = %+v, want a resync with the state at %d", resp, rev)
	}
	resp = must[*wire.WatchHostStateResponse](t, "WatchHostState")(e.hosts[0].WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(rev + 100), WaitSeconds: wire.NewInt(5)}))
	if !resp.Resync || resp.State == nil {
		t.Errorf("WatchHostState from a revision ahead of the feed = %+v, want a resync", resp)
	}

	// Bad requests are refused and named.
	_, err = e.hosts[0].WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(rev), WaitSeconds: wire.NewInt(61)})
	wantCode(t, "WaitSeconds 61", err, "InvalidParameterValue.Range")
	_, err = e.hosts[0].WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(-1)})
	wantCode(t, "Revision -1", err, "InvalidParameterValue.Range")
}

// TestReportHostStatus: a report is stored, counters summed across the
// agent's restarts, and it is no change of the desired state.
func TestReportHostStatus(t *testing.T) {
	e := newHostEnv(t)
	ctx := context.Background()
	web := e.group(t, "web", policyIn("ACCEPT", "TCP", "22", "10.0.0.0/8", "ssh"))
	a := e.instance(t, 0, "web-1", "10.0.1.1", web)
	rev := must[*wire.DescribeHostStateResponse](t, "DescribeHostState")(e.hosts[0].DescribeHostState(ctx, nil)).Revision
	counter := func(packets, bytes int64) []wire.HostCounter {
		return []wire.HostCounter{
			{InstanceId: wire.NewString(a), Direction: wire.NewString("INGRESS"), SecurityGroupId: wire.NewString(web), PolicyIndex: wire.NewInt(0), Packets: wire.NewInt(packets), Bytes: wire.NewInt(bytes)},
			{InstanceId: wire.NewString(a), Direction: wire.NewString("EGRESS"), Platform: wire.NewString(wire.PlatformPort25Blocked), Packets: wire.NewInt(1), Bytes: wire.NewInt(60)},
		}
	}
	report := func(start string, packets, bytes int64) {
		t.Helper()
		must[*wire.ReportHostStatusResponse](t, "ReportHostStatus")(e.hosts[0].ReportHostStatus(ctx, &wire.ReportHostStatusRequest{
			AppliedRevision: wire.NewInt(rev), AgentStartTime: wire.NewString(start),
			Errors:   []wire.HostError{{InstanceId: wire.NewString(a), Message: wire.NewString("interface tap-web-1 missing")}},
			Counters: counter(packets, bytes),
		}))
	}
	report("2026-01-01T00:00:00Z", 10, 1000)
	report("2026-01-01T00:00:00Z", 25, 2500) // the same run: cumulative
	// Restarted: from zero again; one rule counted in two parts.
	must[*wire.ReportHostStatusResponse](t, "ReportHostStatus")(e.hosts[0].ReportHostStatus(ctx, &wire.ReportHostStatusRequest{
		AppliedRevision: wire.NewInt(rev), AgentStartTime: wire.NewString("2026-01-01T01:00:00Z"),
		Errors:   []wire.HostError{{InstanceId: wire.NewString(a), Message: wire.NewString("interface tap-web-1 missing")}},
		Counters: append(counter(2, 200), counter(3, 300)...),
	}))
	err := e.st.View(ctx, func(tx store.Tx) error {
		status, err := tx.GetHostStatus(ctx, e.hostIDs[0])
		if err != nil {
			return err
		}
		if status.AppliedRevision != rev || len(status.Errors) != 1 || status.Errors[0].InstanceID != a || !status.AgentStart.Equal(time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)) {
			t.Errorf("status = %+v", status)
		}
		counters, err := tx.GroupCounters(ctx, web)
		if err != nil {
			return err
		}
		if len(counters) != 1 || counters[0].Packets != 30 || counters[0].Bytes != 3000 || counters[0].Direction != policy.Ingress || counters[0].HostID != e.hostIDs[0] {
			t.Errorf("counters of %s = %+v, want 30 packets and 3000 bytes", web, counters)
		}
		head, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		if head != rev {
			t.Errorf("revision after reports = %d, want %d", head, rev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The group's statistics: every policy, summed over hosts.
	stats := must[*wire.DescribeSecurityGroupPolicyStatisticsResponse](t, "DescribeSecurityGroupPolicyStatistics")(e.admin.DescribeSecurityGroupPolicyStatistics(ctx,
		&wire.DescribeSecurityGroupPolicyStatisticsRequest{SecurityGroupId: wire.NewString(web)}))
	if len(stats.StatisticSet) != 1 {
		t.Fatalf("DescribeSecurityGroupPolicyStatistics = %+v, want one policy", stats)
	}
	if s := stats.StatisticSet[0]; s.Direction != "INGRESS" || s.PolicyIndex != 0 || s.Packets != 30 || s.Bytes != 3000 || s.Hosts != 1 || s.Since == "" || s.Until == "" {
		t.Errorf("statistics of %s policy 0 = %+v, want 30 packets, 3000 bytes from one host", web, s)
	}
	_, err = e.hosts[0].DescribeSecurityGroupPolicyStatistics(ctx, &wire.DescribeSecurityGroupPolicyStatisticsRequest{SecurityGroupId: wire.NewString(web)})
	wantCode(t, "statistics by a host", err, "UnauthorizedOperation")
	// Another host cannot report on this host's instance.
	_, err = e.hosts[1].ReportHostStatus(ctx, &wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(rev), AgentStartTime: wire.NewString("2026-01-01T00:00:00Z"), Counters: counter(1000, 1000)})
	wantCode(t, "counters of another host's instance", err, "InvalidParameterValue.Malformed")

	for _, tt := range []struct {
		name string
		req  wire.ReportHostStatusRequest
		code string
	}{
		{"revision ahead", wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(rev + 1000), AgentStartTime: wire.NewString("2026-01-01T00:00:00Z")}, "InvalidParameterValue.Range"},
		{"no revision", wire.ReportHostStatusRequest{AgentStartTime: wire.NewString("2026-01-01T00:00:00Z")}, "MissingParameter"},
		{"bad start", wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(1), AgentStartTime: wire.NewString("yesterday")}, "InvalidParameterValue.Malformed"},
		{"negative counter", wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(1), AgentStartTime: wire.NewString("2026-01-01T00:00:00Z"), Counters: counter(-1, 0)}, "InvalidParameterValue.Range"},
		{"bad direction", wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(1), AgentStartTime: wire.NewString("2026-01-01T00:00:00Z"),
			Counters: []wire.HostCounter{{InstanceId: wire.NewString(a), Direction: wire.NewString("UP"), SecurityGroupId: wire.NewString(web), PolicyIndex: wire.NewInt(0), Packets: wire.NewInt(1), Bytes: wire.NewInt(1)}}}, "InvalidParameterValue.Malformed"},
		{"group and platform", wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(1), AgentStartTime: wire.NewString("2026-01-01T00:00:00Z"),
			Counters: []wire.HostCounter{{InstanceId: wire.NewString(a), Direction: wire.NewString("INGRESS"), SecurityGroupId: wire.NewString(web), Platform: wire.NewString(wire.PlatformPort25Blocked), PolicyIndex: wire.NewInt(0), Packets: wire.NewInt(1), Bytes: wire.NewInt(1)}}}, "InvalidParameter.Coexist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.hosts[0].ReportHostStatus(ctx, &tt.req)
			wantCode(t, tt.name, err, tt.code)
		})
	}
}

// agent follows host i's state as an agent does, reporting each revision
// it reaches, until ctx ends.
func (e *hostEnv) agent(ctx context.Context, i int) {
	cl := e.hosts[i]
	start := wire.NewString(time.Now().UTC().Format(time.RFC3339))
	report := func(rev int64) {
		cl.ReportHostStatus(ctx, &wire.ReportHostStatusRequest{AppliedRevision: wire.NewInt(rev), AgentStartTime: start})
	}
	st, err := cl.DescribeHostState(ctx, nil)
	if err != nil {
		return
	}
	rev := st.Revision
	report(rev)
	for ctx.Err() == nil {
		w, err := cl.WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(rev), WaitSeconds: wire.NewInt(5)})
		if err != nil {
			return
		}
		if w.Revision != rev {
			rev = w.Revision
			report(rev)
		}
	}
}

// TestPropagation: which hosts a group's change affects, which have applied
// it, and a write that waits for them.
func TestPropagation(t *testing.T) {
	e := newHostEnv(t)
	ctx := context.Background()
	db := e.group(t, "db", policyIn("ACCEPT", "TCP", "5432", "10.0.0.0/8", ""))
	web := e.group(t, "web", policyIn("ACCEPT", "TCP", "22", "10.0.0.0/8", "ssh"),
		wire.SecurityGroupPolicyInput{Action: wire.NewString("ACCEPT"), Protocol: wire.NewString("TCP"), Port: wire.NewString("80"), SecurityGroupId: wire.NewString(db)})
	e.instance(t, 0, "web-1", "10.0.1.1", web)
	e.instance(t, 1, "db-1", "10.0.2.1", db)
	unbound := e.group(t, "unbound")

	propagation := func() map[string]wire.SecurityGroupPropagation {
		t.Helper()
		resp := must[*wire.DescribeSecurityGroupPropagationResponse](t, "DescribeSecurityGroupPropagation")(e.admin.DescribeSecurityGroupPropagation(ctx,
			&wire.DescribeSecurityGroupPropagationRequest{SecurityGroupIds: wire.Strings(web, db, unbound)}))
		out := map[string]wire.SecurityGroupPropagation{}
		for _, p := range resp.PropagationSet {
			out[p.SecurityGroupId] = p
		}
		return out
	}
	p := propagation()
	if w := p[web]; w.AffectedHosts != 1 || w.AppliedHosts != 0 || len(w.Laggards) != 1 || w.Laggards[0].HostId != e.hostIDs[0] || w.Laggards[0].AppliedRevision != nil || w.Revision == 0 {
		t.Errorf("propagation of %s before any report = %+v, want host 1 affected, never reported", web, w)
	}
	// db is bound on host 2 and referenced by web's policy on host 1.
	if d := p[db]; d.AffectedHosts != 2 || d.AppliedHosts != 0 {
		t.Errorf("propagation of %s = %+v, want both hosts affected", db, d)
	}
	if u := p[unbound]; u.AffectedHosts != 0 || len(u.Laggards) != 0 {
		t.Errorf("propagation of %s = %+v, want no host", unbound, u)
	}
	// The same, as a field of each group DescribeSecurityGroups lists.
	groups := must[*wire.DescribeSecurityGroupsResponse](t, "DescribeSecurityGroups")(e.admin.DescribeSecurityGroups(ctx,
		&wire.DescribeSecurityGroupsRequest{SecurityGroupIds: wire.Strings(web, db, unbound)}))
	for _, g := range groups.SecurityGroupSet {
		switch want := p[g.SecurityGroupId]; {
		case want.AffectedHosts == 0 && g.Propagation != nil:
			t.Errorf("DescribeSecurityGroups: %s, on no host, has Propagation %+v", g.SecurityGroupId, *g.Propagation)
		case want.AffectedHosts > 0 && (g.Propagation == nil || g.Propagation.AffectedHosts != want.AffectedHosts || g.Propagation.AppliedHosts != want.AppliedHosts || len(g.Propagation.Laggards) != len(want.Laggards)):
			t.Errorf("DescribeSecurityGroups: %s has Propagation %+v, want %+v", g.SecurityGroupId, g.Propagation, want)
		}
	}

	// Without an agent, a write that waits fails after its wait, naming
	// the host; the write itself is committed.
	start := time.Now()
	_, err := e.admin.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: wire.NewString(web), WaitApplied: wire.NewInt(1),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{policyIn("DROP", "TCP", "23", "0.0.0.0/0", "")}},
	})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "FailedOperation.NotApplied" || !strings.Contains(ce.Message, e.hostIDs[0]) || !strings.Contains(ce.Message, "committed") {
		t.Errorf("write with WaitApplied and no agent: %v, want FailedOperation.NotApplied naming %s", err, e.hostIDs[0])
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("write with WaitApplied 1 failed after %v, want after its wait", d)
	}
	set := must[*wire.DescribeSecurityGroupPoliciesResponse](t, "DescribeSecurityGroupPolicies")(e.admin.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(web)})).SecurityGroupPolicySet
	if len(set.Ingress) != 3 {
		t.Errorf("after the write that timed out: %d policies, want 3 (committed)", len(set.Ingress))
	}
	_, err = e.admin.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(web), WaitApplied: wire.NewInt(61),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{policyIn("DROP", "TCP", "24", "0.0.0.0/0", "")}}})
	wantCode(t, "WaitApplied 61", err, "InvalidParameterValue.Range")

	// With both agents following: the write returns once applied.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	go e.agent(actx, 0)
	go e.agent(actx, 1)
	must[*wire.CreateSecurityGroupPoliciesResponse](t, "CreateSecurityGroupPolicies with WaitApplied")(e.admin.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: wire.NewString(db), WaitApplied: wire.NewInt(10),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{policyIn("DROP", "TCP", "25", "0.0.0.0/0", "")}},
	}))
	p = propagation()
	if d := p[db]; d.AffectedHosts != 2 || d.AppliedHosts != 2 || len(d.Laggards) != 0 {
		t.Errorf("propagation of %s after a write that waited = %+v, want applied by both hosts", db, d)
	}
	// Unbinding waits for the host the instance is on, though it no
	// longer depends on the group.
	ins := e.instance(t, 1, "db-2", "10.0.2.2", db)
	must[*wire.DisassociateSecurityGroupsResponse](t, "DisassociateSecurityGroups with WaitApplied")(e.admin.DisassociateSecurityGroups(ctx, &wire.DisassociateSecurityGroupsRequest{
		SecurityGroupIds: wire.Strings(db), InstanceIds: wire.Strings(ins), WaitApplied: wire.NewInt(10),
	}))
	_, err = e.admin.DescribeSecurityGroupPropagation(ctx, &wire.DescribeSecurityGroupPropagationRequest{SecurityGroupIds: wire.Strings("sg-00000000")})
	wantCode(t, "propagation of a missing group", err, "ResourceNotFound")
	_, err = e.hosts[0].DescribeSecurityGroupPropagation(ctx, &wire.DescribeSecurityGroupPropagationRequest{SecurityGroupIds: wire.Strings(web)})
	wantCode(t, "propagation by a host", err, "UnauthorizedOperation")
}
