package reference_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/reference"
)

func pol(s string) policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return p
}

func input(dir policy.Direction) reference.Input {
	return reference.Input{
		Direction:         dir,
		Port25Blocked:     true,
		PlatformAddresses: []string{"169.254.0.0/16"},
		Groups: []reference.Group{
			{ID: "sg-0000000a"},
			{ID: "sg-0000000b", Policies: []policy.Policy{
				pol("DROP TCP 22 sg-0000peer"),
				pol("ACCEPT ppmg-00000001 ipm-00000001"),
				pol("ACCEPT TCP ALL 0.0.0.0/0"),
			}},
		},
		Members: map[string][]reference.Member{"sg-0000peer": {
			{State: "RUNNING", Addresses: []string{"10.0.0.5", "2001:db8::5"}},
			{State: "TERMINATED", Addresses: []string{"10.0.0.6"}},
		}},
		Templates: map[string][]string{
			"ipm-00000001":  {"192.0.2.0/25", "198.51.100.1-198.51.100.9", "2001:db8:1::1"},
			"ppm-00000001":  {"udp:53"},
			"ppm-00000002":  {"icmp"},
			"ppmg-00000001": {"ppm-00000001", "ppm-00000002"},
		},
	}
}

func TestDecide(t *testing.T) {
	sg := func(i int, v policy.Action) reference.Decision {
		return reference.Decision{Verdict: v, Layer: reference.LayerSecurityGroup, GroupID: "sg-0000000b", PolicyIndex: i}
	}
	platform := func(v policy.Action) reference.Decision {
		return reference.Decision{Verdict: v, Layer: reference.LayerPlatform, PolicyIndex: -1}
	}
	deflt := reference.Decision{Verdict: policy.Drop, Layer: reference.LayerDefault, PolicyIndex: -1}
	tests := []struct {
		name  string
		dir   policy.Direction
		peer  string
		proto uint8
		port  uint16
		want  reference.Decision
	}{
		{"member v4", policy.Ingress, "10.0.0.5", 6, 22, sg(0, policy.Drop)},
		{"member v6", policy.Ingress, "2001:db8::5", 6, 22, sg(0, policy.Drop)},
		{"terminated member", policy.Ingress, "10.0.0.6", 6, 22, sg(2, policy.Accept)},
		{"template group service udp", policy.Ingress, "198.51.100.5", 17, 53, sg(1, policy.Accept)},
		{"template group service icmp", policy.Ingress, "192.0.2.1", 1, 0, sg(1, policy.Accept)},
		{"icmp is not ipv6's", policy.Ingress, "2001:db8:1::1", 1, 0, deflt},
		{"outside the template", policy.Ingress, "198.51.100.10", 17, 53, deflt},
		{"platform address", policy.Ingress, "169.254.169.254", 17, 123, platform(policy.Accept)},
		{"port 25 blocked", policy.Egress, "203.0.113.1", 6, 25, platform(policy.Drop)},
		{"port 25 blocked to the platform", policy.Egress, "169.254.0.1", 6, 25, platform(policy.Drop)},
		{"port 25 ingress", policy.Ingress, "203.0.113.1", 6, 25, sg(2, policy.Accept)},
		{"mapped peer", policy.Ingress, "::ffff:10.0.0.5", 6, 22, sg(0, policy.Drop)},
		{"invalid peer", policy.Ingress, "", 6, 22, deflt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var peer netip.Addr
			if tt.peer != "" {
				peer = netip.MustParseAddr(tt.peer)
			}
			got, err := reference.Decide(input(tt.dir), peer, tt.proto, tt.port)
			if err != nil || got != tt.want {
				t.Errorf("Decide(%s, %d, %d) = %v, %v; want %v", tt.peer, tt.proto, tt.port, got, err, tt.want)
			}
		})
	}
}

// TestDecideFailsClosed checks that a value that does not parse or a
// reference that does not resolve refuses the decision, even where the
// packet would be decided before reaching it.
func TestDecideFailsClosed(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(in *reference.Input)
	}{
		{"member address", func(in *reference.Input) { in.Members["sg-0000peer"][0].Addresses[0] = "10.0.0.300" }},
		{"address entry", func(in *reference.Input) { in.Templates["ipm-00000001"][0] = "192.0.2.0/33" }},
		{"service entry", func(in *reference.Input) { in.Templates["ppm-00000001"][0] = "udp:0" }},
		{"missing template", func(in *reference.Input) { delete(in.Templates, "ipm-00000001") }},
		{"missing group member", func(in *reference.Input) { delete(in.Templates, "ppm-00000002") }},
		{"member of the wrong kind", func(in *reference.Input) { in.Templates["ppmg-00000001"][0] = "ipm-00000001" }},
		{"platform address", func(in *reference.Input) { in.PlatformAddresses[0] = "169.254.0.0" }},
		{"invalid policy", func(in *reference.Input) { in.Groups[1].Policies[2] = policy.Policy{} }},
		{"no direction", func(in *reference.Input) { in.Direction = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(policy.Egress)
			tt.corrupt(&in)
			if d, err := reference.Decide(in, netip.MustParseAddr("203.0.113.1"), 6, 25); err == nil {
				t.Errorf("Decide = %v, want an error", d)
			}
		})
	}
}

// TestDisabledAndExpiredPoliciesDoNotMatch: a disabled policy, and one
// expired at Now (at or before it), is passed over, even one whose peer
// does not resolve; a policy expiring after Now still decides.
func TestDisabledAndExpiredPoliciesDoNotMatch(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	drop := pol("DROP TCP 22 10.0.0.0/8")
	tests := []struct {
		name string
		edit func(p *policy.Policy)
		want reference.Decision
	}{
		{"active", func(*policy.Policy) {}, reference.Decision{Verdict: policy.Drop, Layer: reference.LayerSecurityGroup, GroupID: "sg-00000001", PolicyIndex: 0}},
		{"expiring after now", func(p *policy.Policy) { p.ExpiresAt = now.Add(time.Second) },
			reference.Decision{Verdict: policy.Drop, Layer: reference.LayerSecurityGroup, GroupID: "sg-00000001", PolicyIndex: 0}},
		{"disabled", func(p *policy.Policy) { p.Disabled = true }, reference.Decision{Verdict: policy.Accept, Layer: reference.LayerSecurityGroup, GroupID: "sg-00000001", PolicyIndex: 2}},
		{"expired at now", func(p *policy.Policy) { p.ExpiresAt = now }, reference.Decision{Verdict: policy.Accept, Layer: reference.LayerSecurityGroup, GroupID: "sg-00000001", PolicyIndex: 2}},
		{"expired before now", func(p *policy.Policy) { p.ExpiresAt = now.Add(-time.Hour) }, reference.Decision{Verdict: policy.Accept, Layer: reference.LayerSecurityGroup, GroupID: "sg-00000001", PolicyIndex: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := drop
			tt.edit(&p)
			// Policy 1 references a template that does not exist: passed
			// over only because it is disabled.
			broken := pol("DROP TCP 22 ipm-0000none")
			broken.Disabled = true
			in := reference.Input{Direction: policy.Ingress, Now: now, Groups: []reference.Group{{ID: "sg-00000001",
				Policies: []policy.Policy{p, broken, pol("ACCEPT TCP 22 0.0.0.0/0")}}}}
			got, err := reference.Decide(in, netip.MustParseAddr("10.1.2.3"), policy.NumTCP, 22)
			if err != nil || got != tt.want {
				t.Errorf("Decide = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
