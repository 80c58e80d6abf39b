package nft_test

import (
	"fmt"
	"testing"

	"github.com/palisade-sg/palisade/internal/agent/nft"
)

// fleet is a hypervisor's desired state: 100 instances, each bound to 5 of
// 20 groups of 100 policies — TCP services from /24s, a few DROPs, UDP,
// ICMP, IPv6 and references to groups of 50 instances.
func fleet(tb testing.TB) nft.Config {
	tb.Helper()
	return fleetWith(tb, func(members) {})
}

// fleetWith is the fleet, its groups' members changed by change.
func fleetWith(tb testing.TB, change func(members)) nft.Config {
	tb.Helper()
	m := members{}
	for r := range 4 {
		id := fmt.Sprintf("sg-0000ref%d", r)
		for i := range 50 {
			m[id] = append(m[id], fmt.Sprintf("10.%d.%d.%d", 100+r, i/20, 10+i))
		}
	}
	change(m)
	var groups []group
	for g := range 20 {
		gr := group{id: fmt.Sprintf("sg-000grp%02d", g)}
		for i := range 100 {
			var s string
			switch {
			case i%25 == 0:
				s = fmt.Sprintf("ACCEPT TCP 3306,6379 sg-0000ref%d", (g+i)%4)
			case i%10 == 9:
				s = fmt.Sprintf("DROP TCP %d-%d 10.%d.0.0/16", 2000+i, 2100+i, i)
			case i%10 == 7:
				s = fmt.Sprintf("ACCEPT UDP %d 10.%d.%d.0/24", 5000+i, g, i)
			case i%20 == 5:
				s = fmt.Sprintf("ACCEPT TCP %d ::/0", 1000+i)
			case i == 99:
				s = "ACCEPT ICMP ALL 0.0.0.0/0"
			default:
				s = fmt.Sprintf("ACCEPT TCP %d,%d 10.%d.%d.0/24", 22+i, 8000+i, g, i)
			}
			gr.policies = append(gr.policies, s)
		}
		groups = append(groups, gr)
	}
	cfg := nft.Config{Mode: nft.Hypervisor}
	for i := range 100 {
		var bound []group
		for k := range 5 {
			bound = append(bound, groups[(i+4*k)%20])
		}
		cfg.Instances = append(cfg.Instances, instance(tb, fmt.Sprintf("ins-%08d", i), fmt.Sprintf("tap%d", i), m, bound...))
	}
	return cfg
}

// BenchmarkCompileFleet times compiling the fleet and writing its full
// transaction as nft reads it (nft itself is timed by TestKernelFleet).
func BenchmarkCompileFleet(b *testing.B) {
	cfg := fleet(b)
	b.ReportAllocs()
	var elements, ops int
	for b.Loop() {
		rs, err := nft.Compile(cfg)
		if err != nil {
			b.Fatal(err)
		}
		script := rs.FullScript()
		_ = script.String()
		elements, ops = script.Elements(), script.Operations()
	}
	b.ReportMetric(float64(elements), "elements")
	b.ReportMetric(float64(ops), "operations")
}

// fleetMembers is the fleet with one more instance in the referenced
// group sg-0000ref0 when more is set.
func fleetMembers(tb testing.TB, more bool) nft.Config {
	tb.Helper()
	return fleetWith(tb, func(m members) {
		if more {
			m["sg-0000ref0"] = append(m["sg-0000ref0"], "10.100.0.30")
		}
	})
}

// BenchmarkCompileFleetMembership times compiling the fleet again after a
// membership change, with a Compiler that compiled the state before: the
// lists are the same but for the lifted entries' addresses, so none is
// compiled again.
func BenchmarkCompileFleetMembership(b *testing.B) {
	states := [2]nft.Config{fleetMembers(b, false), fleetMembers(b, true)}
	var c nft.Compiler
	if _, err := c.Compile(states[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = 1 - i
		if _, err := c.Compile(states[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIncrementalFleet times writing the incremental transaction of
// a membership change on the fleet (nft itself is timed by
// BenchmarkKernelFleetMembership).
func BenchmarkIncrementalFleet(b *testing.B) {
	old, rs := compile(b, fleetMembers(b, false)), compile(b, fleetMembers(b, true))
	b.ReportAllocs()
	var ops int
	for b.Loop() {
		script, ok := rs.IncrementalScript(old)
		if !ok {
			b.Fatal("membership change is not incremental")
		}
		_ = script.String()
		ops = script.Operations()
	}
	b.ReportMetric(float64(ops), "operations")
}
