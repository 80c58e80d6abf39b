package agent_test

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/netnstest"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/wire"
)

// The kernel benchmarks of the agent; docs/benchmarks.md ("Agent in the
// kernel") records their commands and figures. They need what the kernel
// tests need (root, ip, nft, iptables).

// latencies reports the percentiles of ds as the benchmark's metrics.
func latencies(b *testing.B, what string, ds []time.Duration) {
	b.Helper()
	if len(ds) == 0 {
		b.Fatalf("%s: no samples", what)
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) time.Duration {
		i := int(float64(len(s))*p+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(q(0.50)), "p50-ms")
	b.ReportMetric(ms(q(0.99)), "p99-ms")
	b.ReportMetric(ms(s[len(s)-1]), "max-ms")
	b.ReportMetric(0, "ns/op") // the loop's own time includes the waits between samples
	b.Logf("%s: %d samples, min %v p50 %v p90 %v p99 %v max %v", what, len(s), s[0], q(0.50), q(0.90), q(0.99), s[len(s)-1])
}

// appliedLine is the agent's log line of an apply.
var appliedLine = regexp.MustCompile(`msg=applied revision=[0-9]+ instances=[0-9]+ took=(\S+)`)

// applyTimes stops the agent and reports the median of the last n apply
// times it logged (decode, compile and apply in the kernel): the agent's
// share of the latencies.
func applyTimes(b *testing.B, f *hostFleet, n int) {
	b.Helper()
	var ds []time.Duration
	for _, m := range appliedLine.FindAllStringSubmatch(f.stopAgent(), -1) {
		d, err := time.ParseDuration(m[1])
		if err != nil {
			b.Fatalf("agent log: took=%q: %v", m[1], err)
		}
		ds = append(ds, d)
	}
	if len(ds) < n {
		b.Fatalf("the agent logged %d applies, want at least %d", len(ds), n)
	}
	ds = ds[len(ds)-n:]
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2])/float64(time.Millisecond), "apply-p50-ms")
	b.Logf("the agent's apply (decode, compile, nft): p50 %v max %v over %d applies", ds[len(ds)/2], ds[len(ds)-1], len(ds))
}

// pollTimeout is how long one probe of pollReached waits: the measurements'
// resolution. A connection through the namespaces' veth pairs takes well
// under a millisecond on an idle machine.
const pollTimeout = 5 * time.Millisecond

// pollReached dials dst from ns with short timeouts until a connection is
// established and returns how long after start it was, or fails after 5 s.
func pollReached(b *testing.B, ns netnstest.NS, src netip.Addr, dst netip.AddrPort, start time.Time) time.Duration {
	b.Helper()
	var s netip.AddrPort
	if src.IsValid() {
		s = netip.AddrPortFrom(src, 0)
	}
	for {
		r, err := netnstest.DialTCPFrom(ns, s, dst, pollTimeout)
		if err != nil {
			b.Fatal(err)
		}
		if r == netnstest.Reached {
			return time.Since(start)
		}
		if time.Since(start) > 5*time.Second {
			b.Fatalf("%s → %s: still %v 5s after the write was acknowledged", ns, dst, r)
		}
	}
}

// agentModes are the sub-benchmarks of the enforcement latencies.
var agentModes = [...]string{"host", "hypervisor"}

// BenchmarkKernelWriteToEnforced measures, for each policy write (one
// iteration), the time from the write's acknowledgement by the API to the
// first TCP connection a real packet probe establishes through the port it
// newly opens: with the agent in host mode in the probed namespace, and in
// hypervisor mode in the namespace routing to it.
//
//	go test -run '^$' -bench BenchmarkKernelWriteToEnforced -benchtime 60x ./internal/agent/
func BenchmarkKernelWriteToEnforced(b *testing.B) {
	for _, mode := range agentModes {
		b.Run("mode="+mode, func(b *testing.B) { benchWriteToEnforced(b, newAgentFleet(b, mode)) })
	}
}

func benchWriteToEnforced(b *testing.B, f *hostFleet) {
	ins := f.tp.Instance(1)
	inet := f.tp.Internet.NS
	const ports = 8
	for i := range uint16(ports) {
		netnstest.Listen(b, ins.NS, netip.AddrPortFrom(ins.Addr4, 6000+i))
	}
	// A group of 20 policies; the write changes the port of the last.
	ingress := func(port int) []wire.SecurityGroupPolicyInput {
		var ps []wire.SecurityGroupPolicyInput
		for i := range 19 {
			ps = append(ps, pol("TCP", fmt.Sprint(7000+i), fmt.Sprintf("10.%d.0.0/16", i), []string{"ACCEPT", "DROP"}[i%2]))
		}
		return append(ps, pol("TCP", fmt.Sprint(port), "198.51.100.0/24", "ACCEPT"))
	}
	path := f.group("agent-path", nil, []wire.SecurityGroupPolicyInput{f.serverPath()})
	app := f.group("app", ingress(6000), nil)
	f.bind(f.self, path, app)
	f.startAgent()
	f.applied()
	src := netip.MustParseAddr("198.51.100.10")
	var ds []time.Duration
	i := 0
	for b.Loop() {
		i++
		port := 6000 + i%ports
		f.replace(app, ingress(port), nil)
		ds = append(ds, pollReached(b, inet, src, netip.AddrPortFrom(ins.Addr4, uint16(port)), time.Now()))
	}
	latencies(b, "write acknowledged → port open", ds)
	applyTimes(b, f, len(ds))
}

// BenchmarkKernelMembershipToEnforced measures, for each iteration, the
// time from the acknowledgement of AssociateSecurityGroups, which makes the
// peer instance a member of the group the host admits port 5000 from, to
// the peer's first established connection to it; the peer then leaves the
// group again, and the next iteration starts once the agent has applied
// that and the port is closed to it. Both modes, as
// BenchmarkKernelWriteToEnforced.
//
//	go test -run '^$' -bench BenchmarkKernelMembershipToEnforced -benchtime 60x ./internal/agent/
func BenchmarkKernelMembershipToEnforced(b *testing.B) {
	for _, mode := range agentModes {
		b.Run("mode="+mode, func(b *testing.B) { benchMembershipToEnforced(b, newAgentFleet(b, mode)) })
	}
}

func benchMembershipToEnforced(b *testing.B, f *hostFleet) {
	ins, peer := f.tp.Instance(1), f.tp.Instance(2)
	netnstest.Listen(b, ins.NS, netip.AddrPortFrom(ins.Addr4, 5000))
	path := f.group("agent-path", nil, []wire.SecurityGroupPolicyInput{f.serverPath()})
	clients := f.group("clients", nil, nil)
	svc := f.group("svc", []wire.SecurityGroupPolicyInput{pol("TCP", "5000", clients, "ACCEPT")}, nil)
	f.bind(f.self, path, svc)
	f.startAgent()
	f.applied()
	dst := netip.AddrPortFrom(ins.Addr4, 5000)
	closed := func() {
		b.Helper()
		f.applied()
		if r, err := netnstest.DialTCP(peer.NS, dst, 300*time.Millisecond); err != nil || r != netnstest.TimedOut {
			b.Fatalf("the peer, not a member, to port 5000: %v %v, want timed-out", r, err)
		}
	}
	closed()
	var ds []time.Duration
	for b.Loop() {
		f.bind(f.peer, clients)
		ds = append(ds, pollReached(b, peer.NS, netip.Addr{}, dst, time.Now()))
		f.unbind(f.peer, clients)
		closed()
	}
	latencies(b, "membership acknowledged → peer admitted", ds)
	applyTimes(b, f, 2*len(ds))
}

// costList is an ingress list of n policies alternating ACCEPT and DROP
// over distinct /24s, UDP and TCP and port ranges, some from the measured
// flow's prefix on other ports, in which policy n-3 admits the measured
// flow (UDP 5201 from 198.51.100.0/24): every earlier policy misses it.
// The policies are those of costGroup, or with groups > 1 of that many
// groups of n/groups policies each (costGroupOf), bound in order.
func costList(tb testing.TB, n, groups int) (rules.List, int) {
	tb.Helper()
	deep := n - 3
	l := rules.List{Direction: policy.Ingress}
	for i := range n {
		action := []string{"ACCEPT", "DROP"}[i%2]
		proto := []string{"UDP", "UDP", "TCP"}[i%3]
		lo := 1024 + (i*7)%30000
		s := fmt.Sprintf("%s %s %d-%d 10.%d.%d.0/24", action, proto, lo, lo+i%5, i/250, i%250)
		switch {
		case i == deep:
			s = "ACCEPT UDP 5201 198.51.100.0/24"
		case i%100 == 50:
			s = fmt.Sprintf("%s UDP %d-%d 198.51.100.0/24", action, 40000+i, 40000+i+9)
		}
		p, err := policy.ParsePolicy(s)
		if err != nil {
			tb.Fatalf("policy %q: %v", s, err)
		}
		e, err := rules.PolicyEntry(policy.Ingress, costGroupOf(i, n, groups), i, &p, nil, rules.Addresses{})
		if err != nil {
			tb.Fatalf("policy %d %q: %v", i, s, err)
		}
		l.Entries = append(l.Entries, e)
	}
	return l, deep
}

const (
	costInstance = "ins-0000cost"
	costGroup    = "sg-0000cost"
)

// costGroupOf is the group of policy i of n in costList.
func costGroupOf(i, n, groups int) string {
	if groups <= 1 {
		return costGroup
	}
	return fmt.Sprintf("sg-%07dc", i*groups/n)
}

// compiledScript is the agent's table for one instance whose ingress is l,
// as nft -f reads it, and the compiled ruleset.
func compiledScript(tb testing.TB, iface string, l rules.List) (string, *nft.Ruleset) {
	tb.Helper()
	rs, err := nft.Compile(nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{{
		ID: costInstance, Interface: iface, Ingress: l, Egress: rules.List{Direction: policy.Egress},
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	return rs.FullScript().String(), rs
}

// naiveScript is the table a compiler writing one rule per policy would
// load, shaped as the agent's (established first, an instance's chain by
// its interface, invalid dropped, a final drop): the packet meets the
// rules in order until one matches.
func naiveScript(iface string, l rules.List) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table inet naive {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n")
	fmt.Fprintf(&b, "\t\tct state established,related accept\n\t\toifname %q jump ins-in\n\t}\n", iface)
	b.WriteString("\tchain ins-in {\n\t\tct state invalid drop\n")
	for _, e := range l.Entries {
		p := e.Policy
		verdict := "accept"
		if p.Action == policy.Drop {
			verdict = "drop"
		}
		proto := strings.ToLower(p.Protocol.String())
		fmt.Fprintf(&b, "\t\tip saddr %s %s dport %s counter %s\n", p.Peer.String(), proto, strings.ReplaceAll(p.Ports.String(), ",", ", "), verdict)
	}
	b.WriteString("\t\tcounter drop\n\t}\n}\n")
	return b.String()
}

// BenchmarkKernelPacketCost measures the rate of small UDP datagrams
// forwarded to an instance, every one classified (a one-way flow stays in
// conntrack state new), side by side: the agent's table for 10 policies,
// for 10,000 policies with ACCEPT and DROP interleaved, and the naive
// one-rule-per-policy chain of the same 10,000, and the agent's table for
// the same 10,000 in 10 groups of 1,000 bound in order (the flow meets the
// maps of every group before the last decides it), the flow decided in
// each by a policy three from the end. One iteration is one comparison of
// costRounds rounds per case, alternating.
//
//	go test -run '^$' -bench BenchmarkKernelPacketCost -benchtime 1x ./internal/agent/
func BenchmarkKernelPacketCost(b *testing.B) {
	tp := netnstest.New(b, netnstest.Options{Instances: 1, HostIfNames: []string{"tap1"}, InternetPrefixes: []netip.Prefix{internet4}})
	ins, inet := tp.Instance(1), tp.Internet.NS
	src := netip.MustParseAddr("198.51.100.10")
	small, smallDeep := costList(b, 10, 1)
	big, bigDeep := costList(b, 10_000, 1)
	split, splitDeep := costList(b, 10_000, 10)
	smallScript, smallRS := compiledScript(b, ins.HostIf, small)
	bigScript, bigRS := compiledScript(b, ins.HostIf, big)
	splitScript, splitRS := compiledScript(b, ins.HostIf, split)
	for _, rs := range []*nft.Ruleset{smallRS, bigRS, splitRS} {
		if li := rs.Lists[0]; li.Form != nft.FormRegions {
			b.Fatalf("the ingress list compiled to the %v form, want regions", li.Form)
		}
	}
	b.Logf("10,000 policies: %d map elements", bigRS.Lists[0].Elements)
	naive := naiveScript(ins.HostIf, big)
	load := func(script string) func() error {
		return func() error { return netnstest.LoadNft(tp.Host, "flush ruleset\n"+script) }
	}
	cases := []netnstest.RateCase{
		{Name: "10 policies, compiled", Apply: load(smallScript)},
		{Name: "10,000 policies, compiled", Apply: load(bigScript)},
		{Name: "10,000 policies, one rule per policy", Apply: load(naive)},
		{Name: "10,000 policies in 10 groups, compiled", Apply: load(splitScript)},
	}

	// Each case decides the measured flow by the deep policy: its counter
	// counts every packet sent, and nothing else does.
	const sample = 20
	injector, err := netnstest.NewInjector(inet)
	if err != nil {
		b.Fatal(err)
	}
	defer injector.Close()
	deciding := []func(*netnstest.Ruleset) (uint64, error){
		func(*netnstest.Ruleset) (uint64, error) {
			return hitsIn(b, tp.Host, smallRS)[fmt.Sprintf("%s.in.%d", costGroup, smallDeep)], nil
		},
		func(*netnstest.Ruleset) (uint64, error) {
			return hitsIn(b, tp.Host, bigRS)[fmt.Sprintf("%s.in.%d", costGroup, bigDeep)], nil
		},
		func(rs *netnstest.Ruleset) (uint64, error) {
			c := rs.Chain("inet", "naive", "ins-in")
			if c == nil || len(c.Rules) != len(big.Entries)+2 {
				return 0, fmt.Errorf("naive chain: %v", c)
			}
			return c.Rules[1+bigDeep].Packets(), nil
		},
		func(*netnstest.Ruleset) (uint64, error) {
			return hitsIn(b, tp.Host, splitRS)[fmt.Sprintf("%s.in.%d", costGroupOf(splitDeep, len(split.Entries), 10), splitDeep)], nil
		},
	}
	for i, c := range cases {
		if err := c.Apply(); err != nil {
			b.Fatalf("%s: %v", c.Name, err)
		}
		for k := range uint16(sample) {
			if err := injector.Send(netnstest.Packet{Src: src, Dst: ins.Addr4, Proto: netnstest.ProtoUDP, SrcPort: 30000 + k, DstPort: 5201, Payload: make([]byte, 64)}); err != nil {
				b.Fatal(err)
			}
		}
		var got uint64
		for t0 := time.Now(); time.Since(t0) < 3*time.Second; time.Sleep(20 * time.Millisecond) {
			rs, err := netnstest.NftJSON(tp.Host)
			if err != nil {
				b.Fatal(err)
			}
			if got, err = deciding[i](rs); err != nil {
				b.Fatalf("%s: %v", c.Name, err)
			}
			if got >= sample {
				break
			}
		}
		if got != sample {
			b.Fatalf("%s: the deciding policy counted %d of %d packets", c.Name, got, sample)
		}
	}

	o := netnstest.RateOptions{From: inet, To: ins.NS, Dst: ins.Addr4, Src: src, Port: 5201, Duration: time.Second}
	const costRounds = 6
	var sums []netnstest.RateSummary
	for b.Loop() {
		if sums, err = netnstest.CompareRates(o, costRounds, cases...); err != nil {
			b.Fatal(err)
		}
	}
	base := sums[0].Median()
	for i, s := range sums {
		b.Logf("%s; median %.0f pps, %.1f%% of the 10-policy median", s, s.Median(), 100*s.Median()/base)
		if s.Median() == 0 {
			b.Errorf("%s: nothing received", s.Name)
		}
		unit := []string{"pps-10", "pps-10k", "pps-10k-naive", "pps-10k-10-groups"}[i]
		b.ReportMetric(s.Median(), unit)
	}
	b.ReportMetric(100*sums[1].Median()/base, "%-10k-of-10")
	b.ReportMetric(100*sums[2].Median()/base, "%-naive-of-10")
	b.ReportMetric(100*sums[3].Median()/base, "%-10k-10-groups-of-10")
	b.ReportMetric(0, "ns/op")
}
