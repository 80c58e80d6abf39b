package eval_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }
func ports(lo, hi uint16) eval.PortRange {
	return eval.PortRange{Lo: lo, Hi: hi}
}

func pkt(src, dst string, sp, dp uint16, proto uint8) eval.Packet {
	return eval.Packet{Src: addr(src), Dst: addr(dst), SrcPort: sp, DstPort: dp, Proto: proto}
}

func TestDecide(t *testing.T) {
	rules := []eval.Rule{
		{Src: pfx("10.0.0.0/8"), Dst: pfx("0.0.0.0/0"), SrcPorts: eval.AllPorts, DstPorts: eval.Port(22), Proto: 6, Decider: 100, Action: eval.Accept},
		{Src: pfx("10.1.0.0/16"), Dst: pfx("0.0.0.0/0"), SrcPorts: eval.AllPorts, DstPorts: eval.AllPorts, Proto: eval.AnyProto, Decider: 101, Action: eval.Drop},
		{Src: pfx("2001:db8::/32"), Dst: pfx("::/0"), SrcPorts: eval.AllPorts, DstPorts: ports(80, 443), Proto: 6, Decider: 102, Action: eval.Accept},
		{Src: pfx("0.0.0.0/0"), Dst: pfx("192.168.1.1/32"), SrcPorts: ports(1024, 65535), DstPorts: eval.AllPorts, Proto: 17, Decider: 103, Action: eval.Accept},
		{Src: pfx("::/0"), Dst: pfx("::/0"), SrcPorts: eval.AllPorts, DstPorts: eval.AllPorts, Proto: 58, Decider: 104, Action: eval.Accept},
		{Src: pfx("0.0.0.0/0"), Dst: pfx("0.0.0.0/0"), SrcPorts: eval.AllPorts, DstPorts: eval.AllPorts, Proto: eval.AnyProto, Decider: 105, Action: eval.Drop},
	}
	c, err := eval.Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pkt  eval.Packet
		want int32 // rule index, -1 for no match
	}{
		{"ssh from 10/8", pkt("10.1.2.3", "1.2.3.4", 5000, 22, 6), 0},
		{"other port from 10.1/16", pkt("10.1.2.3", "1.2.3.4", 5000, 23, 6), 1},
		{"udp to host", pkt("8.8.8.8", "192.168.1.1", 1024, 53, 17), 3},
		{"udp low source port", pkt("8.8.8.8", "192.168.1.1", 1023, 53, 17), 5},
		{"v6 web", pkt("2001:db8::1", "2001:db8::2", 1, 443, 6), 2},
		{"v6 port out of range", pkt("2001:db8::1", "2001:db8::2", 1, 444, 6), -1},
		{"icmpv6", pkt("fe80::1", "ff02::1", 0, 0, 58), 4},
		{"v4 default", pkt("1.1.1.1", "2.2.2.2", 0, 0, 1), 5},
		{"mixed families", pkt("1.1.1.1", "2001:db8::2", 0, 0, 58), -1},
		{"zoned v6", eval.Packet{Src: addr("fe80::1%eth0"), Dst: addr("ff02::1"), Proto: 58}, -1},
		{"4in6 is v6", pkt("::ffff:10.1.2.3", "::ffff:1.2.3.4", 5000, 22, 6), -1},
		{"zero packet", eval.Packet{}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := c.Decide(tt.pkt)
			got := int32(-1)
			if ok {
				got = m.Index
				if m.Decider != rules[got].Decider || m.Action != rules[got].Action {
					t.Errorf("Decide(%v) = %+v, payload differs from rule %d", tt.pkt, m, got)
				}
			}
			if got != tt.want {
				t.Errorf("Decide(%v) = rule %d, want %d", tt.pkt, got, tt.want)
			}
			lm, lok := eval.Linear(rules).Decide(tt.pkt)
			if lok != ok || lm != m {
				t.Errorf("Linear.Decide(%v) = %+v %v, Decide = %+v %v", tt.pkt, lm, lok, m, ok)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	ok := eval.Rule{Src: pfx("10.0.0.0/8"), Dst: pfx("0.0.0.0/0"), SrcPorts: eval.AllPorts, DstPorts: eval.AllPorts, Proto: 6, Action: eval.Accept}
	tests := []struct {
		name string
		edit func(r *eval.Rule)
	}{
		{"invalid source", func(r *eval.Rule) { r.Src = netip.Prefix{} }},
		{"invalid destination", func(r *eval.Rule) { r.Dst = netip.Prefix{} }},
		{"mixed families", func(r *eval.Rule) { r.Dst = pfx("::/0") }},
		{"empty source ports", func(r *eval.Rule) { r.SrcPorts = ports(2, 1) }},
		{"empty destination ports", func(r *eval.Rule) { r.DstPorts = ports(2, 1) }},
		{"protocol too big", func(r *eval.Rule) { r.Proto = 256 }},
		{"protocol negative", func(r *eval.Rule) { r.Proto = -2 }},
		{"no action", func(r *eval.Rule) { r.Action = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			if _, err := eval.Compile([]eval.Rule{ok, r}); err == nil {
				t.Errorf("Compile(%v) succeeded, want an error", r)
			}
		})
	}
	if _, err := eval.Compile([]eval.Rule{ok}); err != nil {
		t.Errorf("Compile(%v) = %v", ok, err)
	}
}

func TestEmpty(t *testing.T) {
	c, err := eval.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []eval.Packet{pkt("1.2.3.4", "5.6.7.8", 1, 2, 6), pkt("::1", "::2", 1, 2, 6), {}} {
		if m, ok := c.Decide(p); ok {
			t.Errorf("Decide(%v) = %+v on no rules", p, m)
		}
	}
}

func TestDecideAllocs(t *testing.T) {
	rules := randomRules(rand.New(rand.NewPCG(1, 2)), 500)
	c, err := eval.Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	pkts := classbench.Packets(rules, 256, 3)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		c.Decide(pkts[i%len(pkts)])
		i++
	})
	if allocs != 0 {
		t.Errorf("Decide allocates %v times per call, want 0", allocs)
	}
}

// randomRules returns rules with heavily overlapping fields: prefixes of a
// few base addresses, port ranges with shared bounds, protocols from a small
// set and wildcards, both families.
func randomRules(rng *rand.Rand, n int) []eval.Rule {
	bases4 := []string{"10.0.0.0", "10.1.2.3", "10.1.255.7", "192.168.1.1", "172.16.5.4", "0.0.0.0", "255.255.255.255"}
	bases6 := []string{"2001:db8::1", "2001:db8:0:1::7", "fe80::1", "::", "ffff::"}
	bounds := []uint16{0, 1, 21, 22, 23, 53, 79, 80, 443, 1023, 1024, 8080, 32768, 65534, 65535}
	protos := []eval.Proto{eval.AnyProto, eval.AnyProto, 6, 17, 1, 58, 0, 255, 47}
	prefix := func(v6 bool) netip.Prefix {
		if rng.IntN(4) == 0 {
			if v6 {
				return pfx("::/0")
			}
			return pfx("0.0.0.0/0")
		}
		base, bitsN := bases4[rng.IntN(len(bases4))], 32
		if v6 {
			base, bitsN = bases6[rng.IntN(len(bases6))], 128
		}
		a := addr(base)
		// Perturb one low bit now and then so that prefixes differ below
		// their shared top.
		if rng.IntN(3) == 0 {
			b := a.AsSlice()
			bit := rng.IntN(bitsN)
			b[bit/8] ^= 0x80 >> (bit % 8)
			a, _ = netip.AddrFromSlice(b)
		}
		l := bitsN - rng.IntN(bitsN+1)
		if rng.IntN(2) == 0 {
			l = bitsN - rng.IntN(9)
		}
		return netip.PrefixFrom(a, l).Masked()
	}
	portRange := func() eval.PortRange {
		switch rng.IntN(3) {
		case 0:
			return eval.AllPorts
		case 1:
			p := bounds[rng.IntN(len(bounds))]
			return eval.Port(p)
		}
		lo, hi := bounds[rng.IntN(len(bounds))], bounds[rng.IntN(len(bounds))]
		if lo > hi {
			lo, hi = hi, lo
		}
		return eval.PortRange{Lo: lo, Hi: hi}
	}
	rules := make([]eval.Rule, n)
	for i := range rules {
		v6 := rng.IntN(3) == 0
		rules[i] = eval.Rule{
			Src: prefix(v6), Dst: prefix(v6),
			SrcPorts: portRange(), DstPorts: portRange(),
			Proto:   protos[rng.IntN(len(protos))],
			Decider: int32(rng.IntN(1000)),
			Action:  eval.Action(1 + rng.IntN(2)),
		}
		if rng.IntN(3) == 0 {
			rules[i].SrcPorts = eval.AllPorts
		}
	}
	return rules
}

// randomPackets mixes packets inside rule boxes, uniformly random headers and
// packets built from the rules' boundary values.
func randomPackets(rng *rand.Rand, rules []eval.Rule, n int) []eval.Packet {
	pkts := classbench.Packets(rules, n, rng.Uint64())
	edge := func(p netip.Prefix) netip.Addr {
		if rng.IntN(2) == 0 {
			return p.Masked().Addr()
		}
		return lastAddr(p)
	}
	for i := range pkts {
		if i%5 != 4 || len(rules) == 0 {
			continue
		}
		r := &rules[rng.IntN(len(rules))]
		p := &pkts[i]
		p.Src, p.Dst = edge(r.Src), edge(r.Dst)
		p.SrcPort = []uint16{r.SrcPorts.Lo, r.SrcPorts.Hi, r.SrcPorts.Lo - 1, r.SrcPorts.Hi + 1}[rng.IntN(4)]
		p.DstPort = []uint16{r.DstPorts.Lo, r.DstPorts.Hi, r.DstPorts.Lo - 1, r.DstPorts.Hi + 1}[rng.IntN(4)]
		if rng.IntN(8) == 0 {
			p.Dst = pkts[rng.IntN(len(pkts))].Dst // sometimes of the other family
		}
	}
	return pkts
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// diff checks the compiled classifier against the linear reference on every
// packet, in parallel, and reports the first few disagreements.
func diff(t *testing.T, rules []eval.Rule, pkts []eval.Packet) {
	t.Helper()
	c, err := eval.Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	lin := eval.Linear(rules)
	workers := runtime.GOMAXPROCS(0)
	var (
		mu   sync.Mutex
		bad  int
		msgs []string
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(pkts); i += workers {
				p := pkts[i]
				m, ok := c.Decide(p)
				lm, lok := lin.Decide(p)
				var msg string
				if m != lm || ok != lok {
					msg = fmt.Sprintf("Decide(%v) = %+v %v, want %+v %v", p, m, ok, lm, lok)
				} else if i%traceEvery == 0 {
					msg = checkTrace(c, rules, p, lm, lok)
				}
				if msg != "" {
					mu.Lock()
					bad++
					if len(msgs) < 5 {
						msgs = append(msgs, msg)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, m := range msgs {
		t.Error(m)
	}
	if bad > 0 {
		t.Errorf("%d of %d packets disagree with the linear reference", bad, len(pkts))
	}
}

// traceEvery is how often diff checks Trace too.
const traceEvery = 17

// checkTrace compares Trace with the reference: the same decision, every
// matching rule listed, and the deciding rule among those compared.
func checkTrace(c *eval.Classifier, rules []eval.Rule, p eval.Packet, want eval.Match, ok bool) string {
	tr := c.Trace(p)
	if tr.OK != ok || tr.Match != want {
		return fmt.Sprintf("Trace(%v).Match = %+v %v, want %+v %v", p, tr.Match, tr.OK, want, ok)
	}
	var all []int32
	for i := range rules {
		if rules[i].Matches(p) {
			all = append(all, int32(i))
		}
	}
	if !slices.Equal(tr.Matching, all) {
		return fmt.Sprintf("Trace(%v).Matching = %v, want %v", p, tr.Matching, all)
	}
	if ok && !slices.Contains(tr.Compared, eval.Step{Index: want.Index, Matched: true}) {
		return fmt.Sprintf("Trace(%v).Compared = %v, lacks the deciding rule %d", p, tr.Compared, want.Index)
	}
	for _, st := range tr.Compared {
		if st.Matched != rules[st.Index].Matches(p) {
			return fmt.Sprintf("Trace(%v).Compared has %+v, wrong", p, st)
		}
	}
	return ""
}

// differential scales a differential test's packet count: the full count in
// a normal run (and in CI), a twentieth of it under -short.
func differential(n int) int {
	if testing.Short() {
		return n / 20
	}
	return n
}

// TestDifferentialRandom compares the classifier with the linear reference on
// random overlapping rule sets: 700,000 packets in all (35,000 with -short).
func TestDifferentialRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(42, 7))
	sizes := []int{0, 1, 2, 3, 5, 10, 30, 100, 300, 1000, 3000}
	total := 0
	for round := 0; total < differential(700_000); round++ {
		n := sizes[round%len(sizes)]
		rules := randomRules(rng, n)
		np := 2000 + 20*n
		diff(t, rules, randomPackets(rng, rules, np))
		total += np
		if t.Failed() {
			t.Fatalf("round %d with %d rules", round, n)
		}
	}
}
