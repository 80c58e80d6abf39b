package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// replicas are two Services over one SQLite file, each with its own store
// handle and simulation cache, as two servers sharing a database.
type replicas struct {
	st     [2]store.Store
	svc    [2]*service.Service
	caller [2]service.Caller
	plat   [2]service.Caller
}

func newReplicas(t *testing.T) *replicas {
	t.Helper()
	path := filepath.Join(t.TempDir(), "palisade.db")
	var r replicas
	for i := range 2 {
		st, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		r.st[i], r.svc[i] = st, service.New(st, service.Options{})
	}
	ctx := context.Background()
	a, err := r.svc[0].CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := r.svc[0].CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c, err := r.svc[i].LookupCredential(ctx, a.SecretID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.svc[i].LookupCredential(ctx, pk.SecretID)
		if err != nil {
			t.Fatal(err)
		}
		r.caller[i], r.plat[i] = c.Caller("ap-guangzhou", "req"), p.Caller("ap-guangzhou", "req")
	}
	return &r
}

// sim returns a packet's decision on replica i as "VERDICT LAYER group#index".
func (r *replicas) sim(t *testing.T, i int, instance, dir, proto, addr string, port int) string {
	t.Helper()
	d, err := r.svc[i].SimulateTraffic(context.Background(), r.caller[i], service.SimulateInput{InstanceID: instance, Direction: dir, Protocol: proto, Address: addr, Port: port})
	if err != nil {
		t.Fatalf("SimulateTraffic on replica %d: %v", i, err)
	}
	out := fmt.Sprintf("%v %v", d.Verdict, d.Layer)
	if d.PolicyIndex != nil {
		out += fmt.Sprintf(" %s#%d", d.SecurityGroupID, *d.PolicyIndex)
	}
	return out
}

// TestSimulateAfterWrites checks that after each kind of write, made through
// either replica, the next simulation on both replicas reflects it: their
// caches hold compiled lists from before the write.
func TestSimulateAfterWrites(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t)
	a, c := r.svc[0], r.caller[0]
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	group := func(name string, ingress ...string) string {
		t.Helper()
		in := service.CreateGroupInput{Name: name, Policies: &service.PolicySetInput{}}
		for _, p := range ingress {
			in.Policies.Ingress = append(in.Policies.Ingress, raw(p))
		}
		g, _, err := a.CreateSecurityGroup(ctx, c, in)
		must(err)
		return g.ID
	}
	register := func(name, ip string, groups ...string) string {
		t.Helper()
		ids, err := a.RegisterInstances(ctx, r.plat[0], service.RegisterInstancesInput{AccountID: c.AccountID, Instances: []service.InstanceSpec{
			{InstanceName: name, Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{ip}, SecurityGroupIDs: groups}}})
		must(err)
		return ids[0]
	}

	ipm, err := a.CreateAddressTemplate(ctx, c, service.TemplateInput{Name: "office", Entries: []service.TemplateEntry{{Value: "192.0.2.10-192.0.2.20"}}})
	must(err)
	ipm2, err := a.CreateAddressTemplate(ctx, c, service.TemplateInput{Name: "lab", Entries: []service.TemplateEntry{{Value: "198.51.100.0/24"}}})
	must(err)
	ipmg, err := a.CreateAddressTemplateGroup(ctx, c, service.TemplateGroupInput{Name: "sites", TemplateIDs: []string{ipm2.ID}})
	must(err)
	ppm, err := a.CreateServiceTemplate(ctx, c, service.TemplateInput{Name: "web", Entries: []service.TemplateEntry{{Value: "tcp:80"}}})
	must(err)

	ref := group("ref")
	first := group("first",
		"ACCEPT TCP 3306 "+ref,
		"ACCEPT ALL ALL "+ipm.ID,
		"ACCEPT "+ppm.ID+" 203.0.113.0/24",
		"ACCEPT ALL ALL "+ipmg.ID,
	)
	second := group("second", "DROP ALL ALL 0.0.0.0/0")
	unrelated := group("unrelated", "ACCEPT TCP 22 0.0.0.0/0")
	member := register("member", "10.0.0.5", ref)
	other := register("other", "10.0.0.6")
	target := register("target", "10.0.0.9", first, second)
	register("bystander", "10.0.0.10", unrelated)

	type check struct {
		dir, proto, addr string
		port             int
		want             string
	}
	steps := []struct {
		name   string
		write  func(by int) error
		checks []check
	}{
		{"initial", nil, []check{
			{"INGRESS", "TCP", "10.0.0.5", 3306, "ACCEPT SECURITY_GROUP " + first + "#0"},
			{"INGRESS", "TCP", "10.0.0.6", 3306, "DROP SECURITY_GROUP " + second + "#0"},
			{"INGRESS", "UDP", "192.0.2.15", 53, "ACCEPT SECURITY_GROUP " + first + "#1"},
			{"INGRESS", "TCP", "203.0.113.7", 80, "ACCEPT SECURITY_GROUP " + first + "#2"},
			{"INGRESS", "TCP", "198.51.100.7", 1, "ACCEPT SECURITY_GROUP " + first + "#3"},
			{"EGRESS", "TCP", "8.8.8.8", 25, "DROP PLATFORM"},
			{"EGRESS", "UDP", "169.254.0.23", 53, "DROP DEFAULT"},
		}},
		{"write to a group the instance does not use", func(by int) error {
			_, err := r.svc[by].CreateSecurityGroupPolicies(ctx, r.caller[by], service.PoliciesInput{SecurityGroupID: unrelated,
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 3306 10.0.0.6")}}})
			return err
		}, []check{{"INGRESS", "TCP", "10.0.0.6", 3306, "DROP SECURITY_GROUP " + second + "#0"}}},
		{"policy inserted in a bound group", func(by int) error {
			_, err := r.svc[by].CreateSecurityGroupPolicies(ctx, r.caller[by], service.PoliciesInput{SecurityGroupID: first,
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{at(0, raw("DROP TCP 3306 10.0.0.5"))}}})
			return err
		}, []check{
			{"INGRESS", "TCP", "10.0.0.5", 3306, "DROP SECURITY_GROUP " + first + "#0"},
			{"INGRESS", "UDP", "192.0.2.15", 53, "ACCEPT SECURITY_GROUP " + first + "#2"},
		}},
		{"policy deleted", func(by int) error {
			_, err := r.svc[by].DeleteSecurityGroupPolicies(ctx, r.caller[by], service.PoliciesInput{SecurityGroupID: first,
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{idx(0)}}})
			return err
		}, []check{{"INGRESS", "TCP", "10.0.0.5", 3306, "ACCEPT SECURITY_GROUP " + first + "#0"}}},
		{"instance bound to the referenced group", func(by int) error {
			return r.svc[by].AssociateSecurityGroups(ctx, r.caller[by], service.BindInput{SecurityGroupIDs: []string{ref}, InstanceIDs: []string{other}})
		}, []check{{"INGRESS", "TCP", "10.0.0.6", 3306, "ACCEPT SECURITY_GROUP " + first + "#0"}}},
		{"instance unbound from the referenced group", func(by int) error {
			return r.svc[by].DisassociateSecurityGroups(ctx, r.caller[by], service.BindInput{SecurityGroupIDs: []string{ref}, InstanceIDs: []string{other}})
		}, []check{{"INGRESS", "TCP", "10.0.0.6", 3306, "DROP SECURITY_GROUP " + second + "#0"}}},
		{"instance registered into the referenced group", func(by int) error {
			_, err := r.svc[by].RegisterInstances(ctx, r.plat[by], service.RegisterInstancesInput{AccountID: c.AccountID, Instances: []service.InstanceSpec{
				{InstanceName: "late", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.7"}, SecurityGroupIDs: []string{ref}}}})
			return err
		}, []check{{"INGRESS", "TCP", "10.0.0.7", 3306, "ACCEPT SECURITY_GROUP " + first + "#0"}}},
		{"member's address changed in the store", func(by int) error {
			return r.st[by].Tx(ctx, func(tx store.Tx) error {
				in, err := tx.GetInstance(ctx, member)
				if err != nil {
					return err
				}
				in.PrivateIPs = []string{"10.0.0.55"}
				return tx.UpdateInstance(ctx, in)
			})
		}, []check{
			{"INGRESS", "TCP", "10.0.0.5", 3306, "DROP SECURITY_GROUP " + second + "#0"},
			{"INGRESS", "TCP", "10.0.0.55", 3306, "ACCEPT SECURITY_GROUP " + first + "#0"},
		}},
		{"member terminated: in the recycle bin it still counts", func(by int) error {
			return r.svc[by].TerminateInstances(ctx, r.caller[by], []string{member})
		}, []check{{"INGRESS", "TCP", "10.0.0.55", 3306, "ACCEPT SECURITY_GROUP " + first + "#0"}}},
		{"member purged", func(by int) error {
			return r.svc[by].PurgeInstances(ctx, r.plat[by], []string{member})
		}, []check{{"INGRESS", "TCP", "10.0.0.55", 3306, "DROP SECURITY_GROUP " + second + "#0"}}},
		{"address template edited", func(by int) error {
			return r.svc[by].ModifyAddressTemplateAttribute(ctx, r.caller[by], service.ModifyTemplateInput{ID: ipm.ID, Entries: []service.TemplateEntry{{Value: "192.0.2.30"}}})
		}, []check{
			{"INGRESS", "UDP", "192.0.2.15", 53, "DROP SECURITY_GROUP " + second + "#0"},
			{"INGRESS", "UDP", "192.0.2.30", 53, "ACCEPT SECURITY_GROUP " + first + "#1"},
		}},
		{"member of an address template group edited", func(by int) error {
			return r.svc[by].ModifyAddressTemplateAttribute(ctx, r.caller[by], service.ModifyTemplateInput{ID: ipm2.ID, Entries: []service.TemplateEntry{{Value: "198.51.100.200-198.51.100.255"}}})
		}, []check{
			{"INGRESS", "TCP", "198.51.100.7", 1, "DROP SECURITY_GROUP " + second + "#0"},
			{"INGRESS", "TCP", "198.51.100.201", 1, "ACCEPT SECURITY_GROUP " + first + "#3"},
		}},
		{"address template group's members changed", func(by int) error {
			return r.svc[by].ModifyAddressTemplateGroupAttribute(ctx, r.caller[by], service.ModifyTemplateGroupInput{ID: ipmg.ID, TemplateIDs: []string{ipm.ID}})
		}, []check{
			{"INGRESS", "TCP", "198.51.100.201", 1, "DROP SECURITY_GROUP " + second + "#0"},
			{"INGRESS", "TCP", "192.0.2.30", 1, "ACCEPT SECURITY_GROUP " + first + "#1"},
		}},
		{"service template edited", func(by int) error {
			return r.svc[by].ModifyServiceTemplateAttribute(ctx, r.caller[by], service.ModifyTemplateInput{ID: ppm.ID, Entries: []service.TemplateEntry{{Value: "tcp:443"}}})
		}, []check{
			{"INGRESS", "TCP", "203.0.113.7", 80, "DROP SECURITY_GROUP " + second + "#0"},
			{"INGRESS", "TCP", "203.0.113.7", 443, "ACCEPT SECURITY_GROUP " + first + "#2"},
		}},
		{"port 25 unblocked", func(by int) error {
			return r.svc[by].UnblockPort25(ctx, r.caller[by])
		}, []check{{"EGRESS", "TCP", "8.8.8.8", 25, "DROP DEFAULT"}}},
		{"platform address added", func(by int) error {
			return r.svc[by].AddPlatformAddress(ctx, mustPrefix("169.254.0.0/16"))
		}, []check{{"EGRESS", "UDP", "169.254.0.23", 53, "ACCEPT PLATFORM"}}},
		{"platform address removed", func(by int) error {
			return r.svc[by].RemovePlatformAddress(ctx, mustPrefix("169.254.0.0/16"))
		}, []check{{"EGRESS", "UDP", "169.254.0.23", 53, "DROP DEFAULT"}}},
		{"binding order changed", func(by int) error {
			return r.svc[by].ModifyInstancesAttribute(ctx, r.caller[by], service.ModifyInstancesInput{InstanceIDs: []string{target}, SecurityGroupIDs: []string{second, first}})
		}, []check{{"INGRESS", "TCP", "192.0.2.30", 1, "DROP SECURITY_GROUP " + second + "#0"}}},
		{"group unbound from the instance", func(by int) error {
			return r.svc[by].DisassociateSecurityGroups(ctx, r.caller[by], service.BindInput{SecurityGroupIDs: []string{second}, InstanceIDs: []string{target}})
		}, []check{
			{"INGRESS", "TCP", "192.0.2.30", 1, "ACCEPT SECURITY_GROUP " + first + "#1"},
			{"INGRESS", "TCP", "10.9.9.9", 1, "DROP DEFAULT"},
		}},
	}
	for n, step := range steps {
		// Every write is made once through each replica, on fresh data
		// where it matters: replica 0 writes in even steps, 1 in odd ones,
		// and both replicas' caches are warm before the write.
		for i := range 2 {
			for _, ch := range steps[max(0, n-1)].checks {
				r.sim(t, i, target, ch.dir, ch.proto, ch.addr, ch.port)
			}
		}
		if step.write != nil {
			if err := step.write(n % 2); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
		}
		for i := range 2 {
			for _, ch := range step.checks {
				if got := r.sim(t, i, target, ch.dir, ch.proto, ch.addr, ch.port); got != ch.want {
					t.Errorf("%s: replica %d: %s %s %s:%d = %s, want %s", step.name, i, ch.dir, ch.proto, ch.addr, ch.port, got, ch.want)
				}
			}
		}
	}
}

// TestSimulateTrace checks the trace and warnings of a decision.
func TestSimulateTrace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	g := f.group(t, f.admin, "g", "DROP TCP 22 10.0.0.0/8", "ACCEPT TCP 22 0.0.0.0/0")
	ins := f.instances(t, [][]string{{g}}, "a")
	d, err := f.svc.SimulateTraffic(ctx, f.admin, service.SimulateInput{InstanceID: ins[0], Direction: "INGRESS", Protocol: "TCP", Address: "192.0.2.1", Port: 22})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"packet: INGRESS TCP port 22 from 192.0.2.1, instance " + ins[0],
		"SECURITY_GROUP: " + g + " policy 0 (DROP TCP 22 from 10.0.0.0/8): no match",
		"SECURITY_GROUP: " + g + " policy 1 (ACCEPT TCP 22 from 0.0.0.0/0): ACCEPT",
	}
	if fmt.Sprint(d.Trace) != fmt.Sprint(want) {
		t.Errorf("Trace = %q, want %q", d.Trace, want)
	}
	d, err = f.svc.SimulateTraffic(ctx, f.admin, service.SimulateInput{InstanceID: ins[0], Direction: "EGRESS", Protocol: "TCP", Address: "192.0.2.25", Port: 25})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		"packet: EGRESS TCP port 25 to 192.0.2.25, instance " + ins[0],
		"PLATFORM: outbound TCP 25 is blocked for the account: DROP",
	}
	if fmt.Sprint(d.Trace) != fmt.Sprint(want) || len(d.Warnings) != 1 {
		t.Errorf("Trace = %q, warnings %q; want %q and the port 25 warning", d.Trace, d.Warnings, want)
	}
}
