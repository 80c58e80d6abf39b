package analysis_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
)

// benchPolicies returns n policies as a tenant writes them: mostly ACCEPTs
// of one port or a short range from networks of 10.0.0.0/8 and the
// Internet, some DROPs, some ALL, IPv4 and IPv6.
func benchPolicies(rng *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		action := "ACCEPT"
		if rng.IntN(5) == 0 {
			action = "DROP"
		}
		var proto, ports string
		switch r := rng.IntN(10); {
		case r < 6:
			proto = "TCP"
		case r < 8:
			proto = "UDP"
		case r < 9:
			proto = "ICMP"
		default:
			proto = "ALL"
		}
		switch {
		case proto != "TCP" && proto != "UDP":
			ports = "ALL"
		case rng.IntN(4) == 0:
			lo := 1 + rng.IntN(60000)
			ports = fmt.Sprintf("%d-%d", lo, lo+rng.IntN(500))
		default:
			ports = fmt.Sprint(1 + rng.IntN(65535))
		}
		var peer string
		switch r := rng.IntN(10); {
		case r == 0:
			peer = "0.0.0.0/0"
		case r == 1 && proto != "ICMP":
			peer = fmt.Sprintf("2001:db8:%x::/48", rng.IntN(1<<16))
		default:
			bits := 16 + rng.IntN(17)
			a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			peer = netip.PrefixFrom(a, bits).Masked().String()
		}
		out[i] = fmt.Sprintf("%s %s %s %s", action, proto, ports, peer)
	}
	return out
}

// BenchmarkFindings measures the findings of one group of 1,000 policies
// per direction, and of an instance bound to 5 groups of 100 policies per
// direction, with the platform rules.
func BenchmarkFindings(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 5))
	b.Run("group-1000", func(b *testing.B) {
		in := analysis.Input{
			Ingress: groupList(b, policy.Ingress, "sg-aaaaaaaa", benchPolicies(rng, 1000)...),
			Egress:  groupList(b, policy.Egress, "sg-aaaaaaaa", benchPolicies(rng, 1000)...),
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := analysis.Findings(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("group-1000-half-covered", func(b *testing.B) {
		// 500 policies, then the same 500 again: every copy is covered.
		ps := benchPolicies(rng, 500)
		ps = append(ps, ps...)
		in := analysis.Input{
			Ingress: groupList(b, policy.Ingress, "sg-aaaaaaaa", ps...),
			Egress:  groupList(b, policy.Egress, "sg-aaaaaaaa"),
		}
		fs, err := analysis.Findings(in)
		if err != nil {
			b.Fatal(err)
		}
		covered := 0
		for _, f := range fs {
			if f.Kind == analysis.KindShadowed || f.Kind == analysis.KindRedundant {
				covered++
			}
		}
		if covered < 500 {
			b.Fatalf("%d covered policies, want at least the 500 copies", covered)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := analysis.Findings(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("instance-5x100", func(b *testing.B) {
		plat := []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("183.60.83.19/32")}
		var groups [3][]string
		for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			for g := range 5 {
				ps := benchPolicies(rng, 100)
				s := fmt.Sprintf("sg-%08d: ", g)
				for i, p := range ps {
					if i > 0 {
						s += "; "
					}
					s += p
				}
				groups[d] = append(groups[d], s)
			}
		}
		in := analysis.Input{InstanceID: "ins-aaaaaaaa", OSType: "linux", Port25Blocked: true,
			Ingress: instanceLists(b, policy.Ingress, true, plat, groups[policy.Ingress]...),
			Egress:  instanceLists(b, policy.Egress, true, plat, groups[policy.Egress]...),
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := analysis.Findings(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
