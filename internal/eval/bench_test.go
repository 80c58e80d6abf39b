package eval_test

import (
	"fmt"
	"net/netip"
	"testing"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
)

// benchPackets is the length of the trace a benchmark cycles through.
const benchPackets = 1 << 16

// BenchmarkClassify times one lookup on the 10k ClassBench sets, over a trace
// that is half packets inside random rules' boxes and half random headers.
func BenchmarkClassify(b *testing.B) {
	for _, name := range []string{"acl1_10k", "fw1_10k", "ipc1_10k"} {
		rules := loadSet(b, name)
		pkts := classbench.Packets(rules, benchPackets, 1)
		c, err := eval.Compile(rules)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/compiled", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Decide(pkts[i&(benchPackets-1)])
				i++
			}
		})
		b.Run(name+"/linear", func(b *testing.B) {
			lin := eval.Linear(rules)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				lin.Decide(pkts[i&(benchPackets-1)])
				i++
			}
		})
	}
}

// BenchmarkClassifyIPv6 times one lookup on acl1_10k mapped to IPv6.
func BenchmarkClassifyIPv6(b *testing.B) {
	rules := toIPv6(loadSet(b, "acl1_10k"))
	pkts := classbench.Packets(rules, benchPackets, 1)
	c, err := eval.Compile(rules)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Decide(pkts[i&(benchPackets-1)])
		i++
	}
}

// BenchmarkScaling times the compiled lookup on the first 10, 100, 1k, 3k
// and all 9,774 rules of acl1_10k: the cost should stay nearly flat.
func BenchmarkScaling(b *testing.B) {
	all := loadSet(b, "acl1_10k")
	for _, n := range []int{10, 100, 1000, 3000, len(all)} {
		rules := all[:n]
		pkts := classbench.Packets(rules, benchPackets, 1)
		c, err := eval.Compile(rules)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Decide(pkts[i&(benchPackets-1)])
				i++
			}
		})
	}
}

// BenchmarkCompile times building the classifier for the 10k sets.
func BenchmarkCompile(b *testing.B) {
	for _, name := range []string{"acl1_10k", "fw1_10k", "ipc1_10k"} {
		rules := loadSet(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := eval.Compile(rules); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// realisticInstance is the effective input of a typical instance: three
// groups of 20 policies in the direction at hand, four of them referencing
// groups of 50 instances, two an address template with a range, two a
// service template, the port 25 block and two platform addresses.
func realisticInstance(dir policy.Direction) eval.EffectiveInput {
	in := eval.EffectiveInput{
		Direction:         dir,
		Port25Blocked:     true,
		PlatformAddresses: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fd00:ec2::/64")},
		Addresses:         map[string][]netip.Prefix{},
		Services: map[string][]eval.Service{
			"ppm-00000web": {
				{Protocol: policy.TCP, Ports: policy.MustParsePortSet("80,443")},
				{Protocol: policy.TCP, Ports: policy.MustParsePortSet("8000-8080")},
				{Protocol: policy.UDP, Ports: policy.MustParsePortSet("53")},
			},
		},
	}
	for r := range 4 {
		id := fmt.Sprintf("sg-0000ref%d", r)
		for i := range 50 {
			a := netip.AddrFrom4([4]byte{10, byte(100 + r), byte(i / 20), byte(10 + i)})
			in.Addresses[id] = append(in.Addresses[id], netip.PrefixFrom(a, 32))
		}
	}
	rng, _ := netipx.ParseIPRange("192.0.2.10-192.0.2.77")
	in.Addresses["ipm-0000tpl1"] = append(rng.Prefixes(), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8:77::/48"))
	for g := range 3 {
		bg := eval.BoundGroup{ID: fmt.Sprintf("sg-0000grp%d", g)}
		for i := range 20 {
			var s string
			switch {
			case i < 2 && g < 2:
				s = fmt.Sprintf("ACCEPT TCP 3306,6379 sg-0000ref%d", 2*g+i)
			case i == 2 && g < 2:
				s = "ACCEPT ALL ALL ipm-0000tpl1"
			case i == 3 && g > 0:
				s = "ACCEPT ppm-00000web 0.0.0.0/0"
			case i%5 == 4:
				s = fmt.Sprintf("ACCEPT TCP %d ::/0", 1000+i)
			case i%7 == 6:
				s = fmt.Sprintf("DROP UDP %d-%d 10.%d.0.0/16", 2000+i, 2100+i, i)
			default:
				s = fmt.Sprintf("ACCEPT TCP %d,%d 10.%d.%d.0/24", 22+i, 8000+i, g, i)
			}
			p, err := policy.ParsePolicy(s)
			if err != nil {
				panic(err)
			}
			bg.Policies = append(bg.Policies, p)
		}
		in.Groups = append(in.Groups, bg)
	}
	return in
}

// effectiveCompilers are the two ways an effective list is held: the walk
// CompileEffective builds for lists of default-quota size, and the
// classifier it adds for longer ones.
var effectiveCompilers = []struct {
	name    string
	compile func(eval.EffectiveInput) (*eval.Effective, error)
}{{"walk", eval.CompileEffective}, {"classifier", eval.CompileEffectiveClassifier}}

// BenchmarkCompileEffective times compiling a typical instance's effective
// list, the work of the first simulation after a change.
func BenchmarkCompileEffective(b *testing.B) {
	in := realisticInstance(policy.Ingress)
	for _, ec := range effectiveCompilers {
		b.Run(ec.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ec.compile(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEffectiveDecide times one decision on a typical instance.
func BenchmarkEffectiveDecide(b *testing.B) {
	qs := []eval.Query{
		{Peer: netip.MustParseAddr("10.101.1.35"), Proto: 6, Port: 6379},
		{Peer: netip.MustParseAddr("203.0.113.9"), Proto: 6, Port: 443},
		{Peer: netip.MustParseAddr("8.8.8.8"), Proto: 17, Port: 9999},
		{Peer: netip.MustParseAddr("2001:db8::1"), Proto: 6, Port: 1009},
	}
	for _, ec := range effectiveCompilers {
		e, err := ec.compile(realisticInstance(policy.Ingress))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(ec.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.Decide(qs[i&3])
				i++
			}
		})
	}
}
