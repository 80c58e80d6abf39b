package rules_test

import (
	"net/netip"
	"testing"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

func svc(proto, ports string) rules.Service {
	return rules.Service{Protocol: policy.MustParseProtocol(proto), Ports: policy.MustParsePortSet(ports)}
}

func TestPlatform(t *testing.T) {
	addrs := []netip.Prefix{pfx("169.254.0.0/16"), pfx("fd00:ec2::254/128")}
	tests := []struct {
		name    string
		dir     policy.Direction
		blocked bool
		want    []string // Describe of each entry
	}{
		{"egress blocked", policy.Egress, true, []string{
			"PLATFORM: outbound TCP 25 is blocked for the account",
			"PLATFORM: platform service address 169.254.0.0/16",
			"PLATFORM: platform service address fd00:ec2::254/128",
		}},
		{"egress unblocked", policy.Egress, false, []string{
			"PLATFORM: platform service address 169.254.0.0/16",
			"PLATFORM: platform service address fd00:ec2::254/128",
		}},
		{"ingress has no port 25 block", policy.Ingress, true, []string{
			"PLATFORM: platform service address 169.254.0.0/16",
			"PLATFORM: platform service address fd00:ec2::254/128",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := rules.Platform(tt.dir, tt.blocked, addrs)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != len(tt.want) {
				t.Fatalf("%d entries, want %d", len(es), len(tt.want))
			}
			for i, e := range es {
				if got := e.Describe(); got != tt.want[i] {
					t.Errorf("entry %d = %q, want %q", i, got, tt.want[i])
				}
				if e.Origin.Layer != rules.LayerPlatform || e.Origin.Direction != tt.dir || e.Origin.PolicyIndex != -1 || e.Origin.GroupID != "" {
					t.Errorf("entry %d origin = %+v", i, e.Origin)
				}
			}
		})
	}

	es, err := rules.Platform(policy.Egress, true, addrs)
	if err != nil {
		t.Fatal(err)
	}
	port25, meta := es[0], es[1]
	matches := []struct {
		name  string
		e     *rules.Entry
		peer  string
		proto uint8
		port  uint16
		want  bool
	}{
		{"25 anywhere v4", &port25, "203.0.113.9", 6, 25, true},
		{"25 anywhere v6", &port25, "2001:db8::9", 6, 25, true},
		{"25 mapped", &port25, "::ffff:203.0.113.9", 6, 25, true},
		{"26", &port25, "203.0.113.9", 6, 26, false},
		{"udp 25", &port25, "203.0.113.9", 17, 25, false},
		{"platform address any protocol", &meta, "169.254.169.254", 47, 0, true},
		{"platform address udp", &meta, "169.254.169.254", 17, 53, true},
		{"outside the platform address", &meta, "169.255.0.1", 17, 53, false},
		{"invalid peer", &meta, "", 17, 53, false},
	}
	for _, m := range matches {
		var a netip.Addr
		if m.peer != "" {
			a = addr(m.peer)
		}
		if got := m.e.Matches(a, m.proto, m.port); got != m.want {
			t.Errorf("%s: Matches(%v, %d, %d) = %v, want %v", m.name, m.peer, m.proto, m.port, got, m.want)
		}
	}
	if port25.Action != policy.Drop || port25.Origin.Platform != rules.PlatformPort25 || meta.Action != policy.Accept || meta.Origin.Platform != rules.PlatformAddress || meta.Origin.Prefix != addrs[0] {
		t.Errorf("platform entries = %+v %+v", port25, meta)
	}

	for _, bad := range [][]netip.Prefix{{{}}, {pfx("::ffff:10.0.0.0/104")}} {
		if _, err := rules.Platform(policy.Ingress, false, bad); err == nil {
			t.Errorf("Platform(%v) succeeded, want an error", bad)
		}
	}
	if _, err := rules.Platform(0, false, nil); err == nil {
		t.Error("Platform with no direction succeeded")
	}
}

func TestPolicyEntry(t *testing.T) {
	parse := func(s string) policy.Policy {
		q, err := policy.ParsePolicy(s)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	e, err := rules.PolicyEntry(policy.Ingress, "sg-00000001", 2, new(parse("ACCEPT TCP 22,80 10.0.0.0/8")), nil, rules.Addresses{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Describe() != "SECURITY_GROUP: sg-00000001 policy 2 (ACCEPT TCP 22,80 from 10.0.0.0/8)" || e.V6 != nil || e.Source.Kind != rules.SourceCIDR ||
		!e.Matches(addr("10.1.2.3"), 6, 80) || e.Matches(addr("10.1.2.3"), 6, 81) || e.Matches(addr("11.0.0.1"), 6, 80) {
		t.Errorf("CIDR entry = %+v", e)
	}
	if e.Anywhere() {
		t.Error("10.0.0.0/8 is anywhere")
	}
	any6, err := rules.PolicyEntry(policy.Ingress, "sg-00000001", 0, new(parse("ACCEPT TCP 22 ::/0")), nil, rules.Addresses{})
	if err != nil || !any6.Anywhere() || any6.Matches(addr("10.0.0.1"), 6, 22) {
		t.Errorf("::/0 entry = %+v, %v", any6, err)
	}

	var b netipx.IPSetBuilder
	b.Add(addr("10.9.9.9"))
	b.Add(addr("2001:db8::9"))
	src := rules.Source{Kind: rules.SourceSecurityGroup, ID: "sg-00000002"}
	as, err := rules.Split(src, &b)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := []rules.Service{svc("UDP", "53"), svc("ICMP", "ALL")}
	ref, err := rules.PolicyEntry(policy.Egress, "sg-00000001", 0, new(parse("DROP ppm-00000001 sg-00000002")), tmpl, as)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		peer  string
		proto uint8
		port  uint16
		want  bool
	}{
		{"10.9.9.9", 17, 53, true},
		{"2001:db8::9", 17, 53, true},
		{"10.9.9.9", 1, 0, true},
		{"2001:db8::9", 1, 0, false}, // ICMP is IPv4's
		{"10.9.9.8", 17, 53, false},
		{"10.9.9.9", 6, 53, false},
	}
	for _, c := range checks {
		if got := ref.Matches(addr(c.peer), c.proto, c.port); got != c.want {
			t.Errorf("reference entry Matches(%s, %d, %d) = %v, want %v", c.peer, c.proto, c.port, got, c.want)
		}
	}
	if ref.ServiceID != "ppm-00000001" || ref.Source != src || ref.Origin.Direction != policy.Egress {
		t.Errorf("reference entry = %+v", ref)
	}

	bad := []struct {
		name string
		p    policy.Policy
		svcs []rules.Service
		as   rules.Addresses
	}{
		{"invalid policy", policy.Policy{}, nil, rules.Addresses{}},
		{"addresses of another reference", parse("DROP ALL ALL sg-00000003"), nil, as},
		{"invalid template service", parse("DROP ppm-00000001 10.0.0.0/8"), []rules.Service{{Protocol: policy.ICMP, Ports: policy.MustParsePortSet("80")}}, rules.Addresses{}},
	}
	for _, tt := range bad {
		if _, err := rules.PolicyEntry(policy.Ingress, "sg-00000001", 0, &tt.p, tt.svcs, tt.as); err == nil {
			t.Errorf("%s: PolicyEntry succeeded, want an error", tt.name)
		}
	}
}

func TestServiceOverlaps(t *testing.T) {
	tests := []struct {
		a, b rules.Service
		want bool
	}{
		{svc("TCP", "25"), svc("TCP", "20-30"), true},
		{svc("TCP", "25"), svc("TCP", "80,443"), false},
		{svc("TCP", "25"), svc("TCP", "ALL"), true},
		{svc("TCP", "25"), svc("ALL", "ALL"), true},
		{svc("TCP", "25"), svc("UDP", "25"), false},
		{svc("ICMP", "ALL"), svc("ICMPv6", "ALL"), false},
		{svc("ICMP", "ALL"), svc("ALL", "ALL"), true},
		{svc("GRE", "ALL"), svc("GRE", "ALL"), true},
	}
	for _, tt := range tests {
		if got := tt.a.Overlaps(tt.b); got != tt.want {
			t.Errorf("%v.Overlaps(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := tt.b.Overlaps(tt.a); got != tt.want {
			t.Errorf("%v.Overlaps(%v) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
	if s := rules.Port25(); s.String() != "TCP 25" || rules.Port25Rule() != "outbound TCP 25" {
		t.Errorf("Port25 = %v, rule %q", s, rules.Port25Rule())
	}
}

func TestListDecide(t *testing.T) {
	es, err := rules.Platform(policy.Egress, true, []netip.Prefix{pfx("169.254.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	g, err := rules.PolicyEntry(policy.Egress, "sg-00000001", 0, &policy.Policy{Protocol: policy.TCP, Ports: policy.AllPorts(),
		Peer: policy.CIDRPeer(pfx("0.0.0.0/0")), Action: policy.Accept}, nil, rules.Addresses{})
	if err != nil {
		t.Fatal(err)
	}
	l := rules.List{Direction: policy.Egress, Entries: append(es, g)}
	for _, tt := range []struct {
		peer  string
		proto uint8
		port  uint16
		want  int
	}{
		{"8.8.8.8", 6, 25, 0},
		{"169.254.0.1", 17, 53, 1},
		{"8.8.8.8", 6, 443, 2},
		{"8.8.8.8", 17, 53, -1},
	} {
		if got := l.Decide(addr(tt.peer), tt.proto, tt.port); got != tt.want {
			t.Errorf("Decide(%s, %d, %d) = %d, want %d", tt.peer, tt.proto, tt.port, got, tt.want)
		}
	}
	if l.Len() != 3 {
		t.Errorf("Len = %d", l.Len())
	}
}

func TestLayerText(t *testing.T) {
	for l, want := range map[rules.Layer]string{rules.LayerPlatform: "PLATFORM", rules.LayerSecurityGroup: "SECURITY_GROUP", rules.LayerDefault: "DEFAULT"} {
		if b, err := l.MarshalText(); err != nil || string(b) != want {
			t.Errorf("MarshalText(%d) = %q, %v; want %q", l, b, err, want)
		}
	}
	if _, err := rules.Layer(0).MarshalText(); err == nil {
		t.Error("MarshalText of the zero layer succeeded")
	}
}

// TestAddressRanges checks that an entry's ranges are its sets' ranges,
// whether built by PolicyEntry, Platform or Split, or by hand, and that an
// entry whose sets were replaced after it was built reads the new sets'.
func TestAddressRanges(t *testing.T) {
	mixed := func() rules.Addresses {
		var b netipx.IPSetBuilder
		b.AddPrefix(pfx("10.0.0.0/24"))
		b.AddPrefix(pfx("10.0.2.0/24"))
		b.AddPrefix(pfx("fd00::/64"))
		a, err := rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: "sg-00000001"}, &b)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	entry := func(peer string, addrs rules.Addresses) rules.Entry {
		p, err := policy.ParsePolicy("ACCEPT TCP 22 " + peer)
		if err != nil {
			t.Fatal(err)
		}
		e, err := rules.PolicyEntry(policy.Ingress, "sg-00000002", 0, &p, nil, addrs)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	cidr, err := rules.PrefixAddresses(pfx("192.0.2.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	platform, err := rules.Platform(policy.Egress, true, []netip.Prefix{pfx("169.254.0.0/16"), pfx("fd00:ec2::254/128")})
	if err != nil {
		t.Fatal(err)
	}
	replaced := entry("10.9.0.0/16", rules.Addresses{})
	replaced.V4 = mixed().V4
	var b netipx.IPSetBuilder
	b.AddPrefix(pfx("10.1.0.0/16"))
	hand, _ := b.IPSet()
	tests := []struct {
		name string
		e    rules.Entry
	}{
		{"a CIDR peer built from its prefix", entry("10.9.0.0/16", rules.Addresses{})},
		{"a CIDR peer with shared addresses", entry("192.0.2.0/24", cidr)},
		{"an IPv6 CIDR peer", entry("2001:db8::/32", rules.Addresses{})},
		{"a reference of both families", entry("sg-00000001", mixed())},
		{"the port 25 block", platform[0]},
		{"a platform address", platform[1]},
		{"an IPv6 platform address", platform[2]},
		{"sets replaced after", replaced},
		{"built by hand", rules.Entry{V4: hand}},
		{"no sets", rules.Entry{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				is6 bool
				set *netipx.IPSet
			}{{false, tt.e.V4}, {true, tt.e.V6}} {
				var want []netipx.IPRange
				if c.set != nil {
					want = c.set.Ranges()
				}
				got := tt.e.AddressRanges(c.is6)
				if len(got) != len(want) {
					t.Fatalf("AddressRanges(%v) = %v, want %v", c.is6, got, want)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("AddressRanges(%v) = %v, want %v", c.is6, got, want)
					}
				}
			}
		})
	}
}

// TestDescribeShared checks that the description made once for an entry
// serves its copies, and that a copy whose origin or policy was changed
// after is described as it is.
func TestDescribeShared(t *testing.T) {
	p, err := policy.ParsePolicy("ACCEPT TCP 22 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	q, err := policy.ParsePolicy("DROP UDP 53 192.0.2.0/24")
	if err != nil {
		t.Fatal(err)
	}
	e, err := rules.PolicyEntry(policy.Ingress, "sg-00000001", 3, &p, nil, rules.Addresses{})
	if err != nil {
		t.Fatal(err)
	}
	const want = "SECURITY_GROUP: sg-00000001 policy 3 (ACCEPT TCP 22 from 10.0.0.0/8)"
	moved, other, egress := e, e, e
	moved.Origin.PolicyIndex = 4
	other.Policy = &q
	egress.Origin.Direction = policy.Egress
	tests := []struct {
		name string
		e    rules.Entry
		want string
	}{
		{"the entry", e, want},
		{"the entry again", e, want},
		{"a copy", e, want},
		{"a copy at another index", moved, "SECURITY_GROUP: sg-00000001 policy 4 (ACCEPT TCP 22 from 10.0.0.0/8)"},
		{"a copy of another policy", other, "SECURITY_GROUP: sg-00000001 policy 3 (DROP UDP 53 from 192.0.2.0/24)"},
		{"a copy in the other direction", egress, "SECURITY_GROUP: sg-00000001 policy 3 (ACCEPT TCP 22 to 10.0.0.0/8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Describe(); got != tt.want {
				t.Errorf("Describe() = %q, want %q", got, tt.want)
			}
		})
	}
}
