package eval_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/resolve/resolvetest"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/store"
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

// realisticInstance is the stored data of a typical instance: three groups
// of 20 policies in each direction, four of them referencing groups of 50
// instances, two an address template with a range, two a service template,
// the port 25 block and two platform addresses.
func realisticInstance() *resolvetest.Data {
	d := &resolvetest.Data{
		Account:  store.Account{ID: "acc-00000001"},
		Instance: store.Instance{ID: "ins-00000001", AccountID: "acc-00000001", Region: "ap-guangzhou"},
		Groups:   map[string]policy.PolicySet{},
		Platform: []string{"169.254.0.0/16", "fd00:ec2::/64"},
		Templates: []store.Template{
			template("ppm-00000web", store.KindService, "tcp:80,443", "tcp:8000-8080", "udp:53"),
			template("ipm-0000tpl1", store.KindAddress, "192.0.2.10-192.0.2.77", "198.51.100.0/24", "2001:db8:77::/48"),
		},
	}
	for r := range 4 {
		id := fmt.Sprintf("sg-0000ref%d", r)
		for i := range 50 {
			a := netip.AddrFrom4([4]byte{10, byte(100 + r), byte(i / 20), byte(10 + i)})
			d.Members = append(d.Members, store.Member{GroupID: id, InstanceID: fmt.Sprintf("ins-%04d%04d", r, i), State: "RUNNING", PrivateIPs: []string{a.String()}})
		}
	}
	for g := range 3 {
		gid := fmt.Sprintf("sg-0000grp%d", g)
		var ps []policy.Policy
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
			ps = append(ps, pol(s))
		}
		d.Instance.GroupIDs = append(d.Instance.GroupIDs, gid)
		d.Groups[gid] = policy.PolicySet{Version: 1, Ingress: ps, Egress: ps}
	}
	return d
}

// effectiveCompilers are the two ways an effective list is held: the walk
// CompileList builds for lists of default-quota size, and the classifier
// it adds for longer ones.
var effectiveCompilers = []struct {
	name    string
	compile func(rules.List) (*eval.Effective, error)
}{{"walk", eval.CompileList}, {"classifier", eval.CompileListClassifier}}

// BenchmarkCompileEffective times compiling a typical instance's ingress
// list, and resolving both its lists from the stored data first: together,
// the work of the first simulation after a change.
func BenchmarkCompileEffective(b *testing.B) {
	data := realisticInstance()
	l := lists(b, data).Ingress
	for _, ec := range effectiveCompilers {
		b.Run(ec.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ec.compile(l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("resolve", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := resolve.Instance(context.Background(), data, data.Instance.ID, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEffectiveDecide times one decision on a typical instance.
func BenchmarkEffectiveDecide(b *testing.B) {
	qs := []eval.Query{
		{Peer: netip.MustParseAddr("10.101.1.35"), Proto: 6, Port: 6379},
		{Peer: netip.MustParseAddr("203.0.113.9"), Proto: 6, Port: 443},
		{Peer: netip.MustParseAddr("8.8.8.8"), Proto: 17, Port: 9999},
		{Peer: netip.MustParseAddr("2001:db8::1"), Proto: 6, Port: 1009},
	}
	l := lists(b, realisticInstance()).Ingress
	for _, ec := range effectiveCompilers {
		e, err := ec.compile(l)
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
