package regions_test

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/regions"
	"github.com/palisade-sg/palisade/internal/rules"
)

// benchLimit is the region limit of the measurements: high enough that
// only the adversarial lists reach it.
const benchLimit = 1 << 20

func loadSet(tb testing.TB, name string) []eval.Rule {
	tb.Helper()
	dir, err := classbench.Locate(".")
	if err != nil {
		tb.Fatalf("ClassBench sets: %v", err)
	}
	rs, err := classbench.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// classbenchList maps a ClassBench set to an ingress list of one group:
// rule i is policy i, its source prefix the peer, its destination ports
// the policy's (0-65535 is ALL; a range from port 0 starts at 1, as a
// policy cannot name port 0), its protocol TCP, UDP, ICMP, GRE or ALL
// (rules of other protocols are left out), its action DROP for odd i and
// ACCEPT for even i. It returns the list and, for each entry, its rule.
func classbenchList(tb testing.TB, rs []eval.Rule) (rules.List, []eval.Rule) {
	tb.Helper()
	l := rules.List{Direction: policy.Ingress}
	var kept []eval.Rule
	for i, r := range rs {
		var proto policy.Protocol
		switch {
		case r.Proto == eval.AnyProto:
			proto = policy.AnyProtocol
		case r.Proto == eval.Proto(policy.NumTCP):
			proto = policy.TCP
		case r.Proto == eval.Proto(policy.NumUDP):
			proto = policy.UDP
		case r.Proto == eval.Proto(policy.NumICMP):
			proto = policy.ICMP
		case r.Proto == eval.Proto(policy.NumGRE):
			proto = policy.GRE
		default:
			continue
		}
		ports := policy.AllPorts()
		if proto.HasPorts() && (r.DstPorts.Lo > 0 || r.DstPorts.Hi < 65535) {
			ports = policy.Ports(policy.PortRange{Lo: max(r.DstPorts.Lo, 1), Hi: max(r.DstPorts.Hi, 1)})
		}
		action := policy.Accept
		if i%2 == 1 {
			action = policy.Drop
		}
		p := policy.Policy{Protocol: proto, Ports: ports, Peer: policy.CIDRPeer(r.Src), Action: action}
		e, err := rules.PolicyEntry(policy.Ingress, "sg-0000cb00", i, &p, nil, rules.Addresses{})
		if err != nil {
			tb.Fatalf("rule %d: %v", i, err)
		}
		l.Entries = append(l.Entries, e)
		kept = append(kept, r)
	}
	return l, kept
}

// adversarial returns lists built to make many regions, of n policies:
//   - nested: rings around one address and port, innermost first, actions
//     alternating: each ring owns the frame around the ones before it;
//   - crossing: single addresses with every port alternating with single
//     ports with every address, the addresses in bit-reversed order so that
//     no two consecutive ones are neighbours: each cuts all the earlier
//     ones, about n²/8 regions.
func adversarial(tb testing.TB, kind string, n int) rules.List {
	tb.Helper()
	var ps []string
	for i := range n {
		action := []string{"ACCEPT", "DROP"}[i%2]
		switch kind {
		case "nested":
			c := uint32(10<<24 | 1<<15) // 10.0.128.0
			lo, hi := v4(c-uint32(i)), v4(c+uint32(i))
			ps = append(ps, fmt.Sprintf("%s TCP %d-%d %v-%v", action, 30000-i, 30000+i, lo, hi))
		case "crossing":
			if i%2 == 0 {
				k := bits.Reverse16(uint16(i / 2))
				ps = append(ps, fmt.Sprintf("%s TCP ALL 10.0.%d.%d/32", action, k>>8, k&0xff))
			} else {
				ps = append(ps, fmt.Sprintf("%s TCP %d 0.0.0.0/0", action, 1+i/2))
			}
		}
	}
	return rangeList(tb, ps)
}

// rangeList is list, with peers that may be address ranges "a-b" (as an
// address template resolves).
func rangeList(tb testing.TB, policies []string) rules.List {
	tb.Helper()
	l := rules.List{Direction: policy.Ingress}
	for i, s := range policies {
		var action, proto, ports, peer string
		if _, err := fmt.Sscan(s, &action, &proto, &ports, &peer); err != nil {
			tb.Fatal(err)
		}
		lo, hi, isRange := cut(peer, '-')
		if !isRange {
			l.Entries = append(l.Entries, list(tb, s).Entries[0])
			l.Entries[i].Origin.PolicyIndex = i
			continue
		}
		p := pol(fmt.Sprintf("%s %s %s ipm-%08d", action, proto, ports, i))
		a, err := rules.Split(rules.Source{Kind: rules.SourceAddressTemplate, ID: p.Peer.ID}, rangeSet(lo, hi))
		if err != nil {
			tb.Fatal(err)
		}
		e, err := rules.PolicyEntry(policy.Ingress, "sg-00000001", i, &p, nil, a)
		if err != nil {
			tb.Fatal(err)
		}
		l.Entries = append(l.Entries, e)
	}
	return l
}

// TestClassBenchRegions checks the regions of the ClassBench sets against
// the evaluator on packets of the sets' traces, and logs their counts.
func TestClassBenchRegions(t *testing.T) {
	sets := []string{"acl1_1k", "acl1_10k", "fw1_10k", "ipc1_10k"}
	packets := 3000
	if testing.Short() {
		sets, packets = sets[:1], 1000
	}
	for i, name := range sets {
		t.Run(name, func(t *testing.T) {
			l, kept := classbenchList(t, loadSet(t, name))
			r := compute(t, l, benchLimit)
			if r.Truncated {
				t.Fatalf("%s: truncated at %d regions", name, benchLimit)
			}
			ev, err := eval.CompileList(l)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range classbench.Packets(kept, packets, uint64(i)+1) {
				d := ev.Decide(eval.Query{Peer: p.Src, Proto: p.Proto, Port: p.DstPort})
				if got := r.Lookup(p.Src, p.Proto, p.DstPort); got != d.Entry {
					t.Fatalf("Lookup(%v, %d, %d) = %d, want %d", p.Src, p.Proto, p.DstPort, got, d.Entry)
				}
			}
			t.Logf("%s: %d policies, %d regions (v4 ports %d, v4 other %d)", name, len(l.Entries), r.Len(), len(r.V4Ports), len(r.V4NoPorts))
		})
	}
}

// TestAdversarialRegions checks the adversarial lists against the
// evaluator and that the crossing one is truncated at a limit rather than
// built.
func TestAdversarialRegions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kind := range []string{"nested", "crossing"} {
		t.Run(kind, func(t *testing.T) {
			l := adversarial(t, kind, 60)
			checkList(t, rng, l, 3000)
			r := compute(t, l, 0)
			t.Logf("%s, 60 policies: %d regions", kind, r.Len())
		})
	}
	l := adversarial(t, "crossing", 4000)
	if r := compute(t, l, 100_000); !r.Truncated {
		t.Errorf("crossing, 4000 policies: %d regions under a limit of 100,000, want it truncated", r.Len())
	}
}

// BenchmarkRegions times Compute on the ClassBench sets mapped to
// policies and on the adversarial lists, reporting the region count.
func BenchmarkRegions(b *testing.B) {
	type input struct {
		name string
		l    rules.List
	}
	var ins []input
	for _, name := range []string{"acl1_1k", "acl1_10k", "fw1_10k", "ipc1_10k"} {
		l, _ := classbenchList(b, loadSet(b, name))
		ins = append(ins, input{"classbench/" + name, l})
	}
	for _, n := range []int{100, 1000, 10_000} {
		ins = append(ins, input{fmt.Sprintf("nested/%d", n), adversarial(b, "nested", n)})
	}
	for _, n := range []int{100, 1000, 10_000} {
		ins = append(ins, input{fmt.Sprintf("crossing/%d", n), adversarial(b, "crossing", n)})
	}
	for _, in := range ins {
		b.Run(in.name, func(b *testing.B) {
			var r *regions.Result
			for b.Loop() {
				var err error
				if r, err = regions.Compute(in.l, benchLimit); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(r.Len())
			if r.Truncated {
				n = -1
			}
			b.ReportMetric(n, "regions")
			b.ReportMetric(float64(len(in.l.Entries)), "policies")
		})
	}
}

func v4(a uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}
