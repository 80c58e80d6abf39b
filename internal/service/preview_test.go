package service_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/palisade-sg/palisade/internal/service"
)

// regionText writes the regions of cs as "proto-proto port-port lo-hi".
func regionText(cs []service.TrafficChange) []string {
	var out []string
	for _, c := range cs {
		g := c.Region
		out = append(out, fmt.Sprintf("%d-%d %d-%d %v-%v", g.ProtoLo, g.ProtoHi, g.PortLo, g.PortHi, g.AddrLo, g.AddrHi))
	}
	return out
}

func TestPreviewSecurityGroupChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	web := f.group(t, f.admin, "web", "ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 80 0.0.0.0/0")
	deny := f.group(t, f.admin, "deny", "DROP TCP 80 192.0.2.0/24")
	ins := f.instances(t, [][]string{{web}, {deny, web}, {deny}}, "a", "b", "c")

	set := &service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 22,443 10.0.0.0/8"), raw("ACCEPT TCP 80 0.0.0.0/0")}}
	p, err := f.svc.PreviewSecurityGroupChange(ctx, f.admin, service.PreviewInput{SecurityGroupID: web, Set: set})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ip := range p.Instances {
		ids = append(ids, ip.InstanceID)
		if got, want := regionText(ip.Ingress.Gains), []string{"6-6 443-443 10.0.0.0-10.255.255.255"}; !slices.Equal(got, want) {
			t.Errorf("%s ingress gains %q, want %q", ip.InstanceID, got, want)
		}
		if o := ip.Ingress.Gains[0].Origin; o.GroupID != web || o.PolicyIndex != 0 {
			t.Errorf("%s gains port 443 by %+v, want %s policy 0", ip.InstanceID, o, web)
		}
		if len(ip.Ingress.Losses) != 0 || !ip.Egress.Empty() {
			t.Errorf("%s loses %q ingress, egress changes %q %q", ip.InstanceID, regionText(ip.Ingress.Losses), regionText(ip.Egress.Gains), regionText(ip.Egress.Losses))
		}
	}
	if want := ins[:2]; !slices.Equal(ids, want) {
		t.Errorf("previewed %v, want the instances bound to %s: %v", ids, web, want)
	}

	// Removing the port 80 policy: b loses port 80 except from 192.0.2.0/24,
	// which its first group already drops.
	set = &service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 22 10.0.0.0/8")}}
	p, err = f.svc.PreviewSecurityGroupChange(ctx, f.admin, service.PreviewInput{SecurityGroupID: web, Set: set})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		ins[0]: {"6-6 80-80 0.0.0.0-255.255.255.255"},
		ins[1]: {"6-6 80-80 0.0.0.0-192.0.1.255", "6-6 80-80 192.0.3.0-255.255.255.255"},
	}
	for _, ip := range p.Instances {
		if got := regionText(ip.Ingress.Losses); !slices.Equal(got, want[ip.InstanceID]) {
			t.Errorf("%s ingress losses %q, want %q", ip.InstanceID, got, want[ip.InstanceID])
		}
	}

	// Rebinding c to web as well, after deny.
	p, err = f.svc.PreviewSecurityGroupChange(ctx, f.admin, service.PreviewInput{InstanceID: ins[2], SecurityGroupIDs: []string{deny, web}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Instances) != 1 || p.Instances[0].InstanceID != ins[2] {
		t.Fatalf("rebinding previewed %+v, want %s alone", p.Instances, ins[2])
	}
	if got, want := regionText(p.Instances[0].Ingress.Gains), []string{
		"6-6 80-80 0.0.0.0-192.0.1.255", "6-6 22-22 10.0.0.0-10.255.255.255", "6-6 80-80 192.0.3.0-255.255.255.255",
	}; !slices.Equal(got, want) {
		t.Errorf("rebinding gains %q, want %q", got, want)
	}

	errs := []struct {
		name string
		in   service.PreviewInput
	}{
		{"nothing", service.PreviewInput{}},
		{"both", service.PreviewInput{SecurityGroupID: web, Set: set, InstanceID: ins[0]}},
		{"no set", service.PreviewInput{SecurityGroupID: web}},
		{"bad policy", service.PreviewInput{SecurityGroupID: web, Set: &service.PolicySetInput{Ingress: []service.PolicyInput{{}}}}},
		{"unknown group", service.PreviewInput{InstanceID: ins[2], SecurityGroupIDs: []string{"sg-00000000"}}},
		{"a group twice", service.PreviewInput{InstanceID: ins[2], SecurityGroupIDs: []string{web, web}}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := f.svc.PreviewSecurityGroupChange(ctx, f.admin, tt.in); err == nil {
				t.Errorf("PreviewSecurityGroupChange = %+v, want an error", p)
			}
		})
	}
	if _, err := f.svc.PreviewSecurityGroupChange(ctx, f.other, service.PreviewInput{SecurityGroupID: web, Set: set}); kindOf(err) != service.KindNotFound {
		t.Errorf("another account's group: %v, want not found", err)
	}
}

// bound10k returns a fixture with a 51-policy group bound to 10,000
// instances in three binding orders, the group and its policies.
func bound10k(b *testing.B) (*fixture, string, []string) {
	ctx := context.Background()
	f := newFixture(b, service.Options{Quotas: service.Quotas{InstancesPerGroup: 20_000}})
	var policies []string
	for i := range 50 {
		policies = append(policies, fmt.Sprintf("ACCEPT TCP %d 10.%d.0.0/16", 1000+i, i))
	}
	policies = append(policies, "ACCEPT TCP 22 203.0.113.0/24")
	web := f.group(b, f.admin, "web", policies...)
	other := f.group(b, f.admin, "other", "DROP TCP 1000-1010 10.0.0.0/8", "ACCEPT ICMP ALL 0.0.0.0/0")
	orders := [][]string{{web}, {other, web}, {web, other}}
	const n = 10_000
	for start := 0; start < n; start += 100 {
		var specs []service.InstanceSpec
		for i := start; i < start+100; i++ {
			specs = append(specs, service.InstanceSpec{InstanceName: fmt.Sprintf("i%d", i), Zone: "ap-guangzhou-3",
				PrivateIpAddresses: []string{fmt.Sprintf("10.200.%d.%d", i/250, 1+i%250)}, SecurityGroupIDs: orders[i%len(orders)]})
		}
		if _, err := f.svc.RegisterInstances(ctx, f.platform, service.RegisterInstancesInput{AccountID: f.accountID, Instances: specs}); err != nil {
			b.Fatal(err)
		}
	}
	return f, web, policies
}

// BenchmarkPreview10k previews a change to a group bound to 10,000
// instances, bound in three different orders with another group.
func BenchmarkPreview10k(b *testing.B) {
	ctx := context.Background()
	f, web, policies := bound10k(b)
	const n = 10_000
	set := &service.PolicySetInput{}
	for i, p := range policies {
		if i%3 != 0 {
			set.Ingress = append(set.Ingress, raw(p))
		}
	}
	set.Ingress = append(set.Ingress, raw("ACCEPT TCP 443 0.0.0.0/0"))
	b.ResetTimer()
	for b.Loop() {
		p, err := f.svc.PreviewSecurityGroupChange(ctx, f.admin, service.PreviewInput{SecurityGroupID: web, Set: set})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Instances) != n || p.Unchanged != 0 {
			b.Fatalf("previewed %d instances, %d unchanged", len(p.Instances), p.Unchanged)
		}
	}
}

// BenchmarkLockoutCheck10k writes a policy to a group bound to 10,000
// instances (and deletes it), with and without lockout protection: the
// check reads the bound instances and decides the caller's SSH packet
// through each binding order's lists before and after.
func BenchmarkLockoutCheck10k(b *testing.B) {
	f, web, _ := bound10k(b)
	for _, bc := range []struct {
		name  string
		guard service.WriteGuard
	}{{"unchecked", service.WriteGuard{}}, {"checked", service.WriteGuard{Source: netip.MustParseAddr("203.0.113.7")}}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := service.WithWriteGuard(context.Background(), bc.guard)
			for b.Loop() {
				if _, err := f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: web, Set: service.PolicySetInput{Ingress: []service.PolicyInput{at(0, raw("ACCEPT TCP 9999 0.0.0.0/0"))}}}); err != nil {
					b.Fatal(err)
				}
				if _, err := f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: web, Set: service.PolicySetInput{Ingress: []service.PolicyInput{idx(0)}}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
