package netnstest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMeasureRateCountsReceivedPackets(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	o := RateOptions{From: i1.NS, To: i2.NS, Dst: i2.Addr4, Duration: 500 * time.Millisecond, Flows: 4}
	open, err := MeasureRate(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("no ruleset, v4: %v", open)
	if open.PPS() < 2000 || open.Received > open.Sent+1000 {
		t.Errorf("MeasureRate without a ruleset = %v; want at least 2000 pps, received at most what was sent", open)
	}
	o6 := o
	o6.Dst = i2.Addr6
	if r, err := MeasureRate(o6); err != nil || r.PPS() < 2000 {
		t.Errorf("MeasureRate over IPv6 = %v, %v; want at least 2000 pps", r, err)
	}
	if err := LoadNft(tp.Host, "table inet t { chain forward { type filter hook forward priority filter; udp dport 5201 drop; }; }"); err != nil {
		t.Fatal(err)
	}
	dropped, err := MeasureRate(o)
	if err != nil {
		t.Fatal(err)
	}
	if dropped.Received != 0 || dropped.Sent == 0 {
		t.Errorf("MeasureRate with the flow dropped = %v; want packets sent and none received", dropped)
	}
}

func TestMeasureRateWithIperf3(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	r, err := MeasureRate(RateOptions{From: i1.NS, To: i2.NS, Dst: i2.Addr6, Tool: RateIperf3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("iperf3, v6: %v", r)
	if r.PPS() < 1000 || r.Received > r.Sent || r.Elapsed < 900*time.Millisecond {
		t.Errorf("MeasureRate with iperf3 = %v; want at least 1000 pps over a second, no more received than sent", r)
	}
}

func TestRateOptionsRejectBadInput(t *testing.T) {
	tests := []struct {
		name string
		o    RateOptions
	}{
		{"no namespaces", RateOptions{Dst: addr("10.0.0.1")}},
		{"no destination", RateOptions{From: "a", To: "b"}},
		{"families differ", RateOptions{From: "a", To: "b", Dst: addr("10.0.0.1"), Src: addr("fd00::1")}},
		{"payload too big", RateOptions{From: "a", To: "b", Dst: addr("10.0.0.1"), PayloadSize: 9000}},
		{"more senders than flows", RateOptions{From: "a", To: "b", Dst: addr("10.0.0.1"), Senders: 2}},
		{"unknown tool", RateOptions{From: "a", To: "b", Dst: addr("10.0.0.1"), Tool: 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := MeasureRate(tc.o); err == nil {
				t.Errorf("MeasureRate(%+v) = %v, want an error", tc.o, r)
			}
		})
	}
}

// statelessTable wraps forward-chain rules and extra chains in a stateless
// table: no ct state rule, so every packet is classified.
func statelessTable(rules, extra string) string {
	return "flush ruleset\ntable inet t {\n" + extra +
		"\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n" + rules + "\t}\n}\n"
}

// peer returns the i-th of the generated rules' source addresses, none of
// which is the measured flow's.
func peer(i int) string { return fmt.Sprintf("172.16.%d.%d", i/250, i%250+1) }

// linearRuleset has n-1 rules the measured flow does not match, ACCEPT and
// DROP interleaved, and a last one accepting it with a counter.
func linearRuleset(n int, flowSrc string) string {
	var b strings.Builder
	for i := range n - 1 {
		verdict := "accept"
		if i%2 == 1 {
			verdict = "drop"
		}
		fmt.Fprintf(&b, "\t\tip saddr %s meta l4proto udp th dport %d-%d %s\n", peer(i), 1000+i%50, 2000+i%50, verdict)
	}
	fmt.Fprintf(&b, "\t\tip saddr %s udp dport 5201 counter accept comment \"flow\"\n", flowSrc)
	return statelessTable(b.String(), "")
}

// vmapRuleset has one verdict map with n disjoint interval elements, each
// jumping to its own chain with a counter (ACCEPT and DROP interleaved); the
// last element matches the measured flow.
func vmapRuleset(n int, flowSrc string) string {
	var chains, elems strings.Builder
	for i := range n {
		verdict := "accept"
		if i%2 == 1 {
			verdict = "drop"
		}
		key := fmt.Sprintf("%s . udp . %d-%d", peer(i), 1000+i%50, 2000+i%50)
		if i == n-1 {
			key, verdict = flowSrc+" . udp . 5201", "accept"
		}
		fmt.Fprintf(&chains, "\tchain p%d {\n\t\tcounter %s\n\t}\n", i, verdict)
		if i > 0 {
			elems.WriteString(",\n")
		}
		fmt.Fprintf(&elems, "\t\t\t%s : jump p%d", key, i)
	}
	m := "\tmap m {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\tflags interval\n\t\tcounter\n\t\telements = {\n" +
		elems.String() + "\n\t\t}\n\t}\n"
	return statelessTable("\t\tip saddr . meta l4proto . th dport vmap @m\n", m+chains.String())
}

// TestRateLinearChainVersusVerdictMap measures, side by side, the forward
// rate with no ruleset, a 10-rule chain, a 10,000-rule linear chain and a
// verdict map of 10,000 interval elements, and checks that the map keeps
// the rate of a short chain while the long chain collapses.
func TestRateLinearChainVersusVerdictMap(t *testing.T) {
	if testing.Short() {
		t.Skip("rate comparison takes about 20 s")
	}
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	src := i1.Addr4.String()
	load := func(script string) func() error {
		return func() error { return LoadNft(tp.Host, script) }
	}
	// The map comes first: the second round runs the cases in reverse, so it
	// is the ruleset left in force, with the second round's counts.
	cases := []RateCase{
		{Name: "10000-element verdict map", Apply: load(vmapRuleset(10000, src))},
		{Name: "10000 linear rules", Apply: load(linearRuleset(10000, src))},
		{Name: "10 rules", Apply: load(linearRuleset(10, src))},
		{Name: "no ruleset", Apply: load("flush ruleset\n")},
	}
	start := time.Now()
	res, err := CompareRates(RateOptions{From: i1.NS, To: i2.NS, Dst: i2.Addr4, Flows: 4}, 2, cases...)
	if err != nil {
		t.Fatal(err)
	}
	pps := map[string]float64{}
	for _, s := range res {
		t.Logf("%v %v", s, s.Rounds)
		pps[s.Name] = s.Median()
	}
	t.Logf("compared in %v", time.Since(start).Round(time.Millisecond))
	rs, err := NftJSON(tp.Host)
	if err != nil {
		t.Fatal(err)
	}
	el, ok := rs.Set("inet", "t", "m").Element(src + " . udp . 5201")
	if !ok || el.Counter == nil || el.Counter.Packets == 0 {
		t.Errorf("verdict map element of the measured flow = %+v, %v; want packets counted", el, ok)
	}
	if got := rs.Chain("inet", "t", "p9999").Packets(); got == 0 {
		t.Errorf("chain p9999 counted no packets")
	}
	// The linear chain has its 10,000 rules and the flow went through them
	// all to the last one.
	if err := cases[1].Apply(); err != nil {
		t.Fatal(err)
	}
	if _, err := MeasureRate(RateOptions{From: i1.NS, To: i2.NS, Dst: i2.Addr4, Duration: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if rs, err = NftJSON(tp.Host); err != nil {
		t.Fatal(err)
	}
	fw := rs.Chain("inet", "t", "forward")
	if n := len(fw.Rules); n != 10000 || fw.Rules[n-1].Comment != "flow" || fw.Rules[n-1].Packets() == 0 {
		t.Errorf("linear chain: %d rules, the last counting %d packets; want 10000, the last counting the flow", n, fw.Rules[n-1].Packets())
	}
	if pps["10 rules"] < 2000 {
		t.Errorf("10-rule chain: %.0f pps, want at least 2000", pps["10 rules"])
	}
	if lin, short := pps["10000 linear rules"], pps["10 rules"]; lin*5 > short {
		t.Errorf("10000 linear rules: %.0f pps, want under a fifth of the 10-rule chain's %.0f", lin, short)
	}
	if vm, lin := pps["10000-element verdict map"], pps["10000 linear rules"]; vm < lin*5 {
		t.Errorf("verdict map: %.0f pps, want at least five times the linear chain's %.0f", vm, lin)
	}
}

// TestRateFlowIsClassifiedEveryPacket checks that a stateful ruleset sees
// every packet of the one-way measured flow, which conntrack never marks
// established, and that NoTrackTable takes the flow out of conntrack.
func TestRateFlowIsClassifiedEveryPacket(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	const stateful = `flush ruleset
table inet t {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related counter accept comment "established"
		ct state new udp dport 5201 counter accept comment "new"
		ct state untracked udp dport 5201 counter accept comment "untracked"
	}
}
`
	o := RateOptions{From: i1.NS, To: i2.NS, Dst: i2.Addr4, Duration: 300 * time.Millisecond, Flows: 4}
	for _, tc := range []struct {
		name, script, counted string
	}{
		{"tracked", stateful, "new"},
		{"notrack", stateful + NoTrackTable, "untracked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := LoadNft(tp.Host, tc.script); err != nil {
				t.Fatal(err)
			}
			r, err := MeasureRate(o)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			rs, err := NftJSON(tp.Host)
			if err != nil {
				t.Fatal(err)
			}
			for _, rule := range rs.Chain("inet", "t", "forward").Rules {
				got[rule.Comment] = rule.Packets()
			}
			t.Logf("%v, counters %v", r, got)
			if r.Received == 0 || got[tc.counted] < r.Received || got["established"] != 0 {
				t.Errorf("counters %v after %v; want %q to count at least every received packet, none established", got, r, tc.counted)
			}
		})
	}
}
