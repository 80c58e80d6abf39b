package regions_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/regions"
	"github.com/palisade-sg/palisade/internal/rules"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

func pol(s string) policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return p
}

// list builds an ingress list of group sg-00000001 from policies written
// as policy.ParsePolicy reads them.
func list(tb testing.TB, policies ...string) rules.List {
	tb.Helper()
	l := rules.List{Direction: policy.Ingress}
	for i, s := range policies {
		e, err := rules.PolicyEntry(policy.Ingress, "sg-00000001", i, new(pol(s)), nil, rules.Addresses{})
		if err != nil {
			tb.Fatal(err)
		}
		l.Entries = append(l.Entries, e)
	}
	return l
}

func compute(tb testing.TB, l rules.List, limit int) *regions.Result {
	tb.Helper()
	r, err := regions.Compute(l, limit)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name     string
		policies []string
		want     []string // every region, V4Ports, V4NoPorts, V6Ports, V6NoPorts in order
	}{
		{"empty", nil, nil},
		{"one port", []string{"ACCEPT TCP 22 10.0.0.0/8"}, []string{
			"6-6 22-22 10.0.0.0-10.255.255.255 0",
		}},
		{"tcp and udp merge", []string{"ACCEPT ALL ALL 10.0.0.0/8"}, []string{
			"6-17 0-65535 10.0.0.0-10.255.255.255 0",
			"0-255 0-0 10.0.0.0-10.255.255.255 0",
		}},
		{"a hole cut by an earlier drop", []string{"DROP TCP 80 10.1.0.0/16", "ACCEPT TCP 80 10.0.0.0/8"}, []string{
			"6-6 80-80 10.0.0.0-10.0.255.255 1",
			"6-6 80-80 10.1.0.0-10.1.255.255 0",
			"6-6 80-80 10.2.0.0-10.255.255.255 1",
		}},
		{"a shadowed policy owns nothing", []string{"ACCEPT TCP ALL 0.0.0.0/0", "DROP TCP 22 10.0.0.0/8"}, []string{
			"6-6 0-65535 0.0.0.0-255.255.255.255 0",
		}},
		{"icmp is ipv4's, icmpv6 ipv6's", []string{"ACCEPT ICMP ALL 0.0.0.0/0", "ACCEPT ICMPv6 ALL ::/0", "DROP ALL ALL ::/0"}, []string{
			"1-1 0-0 0.0.0.0-255.255.255.255 0",
			"6-17 0-65535 ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 2",
			"0-57 0-0 ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 2",
			"58-58 0-0 ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 1",
			"59-255 0-0 ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 2",
		}},
		{"port lists and ranges", []string{"ACCEPT TCP 80,443,8000-8080 192.0.2.0/24", "DROP UDP 53 192.0.2.0/24"}, []string{
			"6-6 80-80 192.0.2.0-192.0.2.255 0",
			"6-6 443-443 192.0.2.0-192.0.2.255 0",
			"6-6 8000-8080 192.0.2.0-192.0.2.255 0",
			"17-17 53-53 192.0.2.0-192.0.2.255 1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := compute(t, list(t, tt.policies...), 0)
			var got []string
			for _, s := range [][]regions.Region{r.V4Ports, r.V4NoPorts, r.V6Ports, r.V6NoPorts} {
				for _, g := range s {
					got = append(got, fmt.Sprintf("%d-%d %d-%d %v-%v %d", g.ProtoLo, g.ProtoHi, g.PortLo, g.PortHi, g.AddrLo, g.AddrHi, g.Owner))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Compute = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	l := list(t, "ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 22 2001:db8::/32")
	l.Entries[0].Action = 0
	l.Entries[1].V4 = l.Entries[1].V6
	if _, err := regions.Compute(l, 0); err == nil {
		t.Fatal("Compute accepted an invalid action and a set of the wrong family")
	}
	if _, err := regions.Compute(rules.List{}, 0); err == nil {
		t.Fatal("Compute accepted a list without a direction")
	}
}

func TestComputeLimit(t *testing.T) {
	var ps []string
	for i := range 100 {
		ps = append(ps, fmt.Sprintf("ACCEPT TCP %d 10.0.%d.0/24", 1000+i, i))
	}
	l := list(t, ps...)
	if r := compute(t, l, 100); r.Truncated || r.Len() != 100 {
		t.Errorf("limit 100: truncated %v, %d regions, want 100", r.Truncated, r.Len())
	}
	if r := compute(t, l, 99); !r.Truncated || r.Len() != 0 {
		t.Errorf("limit 99: truncated %v, %d regions, want a truncated result", r.Truncated, r.Len())
	}
}

// The random lists of the property test: small address and port pools, so
// that entries overlap, nest and cross.
var (
	randV4 = []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.1.2.128/25", "10.2.0.0/15",
		"0.0.0.0/0", "192.0.2.0/24", "192.0.2.64/26", "192.0.2.77/32", "10.1.2.0/31", "11.0.0.0/8"}
	randV6 = []string{"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::1/128", "::/0", "2001:db8:1:2::/64",
		"fd00::/8", "2001:db8::/31", "2001:db8:1::/127"}
	randRanges = []string{"10.1.2.5-10.1.2.77", "10.0.255.250-10.1.0.3", "192.0.2.70-192.0.2.90",
		"2001:db8:1::5-2001:db8:1::99", "10.1.2.3-10.1.2.3", "::1:0-::ffff:0"}
	randPorts = []string{"ALL", "22", "80", "443", "80,443", "1-1024", "1000-2000", "22,80-90,1500", "65535", "1", "53", "80-80,81,82-85"}
	randProto = []string{"TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL"}
)

// randomEntries returns a random effective list: maybe the platform rules,
// then policies of CIDR peers, of multi-range address sets (as references
// resolve) and of service templates.
func randomEntries(rng *rand.Rand, dir policy.Direction, n int) []rules.Entry {
	pick := func(pool []string) string { return pool[rng.IntN(len(pool))] }
	var out []rules.Entry
	if rng.IntN(3) == 0 {
		var plat []netip.Prefix
		for range rng.IntN(3) {
			plat = append(plat, pfx(pick(append(randV4, randV6...))))
		}
		es, err := rules.Platform(dir, rng.IntN(2) == 0, plat)
		if err != nil {
			panic(err)
		}
		out = append(out, es...)
	}
	for i := range n {
		action := []string{"ACCEPT", "DROP"}[rng.IntN(2)]
		proto := pick(randProto)
		ports := "ALL"
		if proto == "TCP" || proto == "UDP" {
			ports = pick(randPorts)
		}
		var (
			p        policy.Policy
			services []rules.Service
			addrs    rules.Addresses
		)
		switch rng.IntN(4) {
		case 0: // an address set, as a reference resolves it
			p = pol(fmt.Sprintf("%s %s %s sg-%08d", action, proto, ports, i))
			var b netipx.IPSetBuilder
			for range 1 + rng.IntN(4) {
				if rng.IntN(2) == 0 {
					b.AddRange(netipx.MustParseIPRange(pick(randRanges)))
				} else if rng.IntN(2) == 0 {
					b.AddPrefix(pfx(pick(randV4)))
				} else {
					b.AddPrefix(pfx(pick(randV6)))
				}
			}
			var err error
			if addrs, err = rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: p.Peer.ID}, &b); err != nil {
				panic(err)
			}
		case 1: // a service template
			peer := pick(randV4)
			if rng.IntN(2) == 0 {
				peer = pick(randV6)
			}
			p = pol(fmt.Sprintf("%s ppm-%08d %s", action, i, peer))
			for range 1 + rng.IntN(3) {
				pr := policy.MustParseProtocol(pick(randProto))
				ps := policy.AllPorts()
				if pr.HasPorts() {
					ps = policy.MustParsePortSet(pick(randPorts))
				}
				services = append(services, rules.Service{Protocol: pr, Ports: ps})
			}
		default:
			peer := pick(randV4)
			if proto == "ICMPv6" || proto != "ICMP" && rng.IntN(2) == 0 {
				peer = pick(randV6)
			}
			p = pol(fmt.Sprintf("%s %s %s %s", action, proto, ports, peer))
		}
		e, err := rules.PolicyEntry(dir, "sg-0000list", i, &p, services, addrs)
		if err != nil {
			panic(err)
		}
		out = append(out, e)
	}
	return out
}

// universe returns the addresses, protocols and ports worth probing for a
// list: every boundary of its address ranges and ports, their neighbours,
// and a few others.
func universe(entries []rules.Entry) (addrs []netip.Addr, protos []uint8, ports []uint16) {
	for _, a := range []string{"0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "9.9.9.9", "2001:db9::1"} {
		addrs = append(addrs, addr(a))
	}
	ports = []uint16{0, 1, 2, 21, 22, 23, 25, 26, 52, 53, 54, 79, 80, 81, 443, 1024, 1025, 8080, 65534, 65535}
	protos = []uint8{0, 1, 2, 5, 6, 7, 16, 17, 18, 46, 47, 48, 57, 58, 59, 132, 255}
	for i := range entries {
		for _, s := range []*netipx.IPSet{entries[i].V4, entries[i].V6} {
			if s == nil {
				continue
			}
			for _, r := range s.Ranges() {
				addrs = append(addrs, r.From(), r.To(), r.From().Prev(), r.To().Next())
			}
		}
		for _, s := range entries[i].Services {
			if s.Protocol.HasPorts() {
				for _, r := range s.Ports.Ranges() {
					ports = append(ports, r.Lo, r.Hi, r.Lo-1, r.Hi+1)
				}
			}
		}
	}
	addrs = slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !a.IsValid() })
	return addrs, protos, ports
}

// TestComputeMatchesEval is the property test: for random lists, every
// probed packet gets from the regions the entry eval decides by, and the
// regions of each slice are disjoint.
func TestComputeMatchesEval(t *testing.T) {
	lists, probes := 3000, 600
	if testing.Short() {
		lists, probes = 400, 300
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range lists {
		dir := []policy.Direction{policy.Ingress, policy.Egress}[n%2]
		l := rules.List{Direction: dir, Entries: randomEntries(rng, dir, 1+rng.IntN(12))}
		checkList(t, rng, l, probes)
		if t.Failed() {
			t.Fatalf("list %d failed", n)
		}
	}
}

func checkList(t *testing.T, rng *rand.Rand, l rules.List, probes int) {
	t.Helper()
	ev, err := eval.CompileList(l)
	if err != nil {
		t.Fatal(err)
	}
	r := compute(t, l, 0)
	u, err := regions.Union(l.Entries, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkDisjoint(t, r)
	checkDisjoint(t, u)
	addrs, protos, ports := universe(l.Entries)
	for range probes {
		a, proto, port := addrs[rng.IntN(len(addrs))], protos[rng.IntN(len(protos))], ports[rng.IntN(len(ports))]
		d := ev.Decide(eval.Query{Peer: a, Proto: proto, Port: port})
		if got := r.Lookup(a, proto, port); got != d.Entry {
			t.Errorf("Lookup(%v, %d, %d) = %d, want %d (%v)", a, proto, port, got, d.Entry, d)
			for i := range l.Entries {
				t.Logf("entry %d: %s %v", i, l.Entries[i].Describe(), l.Entries[i].Services)
			}
			return
		}
		want := 0
		if d.Entry < 0 {
			want = -1
		}
		if got := u.Lookup(a, proto, port); got != want {
			t.Errorf("Union Lookup(%v, %d, %d) = %d, want %d", a, proto, port, got, want)
			return
		}
	}
}

// checkDisjoint fails if two regions of a slice overlap or a region is not
// a box of its slice.
func checkDisjoint(t *testing.T, r *regions.Result) {
	t.Helper()
	for si, s := range [][]regions.Region{r.V4Ports, r.V4NoPorts, r.V6Ports, r.V6NoPorts} {
		is6, ports := si >= 2, si%2 == 0
		for i, a := range s {
			if a.AddrLo.Is6() != is6 || a.AddrHi.Is6() != is6 || a.AddrHi.Less(a.AddrLo) || a.ProtoHi < a.ProtoLo || a.PortHi < a.PortLo {
				t.Fatalf("slice %d region %+v is not a box of its slice", si, a)
			}
			if ports && (a.ProtoLo != 6 && a.ProtoLo != 17 || a.ProtoHi != 6 && a.ProtoHi != 17) || !ports && (a.PortLo != 0 || a.PortHi != 0) {
				t.Fatalf("slice %d region %+v is outside its slice", si, a)
			}
			for _, b := range s[i+1:] {
				if a.ProtoLo <= b.ProtoHi && b.ProtoLo <= a.ProtoHi && a.PortLo <= b.PortHi && b.PortLo <= a.PortHi &&
					a.AddrLo.Compare(b.AddrHi) <= 0 && b.AddrLo.Compare(a.AddrHi) <= 0 {
					t.Fatalf("slice %d: regions %+v and %+v overlap", si, a, b)
				}
			}
		}
	}
}

func TestOwned(t *testing.T) {
	l := list(t, "ACCEPT TCP 22 10.0.0.0/8", "DROP TCP 22 10.1.0.0/16", "ACCEPT TCP 20-30 10.0.0.0/8")
	got := compute(t, l, 0).Owned(3)
	if want := []int{1, 0, 2}; !slices.Equal(got, want) {
		t.Errorf("Owned = %v, want %v", got, want)
	}
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func rangeSet(lo, hi string) *netipx.IPSetBuilder {
	var b netipx.IPSetBuilder
	b.AddRange(netipx.IPRangeFrom(addr(lo), addr(hi)))
	return &b
}
