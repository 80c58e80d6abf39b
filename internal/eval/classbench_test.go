package eval_test

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
)

// classbenchSets are the ClassBench filter sets read in place from
// the repository's testdata/classbench, found by walking up from the package directory.
var classbenchSets = []string{"acl1_1k", "acl1_10k", "fw1_10k", "ipc1_10k"}

func loadSet(tb testing.TB, name string) []eval.Rule {
	tb.Helper()
	dir, err := classbench.Locate(".")
	if err != nil {
		tb.Fatalf("ClassBench sets: %v", err)
	}
	rules, err := classbench.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return rules
}

// TestDifferentialClassBench compares the classifier with the linear
// reference on the standard filter sets: 100,000 packets each (5,000 with -short).
func TestDifferentialClassBench(t *testing.T) {
	t.Parallel()
	for i, name := range classbenchSets {
		t.Run(name, func(t *testing.T) {
			rules := loadSet(t, name)
			diff(t, rules, classbench.Packets(rules, differential(100_000), uint64(i)+1))
		})
	}
}

// toIPv6 maps an IPv4 rule set into 2001:db8::/48, prefix lengths plus 48
// (wildcards stay wildcards), for an IPv6 set of a realistic shape.
func toIPv6(rules []eval.Rule) []eval.Rule {
	conv := func(p netip.Prefix) netip.Prefix {
		if p.Bits() == 0 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		a := p.Addr().As4()
		b := [16]byte{0x20, 0x01, 0x0d, 0xb8}
		copy(b[6:10], a[:])
		return netip.PrefixFrom(netip.AddrFrom16(b), p.Bits()+48).Masked()
	}
	out := make([]eval.Rule, len(rules))
	for i, r := range rules {
		r.Src, r.Dst = conv(r.Src), conv(r.Dst)
		out[i] = r
	}
	return out
}

// TestDifferentialIPv6 compares the classifier with the linear reference on
// acl1_10k mapped to IPv6.
func TestDifferentialIPv6(t *testing.T) {
	t.Parallel()
	rules := toIPv6(loadSet(t, "acl1_10k"))
	diff(t, rules, classbench.Packets(rules, differential(30_000), 5))
}
