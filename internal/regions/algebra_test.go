package regions_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/regions"
	"github.com/palisade-sg/palisade/internal/rules"
)

// smallList returns a random list over a small universe: peers inside
// 10.0.0.0/28 and 2001:db8::/124 (or everywhere), ports inside 1-8 (or
// ALL).
func smallList(rng *rand.Rand, dir policy.Direction, n int) rules.List {
	l := rules.List{Direction: dir}
	protos := []string{"TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL"}
	for i := range n {
		action := []string{"ACCEPT", "DROP"}[rng.IntN(2)]
		proto := protos[rng.IntN(len(protos))]
		ports := "ALL"
		if (proto == "TCP" || proto == "UDP") && rng.IntN(4) != 0 {
			lo := 1 + rng.IntN(8)
			hi := lo + rng.IntN(9-lo)
			ports = fmt.Sprintf("%d-%d", lo, hi)
			if rng.IntN(3) == 0 {
				ports = fmt.Sprintf("%d,%d", lo, 1+rng.IntN(8))
			}
		}
		bits := 28 + rng.IntN(5)
		peer := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(16))}), bits).Masked().String()
		v6 := proto == "ICMPv6" || proto != "ICMP" && rng.IntN(3) == 0
		if v6 {
			a := netip.MustParseAddr("2001:db8::").As16()
			a[15] = byte(rng.IntN(16))
			peer = netip.PrefixFrom(netip.AddrFrom16(a), 124+rng.IntN(5)).Masked().String()
		}
		if rng.IntN(6) == 0 {
			peer = map[bool]string{false: "0.0.0.0/0", true: "::/0"}[v6]
		}
		p := pol(fmt.Sprintf("%s %s %s %s", action, proto, ports, peer))
		e, err := rules.PolicyEntry(dir, "sg-0000list", i, &p, nil, rules.Addresses{})
		if err != nil {
			panic(err)
		}
		l.Entries = append(l.Entries, e)
	}
	return l
}

// smallUniverse is one packet of each class of the small lists' packet
// space: every address of the two small blocks and one on each side, one
// protocol of each kind and every port 0-9 and 65535.
func smallUniverse() (addrs []netip.Addr, protos []uint8, ports []uint16) {
	for i := range 16 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
		a := netip.MustParseAddr("2001:db8::").As16()
		a[15] = byte(i)
		addrs = append(addrs, netip.AddrFrom16(a))
	}
	for _, s := range []string{"0.0.0.0", "9.255.255.255", "10.0.0.16", "255.255.255.255", "::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::10", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		addrs = append(addrs, addr(s))
	}
	protos = []uint8{0, 1, 2, 5, 6, 7, 16, 17, 18, 46, 47, 48, 57, 58, 59, 255}
	ports = []uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 65535}
	return addrs, protos, ports
}

func accepted(tb testing.TB, l rules.List) *regions.Result {
	tb.Helper()
	a, err := regions.Accepted(compute(tb, l, 0), l)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func owner(r *regions.Result, a netip.Addr, proto uint8, port uint16) (int, int) {
	if proto != policy.NumTCP && proto != policy.NumUDP {
		port = 0
	}
	found, own := 0, -1
	for _, g := range r.Slice(a, proto) {
		if g.Contains(a, proto, port) {
			found++
			own = g.Owner
		}
	}
	return found, own
}

// TestSubtractBruteForce checks the difference of the accepted spaces of
// two random lists against every packet class of a small universe.
func TestSubtractBruteForce(t *testing.T) {
	cases := 3000
	if testing.Short() {
		cases = 500
	}
	rng := rand.New(rand.NewPCG(7, 11))
	addrs, protos, ports := smallUniverse()
	for n := range cases {
		dir := []policy.Direction{policy.Ingress, policy.Egress}[n%2]
		old, cur := smallList(rng, dir, rng.IntN(8)), smallList(rng, dir, rng.IntN(8))
		evOld, err := eval.CompileList(old)
		if err != nil {
			t.Fatal(err)
		}
		evNew, err := eval.CompileList(cur)
		if err != nil {
			t.Fatal(err)
		}
		accOld, accNew := accepted(t, old), accepted(t, cur)
		gains, err := regions.Subtract(accNew, accOld)
		if err != nil {
			t.Fatal(err)
		}
		losses, err := regions.Subtract(accOld, accNew)
		if err != nil {
			t.Fatal(err)
		}
		checkDisjoint(t, gains)
		checkDisjoint(t, losses)
		for _, a := range addrs {
			for _, proto := range protos {
				for _, port := range ports {
					q := eval.Query{Peer: a, Proto: proto, Port: port}
					dOld, dNew := evOld.Decide(q), evNew.Decide(q)
					inOld, inNew := dOld.Verdict == policy.Accept, dNew.Verdict == policy.Accept
					for _, c := range []struct {
						name  string
						r     *regions.Result
						want  bool
						owner int
					}{{"gains", gains, inNew && !inOld, dNew.Entry}, {"losses", losses, inOld && !inNew, dOld.Entry}} {
						found, own := owner(c.r, a, proto, port)
						if (found == 1) != c.want || found > 1 || c.want && own != c.owner {
							t.Fatalf("case %d %s: packet %v %d %d in %d regions (owner %d), want in: %v (owner %d)\nold: %v\nnew: %v",
								n, c.name, a, proto, port, found, own, c.want, c.owner, describe(old), describe(cur))
						}
					}
				}
			}
		}
	}
}

func describe(l rules.List) []string {
	var out []string
	for i := range l.Entries {
		out = append(out, l.Entries[i].Describe())
	}
	return out
}

func TestSubtractTruncated(t *testing.T) {
	if _, err := regions.Subtract(&regions.Result{Truncated: true}, &regions.Result{}); err == nil {
		t.Error("Subtract(truncated) succeeded")
	}
	if _, err := regions.Accepted(&regions.Result{Truncated: true}, rules.List{}); err == nil {
		t.Error("Accepted(truncated) succeeded")
	}
}

func TestSubtract(t *testing.T) {
	tests := []struct {
		name     string
		old, new []string
		want     []string // the gains, as TestCompute writes regions
	}{
		{"nothing changes", []string{"ACCEPT TCP 22 10.0.0.0/8"}, []string{"ACCEPT TCP 22 10.0.0.0/8"}, nil},
		{"a port opens", []string{"ACCEPT TCP 22 10.0.0.0/8"}, []string{"ACCEPT TCP 22,80 10.0.0.0/8"}, []string{
			"6-6 80-80 10.0.0.0-10.255.255.255 0",
		}},
		{"a wider peer", []string{"ACCEPT TCP 22 10.1.0.0/16"}, []string{"ACCEPT TCP 22 10.0.0.0/8"}, []string{
			"6-6 22-22 10.0.0.0-10.0.255.255 0",
			"6-6 22-22 10.2.0.0-10.255.255.255 0",
		}},
		{"a drop lifted", []string{"DROP TCP 22 10.1.0.0/16", "ACCEPT ALL ALL 10.0.0.0/8"}, []string{"ACCEPT ALL ALL 10.0.0.0/8"}, []string{
			"6-6 22-22 10.1.0.0-10.1.255.255 0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := regions.Subtract(accepted(t, list(t, tt.new...)), accepted(t, list(t, tt.old...)))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range [][]regions.Region{g.V4Ports, g.V4NoPorts, g.V6Ports, g.V6NoPorts} {
				for _, r := range s {
					got = append(got, fmt.Sprintf("%d-%d %d-%d %v-%v %d", r.ProtoLo, r.ProtoHi, r.PortLo, r.PortHi, r.AddrLo, r.AddrHi, r.Owner))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Subtract = %q, want %q", got, tt.want)
			}
		})
	}
}
