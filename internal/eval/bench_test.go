package eval_test

import (
	"fmt"
	"testing"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
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
